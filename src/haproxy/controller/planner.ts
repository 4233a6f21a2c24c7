/**
 * The one routing decision, pure: from the Patroni clusters, what HAProxy has, the operator's
 * overrides and what the caller knows (confirmations, routed leaders, a reload in progress), the
 * runtime commands to send — the controller's every pass and `haconfd haproxy ready` both call it.
 *
 *   planServerStates(model, actual, overrides, context) → Plan {commands, missing}
 *
 * It composes the pieces, each pure and tested on its own:
 *   clusterMapping.ts  ClusterModel + patterns + actual → ClusterView, BackendLayout (which backends)
 *   plan.ts            desireServerStates (rules 4–5: wanted state per server)
 *                      diffServerStates   (rules 1–3 and the diff against the actual state)
 * and applies the rules that need the caller's memory (formerly filters in the controller):
 *   6. While a reload is replacing the worker (less than REROUTE_HOLD_MS), a leader is not made UP:
 *      the old worker would get it and the new one starts from the dumped state.
 *   7. Once the leader of an epoch is routed, it is never forced UP again against its checks — unless
 *      its server moved (new address or port) since: the new worker starts it DOWN from the state
 *      file, not from a failing check, so it is routed again (`routesAgainAt` records where).
 *   8. DCS unreachable longer than `dcs_down_release` → every managed server is handed back to the
 *      checks (`released`); operator overrides stay.
 *   9. A leader key naming no member is never confirmed (treated as timed out: the checks decide).
 */
import type { ClusterModel } from '../../patroni/cluster.js';
import { serverKey } from '../runtime/names.js';
import { desireServerStates, diffServerStates, missingServers, type ActualServerState, type BackendKind, type LeaderConfirmation, type OperatorOverrides } from './plan.js';
import type { RuntimeCommand } from '../runtime/runtimeCommand.js';
import { backendLayoutOf, clusterViewOf, releasedDesiredState, type BackendPatterns } from './clusterMapping.js';

/** Longest a new leader's routing waits for a reload in progress. */
export const REROUTE_HOLD_MS = 1000;

/** What the planner needs of a server: its state, and where it is (rule 7). */
export type PlannedServer = ActualServerState & { readonly addr?: string; readonly port?: number };

export interface PlanContext {
  readonly patterns: BackendPatterns;
  /** False: nothing is planned (rule 2). */
  readonly dcsReachable: boolean;
  /** Set: the DCS has been unreachable past the release bound; every managed server goes back to the checks (rule 8). */
  readonly released?: string;
  /** Per cluster id: the confirmation of its current leader (absent = pending). */
  readonly confirmations: ReadonlyMap<string, LeaderConfirmation>;
  /** Per cluster id whose current leader has been routed: backend/server → `addr:port` it was routed at (rule 7). */
  readonly routed: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** A reload began less than REROUTE_HOLD_MS ago (rule 6). */
  readonly reloadHold: boolean;
}

export interface PlannedCommand extends RuntimeCommand {
  readonly kind: BackendKind;
  /** The cluster the backend belongs to; undefined for backends no cluster manages (overrides only). */
  readonly cluster: string | undefined;
  /** Rule 7: the leader is routed again at this `addr:port` (record it once the command succeeds). */
  readonly routesAgainAt?: string;
}

export interface DeferredCommand {
  readonly command: RuntimeCommand;
  readonly why: 'reload in progress';
}

export interface Plan {
  readonly commands: readonly PlannedCommand[];
  /** Backends (and backend/server) the DCS names that HAProxy lacks. */
  readonly missing: readonly string[];
  /** Commands held back by rule 6 (for a debug log). */
  readonly deferred: readonly DeferredCommand[];
  /** Per cluster id: the write backends HAProxy has (to tell when a leader is routed). */
  readonly writeBackends: ReadonlyMap<string, readonly string[]>;
}

/** `addr:port` of backend/server in `actual`, if it is there with an address. */
export function placeOf(actual: readonly PlannedServer[], backend: string, server: string): string | undefined {
  const a = actual.find((x) => x.backend === backend && x.server === server);
  return a === undefined || a.addr === undefined ? undefined : `${a.addr}:${a.port ?? ''}`;
}

const routesUp = (c: RuntimeCommand): boolean => c.action === 'health-up' || c.action === 'ready-health-up';

export function planServerStates(
  model: readonly ClusterModel[],
  actual: readonly PlannedServer[],
  overrides: OperatorOverrides,
  context: PlanContext,
): Plan {
  const commands: PlannedCommand[] = [];
  const deferred: DeferredCommand[] = [];
  const missing: string[] = [];
  const writeBackends = new Map<string, string[]>();
  if (!context.dcsReachable && context.released === undefined) return { commands, missing, deferred, writeBackends };
  const managed = new Set<string>();
  for (const m of model) {
    const { layout, missingBackends } = backendLayoutOf(m, context.patterns, actual);
    missing.push(...missingBackends);
    const backends = new Set(layout.map((l) => l.backend));
    for (const b of backends) managed.add(b);
    writeBackends.set(m.id, layout.filter((l) => l.kind === 'write').map((l) => l.backend));
    const clusterActual = actual.filter((a) => backends.has(a.backend));
    // Rule 9.
    const confirmation: LeaderConfirmation = m.leader !== null && !m.leaderKnown ? 'timed-out' : (context.confirmations.get(m.id) ?? 'pending');
    const desired = context.released !== undefined ? releasedDesiredState(layout, context.released) : desireServerStates(clusterViewOf(m, confirmation, true), layout);
    missing.push(...missingServers(desired, clusterActual));
    const kindOf = new Map(layout.map((l) => [l.backend, l.kind] as const));
    const routed = context.routed.get(m.id);
    for (const cmd of diffServerStates(desired, clusterActual, overrides)) {
      const kind = kindOf.get(cmd.backend) ?? 'other';
      // Rule 6.
      if (routesUp(cmd) && context.reloadHold) {
        deferred.push({ command: cmd, why: 'reload in progress' });
        continue;
      }
      // Rule 7.
      if (cmd.action === 'health-up' && routed !== undefined) {
        const then = routed.get(serverKey(cmd.backend, cmd.server));
        const now = placeOf(actual, cmd.backend, cmd.server);
        if (then === undefined || now === undefined || then === now) continue;
        commands.push({ ...cmd, kind, cluster: m.id, routesAgainAt: now });
        continue;
      }
      commands.push({ ...cmd, kind, cluster: m.id });
    }
  }
  // Backends no cluster manages: operator overrides only (rule 1).
  const rest = actual.filter((a) => !managed.has(a.backend));
  for (const cmd of diffServerStates({ dcsReachable: true, failsafe: false, backends: [] }, rest, overrides)) commands.push({ ...cmd, kind: 'other', cluster: undefined });
  return { commands, missing, deferred, writeBackends };
}
