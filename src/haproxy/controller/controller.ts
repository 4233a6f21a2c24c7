/**
 * The HAProxy controller: level-triggered, like a Kubernetes controller. On every snapshot change,
 * on a timer, after every reload and at start-up it runs one pass — gather (the clusters, the
 * leader confirmations, HAProxy's servers, the DCS's reachability, the operator overrides) → plan
 * (planServerStates, planner.ts: every routing rule, pure) → apply (the commands, in order) — and
 * keeps its memory between passes as explicit states (controllerState.ts). Restart-safe, idempotent.
 *
 * It accelerates HAProxy's checks, it never replaces them: a changed or deleted `leader` key forces
 * every other write server DOWN (`health down`, sessions cut) in the very pass that sees it; the
 * new leader is forced UP (`health up`) once its REST API confirms a running primary
 * (leaderConfirmation.ts). The checks keep running on every server and correct whatever it left
 * behind within their own bounds. On stop it hands any MAINT/DRAIN it finds on a steered server
 * (no operator override, no removal) back to the checks, and logs it.
 *
 * It changes nothing while the DCS is unreachable or no snapshot has been read (and says so).
 * Operator overrides (overrides.ts) are never lifted.
 */
import type { Registry } from 'prom-client';
import type { Snapshot } from '../../backends/backend.js';
import type { Logger } from '../../log/logger.js';
import { parseClusters, type ClusterModel } from '../../patroni/cluster.js';
import { Store } from '../../store/store.js';
import { loadOverrides } from './overrides.js';
import { serving, type LeaderConfirmation, type OperatorOverride } from './plan.js';
import { RuntimeClient } from '../runtime/runtimeClient.js';
import { addServerLine, type RuntimeCommand } from '../runtime/runtimeCommand.js';
import { NoSuchBackendError, NoSuchServerError } from '../runtime/runtimeErrors.js';
import type { ActualServer } from '../runtime/serversState.js';
import { pidOf } from '../runtime/infoList.js';
import { backendNameOf, leaderlessHold } from './clusterMapping.js';
import { planServerStates, placeOf, REROUTE_HOLD_MS, type Plan, type PlanContext } from './planner.js';
import { NO_WORKER, observeLeader, rerouteOnNewWorker, observeWorker, reloadEnded, reloadStarted, reroutedEpoch, routedEpoch, routedPlaces, type LeaderEpoch, type WorkerTracking } from './controllerState.js';
import { extractConfigServers } from '../config/configServers.js';
import { isHaproxyIdentifier, serverKey } from '../runtime/names.js';
import type { ControllerConfig } from './controllerConfig.js';
import { ControllerMetrics } from './controllerMetrics.js';
import { LeaderConfirmations, type ConfirmationSettled } from './leaderConfirmation.js';
import { RuntimeMembership, type MembershipOutcome, type MembershipState } from './runtimeMembership.js';
import { HoldSteering } from './holdSteering.js';

export type ReconcileTrigger = 'start' | 'snapshot' | 'timer' | 'confirmation' | 'shutdown' | 'reload' | 'membership' | 'manual';

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
  /**
   * Runs after every pass, inside it (the next pass waits): the server-state file is rewritten from
   * here whenever the pass changed a server's state, and on timer passes (serverStateKeeper.ts).
   */
  readonly afterPass?: (report: ReconcileReport) => Promise<void>;
}

/**
 * A server the DCS names that HAProxy lacks is normal for a moment: a member joined and the render
 * (or the runtime `add server`) has not caught up yet. Only one still missing after this long is a
 * warning; before that it is logged at debug.
 */
export const MISSING_WARN_AFTER_MS = 10_000;

/** How often a reload waiting for held connections asks how many are left. */
const HELD_POLL_MS = 20;

export class HaproxyController {
  readonly metrics: ControllerMetrics;
  private readonly client: RuntimeClient;
  private readonly now: () => number;
  private readonly confirmations: LeaderConfirmations;
  /** Undefined when `runtime_membership = false`. */
  private readonly membership: RuntimeMembership | undefined;
  private readonly holds: HoldSteering;
  private snapshot: Snapshot | undefined;
  private snapshotAt = 0;
  private readonly epochs = new Map<string, LeaderEpoch>();
  private queued = new Set<ReconcileTrigger>();
  private inFlight: Promise<void> | undefined;
  /** Reconcile passes and membership changes run one at a time (exclusive()). */
  private lock: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private worker: WorkerTracking = NO_WORKER;
  private dcsDownSince: number | undefined;
  private lastHeld: string | undefined;
  private lastError: string | undefined;
  private lastErrorAt = 0;
  private lastMissing = '';
  /** When each currently missing backend/server was first seen missing. */
  private readonly missingSince = new Map<string, number>();
  private last: ReconcileReport | undefined;

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
    this.holds = new HoldSteering(this.client, c, this.metrics, opts.log, this.now, () => this.trigger('shutdown'));
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

  /**
   * Stops passes and confirmations; then (unless `handBack: false`) hands every server it steers back
   * to HAProxy's checks: a MAINT or DRAIN that is no operator override and no removal in progress is
   * lifted starting DOWN (`state ready; health down`). Forced UP/DOWN states are the checks' already.
   * Logs what it did. Never throws.
   */
  async stop(opts: { readonly handBack?: boolean; readonly why?: string } = {}): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.confirmations.cancelAll();
    await this.inFlight;
    await this.lock;
    this.holds.close();
    if (opts.handBack !== false) await this.exclusive(() => this.handBack(opts.why ?? 'haconfd stopping'));
  }

  private async handBack(why: string): Promise<void> {
    const reason = `${why}: HAProxy checks decide`;
    // The socket failing already (the last pass's error): no waiting on it once more while stopping.
    if (this.lastError !== undefined) {
      this.opts.log.warn(`HAProxy controller stopped (${why}): HAProxy's socket is failing (${this.lastError}), nothing handed back (states it set are forced UP/DOWN, which the checks correct within fall × inter / rise × inter)`);
      return;
    }
    try {
      const snap = this.snapshot;
      const overrides = loadOverrides(this.opts.config.overridesFile);
      const removing = new Set([...(this.membership?.state.pending.keys() ?? []), ...(this.membership?.state.givenUp ?? [])]);
      const actual = (await this.client.showServersState()).filter((a) => !removing.has(serverKey(a.backend, a.server)));
      const clusters = snap === undefined ? [] : this.clustersOf(snap);
      const plan = planServerStates(clusters, actual, overrides, {
        patterns: this.opts.config, dcsReachable: false, released: reason, confirmations: new Map(), routed: new Map(), reloadHold: false,
      });
      const sent: SentCommand[] = [];
      await this.apply(plan, sent);
      const holdsEnded = await this.holds.releaseAll(why);
      if (holdsEnded > 0) this.opts.log.info(`HAProxy controller stopped (${why}): ${holdsEnded} switchover hold request(s) released`);
      const kept = overrides.length > 0 ? `; operator overrides kept: ${overrides.map((o) => `${o.backend}/${o.server} ${o.state}`).join(', ')}` : '';
      this.opts.log.info(
        { handedBack: sent.map((c) => `${c.backend}/${c.server}`), overrides: overrides.length },
        sent.length > 0
          ? `HAProxy controller stopped (${why}): ${sent.length} server(s) handed back to HAProxy's checks (${sent.map((c) => `${c.backend}/${c.server}`).join(', ')})${kept}`
          : `HAProxy controller stopped (${why}): every server it steers is in a state HAProxy's checks own${kept}`,
      );
    } catch (e) {
      this.opts.log.warn(`HAProxy controller stopped (${why}): could not hand servers back to HAProxy's checks: ${(e as Error).message} (states it set are forced UP/DOWN, which the checks correct within fall × inter / rise × inter)`);
    }
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
   * First it waits for the connections held in the write listens to be routed (waitForHeld).
   */
  async prepareReload(newConfigText: string): Promise<void> {
    await this.waitForHeld();
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
    this.worker = reloadStarted(this.worker, this.now());
    const loop = (async () => {
      while (!done && !this.stopped) {
        await this.passNow(['reload']);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const pidBefore = this.worker.pid;
    let succeeded = false;
    try {
      const result = await reload();
      succeeded = true;
      return result;
    } finally {
      // Its new worker, when a later pass first sees it, is ours: what it loaded is noted by the caller.
      this.worker = reloadEnded(this.worker, succeeded, pidBefore);
      done = true;
      await loop;
      this.notifyReload();
    }
  }

  /**
   * A reload strands the connections its old worker holds: nobody steers that worker any more, so
   * haconfd-hold.lua lets them go at once there, to no server while the leader is changing. So a
   * reload waits, at most `reload_hold_wait`, until the write listens hold nothing; the passes go on
   * meanwhile, and routing the new leader releases them. Never throws.
   */
  private async waitForHeld(): Promise<void> {
    const maxMs = this.opts.config.reloadHoldWaitMs;
    const started = this.now();
    let waiting = false;
    while (maxMs > 0 && !this.stopped) {
      let held: number;
      try {
        held = await this.holds.heldNow();
      } catch {
        return; // no socket: the reload finds out for itself
      }
      const waited = this.now() - started;
      if (held === 0) {
        if (waiting) this.opts.log.info({ waitedMs: waited }, `the held connections were routed after ${waited} ms: reloading`);
        return;
      }
      if (waited >= maxMs) {
        this.opts.log.warn({ held, waitedMs: waited }, `reloading with ${held} connection(s) still held after reload_hold_wait (${maxMs} ms): the old worker lets them go`);
        return;
      }
      if (!waiting) this.opts.log.info({ held }, `the reload waits for ${held} connection(s) held in the write listens to be routed (at most ${maxMs} ms): a reload would strand them in the old worker`);
      waiting = true;
      await new Promise((r) => setTimeout(r, HELD_POLL_MS));
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
    const report = await this.exclusive(async () => {
      if (this.stopped) return undefined;
      const r = await this.reconcile(triggers);
      await this.opts.afterPass?.(r).catch((e: unknown) => this.opts.log.warn(`after the pass: ${(e as Error).message}`));
      return r;
    });
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
      const { epoch, seen } = observeLeader(prev, m.leader, this.snapshotAt, this.now());
      this.epochs.set(m.id, epoch);
      if (seen === 'changed') {
        this.metrics.leaderChanges.inc({ cluster: m.id });
        const what = m.leader === null ? 'deleted' : `now names ${m.leader}${m.leaderKnown ? '' : ' (not a known member)'}`;
        const hold = leaderlessHold(m);
        this.opts.log.warn(
          { cluster: m.id, from: prev?.leader ?? null, to: m.leader },
          `leader key of ${m.id} ${what} (was ${prev?.leader ?? 'none'}): ${hold ?? 'cutting every other server in the write backends'}${m.leader !== null && m.leaderKnown ? `; confirming ${m.leader} through its REST API` : ''}`,
        );
      } else if (seen === 'first') {
        this.opts.log.info({ cluster: m.id, leader: m.leader }, `cluster ${m.id}: leader ${m.leader ?? 'none'}`);
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

  /** One pass: gather what is known → plan (pure) → apply. */
  private async reconcile(triggers: readonly ReconcileTrigger[]): Promise<ReconcileReport> {
    const started = this.now();
    for (const t of triggers) this.metrics.reconciles.inc({ trigger: t });
    const report = (p: Partial<ReconcileReport>): ReconcileReport => ({ triggers, held: undefined, commands: [], missing: [], error: undefined, durationMs: this.now() - started, ...p });
    const sent: SentCommand[] = [];
    try {
      const g = await this.gather(triggers);
      if (g.kind === 'held') return report({ held: g.held, ...(g.error !== undefined ? { error: g.error } : {}) });
      const plan = planServerStates(g.clusters, g.actual, g.overrides, g.context);
      for (const d of plan.deferred) this.opts.log.debug({ backend: d.command.backend, server: d.command.server }, 'routing deferred until the reload in progress completes');
      this.reportMissing(plan.missing);
      await this.apply(plan, sent);
      if (g.context.released === undefined) await this.holds.steer(g.clusters, plan.writeBackends);
      else await this.holds.releaseAll(g.context.released);
      if (g.context.released === undefined) this.noteRouted(g.clusters, g.context.confirmations, g.actual, plan, sent);
      if (this.lastError !== undefined) {
        this.opts.log.info(`HAProxy controller recovered (was: ${this.lastError})`);
        this.lastError = undefined;
      }
      return report({ commands: sent, missing: plan.missing, ...(g.context.released !== undefined ? { held: 'dcs unreachable: released to checks' } : {}) });
    } catch (e) {
      return this.failed(report, e, sent);
    }
  }

  /**
   * Everything the planner needs, or why this pass changes nothing: the clusters (and their leader
   * confirmations), HAProxy's servers (those waiting for removal left out), the DCS's reachability
   * (and the release bound), the operator overrides.
   */
  private async gather(triggers: readonly ReconcileTrigger[]): Promise<Gathered> {
    const snap = this.snapshot;
    if (snap === undefined) {
      this.hold('no snapshot read from the DCS yet');
      return { kind: 'held', held: 'no snapshot' };
    }
    const clusters = this.clustersOf(snap);
    const confirmations = this.trackLeaders(clusters);
    const all = await this.client.showServersState();
    if (triggers.some((t) => t !== 'snapshot' && t !== 'confirmation' && t !== 'shutdown')) await this.checkWorker(triggers);

    const reachable = this.opts.dcsReachable ? await this.opts.dcsReachable() : true;
    let released: string | undefined;
    if (!reachable) {
      this.dcsDownSince ??= this.now();
      const downMs = this.now() - this.dcsDownSince;
      const release = this.opts.config.dcsDownReleaseMs;
      if (release === 0 || downMs < release) {
        this.hold(`the DCS is unreachable (HAProxy's checks keep working${release > 0 ? `; servers go back to them after ${release} ms` : ''})`);
        return { kind: 'held', held: 'dcs unreachable' };
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
      return { kind: 'held', held: 'overrides unreadable', error: (e as Error).message };
    }
    if (released === undefined) this.unhold();

    // Servers removed from the config and waiting for `del server` are not steered (and those
    // deleted just now are gone). Held passes above leave them as they are, too.
    const actual = this.membership ? await this.membership.sweep(all) : all;
    const reloadingSince = this.worker.reloadingSince;
    const context: PlanContext = {
      patterns: this.opts.config,
      dcsReachable: reachable,
      ...(released !== undefined ? { released } : {}),
      confirmations,
      routed: routedPlaces(this.epochs),
      reloadHold: reloadingSince !== undefined && this.now() - reloadingSince < REROUTE_HOLD_MS,
    };
    return { kind: 'plan', clusters, actual, overrides, context };
  }

  /** Sends the plan's commands in order; a server or backend that vanished is left to the next pass. */
  private async apply(plan: Plan, sent: SentCommand[]): Promise<void> {
    for (const cmd of plan.commands) {
      const { kind, cluster } = cmd;
      const command: RuntimeCommand = { backend: cmd.backend, server: cmd.server, action: cmd.action, reason: cmd.reason };
      const key = serverKey(cmd.backend, cmd.server);
      try {
        await this.client.apply(command);
        this.metrics.commands.inc({ action: cmd.action, kind, result: 'ok' });
        sent.push({ ...command, ok: true });
        this.opts.log.info({ cluster, backend: cmd.backend, server: cmd.server, action: cmd.action, reason: cmd.reason }, `${key} → ${cmd.action}: ${cmd.reason}`);
        // Recorded once the command succeeded, so a failed one is retried next pass.
        const epoch = cluster === undefined ? undefined : this.epochs.get(cluster);
        if (cmd.routesAgainAt !== undefined && epoch?.phase === 'routed' && cluster !== undefined) {
          this.opts.log.info({ cluster, backend: cmd.backend, server: cmd.server, from: epoch.routedAt.get(key), to: cmd.routesAgainAt }, `${key} moved (${epoch.routedAt.get(key) ?? '?'} → ${cmd.routesAgainAt}) since the leader was routed: routed again`);
          this.epochs.set(cluster, reroutedEpoch(epoch, key, cmd.routesAgainAt));
        }
      } catch (e) {
        this.metrics.commands.inc({ action: cmd.action, kind, result: 'error' });
        sent.push({ ...command, ok: false, error: (e as Error).message });
        // A server or backend that vanished (reload in between) is fixed by the next pass.
        if (e instanceof NoSuchServerError || e instanceof NoSuchBackendError) {
          this.opts.log.warn({ cluster, backend: cmd.backend, server: cmd.server }, (e as Error).message);
          continue;
        }
        throw e;
      }
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
    // Read after the await: a reload may have started meanwhile.
    const { tracking, seen } = observeWorker(this.worker, pid, this.now());
    this.worker = tracking;
    if (seen.kind !== 'new') return;
    // A leader routed on the old worker is routed again on this one: its DOWN here comes from the
    // state file or a fresh start, not from its checks (which still take it DOWN after `fall`).
    for (const [id, e] of this.epochs) {
      if (e.phase !== 'routed') continue;
      this.epochs.set(id, rerouteOnNewWorker(e));
      this.opts.log.info({ cluster: id, leader: e.leader }, `leader ${e.leader} of ${id} is routed again on the new HAProxy worker`);
    }
    this.metrics.workerChanges.inc();
    this.opts.log.info({ from: seen.from, to: tracking.pid, triggers }, 'new HAProxy worker (reload or restart): pushing the DCS-known roles and operator overrides again');
    // Not a reload haconfd ran: the new worker loaded whatever the file held when it started.
    if (!seen.ours) await this.membership?.readopt();
  }

  /** Observes leader-change-to-routed latency once the new leader is UP in every write backend. */
  private noteRouted(clusters: readonly ClusterModel[], confirmations: ReadonlyMap<string, LeaderConfirmation>, actual: readonly ActualServer[], plan: Plan, sent: readonly SentCommand[]): void {
    for (const m of clusters) {
      const epoch = this.epochs.get(m.id);
      if (epoch === undefined || epoch.phase === 'routed' || m.leader === null || epoch.leader !== m.leader || confirmations.get(m.id) !== 'confirmed') continue;
      const writeBackends = plan.writeBackends.get(m.id) ?? [];
      if (writeBackends.length === 0) continue;
      const leader = m.leader;
      const up = writeBackends.every((b) => {
        const ref = serverKey(b, leader);
        if (sent.some((c) => c.ok && serverKey(c.backend, c.server) === ref && (c.action === 'ready-health-up' || c.action === 'health-up'))) return true;
        const a = actual.find((x) => serverKey(x.backend, x.server) === ref);
        return a !== undefined && serving(a) && !sent.some((c) => serverKey(c.backend, c.server) === ref);
      });
      if (!up) continue;
      const places = new Map<string, string>();
      for (const b of writeBackends) {
        const place = placeOf(actual, b, leader);
        if (place !== undefined) places.set(serverKey(b, leader), place);
      }
      this.epochs.set(m.id, routedEpoch({ ...epoch, leader }, places));
      const ms = this.now() - epoch.seenAt;
      if (epoch.changed) {
        this.metrics.routedLatency.observe({ cluster: m.id }, ms / 1000);
        this.opts.log.info({ cluster: m.id, leader, latencyMs: ms }, `writes routed to ${leader} ${ms} ms after the leader key changed`);
      }
    }
  }
}

type Gathered =
  | { readonly kind: 'held'; readonly held: string; readonly error?: string }
  | { readonly kind: 'plan'; readonly clusters: readonly ClusterModel[]; readonly actual: readonly ActualServer[]; readonly overrides: readonly OperatorOverride[]; readonly context: PlanContext };
