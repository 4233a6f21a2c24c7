/**
 * Planned switchovers: new connections to a cluster's write listens are held while Patroni takes
 * the leader away, until the leader key has moved, so clients wait instead of reaching a Postgres
 * that is shutting down. When the hold starts is `switchover_hold_from`:
 *  - "request" (default): from the moment Patroni's `failover` key asks to take the leader away.
 *    Sessions opened before it have Patroni's pre-shutdown work to finish in: none fails but those
 *    still running when Postgres stops.
 *  - "shutdown": when the leader's Postgres begins shutting down (shutdownWatch.ts sees it within a
 *    millisecond or two), or the leader key is released, whichever comes first. Until then the old
 *    primary is writable (Patroni's pre-shutdown CHECKPOINT) and keeps taking connections, so
 *    clients wait a few hundred ms less, but every session it took that is still running at the stop
 *    fails. A leader that cannot be watched holds at once.
 * Sessions already open are not touched, and no server state is changed: the hold is a request to
 * haconfd-hold.lua (`haconfd hold <listen> <ms>`) that ends by itself at its deadline, so it never
 * outlives haconfd. Pure.
 *
 *   planHolds(clusters, writeBackends, actual, options) → HoldCommand[]
 *   watchTargets(clusters, options)                     → the leaders' Postgres to watch
 *
 * Once the leader key is deleted or names another member, the request is released: the old leader's
 * servers are cut in the same pass and, until the new leader is routed, the listen has no usable
 * server, which holds new connections on its own.
 */
import type { ClusterModel } from '../../patroni/cluster.js';
import { switchoverDue } from '../../patroni/switchoverRequest.js';
import type { HoldStatus } from '../runtime/holdCommands.js';
import type { ShutdownSeen, WatchTarget } from './shutdownWatch.js';

export type HoldFrom = 'shutdown' | 'request';

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
  /** `[controller] switchover_hold_from`. */
  readonly from: HoldFrom;
  /** Per cluster id: its leader seen shutting down (shutdownWatch.ts). */
  readonly stopping: ReadonlyMap<string, ShutdownSeen>;
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

/**
 * The leader's Postgres to watch while a switchover is pending and the leader key still names it
 * (`from = "shutdown"` only). Undefined when there is nothing to watch, or when the leader is no
 * member the cluster lists (then the hold starts at the request: see planHolds).
 */
export function watchTarget(m: ClusterModel, now: number): WatchTarget | undefined {
  if (pendingSwitchover(m, now) === undefined || m.leader === null) return undefined;
  const member = m.members.find((x) => x.name === m.leader);
  return member === undefined ? undefined : { cluster: m.id, leader: member.name, host: member.host, port: member.port };
}

export function watchTargets(clusters: readonly ClusterModel[], o: Pick<HoldOptions, 'enabled' | 'from' | 'now'>): WatchTarget[] {
  if (!o.enabled || o.from !== 'shutdown') return [];
  return clusters.map((m) => watchTarget(m, o.now)).filter((t): t is WatchTarget => t !== undefined);
}

/** Why a pending switchover holds now, or undefined while it waits for the leader to stop. */
function holdNow(m: ClusterModel, pending: string, o: HoldOptions): string | undefined {
  if (o.from === 'request' || m.leader === null) return pending;
  const seen = o.stopping.get(m.id);
  if (seen !== undefined && seen.leader === m.leader) return `${pending}; ${seen.leader}'s Postgres is shutting down (${seen.how})`;
  if (!m.leaderKnown) return `${pending} (${m.leader} is no listed member, so its shutdown cannot be watched: held from the request)`;
  return undefined;
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
    // In "shutdown" mode the bound runs from the shutdown seen: the checkpoint before it is no hold.
    const seenAt = o.from === 'shutdown' ? o.stopping.get(m.id)?.at : undefined;
    const first = o.pendingSince.get(m.id);
    const since = seenAt !== undefined && first !== undefined ? Math.max(seenAt, first) : first;
    const overdue = pending !== undefined && since !== undefined && o.now - since > o.maxMs;
    const why = pending === undefined || overdue ? undefined : holdNow(m, pending, o);
    for (const listen of writeBackends.get(m.id) ?? []) {
      claimed.add(listen);
      if (why !== undefined) out.push({ listen, cluster: m.id, action: 'hold', ms: o.leaseMs, reason: why });
      else if ((requested.get(listen) ?? 0) > 0) {
        const reason = overdue
          ? `${pending} ${Math.round((o.now - (since as number)) / 1000)} s ago and still pending: no longer held`
          : pending !== undefined
            ? `${pending}: waiting for ${m.leader}'s Postgres to begin shutting down`
            : releaseReason(m, o.enabled);
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

/**
 * The leaders seen shutting down, kept while their switchover stays pending (the watch itself ends
 * once the leader key is released, and the bound of switchover_hold_max still runs from the sighting).
 */
export function trackStopping(prev: ReadonlyMap<string, ShutdownSeen>, seen: ReadonlyMap<string, ShutdownSeen>, clusters: readonly ClusterModel[], now: number): Map<string, ShutdownSeen> {
  const out = new Map<string, ShutdownSeen>();
  for (const m of clusters) {
    if (pendingSwitchover(m, now) === undefined || m.switchover.kind !== 'request') continue;
    const s = seen.get(m.id) ?? prev.get(m.id);
    if (s !== undefined && s.leader === m.switchover.request.leader) out.set(m.id, s);
  }
  return out;
}

/** Every request found is released (a stop, or the DCS unreachable past the release bound). */
export function releaseAll(actual: readonly HoldStatus[], reason: string): HoldCommand[] {
  return actual.filter((h) => h.requestedMs > 0).map((h) => ({ listen: h.listen, cluster: undefined, action: 'release' as const, reason }));
}
