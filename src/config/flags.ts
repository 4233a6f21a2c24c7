/**
 * Go-style flag parsing as confd (Go's flag package) does it: `-flag`, `--flag`, `-flag=value`,
 * `-flag value`; booleans take `-flag=false`; list flags repeat. Parsing stops at `--` or at the
 * first non-flag argument.
 */
import { flagDef, FLAGS } from './flagSpec.js';
import { nearest } from './suggest.js';

export type FlagValue = string | number | boolean | string[];
export type ParsedFlags = Map<string, FlagValue>;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

export function parseBool(flag: string, raw: string): boolean {
  if (TRUE.has(raw)) return true;
  if (FALSE.has(raw)) return false;
  throw new UsageError(`invalid boolean value "${raw}" for -${flag}: use true or false`);
}

export function parseIntFlag(flag: string, raw: string): number {
  if (!/^-?\d+$/.test(raw.trim())) throw new UsageError(`invalid value "${raw}" for -${flag}: not a whole number`);
  return Number(raw.trim());
}

export interface FlagParseResult {
  readonly flags: ParsedFlags;
  readonly rest: string[];
}

export function parseFlags(argv: readonly string[]): FlagParseResult {
  const flags: ParsedFlags = new Map();
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const def = flagDef(name);
    if (def === undefined) {
      const guess = nearest(name, FLAGS.map((f) => f.name));
      throw new UsageError(`unknown flag -${name}${guess ? ` (did you mean -${guess}?)` : ''}; see -help`);
    }
    let raw: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (def.kind === 'bool') {
      flags.set(name, raw === undefined ? true : parseBool(name, raw));
      continue;
    }
    if (raw === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`flag -${name} needs a value`);
      raw = argv[++i] as string;
    }
    if (def.kind === 'int') flags.set(name, parseIntFlag(name, raw));
    else if (def.kind === 'list') {
      const prev = flags.get(name);
      flags.set(name, [...(Array.isArray(prev) ? prev : []), raw]);
    } else flags.set(name, raw);
  }
  return { flags, rest: argv.slice(i) as string[] };
}
