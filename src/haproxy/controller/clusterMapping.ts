/**
 * From the Patroni model and the `[controller]` backend patterns to what the planner needs: a
 * ClusterView (leader, its confirmation, failsafe, members) and the BackendLayout of every write
 * and read backend HAProxy really has for that cluster. Pure.
 *
 * - Backend names come from patterns: `{cluster}_primary` (write), `{cluster}_replicas` (read,
 *   replicas only), `{cluster}_read_only` (read, the leader takes reads too).
 * - Servers are the union of what HAProxy has in that backend (server name = member name) and the
 *   members in the DCS: a server whose member vanished is drained/cut before the next render
 *   removes it; a member HAProxy lacks is reported as missing.
 * - Failsafe: no leader key, `config.failsafe_mode` on and a `failsafe` key → the write servers are
 *   left as they are (the primary keeps serving). Maintenance mode (`pause`) with no leader key is
 *   treated the same way: Patroni does nothing automatic then, so neither do we.
 */
import type { ClusterModel } from '../../patroni/cluster.js';
import type { BackendKind, BackendLayout, ClusterView, DesiredState, LeaderConfirmation } from './plan.js';
import type { ActualServerState } from './plan.js';

export interface BackendPatterns {
  readonly writeBackends: readonly string[];
  readonly readBackends: readonly string[];
  readonly readBackendsWithLeader: readonly string[];
}

export function backendNameOf(pattern: string, clusterId: string): string {
  return pattern.replace('{cluster}', clusterId);
}

/** Why the write servers are left alone while there is no leader key (undefined: they are not). */
export function leaderlessHold(model: Pick<ClusterModel, 'leader' | 'failsafeMode' | 'failsafe' | 'paused'>): string | undefined {
  if (model.leader !== null) return undefined;
  if (model.failsafeMode && model.failsafe !== null && Object.keys(model.failsafe).length > 0) {
    return `failsafe: leader key gone, failsafe_mode on and failsafe key names ${Object.keys(model.failsafe).join(', ')}`;
  }
  if (model.paused) return 'maintenance mode (pause): leader key gone, Patroni fails nothing over, HAProxy checks decide';
  return undefined;
}

export function clusterViewOf(model: ClusterModel, confirmation: LeaderConfirmation, dcsReachable: boolean): ClusterView {
  return {
    dcsReachable,
    leader: model.leader ?? undefined,
    leaderConfirmation: confirmation,
    failsafe: leaderlessHold(model) !== undefined,
    members: model.members.map((m) => ({ name: m.name, role: m.role, state: m.state, noloadbalance: m.tags.noloadbalance })),
  };
}

export interface ClusterLayout {
  readonly layout: BackendLayout[];
  /** Write/read backends the patterns name that HAProxy does not have. */
  readonly missingBackends: string[];
}

/** The backends of one cluster, from the patterns and the servers HAProxy has. */
export function backendLayoutOf(model: Pick<ClusterModel, 'id' | 'members'>, patterns: BackendPatterns, actual: readonly ActualServerState[]): ClusterLayout {
  const serversOf = new Map<string, string[]>();
  for (const a of actual) {
    const list = serversOf.get(a.backend);
    if (list) list.push(a.server);
    else serversOf.set(a.backend, [a.server]);
  }
  const layout: BackendLayout[] = [];
  const missingBackends: string[] = [];
  const seen = new Set<string>();
  const add = (pattern: string, kind: BackendKind, includeLeader: boolean, reportMissing: boolean): void => {
    const backend = backendNameOf(pattern, model.id);
    if (seen.has(backend)) return;
    seen.add(backend);
    const have = serversOf.get(backend);
    if (have === undefined) {
      if (reportMissing) missingBackends.push(backend);
      return;
    }
    const names = [...have];
    for (const m of model.members) if (!names.includes(m.name)) names.push(m.name);
    layout.push({ backend, kind, ...(kind === 'read' ? { includeLeader } : {}), servers: names.map((n) => ({ server: n, member: n })) });
  };
  for (const p of patterns.writeBackends) add(p, 'write', false, true);
  for (const p of patterns.readBackends) add(p, 'read', false, true);
  for (const p of patterns.readBackendsWithLeader) add(p, 'read', true, false);
  return { layout, missingBackends };
}

/**
 * The DCS has been unreachable too long: hand every server we steer back to HAProxy's checks
 * (out of MAINT/DRAIN, starting DOWN so only a passing check makes it UP). Operator overrides stay
 * (the planner applies rule 1 first).
 */
export function releasedDesiredState(layout: readonly BackendLayout[], reason: string): DesiredState {
  return {
    dcsReachable: true,
    failsafe: false,
    backends: layout.map((l) => ({
      backend: l.backend,
      kind: l.kind,
      servers: l.servers.map(({ server, member }) => ({ server, member, wanted: 'ready-health-down' as const, reason })),
    })),
  };
}
