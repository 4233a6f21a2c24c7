/**
 * Is a fresh read of the same history as the snapshot held before it? etcd says which cluster
 * answered; a linearizable read never goes back in revision within one cluster's history. So a
 * different cluster ID, or a revision below the one held before the read began, means the store
 * was replaced (wiped, restored from an older backup, re-bootstrapped, or -node now names another
 * cluster). Pure.
 */
import type { Snapshot } from '../backends/backend.js';

export interface HistoryChange {
  readonly reason: 'cluster-changed' | 'revision-went-back';
  readonly previous: { readonly clusterId: string | undefined; readonly memberId: string | undefined; readonly revision: number };
  readonly current: { readonly clusterId: string | undefined; readonly memberId: string | undefined; readonly revision: number };
}

/** `before`: the snapshot held when the read started (undefined at start-up: nothing to compare). */
export function historyChange(before: Snapshot | undefined, read: Snapshot): HistoryChange | undefined {
  if (before === undefined || before.origin === undefined || read.origin === undefined) return undefined;
  const side = (s: Snapshot): HistoryChange['previous'] => ({ clusterId: s.origin?.clusterId, memberId: s.origin?.memberId, revision: s.revision });
  if (before.origin.clusterId !== read.origin.clusterId) return { reason: 'cluster-changed', previous: side(before), current: side(read) };
  if (read.revision < before.revision) return { reason: 'revision-went-back', previous: side(before), current: side(read) };
  return undefined;
}
