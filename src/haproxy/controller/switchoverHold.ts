/**
 * Planned switchovers: new connections to a cluster's write listens are held from the moment
 * Patroni's `failover` key asks to take the leader away until the leader key has moved — before
 * Patroni stops the old primary — so clients wait instead of reaching a Postgres that is shutting
 * down. Sessions already open are not touched, and no server state is changed: the hold is a
 * request to haconfd-hold.lua (`haconfd hold <listen> <ms>`) that ends by itself at its deadline,
 * so it never outlives haconfd. Pure.
 *
 *   planHolds(clusters, writeBackends, actual, options) → HoldCommand[]
 *
 * Once the leader key is deleted or names another member, the request is released: the old leader's
 * servers are cut in the same pass and, until the new leader is routed, the listen has no usable
 * server, which holds new connections on its own.
 */
import type { ClusterModel } from '../../patroni/cluster.js';
import { switchoverDue } from '../../patroni/switchoverRequest.js';
import type { HoldStatus } from '../runtime/holdCommands.js';

export interface HoldCommand {
  readonly listen: string;
  /** The cluster the listen belongs to; undefined for a listen no cluster claims any more. */
  readonly cluster: string | undefined;
  readonly action: 'hold' | 'release';
  /** For `hold`: the request's lifetime (renewed every pass while it is wanted). */
  readonly ms?: number;
  readonly reason: string;
}

export interface HoldOptions {
  /** `[controller] hold_on_switchover`. */
  readonly enabled: boolean;
  readonly now: number;
  /** Lifetime of one request; renewed every pass, so it ends this long after haconfd stops renewing it. */
  readonly leaseMs: number;
  /** Per cluster id: when its pending switchover was first seen (see trackPending). */
  readonly pendingSince: ReadonlyMap<string, number>;
  /** A switchover still pending after this long is no longer held (a stuck or refused request). */
  readonly maxMs: number;
}

/** Why the cluster's write listens should hold now, or undefined. */
export function pendingSwitchover(m: ClusterModel, now: number): string | undefined {
  if (m.switchover.kind !== 'request') return undefined;
  const r = m.switchover.request;
  if (r.leader === null) return undefined;
  // Until the leader key has moved: still naming the old leader, or deleted on the way to the new one.
  const keyHolder = m.leader ?? r.leader;
  if (m.leader !== null && m.leader !== r.leader) return undefined;
  if (!switchoverDue(r, keyHolder, now)) return undefined;
  return `switchover from ${r.leader}${r.candidate !== null ? ` to ${r.candidate}` : ''} requested${m.leader === null ? ' (leader key released)' : ''}`;
}

export function planHolds(
  clusters: readonly ClusterModel[],
  writeBackends: ReadonlyMap<string, readonly string[]>,
  actual: readonly HoldStatus[],
  o: HoldOptions,
): HoldCommand[] {
  const out: HoldCommand[] = [];
  const requested = new Map(actual.map((h) => [h.listen, h.requestedMs] as const));
  const claimed = new Set<string>();
  for (const m of clusters) {
    const pending = o.enabled ? pendingSwitchover(m, o.now) : undefined;
    const since = o.pendingSince.get(m.id);
    const overdue = pending !== undefined && since !== undefined && o.now - since > o.maxMs;
    for (const listen of writeBackends.get(m.id) ?? []) {
      claimed.add(listen);
      if (pending !== undefined && !overdue) out.push({ listen, cluster: m.id, action: 'hold', ms: o.leaseMs, reason: pending });
      else if ((requested.get(listen) ?? 0) > 0) {
        const reason = overdue ? `${pending} ${Math.round((o.now - (since as number)) / 1000)} s ago and still pending: no longer held` : releaseReason(m, o.enabled);
        out.push({ listen, cluster: m.id, action: 'release', reason });
      }
    }
  }
  for (const [listen, ms] of requested) {
    if (ms > 0 && !claimed.has(listen)) out.push({ listen, cluster: undefined, action: 'release', reason: 'no cluster steers this listen' });
  }
  return out;
}

function releaseReason(m: ClusterModel, enabled: boolean): string {
  if (!enabled) return 'hold_on_switchover is off';
  if (m.switchover.kind !== 'request') return m.leader === null ? 'no switchover requested' : `switchover over or cancelled (${m.leader} holds the leader key)`;
  const r = m.switchover.request;
  if (m.leader !== null && m.leader !== r.leader) return `the leader key moved to ${m.leader}`;
  if (r.scheduledAt !== null) return `switchover scheduled for ${new Date(r.scheduledAt).toISOString()}`;
  return 'the request does not name the current leader';
}

/** When each cluster's pending switchover was first seen: kept while it stays pending, dropped after. */
export function trackPending(prev: ReadonlyMap<string, number>, clusters: readonly ClusterModel[], now: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of clusters) if (pendingSwitchover(m, now) !== undefined) out.set(m.id, prev.get(m.id) ?? now);
  return out;
}

/** Every request found is released (a stop, or the DCS unreachable past the release bound). */
export function releaseAll(actual: readonly HoldStatus[], reason: string): HoldCommand[] {
  return actual.filter((h) => h.requestedMs > 0).map((h) => ({ listen: h.listen, cluster: undefined, action: 'release' as const, reason }));
}
