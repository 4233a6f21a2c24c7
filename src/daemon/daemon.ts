/**
 * The long-running modes. `-interval N`: a pass every N seconds, conf.d re-read each time.
 * `-watch`: one read at one revision, then the snapshot is kept current from watch events and
 * only the resources whose keys changed are scheduled; a full re-read happens at start, on
 * compaction, after a reconnect, and on a slow safety timer. The daemon owns *when*; resource/
 * owns *what*.
 */
import type { Backend, ChangeEvent, Snapshot } from '../backends/backend.js';
import { BackendConfigError } from '../backends/backend.js';
import { createBackend } from '../backends/createBackend.js';
import type { Config } from '../config/config.js';
import { confDDir, templatesDir } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import { isUnderPrefix } from '../store/keys.js';
import { createDefaultEngine } from '../template/helperSet.js';
import { registerKeepalivedHelpers } from '../keepalived/helpers.js';
import { TemplateCache } from '../template/templateCache.js';
import type { TemplateResource } from '../resource/templateResource.js';
import { Backoff } from '../retry/backoff.js';
import { advanceSnapshot } from './liveSnapshot.js';
import { releaseHeldSignals } from './earlySignals.js';
import { historyChange, type HistoryChange } from './history.js';
import { startHttpEndpoint, type Readiness } from './httpEndpoint.js';
import { DaemonMetrics } from './metrics.js';
import { ResourceWorker, type WorkerDeps } from './resourceWorker.js';
import { BackendSession } from './backendSession.js';
import { reloadStep } from './reloadSteps.js';
import { loadResourceSet, resourceSetOf, type ResourceSet } from './resourceSet.js';

export interface DaemonOptions {
  /** Builds the config again (SIGHUP); throws when the new one is invalid. */
  reloadConfig?: () => Config;
  /** Installs SIGHUP/SIGTERM/SIGINT handlers (default true). */
  handleSignals?: boolean;
  /** Hooks for tests and the HAProxy controller. */
  onSnapshot?: (snapshot: Snapshot) => void;
  onPassDone?: WorkerDeps['onPassDone'];
  /** Replaces a resource's reload step (the HAProxy reload strategies plug in here). */
  reload?: WorkerDeps['reload'];
  /** The resources of conf.d in use, at start-up and whenever they change (before their workers run). */
  onResources?: (resources: readonly TemplateResource[]) => void;
  /** A configuration was applied after start-up (SIGHUP, conf.d or templates changed). */
  onConfigApplied?: (config: Config) => void;
}

/** A node URL as it may be logged: credentials in it (http://user:pass@host) are replaced. */
export function withoutUserinfo(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1[redacted]@');
}

/** The settings whose change needs a new backend connection. */
type BackendSettings = Pick<Config, 'backend' | 'nodes' | 'files' | 'tls' | 'auth' | 'connectTimeoutMs'>;

function backendSettingsOf(c: Config): BackendSettings {
  return { backend: c.backend, nodes: c.nodes, files: c.files, tls: c.tls, auth: c.auth, connectTimeoutMs: c.connectTimeoutMs };
}

function backendKey(c: Config): string {
  const b = backendSettingsOf(c);
  return JSON.stringify([b.backend, b.nodes, b.files, b.tls, b.auth?.username, b.auth?.password, b.connectTimeoutMs]);
}

export class Daemon {
  private readonly session: BackendSession;
  private snapshot: Snapshot | undefined;
  private set: ResourceSet = { resources: [], errors: [], prefixes: [] };
  private workers: ResourceWorker[] = [];
  private stopping = false;
  /** Set when start-up fails for good (exit 2: credentials, TLS). */
  private exitCode = 0;
  private stopResolve: (() => void) | undefined;
  private readonly stopped: Promise<void>;
  /** Every sleep in progress (retry loops may overlap: a resync, a SIGHUP's re-read, the interval loop). */
  private readonly sleepers = new Set<() => void>();
  /** Start-up is done (first snapshot, watch set up): a SIGHUP before that waits for it. */
  private started = false;
  private hupPending = false;
  private safetyTimer: NodeJS.Timeout | undefined;
  private confWatcher: { close(): Promise<void> } | undefined;
  private confReloadTimer: NodeJS.Timeout | undefined;
  private resyncing: Promise<void> | undefined;
  private resyncAgain = false;
  private http: { close(): Promise<void>; port: number } | undefined;
  /** Bumped whenever the backend turns out to hold another history; each snapshot is tagged with it. */
  private historyEpoch = 0;
  private readonly epochOf = new WeakMap<Snapshot, number>();
  /** The watch stopped itself on another cluster / an older revision: a re-read replaces the snapshot. */
  private historyCheck = false;
  /** Backend settings changed (SIGHUP): nothing read from the new backend yet. */
  private backendSwitch = false;
  /** The backend being switched to; a read from it ends backendSwitch. */
  private switchTarget: Backend | undefined;
  private readonly templates = new TemplateCache(createDefaultEngine([registerKeepalivedHelpers]));
  readonly metrics = new DaemonMetrics();

  constructor(
    private config: Config,
    private readonly log: Logger,
    private readonly opts: DaemonOptions = {},
  ) {
    this.stopped = new Promise((r) => (this.stopResolve = r));
    this.session = new BackendSession((up) => this.metrics.backendUp.set(up ? 1 : 0));
  }

  /** Whether the backend (the DCS) is reachable now: the latest read or watch status said so. */
  get backendReachable(): boolean {
    return this.session.reachable;
  }

  /** Port the HTTP endpoint listens on (resolved when -listen used port 0). */
  get httpPort(): number | undefined {
    return this.http?.port;
  }

  readiness(): Readiness {
    const reasons: string[] = [];
    const backend = this.session.notReadyReason(this.config.mode === 'watch');
    if (backend !== undefined) reasons.push(backend);
    if (this.historyCheck) reasons.push('backend holds another history (another etcd cluster, or behind the revision already seen): re-reading');
    if (this.backendSwitch) reasons.push('backend settings changed: nothing read from the new backend yet');
    for (const e of this.set.errors) reasons.push(e.message);
    for (const w of this.workers) {
      const st = w.status;
      if (!st.renderedOk) reasons.push(`${w.resource.name}: not rendered yet${st.lastError ? ` (${st.lastError.message})` : ''}`);
      else if (this.historyEpoch > 0 && (st.renderedSnapshot === undefined || this.epochOf.get(st.renderedSnapshot) !== this.historyEpoch)) {
        reasons.push(`${w.resource.name}: rendered from data of a backend history no longer connected; not rendered from the current one yet`);
      }
      else if (st.lastError) reasons.push(`${w.resource.name}: latest pass failed, last good file kept (${st.lastError.message})`);
    }
    return { ready: reasons.length === 0, reasons };
  }

  async run(): Promise<number> {
    const { config, log } = this;
    // First: a SIGTERM from here on is never lost (one received earlier was held by main()).
    if (this.opts.handleSignals !== false) this.installSignals();
    if (config.listen) {
      try {
        this.http = await startHttpEndpoint(config.listen.host, config.listen.port, { readiness: () => this.readiness(), registry: this.metrics.registry });
        log.info({ listen: `${config.listen.host}:${this.http.port}` }, 'serving /healthz /readyz /metrics');
      } catch (e) {
        log.error({ listen: config.listen }, `cannot listen: ${(e as Error).message}`);
        this.removeSignals();
        return 2;
      }
    }
    this.applyResourceSet(loadResourceSet(config, log));
    this.session.down();
    log.info({ mode: config.mode, backend: config.backend, nodes: config.backend === 'etcdv3' || config.backend === 'zookeeper' ? config.nodes.map(withoutUserinfo) : undefined, prefix: config.prefix, confdir: config.confdir, configFile: config.configFile, resources: this.set.resources.length }, 'haconfd started');
    this.session.backend = await this.connectBackend();
    // From here a SIGHUP can be applied (one that came earlier was kept for this moment).
    this.started = true;
    if (this.hupPending && this.session.backend && !this.stopping) {
      this.hupPending = false;
      this.onHup();
    }
    if (this.session.backend) {
      if (config.mode === 'watch') await this.runWatchMode();
      else await this.runIntervalMode();
    }
    if (this.exitCode !== 0) {
      await this.shutdown();
      return this.exitCode;
    }
    await this.stopped;
    return 0;
  }

  /**
   * Sets up the backend, retrying an outage with capped backoff (not ready meanwhile, no file
   * touched). A configuration problem (credentials, TLS files) ends the daemon with exit 2.
   */
  private async connectBackend(): Promise<Backend | undefined> {
    const backoff = new Backoff(500, 30_000);
    for (;;) {
      if (this.stopping) return undefined;
      try {
        const b = await createBackend(this.config, this.log);
        return b;
      } catch (e) {
        const err = e as Error;
        this.session.connectFailed(err);
        if (err instanceof BackendConfigError) {
          this.log.fatal({ backend: this.config.backend, kind: err.name }, `backend configuration rejected: ${err.message}`);
          this.exitCode = 2;
          return undefined;
        }
        const d = backoff.next();
        this.log.error({ backend: this.config.backend, kind: err.name, retryInMs: d }, `cannot connect to backend: ${err.message}`);
        await this.sleep(d);
      }
    }
  }

  /** Ends the daemon: the pass in flight finishes, then everything closes. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.log.info('stopping: finishing the pass in flight');
    this.wakeSleep();
    void this.shutdown().then(() => this.stopResolve?.());
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.safetyTimer);
    clearTimeout(this.confReloadTimer);
    await this.confWatcher?.close().catch(() => undefined);
    await this.session.watch?.close().catch(() => undefined);
    await Promise.all(this.workers.map((w) => w.stop()));
    await this.session.backend?.close().catch(() => undefined);
    await this.http?.close();
    this.removeSignals();
  }

  // ---- resources ----

  private applyResourceSet(set: ResourceSet): void {
    this.set = set;
    this.metrics.resourceConfigErrors.set(set.errors.length);
    this.opts.onResources?.(set.resources);
    const old = this.workers;
    this.workers = set.resources.map((r) => {
      const w = new ResourceWorker(r, this.workerDeps());
      const previous = old.find((o) => o.resource.file === r.file);
      if (previous) w.inherit(previous);
      return w;
    });
    for (const w of old) void w.stop();
  }

  private workerDeps(): WorkerDeps {
    return {
      currentSnapshot: () => this.snapshot,
      templates: this.templates,
      noop: this.config.noop,
      syncOnly: this.config.syncOnly,
      keepStageFile: this.config.keepStageFile,
      minReloadIntervalMs: this.config.minReloadIntervalMs,
      metrics: this.metrics,
      log: this.log,
      reload: this.opts.reload ?? reloadStep,
      ...(this.opts.onPassDone ? { onPassDone: this.opts.onPassDone } : {}),
    };
  }

  /** conf.d again: a broken file keeps its previous version (if any) and is reported. */
  private reloadResources(config: Config): ResourceSet {
    const fresh = loadResourceSet(config, this.log);
    const kept: TemplateResource[] = [];
    for (const e of fresh.errors) {
      const previous = this.set.resources.find((r) => r.file === e.file);
      if (previous) {
        this.log.warn({ file: e.file }, 'keeping the previous version of this resource until the file is fixed');
        kept.push(previous);
      }
    }
    if (kept.length === 0) return fresh;
    return resourceSetOf([...fresh.resources, ...kept], fresh.errors);
  }

  // ---- interval mode ----

  private async runIntervalMode(): Promise<void> {
    // A failed read is retried sooner than the interval (doubling from 0.5 s, capped by it).
    const backoff = new Backoff(500, 30_000);
    while (!this.stopping) {
      const set = this.reloadResources(this.config);
      if (JSON.stringify(set.resources) !== JSON.stringify(this.set.resources) || set.errors.length !== this.set.errors.length) {
        this.applyResourceSet(set);
      }
      const before = this.snapshot;
      const snap = await this.readOnce();
      if (snap && !this.stopping) {
        backoff.reset();
        const change = historyChange(before, snap);
        if (change) this.noteHistoryChange(change);
        this.setSnapshot(snap);
        for (const w of this.workers) {
          if (this.stopping) break;
          await w.runNow();
        }
      }
      if (!snap && this.gaveUpAtStartup()) return;
      const intervalMs = this.config.intervalSeconds * 1000;
      await this.sleep(snap ? intervalMs : Math.min(backoff.next(), intervalMs));
    }
  }

  private async sleep(ms: number): Promise<void> {
    if (this.stopping) return;
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(t);
        this.sleepers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** Ends every sleep now (stop, a reconnect, a new config). */
  private wakeSleep(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  // ---- backend reads ----

  private async readOnce(): Promise<Snapshot | undefined> {
    const backend = this.session.backend;
    if (!backend) return undefined;
    const started = process.hrtime.bigint();
    try {
      const snap = await backend.read(this.set.prefixes);
      if (backend === this.switchTarget) {
        this.backendSwitch = false;
        this.switchTarget = undefined;
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.readLatency.observe(seconds);
      this.session.readSucceeded();
      this.log.debug({ revision: snap.revision, keys: snap.pairs.size, durationMs: Math.round(seconds * 1e4) / 10 }, 'backend read');
      return snap;
    } catch (e) {
      const err = e as Error;
      // Stopping closes the backend under a read in flight: that is the shutdown, not an error.
      if (this.stopping) {
        this.log.debug({ reason: err.message }, 'backend read abandoned: stopping');
        return undefined;
      }
      const failures = this.session.readFailed(err);
      const what = err instanceof BackendConfigError ? 'backend rejected the connection settings (fix credentials/TLS)' : 'backend read failed';
      // A read that fails once while good files are in place (e.g. an etcd leader election right
      // after a reconnect) is a warning; at start-up, for credentials/TLS, or when it persists: error.
      const loud = this.snapshot === undefined || err instanceof BackendConfigError || failures >= 3;
      this.log[loud ? 'error' : 'warn']({ backend: backend.name, kind: err.name, failures }, `${what}: ${err.message}`);
      return undefined;
    }
  }

  /**
   * Reads until it succeeds (backoff capped at 30 s) or the daemon stops. At start-up (no
   * snapshot yet) a configuration error (credentials, TLS) ends the daemon with exit 2.
   */
  private async readUntilSuccess(): Promise<Snapshot | undefined> {
    const backoff = new Backoff(500, 30_000);
    for (;;) {
      if (this.stopping) return undefined;
      const snap = await this.readOnce();
      if (snap) return snap;
      if (this.stopping || this.gaveUpAtStartup()) return undefined;
      const d = backoff.next();
      this.log.warn({ retryInMs: d }, 'backend unavailable; keeping the last good files');
      await this.sleep(d);
    }
  }

  /**
   * At start-up (no snapshot yet) a read refused for its configuration (credentials, TLS) ends the
   * daemon with exit 2: says so and returns true. Otherwise false (keep trying).
   */
  private gaveUpAtStartup(): boolean {
    if (this.snapshot !== undefined || !(this.session.lastReadError instanceof BackendConfigError)) return false;
    this.log.fatal({ backend: this.config.backend }, 'giving up at start-up: the backend configuration must be fixed');
    this.exitCode = 2;
    return true;
  }

  /** Says so at WARN with both sides, counts it, and marks every file rendered before as stale. */
  private noteHistoryChange(c: HistoryChange): void {
    this.historyEpoch++;
    this.metrics.historyChanges.inc({ reason: c.reason });
    this.log.warn(
      {
        reason: c.reason,
        previousClusterId: c.previous.clusterId,
        previousMemberId: c.previous.memberId,
        previousRevision: c.previous.revision,
        clusterId: c.current.clusterId,
        memberId: c.current.memberId,
        revision: c.current.revision,
      },
      c.reason === 'cluster-changed'
        ? `backend is another etcd cluster (${c.previous.clusterId} → ${c.current.clusterId}); replacing the snapshot and the watch`
        : `backend revision went back (${c.previous.revision} → ${c.current.revision}): etcd was wiped or restored; replacing the snapshot and the watch`,
    );
  }

  private setSnapshot(s: Snapshot): void {
    this.snapshot = s;
    this.epochOf.set(s, this.historyEpoch);
    this.metrics.revision.set(s.revision);
    this.opts.onSnapshot?.(s);
  }

  // ---- watch mode ----

  private async runWatchMode(): Promise<void> {
    const snap = await this.readUntilSuccess();
    if (!snap) return;
    this.setSnapshot(snap);
    for (const w of this.workers) w.schedule();
    this.startWatch();
    this.armSafetyTimer();
    await this.watchConfDir();
  }

  private startWatch(): void {
    const backend = this.session.backend;
    if (!backend || !this.snapshot || this.stopping) return;
    // One watch at a time: start-up and a SIGHUP's re-read may both get here.
    const previous = this.session.watch;
    this.session.watch = undefined;
    void previous?.close().catch(() => undefined);
    const prefixes = this.set.prefixes;
    const watch = backend.watch(
      prefixes,
      this.snapshot.revision,
      {
        onEvents: (events) => {
          if (this.session.watch === watch) this.onEvents(events);
        },
        onResync: (reason) => {
          if (this.session.watch !== watch) return;
          this.metrics.resyncs.inc({ reason });
          this.log.info({ reason }, 'full re-read');
          // The watch has stopped itself: the re-read replaces the snapshot whatever its revision.
          if (reason === 'history-changed') this.historyCheck = true;
          void this.resync();
        },
        onStatus: (status, error) => {
          if (status === 'disconnected') {
            const outageStarts = this.session.watchDisconnected(error);
            if (error instanceof BackendConfigError) {
              this.log.error({ kind: error.name }, `backend rejected the connection settings (fix credentials/TLS): ${error.message}`);
            }
            if (outageStarts) {
              this.log.warn({ error: error?.message }, 'backend watch disconnected; keeping the last good files');
              // Probe with reads meanwhile (capped backoff, loud when it persists): a read that works
              // again brings the files up to date even if the watch is slow to come back.
              this.metrics.resyncs.inc({ reason: 'disconnected' });
              void this.resync();
            }
          } else {
            const { reconnected, readSince } = this.session.watchConnected();
            if (reconnected) {
              this.metrics.watchReconnects.inc();
              if (readSince) {
                this.log.info('backend watch reconnected (already re-read)');
              } else if (this.resyncing) {
                this.log.info('backend watch reconnected; re-reading now');
                this.wakeSleep();
              } else {
                this.metrics.resyncs.inc({ reason: 'reconnected' });
                this.log.info('backend watch reconnected; re-reading once');
                void this.resync();
              }
            }
          }
        },
      },
      this.snapshot.origin,
    );
    this.session.watch = watch;
  }

  private onEvents(events: readonly ChangeEvent[]): void {
    const current = this.snapshot;
    if (!current || this.stopping) return;
    // Events already contained in a newer full read are dropped.
    const fresh = events.filter((e) => e.revision > current.revision && this.set.prefixes.some((p) => isUnderPrefix(e.key, p)));
    if (fresh.length === 0) return;
    this.setSnapshot(advanceSnapshot(current, fresh));
    for (const w of this.workers) {
      if (fresh.some((e) => w.resource.keys.some((k) => isUnderPrefix(e.key, k)))) w.schedule();
    }
  }

  /** Re-reads everything (single flight) and schedules every resource; unchanged output costs no reload. */
  private resync(): Promise<void> {
    if (this.resyncing) {
      this.resyncAgain = true;
      return this.resyncing;
    }
    this.resyncing = (async () => {
      do {
        this.resyncAgain = false;
        const before = this.snapshot;
        const snap = await this.readUntilSuccess();
        if (!snap || this.stopping) break;
        this.session.fullRead();
        const change = historyChange(before, snap);
        if (change || this.historyCheck) {
          if (change) this.noteHistoryChange(change);
          else this.log.info({ revision: snap.revision, clusterId: snap.origin?.clusterId }, 'the re-read shows the same history; watching again from it');
          // Another history: the snapshot is replaced outright and watched from its revision.
          this.historyCheck = false;
          const old = this.session.watch;
          this.session.watch = undefined;
          await old?.close().catch(() => undefined);
          if (this.stopping) break;
          this.setSnapshot(snap);
          this.startWatch();
        } else if (!this.snapshot || snap.revision >= this.snapshot.revision || this.config.backend !== 'etcdv3') this.setSnapshot(snap);
        for (const w of this.workers) w.schedule();
      } while (this.resyncAgain && !this.stopping);
    })().finally(() => {
      this.resyncing = undefined;
    });
    return this.resyncing;
  }

  private armSafetyTimer(): void {
    clearTimeout(this.safetyTimer);
    if (this.stopping) return;
    this.safetyTimer = setTimeout(() => {
      this.metrics.resyncs.inc({ reason: 'safety' });
      void this.resync().finally(() => this.armSafetyTimer());
    }, this.config.intervalSeconds * 1000);
  }

  /** conf.d/ and templates/ edits take effect without a restart. */
  private async watchConfDir(): Promise<void> {
    const { watch } = await import('chokidar');
    if (this.stopping) return;
    const w = watch([confDDir(this.config), templatesDir(this.config)], { ignoreInitial: true, depth: 2 });
    w.on('all', () => {
      clearTimeout(this.confReloadTimer);
      this.confReloadTimer = setTimeout(() => void this.reapplyConfig(this.config, 'conf.d or templates changed'), 100);
    });
    w.on('error', (e: unknown) => this.log.warn({ error: String(e) }, 'watching conf.d failed'));
    this.confWatcher = w;
  }

  /** Applies a (possibly new) config: new resources, a new backend connection if it changed. */
  private async reapplyConfig(next: Config, why: string): Promise<void> {
    if (this.stopping) return;
    const set = this.reloadResources(next);
    const backendChanged = backendKey(next) !== backendKey(this.config);
    const prefixesChanged = JSON.stringify(set.prefixes) !== JSON.stringify(this.set.prefixes);
    const prev = this.config;
    this.config = next;
    // Not ready from here until a read from the new backend has replaced the snapshot.
    if (backendChanged) this.backendSwitch = true;
    this.log.level = next.logLevel;
    this.log.info({ why, resources: set.resources.length, errors: set.errors.length, backendChanged }, 'configuration applied');
    this.applyResourceSet(set);
    this.opts.onConfigApplied?.(next);
    if (backendChanged) {
      let fresh: Backend;
      try {
        fresh = await createBackend(next, this.log);
      } catch (e) {
        this.backendSwitch = false;
        this.log.error(`new backend settings rejected, keeping the old ones: ${(e as Error).message}`);
        // Every backend setting goes back (the connection in use was made with them).
        this.config = { ...next, ...backendSettingsOf(prev) };
        return;
      }
      const oldWatch = this.session.watch;
      this.session.watch = undefined;
      await oldWatch?.close().catch(() => undefined);
      await this.session.backend?.close().catch(() => undefined);
      this.session.backend = fresh;
      this.switchTarget = fresh;
    }
    if (this.config.mode === 'watch') {
      if (backendChanged || prefixesChanged) {
        const old = this.session.watch;
        this.session.watch = undefined;
        await old?.close().catch(() => undefined);
        const before = this.snapshot;
        const snap = await this.readUntilSuccess();
        if (!snap) return;
        const change = historyChange(before, snap);
        if (change) this.noteHistoryChange(change);
        this.setSnapshot(snap);
        this.startWatch();
      }
      for (const w of this.workers) w.schedule();
      this.armSafetyTimer();
    } else {
      this.wakeSleep();
    }
  }

  // ---- signals ----

  private readonly onHup = (): void => {
    const rebuild = this.opts.reloadConfig;
    if (!rebuild) return;
    if (!this.started) {
      // Still starting (resources and backend not set up): applied as soon as they are.
      this.hupPending = true;
      this.log.info('SIGHUP during start-up: applied once started');
      return;
    }
    let next: Config;
    try {
      next = rebuild();
    } catch (e) {
      this.log.error(`SIGHUP: new configuration rejected, keeping the running one: ${(e as Error).message}`);
      return;
    }
    void this.reapplyConfig({ ...next, mode: this.config.mode, listen: this.config.listen }, 'SIGHUP');
  };

  private readonly onTerm = (): void => this.stop();

  private installSignals(): void {
    process.on('SIGHUP', this.onHup);
    process.on('SIGTERM', this.onTerm);
    process.on('SIGINT', this.onTerm);
    // Signals that arrived while haconfd was starting (held since main()): acted on now, in order.
    for (const sig of releaseHeldSignals()) {
      this.log.info({ signal: sig }, 'signal received during start-up');
      if (sig === 'SIGHUP') this.onHup();
      else this.onTerm();
    }
  }

  private removeSignals(): void {
    process.off('SIGHUP', this.onHup);
    process.off('SIGTERM', this.onTerm);
    process.off('SIGINT', this.onTerm);
  }
}
