/**
 * The arguments of one helper call: Handlebars appends an `options` object to every call; these
 * split it off and check the caller's arguments, throwing errors that name the helper.
 */
import type { HelperOptions } from 'handlebars';

export interface HelperCall {
  readonly helper: string;
  readonly params: readonly unknown[];
  readonly options: HelperOptions;
}

/** Splits Handlebars' trailing options object off `args`. */
export function helperCall(helper: string, args: readonly unknown[]): HelperCall {
  return { helper, params: args.slice(0, -1), options: args[args.length - 1] as HelperOptions };
}

/** Throws unless the call has between `min` and `max` arguments; `usage` is e.g. "string separator". */
export function expectArity(call: HelperCall, min: number, max: number, usage: string): void {
  const n = call.params.length;
  if (n >= min && n <= max) return;
  const want = min === max ? `${min}` : max === Number.POSITIVE_INFINITY ? `at least ${min}` : `${min} to ${max}`;
  throw new Error(`${call.helper}: expected ${want} argument${want === '1' ? '' : 's'} (${call.helper} ${usage}), got ${n}`);
}

export function describe(v: unknown): string {
  if (v === undefined) return 'nothing (undefined)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** A string argument; numbers and booleans are taken as their text. */
export function stringArg(call: HelperCall, i: number, what = `argument ${i + 1}`): string {
  const v = call.params[i];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  throw new Error(`${call.helper}: ${what} must be a string, got ${describe(v)}`);
}

/** A list argument (returned as is, not copied). */
export function listArg(call: HelperCall, i: number, what = `argument ${i + 1}`): readonly unknown[] {
  const v = call.params[i];
  if (Array.isArray(v)) return v;
  throw new Error(`${call.helper}: ${what} must be a list, got ${describe(v)}`);
}

const DECIMAL_INTEGER = /^[+-]?[0-9]+$/;

/**
 * Go's strconv.Atoi: optional sign and decimal digits, nothing else (no spaces, no "1.0", no
 * "0x10"). Returns undefined when `text` is not such an integer or is outside the safe range.
 */
export function parseDecimalInteger(text: string): number | undefined {
  if (!DECIMAL_INTEGER.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** An integer argument: an integer number, or a string that parses as one (like atoi). */
export function integerArg(call: HelperCall, i: number, what = `argument ${i + 1}`): number {
  const v = call.params[i];
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'string') {
    const n = parseDecimalInteger(v);
    if (n !== undefined) return n;
  }
  throw new Error(`${call.helper}: ${what} must be an integer, got ${describe(v)}`);
}
