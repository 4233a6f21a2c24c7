/**
 * The controller's memory between passes, as explicit states with pure transitions:
 *
 *   LeaderEpoch     per cluster: one value of the leader key, `awaiting` its routing or `routed`
 *                   (then where its servers were when it was routed, for rule 7 of the planner).
 *   WorkerTracking  the HAProxy worker answering the socket: its PID, workers replaced lately (an old
 *                   one may still answer while it soft-stops), a reload in progress, and whether the
 *                   next new worker is one haconfd's own reload started.
 */

export interface AwaitingEpoch {
  readonly phase: 'awaiting';
  readonly leader: string | null;
  /** When this leader key value was first seen (snapshot arrival). */
  readonly seenAt: number;
  /** A change (not the first sighting at start-up). */
  readonly changed: boolean;
}

export interface RoutedEpoch {
  readonly phase: 'routed';
  readonly leader: string;
  readonly seenAt: number;
  readonly changed: boolean;
  /** backend/server → `addr:port` of the leader's servers when they were routed. */
  readonly routedAt: ReadonlyMap<string, string>;
}

export type LeaderEpoch = AwaitingEpoch | RoutedEpoch;

export type LeaderObservation = 'first' | 'changed' | 'same';

/** The epoch after seeing `leader` in a snapshot that arrived at `snapshotAt` (`now` for a first sighting). */
export function observeLeader(prev: LeaderEpoch | undefined, leader: string | null, snapshotAt: number, now: number): { epoch: LeaderEpoch; seen: LeaderObservation } {
  if (prev !== undefined && prev.leader === leader) return { epoch: prev, seen: 'same' };
  const changed = prev !== undefined;
  return { epoch: { phase: 'awaiting', leader, seenAt: changed ? snapshotAt : now, changed }, seen: changed ? 'changed' : 'first' };
}

/** The leader is UP in every write backend: remember where. */
export function routedEpoch(e: AwaitingEpoch & { readonly leader: string }, routedAt: ReadonlyMap<string, string>): RoutedEpoch {
  return { phase: 'routed', leader: e.leader, seenAt: e.seenAt, changed: e.changed, routedAt };
}

/** The routed leader's server moved and was routed again at `place`. */
export function reroutedEpoch(e: RoutedEpoch, key: string, place: string): RoutedEpoch {
  return { ...e, routedAt: new Map([...e.routedAt, [key, place]]) };
}

/** A new HAProxy worker: the leader is routed again there (not a leader change: no latency observed). */
export function rerouteOnNewWorker(e: RoutedEpoch): AwaitingEpoch {
  return { phase: 'awaiting', leader: e.leader, seenAt: e.seenAt, changed: false };
}

/** Per cluster id: where its routed leader's servers are (the planner's `routed` context). */
export function routedPlaces(epochs: ReadonlyMap<string, LeaderEpoch>): Map<string, ReadonlyMap<string, string>> {
  const out = new Map<string, ReadonlyMap<string, string>>();
  for (const [id, e] of epochs) if (e.phase === 'routed') out.set(id, e.routedAt);
  return out;
}

// ---------------------------------------------------------------------------------------------

/** How long after a reload its old worker's PID answering `show info` is taken for that old worker. */
export const RETIRED_WORKER_MS = 10_000;

export interface WorkerTracking {
  readonly pid: number | undefined;
  /** Workers replaced lately → when. */
  readonly retired: ReadonlyMap<number, number>;
  /** Set while a reload runs. */
  readonly reloadingSince: number | undefined;
  /** A reload haconfd ran succeeded and its new worker has not been seen yet. */
  readonly ownWorkerDue: boolean;
}

export const NO_WORKER: WorkerTracking = { pid: undefined, retired: new Map(), reloadingSince: undefined, ownWorkerDue: false };

/**
 * - `same`: the worker seen before (or an old one still answering shortly after it was replaced)
 * - `first`: the first worker this controller sees
 * - `new`: a new worker; `ours` when a reload haconfd ran started it (what it loaded is known)
 */
export type WorkerObservation = { readonly kind: 'same' } | { readonly kind: 'first' } | { readonly kind: 'new'; readonly from: number; readonly ours: boolean };

export function observeWorker(t: WorkerTracking, pid: number | undefined, now: number): { tracking: WorkerTracking; seen: WorkerObservation } {
  if (pid === undefined || pid === t.pid) return { tracking: t, seen: { kind: 'same' } };
  // Only shortly after: a restarted HAProxy in a container may get a PID used before.
  const retiredAt = t.retired.get(pid);
  if (retiredAt !== undefined && now - retiredAt < RETIRED_WORKER_MS) return { tracking: t, seen: { kind: 'same' } };
  if (t.pid === undefined) return { tracking: { ...t, pid, ownWorkerDue: false }, seen: { kind: 'first' } };
  const retired = new Map([...t.retired].filter(([, at]) => now - at < RETIRED_WORKER_MS));
  retired.set(t.pid, now);
  const ours = t.reloadingSince !== undefined || t.ownWorkerDue;
  return { tracking: { ...t, pid, retired, ownWorkerDue: false }, seen: { kind: 'new', from: t.pid, ours } };
}

export function reloadStarted(t: WorkerTracking, now: number): WorkerTracking {
  return { ...t, reloadingSince: now };
}

/** The reload ended; `succeededBefore` is the PID seen when it began, if it succeeded. */
export function reloadEnded(t: WorkerTracking, succeeded: boolean, pidBefore: number | undefined): WorkerTracking {
  // Its new worker, when a later pass first sees it, is ours (unless a pass saw it already).
  return { ...t, reloadingSince: undefined, ownWorkerDue: t.ownWorkerDue || (succeeded && t.pid === pidBefore) };
}
