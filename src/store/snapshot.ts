/** Snapshots of the key space: what every backend produces and the store reads. */
import { isUnderPrefix } from './keys.js';

/** An immutable read of every key under some prefixes, taken at one revision. */
export interface Snapshot {
  /** Backend revision the read was taken at (etcd's header revision; a counter for file/env). */
  readonly revision: number;
  /** Absolute key → value. Never mutated after creation. */
  readonly pairs: ReadonlyMap<string, string>;
}

export type ChangeEvent =
  | { readonly type: 'put'; readonly key: string; readonly value: string; readonly revision: number }
  | { readonly type: 'delete'; readonly key: string; readonly revision: number };

export function emptySnapshot(revision = 0): Snapshot {
  return { revision, pairs: new Map() };
}

/** Returns a new snapshot with the events applied (the input is never mutated). */
export function applyEvents(snapshot: Snapshot, events: readonly ChangeEvent[]): Snapshot {
  if (events.length === 0) return snapshot;
  const pairs = new Map(snapshot.pairs);
  let revision = snapshot.revision;
  for (const e of events) {
    if (e.type === 'put') pairs.set(e.key, e.value);
    else pairs.delete(e.key);
    if (e.revision > revision) revision = e.revision;
  }
  return { revision, pairs };
}

/** The keys of `snapshot` under any of `prefixes` (whole path segments). */
export function restrictSnapshot(snapshot: Snapshot, prefixes: readonly string[]): Snapshot {
  const pairs = new Map<string, string>();
  for (const [k, v] of snapshot.pairs) {
    if (prefixes.some((p) => isUnderPrefix(k, p))) pairs.set(k, v);
  }
  return { revision: snapshot.revision, pairs };
}
