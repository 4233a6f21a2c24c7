/**
 * The snapshot kept current from watch events without copying it per event. Each new snapshot is a
 * small overlay (changed keys; `undefined` = deleted) over a base map that is never mutated, so
 * older snapshots a render may still hold stay exactly as they were; a sorted key list is kept
 * alongside (binary insert/remove), so iteration is cheap and in order. When the overlay grows past
 * about √n entries it is folded into a fresh base: O(n) work once every √n events, instead of an
 * O(n) copy on every event (10,000 keys: ~0.05 ms per event instead of several ms).
 */
import type { ChangeEvent, Snapshot } from '../backends/backend.js';

type Overlay = ReadonlyMap<string, string | undefined>;

/** A read-only key → value view: `base` with `overlay` applied; keys iterate in sorted order. */
export class LayeredPairs implements ReadonlyMap<string, string> {
  constructor(
    readonly base: ReadonlyMap<string, string>,
    readonly overlay: Overlay,
    /** Every present key, sorted (code-unit order); never mutated. */
    readonly sortedKeys: readonly string[],
  ) {}

  get size(): number {
    return this.sortedKeys.length;
  }

  get(key: string): string | undefined {
    const o = this.overlay.get(key);
    if (o !== undefined) return o;
    return this.overlay.has(key) ? undefined : this.base.get(key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  keys(): MapIterator<string> {
    return this.sortedKeys.values() as unknown as MapIterator<string>;
  }

  *entries(): MapIterator<[string, string]> {
    for (const k of this.sortedKeys) yield [k, this.get(k) as string];
  }

  *values(): MapIterator<string> {
    for (const k of this.sortedKeys) yield this.get(k) as string;
  }

  [Symbol.iterator](): MapIterator<[string, string]> {
    return this.entries();
  }

  forEach(cb: (value: string, key: string, map: ReadonlyMap<string, string>) => void, thisArg?: unknown): void {
    for (const k of this.sortedKeys) cb.call(thisArg, this.get(k) as string, k, this);
  }
}

/** Index of `key` in the sorted list, or -(insertion point) - 1. */
function search(list: readonly string[], key: string): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const k = list[mid] as string;
    if (k < key) lo = mid + 1;
    else if (k > key) hi = mid - 1;
    else return mid;
  }
  return -lo - 1;
}

function sortKeys(keys: Iterable<string>): string[] {
  return [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function overlayLimit(size: number): number {
  return Math.max(32, Math.ceil(2 * Math.sqrt(size)));
}

/**
 * A new snapshot with `events` applied; the input is never mutated. Cost: O(overlay + events),
 * plus an O(n) fold once the overlay reaches its limit.
 */
export function advanceSnapshot(snapshot: Snapshot, events: readonly ChangeEvent[]): Snapshot {
  if (events.length === 0) return snapshot;
  const prev = snapshot.pairs;
  const layered = prev instanceof LayeredPairs;
  const base = layered ? prev.base : prev;
  const overlay = new Map<string, string | undefined>(layered ? prev.overlay : undefined);
  const keys = layered ? prev.sortedKeys.slice() : sortKeys(prev.keys());
  let revision = snapshot.revision;
  for (const e of events) {
    const at = search(keys, e.key);
    if (e.type === 'put') {
      overlay.set(e.key, e.value);
      if (at < 0) keys.splice(-at - 1, 0, e.key);
    } else {
      overlay.set(e.key, undefined);
      if (at >= 0) keys.splice(at, 1);
    }
    if (e.revision > revision) revision = e.revision;
  }
  const origin = snapshot.origin ? { origin: snapshot.origin } : {};
  if (overlay.size <= overlayLimit(base.size)) return { revision, pairs: new LayeredPairs(base, overlay, keys), ...origin };
  // Fold: a fresh base holding exactly the current pairs (in sorted order), an empty overlay.
  const folded = new Map<string, string>();
  const view = new LayeredPairs(base, overlay, keys);
  for (const k of keys) folded.set(k, view.get(k) as string);
  return { revision, pairs: new LayeredPairs(folded, new Map(), keys), ...origin };
}
