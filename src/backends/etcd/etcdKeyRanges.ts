/**
 * Prefixes as etcd key ranges, on whole path segments. Prefix '/service/demo' covers the key
 * '/service/demo' itself and the range ['/service/demo/', '/service/demo0') — '0' is the byte after
 * '/' — so '/service/demo2' and '/service/demo-x' are never read or watched. Pure.
 */
import { distinctPrefixes, normalizeKey } from '../../store/keys.js';

export interface KeyRange {
  readonly key: Buffer;
  /** Absent: the single key `key`. */
  readonly rangeEnd?: Buffer;
  /** The prefix the range belongs to, for messages. */
  readonly prefix: string;
}

/** The one or two ranges of one (normalised) prefix. */
export function rangesOfPrefix(prefix: string): KeyRange[] {
  const p = normalizeKey(prefix);
  if (p === '/') return [{ key: Buffer.from('/'), rangeEnd: Buffer.from('0'), prefix: p }];
  return [
    { key: Buffer.from(p), prefix: p },
    { key: Buffer.from(p + '/'), rangeEnd: Buffer.from(p + '0'), prefix: p },
  ];
}

/**
 * The one range a watch on a prefix uses: ['/service/demo', '/service/demo0'). It also holds
 * siblings such as '/service/demo-x' (bytes below '0'), which the watcher filters out with
 * isUnderPrefix; one range per prefix keeps each prefix's events in revision order.
 */
export function watchRangeOfPrefix(prefix: string): KeyRange & { rangeEnd: Buffer } {
  const p = normalizeKey(prefix);
  if (p === '/') return { key: Buffer.from('/'), rangeEnd: Buffer.from('0'), prefix: p };
  return { key: Buffer.from(p), rangeEnd: Buffer.from(p + '0'), prefix: p };
}

export interface WatchRange {
  readonly key: Buffer;
  readonly rangeEnd: Buffer;
  /** The distinct prefixes inside the range: keys under none of them are filtered out. */
  readonly prefixes: readonly string[];
}

/**
 * The single range one watch covers for several prefixes: from the lowest prefix to the end of
 * the highest. One etcd watch — not one per prefix — because etcd sends each watch's events in
 * revision order but interleaves separate watches freely while they catch up, and a consumer that
 * drops events older than its snapshot would then lose some. Keys in between are filtered out.
 */
export function watchRangeOfPrefixes(prefixes: readonly string[]): WatchRange | undefined {
  const distinct = distinctPrefixes(prefixes);
  if (distinct.length === 0) return undefined;
  const ranges = distinct.map(watchRangeOfPrefix);
  let key = ranges[0]!.key;
  let rangeEnd = ranges[0]!.rangeEnd;
  for (const r of ranges) {
    if (Buffer.compare(r.key, key) < 0) key = r.key;
    if (Buffer.compare(r.rangeEnd, rangeEnd) > 0) rangeEnd = r.rangeEnd;
  }
  return { key, rangeEnd, prefixes: distinct };
}

/** All ranges of all distinct prefixes. */
export function rangesOfPrefixes(prefixes: readonly string[]): KeyRange[] {
  return distinctPrefixes(prefixes).flatMap(rangesOfPrefix);
}

/** Bytes as text: UTF-8, invalid sequences replaced by U+FFFD; never throws. */
export function decodeBytes(b: Buffer | Uint8Array | string | undefined | null): string {
  if (b === undefined || b === null) return '';
  if (typeof b === 'string') return b;
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}
