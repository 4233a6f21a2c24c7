/**
 * String helpers with Go's strings-package semantics, as confd exposes them: split, join, replace,
 * toUpper, toLower, contains, trimSuffix; plus `default`.
 */
import type { HandlebarsEnv } from '../engine.js';
import { describe, expectArity, helperCall, integerArg, listArg, stringArg } from './arguments.js';

/** Go's strings.Split: an empty separator splits into characters; "" split by "," is [""]. */
export function splitString(s: string, sep: string): string[] {
  if (sep === '') return [...s];
  return s.split(sep);
}

/** Go's strings.Replace: at most `n` replacements, all when n < 0; an empty `old` matches between characters. */
export function replaceString(s: string, old: string, replacement: string, n: number): string {
  if (n === 0 || (old === replacement && old !== '')) return s;
  const limit = n < 0 ? Number.POSITIVE_INFINITY : n;
  if (old === '') {
    const chars = [...s];
    let out = '';
    let done = 0;
    for (let i = 0; i <= chars.length; i++) {
      if (done < limit) {
        out += replacement;
        done++;
      }
      if (i < chars.length) out += chars[i];
    }
    return out;
  }
  let out = '';
  let from = 0;
  let done = 0;
  while (done < limit) {
    const at = s.indexOf(old, from);
    if (at < 0) break;
    out += s.slice(from, at) + replacement;
    from = at + old.length;
    done++;
  }
  return out + s.slice(from);
}

function joinItem(helper: string, v: unknown, i: number): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`${helper}: list item ${i} must be a string, got ${describe(v)}`);
}

export function registerStringHelpers(hb: HandlebarsEnv): void {
  hb.registerHelper('split', (...args: unknown[]) => {
    const c = helperCall('split', args);
    expectArity(c, 2, 2, 'string separator');
    return splitString(stringArg(c, 0, 'the string'), stringArg(c, 1, 'the separator'));
  });
  hb.registerHelper('join', (...args: unknown[]) => {
    const c = helperCall('join', args);
    expectArity(c, 2, 2, 'list separator');
    const list = listArg(c, 0, 'the list');
    const sep = stringArg(c, 1, 'the separator');
    return list.map((v, i) => joinItem('join', v, i)).join(sep);
  });
  hb.registerHelper('replace', (...args: unknown[]) => {
    const c = helperCall('replace', args);
    expectArity(c, 3, 4, 'string old new [count, -1 = all]');
    const n = c.params.length === 4 ? integerArg(c, 3, 'the count') : -1;
    return replaceString(stringArg(c, 0, 'the string'), stringArg(c, 1, 'old'), stringArg(c, 2, 'new'), n);
  });
  hb.registerHelper('toUpper', (...args: unknown[]) => {
    const c = helperCall('toUpper', args);
    expectArity(c, 1, 1, 'string');
    return stringArg(c, 0, 'the string').toUpperCase();
  });
  hb.registerHelper('toLower', (...args: unknown[]) => {
    const c = helperCall('toLower', args);
    expectArity(c, 1, 1, 'string');
    return stringArg(c, 0, 'the string').toLowerCase();
  });
  hb.registerHelper('contains', (...args: unknown[]) => {
    const c = helperCall('contains', args);
    expectArity(c, 2, 2, 'string substring');
    return stringArg(c, 0, 'the string').includes(stringArg(c, 1, 'the substring'));
  });
  hb.registerHelper('trimSuffix', (...args: unknown[]) => {
    const c = helperCall('trimSuffix', args);
    expectArity(c, 2, 2, 'string suffix');
    const s = stringArg(c, 0, 'the string');
    const suffix = stringArg(c, 1, 'the suffix');
    return suffix !== '' && s.endsWith(suffix) ? s.slice(0, s.length - suffix.length) : s;
  });
  hb.registerHelper('default', (...args: unknown[]) => {
    const c = helperCall('default', args);
    expectArity(c, 2, 2, 'value fallback');
    const [value, fallback] = c.params;
    return value === undefined || value === null || value === '' ? fallback : value;
  });
}
