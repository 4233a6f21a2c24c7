/**
 * The HAProxy controller: level-triggered, like a Kubernetes controller. On every snapshot change,
 * on a timer, after every reload and at start-up it computes the desired state of every server
 * from the Patroni model, reads the actual state (`show servers state`), and sends only the
 * commands that close the difference (src/haproxy/controller/plan.ts). Restart-safe and idempotent.
 *
 * Leader fast path: a changed or deleted `leader` key cuts every other server of the write
 * backends (MAINT) in the very pass that sees it; the new leader is made UP once its REST API
 * confirms a running primary (leaderConfirmation.ts), or handed to HAProxy's checks
 * (`state ready; health down`) when that does not happen within the bound.
 *
 * It changes nothing while the DCS is unreachable or no snapshot has been read (and says so); after
 * `dcs_down_release` it hands the servers it steers back to HAProxy's checks. Operator overrides
 * (overrides.ts) are never lifted.
 */
import type { Registry } from 'prom-client';
import type { Snapshot } from '../../backends/backend.js';
import type { Logger } from '../../log/logger.js';
import { parseClusters, type ClusterModel } from '../../patroni/cluster.js';
import { Store } from '../../store/store.js';
import { loadOverrides } from './overrides.js';
import { desireServerStates, missingServers, planServerStates, type ActualServerState, type LeaderConfirmation, type OperatorOverride } from './plan.js';
import { RuntimeClient } from '../runtime/runtimeClient.js';
import { addServerLine, type RuntimeCommand } from '../runtime/runtimeCommand.js';
import { NoSuchBackendError, NoSuchServerError } from '../runtime/runtimeErrors.js';
import type { ActualServer } from '../runtime/serversState.js';
import { pidOf } from '../runtime/infoList.js';
import { backendLayoutOf, backendNameOf, clusterViewOf, leaderlessHold, releasedDesiredState } from './clusterMapping.js';
import { extractConfigServers } from '../config/configServers.js';
import { isHaproxyIdentifier, serverKey } from '../runtime/names.js';
import type { ControllerConfig } from './controllerConfig.js';
import { ControllerMetrics } from './controllerMetrics.js';
import { LeaderConfirmations, type ConfirmationSettled } from './leaderConfirmation.js';
import { RuntimeMembership, type MembershipOutcome, type MembershipState } from './runtimeMembership.js';

export type ReconcileTrigger = 'start' | 'snapshot' | 'timer' | 'confirmation' | 'reload' | 'membership' | 'manual';

export interface SentCommand extends RuntimeCommand {
  readonly ok: boolean;
  readonly error?: string;
}

export interface ReconcileReport {
  readonly triggers: readonly ReconcileTrigger[];
  /** Why nothing was changed (no snapshot, DCS unreachable, overrides unreadable), if so. */
  readonly held: string | undefined;
  readonly commands: readonly SentCommand[];
  /** backend or backend/server names the controller expects that HAProxy lacks. */
  readonly missing: readonly string[];
  readonly error: string | undefined;
  readonly durationMs: number;
}

export interface ControllerOptions {
  readonly config: ControllerConfig;
  readonly log: Logger;
  /** The daemon's registry (metrics are served at /metrics). */
  readonly registry: Registry;
  /** Metrics of a controller this one replaces (SIGHUP): registered once, counts carry on. */
  readonly metrics?: ControllerMetrics;
  /** Whether the DCS is reachable now (the daemon's backend status). Default: always. */
  readonly dcsReachable?: () => boolean | Promise<boolean>;
  readonly client?: RuntimeClient;
  readonly now?: () => number;
  /**
   * What a controller this one replaces (SIGHUP, same socket) knew of the running worker's config
   * and of the servers waiting for removal.
   */
  readonly membershipState?: MembershipState;
}

interface LeaderEpoch {
  leader: string | null;
  /** When this leader key value was first seen (snapshot arrival). */
  seenAt: number;
  /** The leader's server is UP in the write backends (after confirmation). */
  routed: boolean;
  /** backend/server → `addr:port` of the leader's servers when they were routed. */
  routedAt: Map<string, string>;
  /** Was this a change (not the first sighting at start-up)? */
  changed: boolean;
}


/** Longest a new leader's routing waits for a reload in progress. */
const REROUTE_HOLD_MS = 1000;

/** How long after a reload its old worker's PID answering `show info` is taken for that old worker. */
const RETIRED_WORKER_MS = 10_000;
/**
 * A server the DCS names that HAProxy lacks is normal for a moment: a member joined and the render
 * (or the runtime `add server`) has not caught up yet. Only one still missing after this long is a
 * warning; before that it is logged at debug.
 */
export const MISSING_WARN_AFTER_MS = 10_000;

/** `addr:port` of backend/server in HAProxy's state, if it has it. */
function placeOf(actual: readonly ActualServer[], backend: string, server: string): string | undefined {
  const a = actual.find((x) => x.backend === backend && x.server === server);
  return a === undefined ? undefined : `${a.addr}:${a.port}`;
}

function serving(a: ActualServerState): boolean {
  return a.admin.maint.length === 0 && a.admin.drain.length === 0 && (a.opState === 'up' || a.opState === 'starting');
}

export class HaproxyController {
  readonly metrics: ControllerMetrics;
  private readonly client: RuntimeClient;
  private readonly now: () => number;
  private readonly confirmations: LeaderConfirmations;
  /** Undefined when `runtime_membership = false`. */
  private readonly membership: RuntimeMembership | undefined;
  private snapshot: Snapshot | undefined;
  private snapshotAt = 0;
  private readonly epochs = new Map<string, LeaderEpoch>();
  private queued = new Set<ReconcileTrigger>();
  private inFlight: Promise<void> | undefined;
  /** Reconcile passes and membership changes run one at a time (exclusive()). */
  private lock: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private workerPid: number | undefined;
  private dcsDownSince: number | undefined;
  private lastHeld: string | undefined;
  private lastError: string | undefined;
  private lastErrorAt = 0;
  private lastMissing = '';
  /** When each currently missing backend/server was first seen missing. */
  private readonly missingSince = new Map<string, number>();
  private last: ReconcileReport | undefined;
  /** Set while a reload runs (duringReload). */
  private reloadingSince: number | undefined;
  /** A reload haconfd ran succeeded and its new worker has not been seen yet. */
  private ownWorkerDue = false;
  /** Workers replaced lately → when (an old one may still answer the socket while it soft-stops). */
  private readonly retiredPids = new Map<number, number>();

  constructor(private readonly opts: ControllerOptions) {
    const c = opts.config;
    this.metrics = opts.metrics ?? new ControllerMetrics(opts.registry);
    this.client = opts.client ?? new RuntimeClient(c.socket, { timeoutMs: c.socketTimeoutMs });
    this.now = opts.now ?? Date.now;
    this.confirmations = new LeaderConfirmations({
      timeoutMs: c.confirmTimeoutMs,
      pollMs: c.confirmPollMs,
      requestTimeoutMs: c.confirmRequestTimeoutMs,
      verifyTls: c.apiVerifyTls,
      onSettled: (s) => this.onConfirmation(s),
    });
    this.membership = c.runtimeMembership
      ? new RuntimeMembership({ client: this.client, log: opts.log, metrics: this.metrics, removalGraceMs: c.removalGraceMs, now: this.now }, opts.membershipState)
      : undefined;
  }

  /** The runtime API address it steers. */
  get socket(): string {
    return this.opts.config.socket;
  }

  /** What it knows of the running worker's config, for a controller that replaces this one. */
  get membershipState(): MembershipState | undefined {
    return this.membership?.state;
  }

  /**
   * At start-up: takes `dest` as the config the running worker loaded if it started after the file
   * was written, so membership changes can skip the reload from the first one.
   */
  async adoptRunningConfig(dest: string): Promise<boolean> {
    // Known already (carried over from the controller this one replaces): keep it.
    if (this.membership?.knows(dest)) return true;
    return (await this.membership?.adopt(dest)) ?? false;
  }

  /** A reload of `dest` succeeded: the running worker has `text`. */
  noteLoaded(dest: string, text: string): void {
    this.membership?.noteLoaded(dest, text);
  }

  /** A reload of `dest` failed: what the worker runs is no longer known. */
  forgetLoaded(dest: string): void {
    this.membership?.forget(dest);
  }

  /**
   * `text` was just committed to `dest`: if it only adds or removes servers, applies that through
   * the runtime API (no reload) and gives the new servers their roles at once. `applied: false`
   * (with the reason) means the caller must reload.
   */
  async applyMembership(dest: string, text: string): Promise<MembershipOutcome> {
    if (this.membership === undefined) return { applied: false, reason: 'runtime_membership = false' };
    const membership = this.membership;
    // Never beside a pass: a pass that read the servers before a removal was registered could steer
    // the server being removed, and one running during `add server` would plan without it.
    const outcome = await this.exclusive(async () => (this.stopped ? { applied: false as const, reason: 'the controller is restarting or stopping' } : membership.apply(dest, text)));
    // The new servers get their roles now.
    if (outcome.applied) await this.passNow(['membership']);
    return outcome;
  }

  /** The latest reconcile's report (tests, logs). */
  get lastReport(): ReconcileReport | undefined {
    return this.last;
  }

  /** Starts the timer and reconciles once. */
  start(): void {
    this.opts.log.info({ socket: this.opts.config.socket, namespace: this.opts.config.namespace, intervalMs: this.opts.config.intervalMs }, 'HAProxy controller started');
    this.timer = setInterval(() => this.trigger('timer'), this.opts.config.intervalMs);
    this.trigger('start');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.confirmations.cancelAll();
    await this.inFlight;
    await this.lock;
  }

  /** The daemon's snapshot changed (full read or watch events): reconcile at once. */
  setSnapshot(s: Snapshot): void {
    this.snapshot = s;
    this.snapshotAt = this.now();
    this.trigger('snapshot');
  }

  /** A resource reloaded HAProxy: the new worker may have forgotten runtime state. */
  notifyReload(): void {
    this.trigger('reload');
  }

  /**
   * Right before a reload: every server of a write backend that the new config adds is added to
   * the running worker (`add server`, which starts in MAINT), so the state dumped into the
   * server-state file has it in MAINT and the new worker does not start it UP (a replica would
   * take writes until the next pass). Never throws: a failure here only costs that protection.
   * Servers waiting for removal that the new config lists again are no longer removed.
   */
  async prepareReload(newConfigText: string): Promise<void> {
    const membership = this.membership;
    // Not beside a pass whose sweep may be deleting one of those servers.
    if (membership) await this.exclusive(async () => membership.willLoad(newConfigText));
    const snap = this.snapshot;
    if (snap === undefined) return;
    try {
      const writeBackends = new Set<string>();
      for (const m of this.clustersOf(snap)) for (const p of this.opts.config.writeBackends) writeBackends.add(backendNameOf(p, m.id));
      const actual = await this.client.showServersState();
      const have = new Set(actual.map((a) => serverKey(a.backend, a.server)));
      const backends = new Set(actual.map((a) => a.backend));
      for (const s of extractConfigServers(newConfigText)) {
        if (!writeBackends.has(s.backend) || !backends.has(s.backend) || have.has(serverKey(s.backend, s.server)) || s.port === undefined) continue;
        if (!isHaproxyIdentifier(s.server) || !/^[A-Za-z0-9.:-]+$/.test(s.addr)) continue;
        const addr = s.addr.includes(':') ? `[${s.addr}]:${s.port}` : `${s.addr}:${s.port}`;
        try {
          await this.client.send(addServerLine(s.backend, s.server, addr), { backend: s.backend, server: s.server });
          this.metrics.commands.inc({ action: 'add-maint', kind: 'write', result: 'ok' });
          this.opts.log.info({ backend: s.backend, server: s.server }, `${s.backend}/${s.server} added in MAINT before the reload, so the new worker does not start it UP`);
        } catch (e) {
          this.metrics.commands.inc({ action: 'add-maint', kind: 'write', result: 'error' });
          this.opts.log.warn({ backend: s.backend, server: s.server }, `could not pre-add ${s.backend}/${s.server} in MAINT before the reload: ${(e as Error).message}`);
        }
      }
    } catch (e) {
      this.opts.log.warn(`before the reload: ${(e as Error).message} (new servers may start UP until the next pass)`);
    }
  }

  /**
   * Runs `reload` (a reload of HAProxy) while reconciling back to back, so a new worker that
   * starts with servers the state file did not know (UP by default) is corrected within
   * milliseconds of answering on the socket, not after the reload has been confirmed.
   */
  async duringReload<T>(reload: () => Promise<T>): Promise<T> {
    let done = false;
    this.reloadingSince = this.now();
    const loop = (async () => {
      while (!done && !this.stopped) {
        await this.passNow(['reload']);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const pidBefore = this.workerPid;
    try {
      const result = await reload();
      // Its new worker, when a later pass first sees it, is ours: what it loaded is noted by the caller.
      if (this.workerPid === pidBefore) this.ownWorkerDue = true;
      return result;
    } finally {
      this.reloadingSince = undefined;
      done = true;
      await loop;
      this.notifyReload();
    }
  }

  /** Schedules a reconcile (single flight: triggers arriving during a pass run one more pass). */
  trigger(t: ReconcileTrigger): void {
    if (this.stopped) return;
    this.queued.add(t);
    if (this.inFlight) return;
    this.inFlight = (async () => {
      while (this.queued.size > 0 && !this.stopped) {
        const triggers = [...this.queued];
        this.queued = new Set();
        await this.passNow(triggers);
      }
    })().finally(() => {
      this.inFlight = undefined;
    });
  }

  /** Runs `fn` after every pass or membership change before it has finished. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Resolves once no reconcile is running or queued. */
  async settle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  /** Runs one reconcile now (after any in flight) and returns its report. */
  async reconcileNow(): Promise<ReconcileReport> {
    return (await this.passNow(['manual'])) ?? (this.last as ReconcileReport);
  }

  /**
   * One pass that starts after this call (behind any in flight), kept as the latest report; none
   * once stopped. Unlike settle(), it cannot be starved by timer passes queued one after another
   * when the socket is slow.
   */
  private async passNow(triggers: readonly ReconcileTrigger[]): Promise<ReconcileReport | undefined> {
    const report = await this.exclusive(async () => (this.stopped ? undefined : this.reconcile(triggers)));
    if (report !== undefined) this.last = report;
    return report;
  }

  private onConfirmation(s: ConfirmationSettled): void {
    this.metrics.confirmations.inc({ cluster: s.cluster, result: s.status });
    if (s.status === 'confirmed') {
      this.opts.log.info({ cluster: s.cluster, leader: s.leader, elapsedMs: s.elapsedMs, attempts: s.attempts, detail: s.detail }, `leader ${s.leader} confirmed as a running primary: making it UP in the write backends`);
    } else {
      this.opts.log.warn({ cluster: s.cluster, leader: s.leader, elapsedMs: s.elapsedMs, detail: s.detail }, `leader ${s.leader} not confirmed in time (${s.detail}): HAProxy's checks decide (state ready; health down)`);
    }
    this.trigger('confirmation');
  }

  private hold(reason: string): void {
    this.metrics.dcsHold.set(1);
    if (this.lastHeld !== reason) this.opts.log.warn(`HAProxy controller changes nothing: ${reason}`);
    this.lastHeld = reason;
  }

  private unhold(): void {
    this.metrics.dcsHold.set(0);
    if (this.lastHeld !== undefined) this.opts.log.info(`HAProxy controller acting again (was: ${this.lastHeld})`);
    this.lastHeld = undefined;
  }

  private clustersOf(s: Snapshot): ClusterModel[] {
    const c = this.opts.config;
    const set = parseClusters(new Store(s, c.namespace), '/');
    return set.clusters.filter((m) => c.scopes.length === 0 || c.scopes.includes(m.id) || c.scopes.includes(m.scope));
  }

  /** Notes leader key changes (fast path bookkeeping) and drives the confirmations. */
  private trackLeaders(clusters: readonly ClusterModel[]): Map<string, LeaderConfirmation> {
    const out = new Map<string, LeaderConfirmation>();
    for (const m of clusters) {
      const prev = this.epochs.get(m.id);
      if (prev === undefined || prev.leader !== m.leader) {
        const changed = prev !== undefined;
        this.epochs.set(m.id, { leader: m.leader, seenAt: changed ? this.snapshotAt : this.now(), routed: false, routedAt: new Map(), changed });
        if (changed) {
          this.metrics.leaderChanges.inc({ cluster: m.id });
          const what = m.leader === null ? 'deleted' : `now names ${m.leader}${m.leaderKnown ? '' : ' (not a known member)'}`;
          const hold = leaderlessHold(m);
          this.opts.log.warn(
            { cluster: m.id, from: prev.leader, to: m.leader },
            `leader key of ${m.id} ${what} (was ${prev.leader ?? 'none'}): ${hold ?? 'cutting every other server in the write backends'}${m.leader !== null && m.leaderKnown ? `; confirming ${m.leader} through its REST API` : ''}`,
          );
        } else {
          this.opts.log.info({ cluster: m.id, leader: m.leader }, `cluster ${m.id}: leader ${m.leader ?? 'none'}`);
        }
      }
      const leader = m.leader ?? undefined;
      const member = leader === undefined ? undefined : m.members.find((x) => x.name === leader);
      const st = this.confirmations.track(m.id, leader, member?.apiUrl);
      out.set(m.id, st === undefined ? 'pending' : st.status);
    }
    this.confirmations.retain(new Set(clusters.map((m) => m.id)));
    for (const id of [...this.epochs.keys()]) if (!clusters.some((m) => m.id === id)) this.epochs.delete(id);
    return out;
  }

  private async reconcile(triggers: readonly ReconcileTrigger[]): Promise<ReconcileReport> {
    const started = this.now();
    for (const t of triggers) this.metrics.reconciles.inc({ trigger: t });
    const report = (p: Partial<ReconcileReport>): ReconcileReport => ({
      triggers,
      held: undefined,
      commands: [],
      missing: [],
      error: undefined,
      durationMs: this.now() - started,
      ...p,
    });
    const snap = this.snapshot;
    if (snap === undefined) {
      this.hold('no snapshot read from the DCS yet');
      return report({ held: 'no snapshot' });
    }
    let clusters: ClusterModel[];
    let confirmations: Map<string, LeaderConfirmation>;
    try {
      clusters = this.clustersOf(snap);
      confirmations = this.trackLeaders(clusters);
    } catch (e) {
      return this.failed(report, e);
    }
    const sent: SentCommand[] = [];
    try {
      const all = await this.client.showServersState();
      if (triggers.some((t) => t !== 'snapshot' && t !== 'confirmation')) await this.checkWorker(triggers);

      const reachable = this.opts.dcsReachable ? await this.opts.dcsReachable() : true;
      let released: string | undefined;
      if (!reachable) {
        this.dcsDownSince ??= this.now();
        const downMs = this.now() - this.dcsDownSince;
        const release = this.opts.config.dcsDownReleaseMs;
        if (release === 0 || downMs < release) {
          this.hold(`the DCS is unreachable (HAProxy's checks keep working${release > 0 ? `; servers go back to them after ${release} ms` : ''})`);
          return report({ held: 'dcs unreachable' });
        }
        released = `DCS unreachable for ${Math.round(downMs / 1000)} s: HAProxy checks decide`;
        this.hold(`the DCS has been unreachable for over ${release} ms: every steered server is handed back to HAProxy's checks`);
      } else {
        this.dcsDownSince = undefined;
      }

      let overrides: OperatorOverride[];
      try {
        overrides = loadOverrides(this.opts.config.overridesFile);
      } catch (e) {
        this.hold(`operator overrides unreadable (${(e as Error).message})`);
        this.metrics.reconcileErrors.inc({ kind: 'OverridesFileError' });
        return report({ held: 'overrides unreadable', error: (e as Error).message });
      }
      if (released === undefined) this.unhold();

      // Servers removed from the config and waiting for `del server` are not steered (and those
      // deleted just now are gone). Held passes above leave them as they are, too.
      const actual = this.membership ? await this.membership.sweep(all) : all;

      const commands: { cmd: RuntimeCommand; kind: string; cluster: string | undefined; moved?: { epoch: LeaderEpoch; place: string } }[] = [];
      const missing: string[] = [];
      const managed = new Set<string>();
      for (const m of clusters) {
        const { layout, missingBackends } = backendLayoutOf(m, this.opts.config, actual);
        missing.push(...missingBackends);
        const backends = new Set(layout.map((l) => l.backend));
        for (const b of backends) managed.add(b);
        const clusterActual = actual.filter((a) => backends.has(a.backend));
        const conf: LeaderConfirmation = m.leader !== null && !m.leaderKnown ? 'timed-out' : (confirmations.get(m.id) ?? 'pending');
        const desired = released !== undefined ? releasedDesiredState(layout, released) : desireServerStates(clusterViewOf(m, conf, true), layout);
        missing.push(...missingServers(desired, clusterActual));
        const kindOf = new Map(layout.map((l) => [l.backend, l.kind] as const));
        const epoch = this.epochs.get(m.id);
        for (const cmd of planServerStates(desired, clusterActual, overrides)) {
          // A reload is replacing the worker and its state was (or is being) dumped: routing now would
          // reach only the old worker, and the new one would start from the dump. Route once the new
          // worker is there (a short wait; bounded so a hanging reload never holds writes back).
          if ((cmd.action === 'health-up' || cmd.action === 'ready-health-up') && this.reloadingSince !== undefined && this.now() - this.reloadingSince < REROUTE_HOLD_MS) {
            this.opts.log.debug({ backend: cmd.backend, server: cmd.server }, 'routing deferred until the reload in progress completes');
            continue;
          }
          // Once the leader is routed, never force it UP against failing checks (they are the safety
          // net) — unless a reload moved its server (new address or port): the new worker starts it
          // DOWN from the state file, not from a failing check, so the confirmed leader is routed again.
          if (cmd.action === 'health-up' && epoch?.routed) {
            const key = serverKey(cmd.backend, cmd.server);
            const then = epoch.routedAt.get(key);
            const now = placeOf(actual, cmd.backend, cmd.server);
            if (then === undefined || now === undefined || then === now) continue;
            this.opts.log.info({ cluster: m.id, backend: cmd.backend, server: cmd.server, from: then, to: now }, `${key} moved (${then} → ${now}) since the leader was routed: routing it again`);
            // Recorded once the command succeeded, so a failed one is retried next pass.
            commands.push({ cmd, kind: kindOf.get(cmd.backend) ?? 'other', cluster: m.id, moved: { epoch, place: now } });
            continue;
          }
          commands.push({ cmd, kind: kindOf.get(cmd.backend) ?? 'other', cluster: m.id });
        }
      }
      const rest = actual.filter((a) => !managed.has(a.backend));
      for (const cmd of planServerStates({ dcsReachable: true, failsafe: false, backends: [] }, rest, overrides)) commands.push({ cmd, kind: 'other', cluster: undefined });

      this.reportMissing(missing);
      for (const { cmd, kind, cluster, moved } of commands) {
        try {
          await this.client.apply(cmd);
          moved?.epoch.routedAt.set(serverKey(cmd.backend, cmd.server), moved.place);
          this.metrics.commands.inc({ action: cmd.action, kind, result: 'ok' });
          sent.push({ ...cmd, ok: true });
          this.opts.log.info({ cluster, backend: cmd.backend, server: cmd.server, action: cmd.action, reason: cmd.reason }, `${cmd.backend}/${cmd.server} → ${cmd.action}: ${cmd.reason}`);
        } catch (e) {
          this.metrics.commands.inc({ action: cmd.action, kind, result: 'error' });
          sent.push({ ...cmd, ok: false, error: (e as Error).message });
          // A server or backend that vanished (reload in between) is fixed by the next pass.
          if (e instanceof NoSuchServerError || e instanceof NoSuchBackendError) {
            this.opts.log.warn({ cluster, backend: cmd.backend, server: cmd.server }, (e as Error).message);
            continue;
          }
          throw e;
        }
      }
      if (released === undefined) this.noteRouted(clusters, confirmations, actual, sent);
      if (this.lastError !== undefined) {
        this.opts.log.info(`HAProxy controller recovered (was: ${this.lastError})`);
        this.lastError = undefined;
      }
      return report({ commands: sent, missing, ...(released !== undefined ? { held: 'dcs unreachable: released to checks' } : {}) });
    } catch (e) {
      return this.failed(report, e, sent);
    }
  }

  private failed(report: (p: Partial<ReconcileReport>) => ReconcileReport, e: unknown, sent: SentCommand[] = []): ReconcileReport {
    const err = e as Error;
    const kind = err.name || 'Error';
    this.metrics.reconcileErrors.inc({ kind });
    // The same error again and again is logged once per 30 s.
    if (this.lastError !== err.message || this.now() - this.lastErrorAt > 30_000) {
      this.opts.log.error({ kind }, `HAProxy controller: ${err.message} (retrying every ${this.opts.config.intervalMs} ms)`);
      this.lastErrorAt = this.now();
    }
    this.lastError = err.message;
    return report({ commands: sent, error: err.message });
  }

  private reportMissing(missing: readonly string[]): void {
    this.metrics.missingServers.set(missing.length);
    const now = this.now();
    const current = new Set(missing);
    for (const k of [...this.missingSince.keys()]) if (!current.has(k)) this.missingSince.delete(k);
    const fresh = missing.filter((k) => !this.missingSince.has(k));
    for (const k of fresh) this.missingSince.set(k, now);
    if (fresh.length > 0) this.opts.log.debug({ missing: fresh }, 'HAProxy does not have these yet (a member joining: the render adds them)');
    const lasting = missing.filter((k) => now - (this.missingSince.get(k) ?? now) >= MISSING_WARN_AFTER_MS);
    const key = [...lasting].sort().join(' ');
    if (key === this.lastMissing) return;
    this.lastMissing = key;
    if (lasting.length > 0) {
      this.opts.log.warn(
        { missing: lasting },
        `HAProxy lacks ${lasting.length} backend(s)/server(s) the DCS names, for ${MISSING_WARN_AFTER_MS / 1000} s or more: ${lasting.join(', ')} ` +
          '(is the haproxy.cfg resource failing to render or reload, or do the controller\'s backend patterns name listens the template does not have?)',
      );
    }
  }

  /** Detects a new worker (reload or restart) through `show info`. */
  private async checkWorker(triggers: readonly ReconcileTrigger[]): Promise<void> {
    const pid = pidOf(await this.client.showInfo());
    if (pid === undefined || pid === this.workerPid) return;
    // The old worker of a reload answering once more before it stops listening: not a change. (Only
    // shortly after: a restarted HAProxy in a container may get a PID used before.)
    const retiredAt = this.retiredPids.get(pid);
    if (retiredAt !== undefined && this.now() - retiredAt < RETIRED_WORKER_MS) return;
    if (this.workerPid === undefined) {
      // The first worker seen: nothing of ours to wait for any more.
      this.ownWorkerDue = false;
    } else {
      this.retiredPids.set(this.workerPid, this.now());
      for (const [old, at] of this.retiredPids) if (this.now() - at >= RETIRED_WORKER_MS) this.retiredPids.delete(old);
      this.metrics.workerChanges.inc();
      this.opts.log.info({ from: this.workerPid, to: pid, triggers }, 'new HAProxy worker (reload or restart): pushing the DCS-known roles and operator overrides again');
      const ours = this.reloadingSince !== undefined || this.ownWorkerDue;
      this.ownWorkerDue = false;
      // Not a reload haconfd ran: the new worker loaded whatever the file held when it started.
      if (!ours) await this.membership?.readopt();
    }
    this.workerPid = pid;
  }

  /** Observes leader-change-to-routed latency once the new leader is UP in every write backend. */
  private noteRouted(clusters: readonly ClusterModel[], confirmations: Map<string, LeaderConfirmation>, actual: readonly ActualServer[], sent: readonly SentCommand[]): void {
    for (const m of clusters) {
      const epoch = this.epochs.get(m.id);
      if (!epoch || epoch.routed || m.leader === null || confirmations.get(m.id) !== 'confirmed') continue;
      const writeBackends = backendLayoutOf(m, this.opts.config, actual).layout.filter((l) => l.kind === 'write').map((l) => l.backend);
      if (writeBackends.length === 0) continue;
      const up = writeBackends.every((b) => {
        const ref = serverKey(b, m.leader as string);
        if (sent.some((c) => c.ok && serverKey(c.backend, c.server) === ref && (c.action === 'ready-health-up' || c.action === 'health-up'))) return true;
        const a = actual.find((x) => serverKey(x.backend, x.server) === ref);
        return a !== undefined && serving(a) && !sent.some((c) => serverKey(c.backend, c.server) === ref);
      });
      if (!up) continue;
      epoch.routed = true;
      for (const b of writeBackends) {
        const place = placeOf(actual, b, m.leader);
        if (place !== undefined) epoch.routedAt.set(serverKey(b, m.leader), place);
      }
      const ms = this.now() - epoch.seenAt;
      if (epoch.changed) {
        this.metrics.routedLatency.observe({ cluster: m.id }, ms / 1000);
        this.opts.log.info({ cluster: m.id, leader: m.leader, latencyMs: ms }, `writes routed to ${m.leader} ${ms} ms after the leader key changed`);
      }
    }
  }
}
