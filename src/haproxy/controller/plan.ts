/**
 * The pure core of the HAProxy controller (level-triggered): from the desired state of every server
 * and the actual state HAProxy reports, the runtime commands that close the difference — and only
 * those, so planning again against the resulting state yields nothing.
 *
 *   desireServerStates(cluster, layout)             → DesiredState      (rules 4 and 5)
 *   diffServerStates(desired, actual, overrides)    → RuntimeCommand[]  (rules 1–3, and the diff)
 *
 * The whole decision (these plus the rules that need the controller's memory) is composed by
 * planServerStates in controller/planner.ts, which the controller and `haconfd haproxy ready` call.
 *
 * Rules, in priority order (DESIGN.md):
 *   1. An operator's drain/maint is never lifted by the controller.
 *   2. DCS unreachable → no commands; HAProxy's own checks keep working.
 *   3. Patroni failsafe → never cut (health down, maint, drain) a serving server of a write backend.
 *   4. Write backends: the confirmed leader forced UP (`health up`), every other server forced DOWN
 *      with its sessions cut (`health down; shutdown sessions server`); no leader key → all DOWN;
 *      leader not confirmed within the bound → out of any maint/drain, the checks decide.
 *   5. Read backends: running replicas without `noloadbalance` are left to their checks (READY);
 *      everything else forced DOWN (`health down`).
 *
 * Fail-safe: the controller accelerates HAProxy's checks, it never replaces them. Every state it
 * sets leaves the checks running and able to correct it — a server forced DOWN comes UP after `rise`
 * passing checks, one forced UP goes DOWN after `fall` failing ones — so whatever haconfd left behind
 * (crash, SIGKILL, lost etcd) lasts at most the checks' own bounds. MAINT and DRAIN (which the checks
 * cannot lift) are set only for operator overrides (and by runtimeMembership.ts for servers being
 * removed); a MAINT/DRAIN found on a server the rules steer (left by an older haconfd) is lifted.
 *
 * Leaving MAINT makes a server UP before any check, so except for the confirmed leader it is always
 * `state ready; health down` on one line.
 */
import type { RuntimeCommand, ServerAction } from '../runtime/runtimeCommand.js';
import type { ActualServer } from '../runtime/serversState.js';
import { serverKey } from '../runtime/names.js';

export type BackendKind = 'write' | 'read' | 'other';

/**
 * - `up`: serving now (only the confirmed leader in a write backend): forced UP, checks keep running
 * - `down`: forced DOWN now, checks keep running (they bring it UP after `rise` passes)
 * - `down-cut`: `down`, and its sessions cut explicitly (write backends: a demoted leader)
 * - `maint`: no traffic, sessions cut, checks stopped (operator overrides only)
 * - `drain`: no new connections
 * - `ready`: out of maint/drain, HAProxy's checks decide (never forced UP)
 * - `ready-health-down`: like `ready`, and explicitly starting DOWN when it leaves MAINT
 * - `unchanged`: leave whatever HAProxy has
 */
export type WantedState = 'up' | 'down' | 'down-cut' | 'maint' | 'drain' | 'ready' | 'ready-health-down' | 'unchanged';

export interface DesiredServer {
  readonly server: string;
  readonly wanted: WantedState;
  /** Why, for logs: "not the leader", "leader confirmed", "noloadbalance" … */
  readonly reason: string;
  /** The Patroni member behind this server, when known. */
  readonly member?: string;
}

export interface DesiredBackend {
  readonly backend: string;
  readonly kind: BackendKind;
  readonly servers: readonly DesiredServer[];
}

export interface DesiredState {
  /** False when the DCS (etcd) cannot be read: then nothing is changed. */
  readonly dcsReachable: boolean;
  /** Patroni failsafe mode is keeping the primary up without a leader key. */
  readonly failsafe: boolean;
  readonly backends: readonly DesiredBackend[];
}

export type OverrideState = 'drain' | 'maint';

export interface OperatorOverride {
  readonly backend: string;
  readonly server: string;
  readonly state: OverrideState;
  readonly since?: string;
  readonly reason?: string;
}

export type OperatorOverrides = readonly OperatorOverride[];

/** What the planner needs to know about a server's actual state (a subset of ActualServer). */
export type ActualServerState = Pick<ActualServer, 'backend' | 'server' | 'opState' | 'admin'>;

const ORDER: Record<ServerAction, number> = {
  // Cut first, then route: a write never reaches two primaries.
  'health-down-cut': 0,
  'health-down': 0,
  maint: 0,
  drain: 1,
  'ready-health-down': 2,
  ready: 3,
  'ready-health-up': 4,
  'health-up': 5,
};


/** Taking new connections: UP (or starting), neither in MAINT nor DRAIN. */
export function serving(a: ActualServerState): boolean {
  return a.admin.maint.length === 0 && a.admin.drain.length === 0 && (a.opState === 'up' || a.opState === 'starting');
}

/**
 * The one action that moves `a` to `wanted`, or undefined when it is there already (or cannot be
 * moved by the runtime API: maint from config/inheritance/DNS, inherited drain).
 */
export function actionFor(wanted: WantedState, a: ActualServerState): ServerAction | undefined {
  const forcedMaint = a.admin.maint.includes('forced');
  const otherMaint = a.admin.maint.some((m) => m !== 'forced');
  const inMaint = a.admin.maint.length > 0;
  const forcedDrain = a.admin.drain.includes('forced');
  switch (wanted) {
    case 'unchanged':
      return undefined;
    case 'maint':
      return inMaint ? undefined : 'maint';
    case 'drain':
      if (otherMaint) return undefined;
      if (forcedMaint) return 'drain';
      return forcedDrain ? undefined : 'drain';
    case 'down':
    case 'down-cut':
      if (otherMaint) return undefined;
      if (forcedMaint || forcedDrain) return 'ready-health-down';
      if (a.opState === 'down') return undefined;
      return wanted === 'down-cut' ? 'health-down-cut' : 'health-down';
    case 'ready':
    case 'ready-health-down':
      if (otherMaint) return undefined;
      if (forcedMaint) return 'ready-health-down';
      return forcedDrain ? 'ready' : undefined;
    case 'up':
      if (otherMaint) return undefined;
      if (forcedMaint) return 'ready-health-up';
      if (forcedDrain) return a.opState === 'up' || a.opState === 'starting' ? 'ready' : 'ready-health-up';
      if (a.admin.drain.length > 0) return undefined; // inherited drain: not ours to lift
      return a.opState === 'up' || a.opState === 'starting' ? undefined : 'health-up';
  }
}

/** Servers the desired state names that HAProxy does not have (for a warning; no command can fix it). */
export function missingServers(desired: DesiredState, actual: readonly ActualServerState[]): string[] {
  const have = new Set(actual.map((a) => serverKey(a.backend, a.server)));
  const out: string[] = [];
  for (const b of desired.backends) for (const s of b.servers) if (!have.has(serverKey(b.backend, s.server))) out.push(serverKey(b.backend, s.server));
  return out;
}

const CUTS: ReadonlySet<ServerAction> = new Set(['maint', 'drain', 'health-down', 'health-down-cut']);

export function diffServerStates(
  desired: DesiredState,
  actual: readonly ActualServerState[],
  overrides: OperatorOverrides,
): RuntimeCommand[] {
  // Rule 2.
  if (!desired.dcsReachable) return [];
  const actualByRef = new Map(actual.map((a) => [serverKey(a.backend, a.server), a] as const));
  const overrideByRef = new Map(overrides.map((o) => [serverKey(o.backend, o.server), o] as const));
  const commands: RuntimeCommand[] = [];
  const seen = new Set<string>();
  const emit = (backend: string, server: string, wanted: WantedState, reason: string, guard?: (action: ServerAction, a: ActualServerState) => boolean): void => {
    const ref = serverKey(backend, server);
    const a = actualByRef.get(ref);
    if (!a || seen.has(ref)) return;
    const action = actionFor(wanted, a);
    if (action === undefined || (guard && !guard(action, a))) return;
    seen.add(ref);
    commands.push({ backend, server, action, reason });
  };
  // Rule 1 first: overrides apply to every server HAProxy has, named in the desired state or not.
  for (const o of overrides) emit(o.backend, o.server, o.state, `operator ${o.state}`);
  for (const b of desired.backends) {
    for (const s of b.servers) {
      const ref = serverKey(b.backend, s.server);
      if (overrideByRef.has(ref)) continue; // rule 1
      // Rule 3: in failsafe, a serving server of a write backend is never cut.
      const guard = desired.failsafe && b.kind === 'write'
        ? (action: ServerAction, a: ActualServerState) => !(CUTS.has(action) && serving(a))
        : undefined;
      emit(b.backend, s.server, s.wanted, s.reason, guard);
    }
  }
  return commands
    .map((c, i) => ({ c, i }))
    .sort((x, y) => ORDER[x.c.action] - ORDER[y.c.action] || x.i - y.i)
    .map((x) => x.c);
}

// ---------------------------------------------------------------------------------------------
// Rules 4 and 5: from the cluster as the controller sees it to the wanted state of every server.

export interface ClusterMember {
  readonly name: string;
  /** Patroni role, normalised or not (`master` and `primary` are one). */
  readonly role: string;
  /** Patroni state: `running`, `streaming`, `starting`, `stopped` … */
  readonly state: string;
  readonly noloadbalance: boolean;
}

/** The confirmation of the leader's promotion through its REST API (GET /patroni). */
export type LeaderConfirmation = 'confirmed' | 'pending' | 'timed-out';

export interface ClusterView {
  readonly dcsReachable: boolean;
  /** The member the `leader` key names (undefined: no leader key). */
  readonly leader: string | undefined;
  readonly leaderConfirmation: LeaderConfirmation;
  /** Failsafe mode keeps the primary serving while the leader key is gone. */
  readonly failsafe: boolean;
  readonly members: readonly ClusterMember[];
}

export interface BackendLayout {
  readonly backend: string;
  readonly kind: BackendKind;
  /** Read backends: the leader also takes reads (`read-only` listens). Default false (replicas only). */
  readonly includeLeader?: boolean;
  /** HAProxy server name → Patroni member name (usually the same). */
  readonly servers: readonly { readonly server: string; readonly member: string }[];
}

const REPLICA_ROLES = new Set(['replica', 'sync_standby', 'quorum_standby', 'standby']);
const RUNNING_STATES = new Set(['running', 'streaming']);

function desireWrite(layout: BackendLayout, c: ClusterView): DesiredServer[] {
  return layout.servers.map(({ server, member }) => {
    if (c.leader === undefined) {
      return c.failsafe
        ? { server, member, wanted: 'unchanged', reason: 'failsafe: leader key gone, primary keeps serving' }
        : { server, member, wanted: 'down-cut', reason: 'no leader key' };
    }
    if (member !== c.leader) return { server, member, wanted: 'down-cut', reason: `not the leader (${c.leader})` };
    switch (c.leaderConfirmation) {
      case 'confirmed':
        return { server, member, wanted: 'up', reason: 'leader, primary confirmed by its REST API' };
      case 'pending':
        return { server, member, wanted: 'unchanged', reason: 'leader, awaiting confirmation' };
      case 'timed-out':
        return { server, member, wanted: 'ready-health-down', reason: 'leader not confirmed in time: HAProxy checks decide' };
    }
  });
}

function desireRead(layout: BackendLayout, c: ClusterView): DesiredServer[] {
  const byName = new Map(c.members.map((m) => [m.name, m] as const));
  return layout.servers.map(({ server, member }) => {
    const m = byName.get(member);
    // Gone from the DCS: the render removes it, gracefully (runtimeMembership.ts drains it while it has sessions).
    if (!m) return { server, member, wanted: 'unchanged', reason: 'not a cluster member: its checks decide until the config removes it' };
    const running = RUNNING_STATES.has(m.state);
    if (member === c.leader) {
      if (!layout.includeLeader) return { server, member, wanted: 'down', reason: 'leader (replicas only)' };
      return running ? { server, member, wanted: 'ready', reason: 'leader takes reads' } : { server, member, wanted: 'down', reason: `state ${m.state}` };
    }
    if (!REPLICA_ROLES.has(m.role)) return { server, member, wanted: 'down', reason: `role ${m.role}` };
    if (!running) return { server, member, wanted: 'down', reason: `state ${m.state}` };
    if (m.noloadbalance) return { server, member, wanted: 'down', reason: 'noloadbalance' };
    return { server, member, wanted: 'ready', reason: 'running replica' };
  });
}

export function desireServerStates(cluster: ClusterView, layout: readonly BackendLayout[]): DesiredState {
  return {
    dcsReachable: cluster.dcsReachable,
    failsafe: cluster.failsafe && cluster.leader === undefined,
    backends: layout.map((l) => ({
      backend: l.backend,
      kind: l.kind,
      servers:
        l.kind === 'write'
          ? desireWrite(l, cluster)
          : l.kind === 'read'
            ? desireRead(l, cluster)
            : l.servers.map(({ server, member }) => ({ server, member, wanted: 'unchanged' as const, reason: 'not managed' })),
    })),
  };
}
