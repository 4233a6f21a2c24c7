/** List and map helpers: map, index, seq, reverse, sortByLength, sortKVByLength. */
import type { HandlebarsEnv } from '../engine.js';
import { describe, expectArity, helperCall, integerArg, listArg, parseDecimalInteger } from './arguments.js';

/** seq refuses to build lists longer than this (a typo like `seq 1 1000000000` must not eat memory). */
export const SEQ_MAX_LENGTH = 1_000_000;

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Go's len() of a string is its UTF-8 length; ties keep their order (a stable sort). */
function byLength<T>(items: readonly T[], textOf: (item: T) => string): T[] {
  return items
    .map((item) => ({ item, len: byteLength(textOf(item)) }))
    .sort((a, b) => a.len - b.len)
    .map((x) => x.item);
}

/** Go's `index`: item[i][j]…; a list index must be in range, a missing map key gives nothing. */
export function indexInto(helper: string, item: unknown, indices: readonly unknown[]): unknown {
  let cur = item;
  for (const [n, idx] of indices.entries()) {
    const where = indices.length > 1 ? ` (index ${n + 1})` : '';
    if (cur === undefined || cur === null) throw new Error(`${helper}: cannot index ${describe(cur)}${where}`);
    if (Array.isArray(cur) || typeof cur === 'string') {
      const i = typeof idx === 'number' ? idx : typeof idx === 'string' ? parseDecimalInteger(idx) : undefined;
      if (i === undefined || !Number.isInteger(i)) throw new Error(`${helper}: a list index must be an integer, got ${describe(idx)}${where}`);
      if (i < 0 || i >= cur.length) throw new Error(`${helper}: index ${i} out of range (length ${cur.length})${where}`);
      cur = cur[i];
    } else if (typeof cur === 'object') {
      if (typeof idx !== 'string' && typeof idx !== 'number') throw new Error(`${helper}: a map key must be a string, got ${describe(idx)}${where}`);
      const key = String(idx);
      cur = Object.prototype.hasOwnProperty.call(cur, key) ? (cur as Record<string, unknown>)[key] : undefined;
    } else {
      throw new Error(`${helper}: cannot index ${describe(cur)}${where}`);
    }
  }
  return cur;
}

export function registerCollectionHelpers(hb: HandlebarsEnv): void {
  hb.registerHelper('map', (...args: unknown[]) => {
    const c = helperCall('map', args);
    if (c.params.length % 2 !== 0) throw new Error(`map: expected key value pairs, got an odd number of arguments (${c.params.length})`);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < c.params.length; i += 2) {
      const key = c.params[i];
      if (typeof key !== 'string') throw new Error(`map: keys must be strings, argument ${i + 1} is ${describe(key)}`);
      // defineProperty, so a key named "__proto__" is a plain key and not the object's prototype
      Object.defineProperty(out, key, { value: c.params[i + 1], enumerable: true, writable: true, configurable: true });
    }
    return out;
  });
  hb.registerHelper('index', (...args: unknown[]) => {
    const c = helperCall('index', args);
    expectArity(c, 1, Number.POSITIVE_INFINITY, 'list-or-map index…');
    return indexInto('index', c.params[0], c.params.slice(1));
  });
  hb.registerHelper('seq', (...args: unknown[]) => {
    const c = helperCall('seq', args);
    expectArity(c, 2, 2, 'first last');
    const first = integerArg(c, 0, 'first');
    const last = integerArg(c, 1, 'last');
    if (last - first + 1 > SEQ_MAX_LENGTH) throw new Error(`seq: ${first}..${last} is longer than ${SEQ_MAX_LENGTH} numbers`);
    const out: number[] = [];
    for (let i = first; i <= last; i++) out.push(i);
    return out;
  });
  hb.registerHelper('reverse', (...args: unknown[]) => {
    const c = helperCall('reverse', args);
    expectArity(c, 1, 1, 'list');
    return [...listArg(c, 0, 'the list')].reverse();
  });
  hb.registerHelper('sortByLength', (...args: unknown[]) => {
    const c = helperCall('sortByLength', args);
    expectArity(c, 1, 1, 'list-of-strings');
    const list = listArg(c, 0, 'the list');
    list.forEach((v, i) => {
      if (typeof v !== 'string') throw new Error(`sortByLength: list item ${i} must be a string, got ${describe(v)}`);
    });
    return byLength(list as readonly string[], (s) => s);
  });
  hb.registerHelper('sortKVByLength', (...args: unknown[]) => {
    const c = helperCall('sortKVByLength', args);
    expectArity(c, 1, 1, 'list-of-pairs');
    const list = listArg(c, 0, 'the list');
    list.forEach((v, i) => {
      const key = typeof v === 'object' && v !== null ? (v as { key?: unknown }).key : undefined;
      if (typeof key !== 'string') throw new Error(`sortKVByLength: list item ${i} must be a {key, value} pair, got ${describe(v)}`);
    });
    return byLength(list as readonly { key: string }[], (kv) => kv.key);
  });
}
