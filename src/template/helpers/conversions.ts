/** Text to typed values with Go's strconv rules: atoi and parseBool. */
import type { HandlebarsEnv } from '../engine.js';
import { describe, expectArity, helperCall, parseDecimalInteger } from './arguments.js';

const TRUE_WORDS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool; undefined for anything else. */
export function parseGoBool(text: string): boolean | undefined {
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  return undefined;
}

export function registerConversionHelpers(hb: HandlebarsEnv): void {
  hb.registerHelper('atoi', (...args: unknown[]) => {
    const c = helperCall('atoi', args);
    expectArity(c, 1, 1, 'string');
    const v = c.params[0];
    if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
    const n = typeof v === 'string' ? parseDecimalInteger(v) : undefined;
    if (n === undefined) throw new Error(`atoi: not an integer: ${describe(v)}`);
    return n;
  });
  hb.registerHelper('parseBool', (...args: unknown[]) => {
    const c = helperCall('parseBool', args);
    expectArity(c, 1, 1, 'string');
    const v = c.params[0];
    if (typeof v === 'boolean') return v;
    const b = typeof v === 'string' ? parseGoBool(v) : undefined;
    if (b === undefined) throw new Error(`parseBool: not a boolean: ${describe(v)} (use 1/t/true/TRUE/True or 0/f/false/FALSE/False)`);
    return b;
  });
}
