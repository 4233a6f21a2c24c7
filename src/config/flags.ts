/**
 * Go-style flag parsing as confd (Go's flag package) does it: `-flag`, `--flag`, `-flag=value`,
 * `-flag value`; booleans take `-flag=false`; list flags repeat. Parsing stops at `--` or at the
 * first non-flag argument.
 */
import { confdOnlyFlag, flagDef, FLAGS, type FlagKind } from './flagSpec.js';
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
  /** The arguments that are not flags (after the first one, or after `--`, in Go's style). */
  readonly rest: string[];
}

/** How a flag takes its value; `switch`: a boolean that takes no value at all. */
export type ArgKind = FlagKind | 'switch';

/** The flags one command knows, for the one parser every command uses. */
export interface FlagSet {
  kindOf(name: string): ArgKind | undefined;
  /** Every name, for "did you mean". */
  readonly names: readonly string[];
  /**
   * Subcommand style (`haconfd haproxy …`, `haconfd keepalived …`): flags and arguments may mix,
   * messages spell flags `--name`, and an empty value counts as missing. Otherwise Go's flag
   * package, as confd: parsing stops at the first argument that is not a flag.
   */
  readonly subcommand?: boolean;
}

/**
 * The one flag parser: `-flag`, `--flag`, `-flag=value`, `-flag value`; booleans take
 * `-flag=false`; list flags repeat; `--` ends the flags.
 */
export function parseArgs(argv: readonly string[], set: FlagSet): FlagParseResult {
  const flags: ParsedFlags = new Map();
  const rest: string[] = [];
  const sub = set.subcommand === true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    let name: string;
    let inline: string | undefined;
    if (sub) {
      const m = /^--?([a-z][a-z-]*)(?:=(.*))?$/s.exec(arg);
      if (!m) {
        rest.push(arg);
        continue;
      }
      name = m[1] as string;
      inline = m[2];
    } else {
      if (!arg.startsWith('-') || arg === '-') {
        rest.push(...argv.slice(i));
        break;
      }
      const body = arg.replace(/^--?/, '');
      const eq = body.indexOf('=');
      name = eq >= 0 ? body.slice(0, eq) : body;
      inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    }
    const kind = set.kindOf(name);
    if (kind === undefined) {
      const guess = nearest(name, set.names);
      throw new UsageError(
        sub ? `unknown option ${arg}${guess ? ` (did you mean --${guess}?)` : ''}` : `unknown flag -${name}${guess ? ` (did you mean -${guess}?)` : ''}; see -help`,
      );
    }
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || (sub && v === '')) throw new UsageError(sub ? `--${name} needs a value` : `flag -${name} needs a value`);
      return v;
    };
    switch (kind) {
      case 'switch':
        if (inline !== undefined) throw new UsageError(`${sub ? '--' : '-'}${name} takes no value`);
        flags.set(name, true);
        break;
      case 'bool':
        flags.set(name, inline === undefined ? true : parseBool(name, inline));
        break;
      case 'int':
        flags.set(name, parseIntFlag(name, value()));
        break;
      case 'list': {
        const prev = flags.get(name);
        flags.set(name, [...(Array.isArray(prev) ? prev : []), value()]);
        break;
      }
      case 'string':
        flags.set(name, value());
        break;
    }
  }
  return { flags, rest };
}

/** haconfd's own (confd-compatible) flags. */
export const HACONFD_FLAGS: FlagSet = {
  // confd's flags haconfd does not implement parse too: loadConfig accepts only their neutral value.
  kindOf: (name) => flagDef(name)?.kind ?? confdOnlyFlag(name)?.kind,
  names: FLAGS.map((f) => f.name),
};

export function parseFlags(argv: readonly string[]): FlagParseResult {
  return parseArgs(argv, HACONFD_FLAGS);
}
