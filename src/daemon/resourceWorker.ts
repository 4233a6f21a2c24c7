/**
 * Schedules one resource: single flight (events during a pass collapse into one follow-up pass on
 * the newest snapshot), optional quiescence (`wait = "min:max"`), a short minimum interval between
 * reloads, and reload retries with backoff until one succeeds or a newer render supersedes it.
 */
import type { Snapshot } from '../backends/backend.js';
import type { Logger } from '../log/logger.js';
import { ResourceError } from '../resource/resourceError.js';
import { hasReloadStep, syncResource, type SyncResult } from '../resource/syncResource.js';
import type { TemplateResource } from '../resource/templateResource.js';
import type { TemplateCache } from '../template/templateCache.js';
import { Backoff } from '../retry/backoff.js';
import type { DaemonMetrics } from './metrics.js';
import { reloadStep } from './reloadSteps.js';
import { asResourceError } from './runPass.js';

export interface WorkerDeps {
  /** The newest snapshot; read when a pass starts, not when it was scheduled. */
  currentSnapshot(): Snapshot | undefined;
  readonly templates: TemplateCache;
  readonly noop: boolean;
  readonly syncOnly: boolean;
  readonly keepStageFile: boolean;
  readonly minReloadIntervalMs: number;
  readonly metrics: DaemonMetrics;
  readonly log: Logger;
  /**
   * Runs the resource's reload step; defaults to its own (reload_cmd or [template.haproxy] strategy). May resolve to
   * 'applied-at-runtime' when the change reached the service without a reload (not counted as one).
   */
  reload?(resource: TemplateResource, log: Logger): Promise<ReloadStepOutcome | void>;
  /** Called after every pass (for tests, benchmarks and the controller). */
  onPassDone?(resource: TemplateResource, outcome: WorkerPassOutcome): void;
}

export type ReloadStepOutcome = 'reloaded' | 'applied-at-runtime';

export type WorkerPassOutcome =
  | { readonly ok: true; readonly result: SyncResult; readonly reloaded: boolean }
  | { readonly ok: false; readonly error: ResourceError };

export interface WorkerStatus {
  /** A pass has ended in sync at least once. */
  readonly renderedOk: boolean;
  /** The error of the latest pass (undefined once a pass ends in sync again). */
  readonly lastError: ResourceError | undefined;
  readonly lastSuccessAt: number | undefined;
  readonly reloadPending: boolean;
  readonly passes: number;
  readonly reloads: number;
}

export class ResourceWorker {
  private timer: NodeJS.Timeout | undefined;
  private firstEventAt: number | undefined;
  private inflight: Promise<void> | undefined;
  private dirty = false;
  private stopped = false;
  private reloadPending = false;
  private lastReloadAt = -Infinity;
  /** The armed timer is a reload retry (a newer change may run sooner). */
  private timerIsRetry = false;
  /** When the next reload retry is due (set while a failed reload is owed). */
  private retryDue: number | undefined;
  private readonly retry = new Backoff(1000, 60_000);
  /** A failed pass (render, check, commit …) is tried again on this schedule until one succeeds. */
  private readonly failureRetry = new Backoff(1000, 60_000);
  /** Passes wait for this first (the worker this one replaced finishing its pass). */
  private gate: Promise<void> = Promise.resolve();
  private st: WorkerStatus = { renderedOk: false, lastError: undefined, lastSuccessAt: undefined, reloadPending: false, passes: 0, reloads: 0 };

  constructor(
    readonly resource: TemplateResource,
    private readonly deps: WorkerDeps,
  ) {}

  get status(): WorkerStatus {
    return { ...this.st, reloadPending: this.reloadPending };
  }

  /**
   * Takes over the state of the worker this one replaces (SIGHUP, conf.d edits): a reload still
   * owed, the reload interval and backoff, and whether it has rendered once.
   */
  inherit(previous: ResourceWorker): void {
    this.gate = previous.stop();
    this.st = { ...previous.st };
    this.reloadPending = previous.reloadPending;
    this.lastReloadAt = previous.lastReloadAt;
    this.retryDue = previous.retryDue;
    if (this.reloadPending && this.retryDue !== undefined) this.arm(this.retryDue, true);
  }

  /** Asks for a pass. Cheap to call often: calls coalesce. */
  schedule(): void {
    if (this.stopped) return;
    if (this.inflight !== undefined) {
      this.dirty = true;
      return;
    }
    const now = Date.now();
    const wait = this.resource.wait;
    if (wait !== undefined) {
      this.firstEventAt ??= now;
      this.arm(Math.min(now + wait.minMs, this.firstEventAt + wait.maxMs));
    } else if (this.timer === undefined || this.timerIsRetry) {
      // A newer change supersedes a pending reload retry: render it now (the retry backoff
      // still grows if that reload fails too).
      this.arm(Math.max(now, this.lastReloadAt + this.deps.minReloadIntervalMs));
    }
  }

  /** Runs a pass now (used by interval mode and at start-up); waits for one in flight first. */
  async runNow(): Promise<void> {
    if (this.inflight) await this.inflight;
    this.clearTimer();
    await this.startPass();
  }

  /** Stops scheduling and waits for the pass in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    if (this.inflight) await this.inflight;
  }

  private arm(due: number, retry = false): void {
    this.clearTimer();
    this.timerIsRetry = retry;
    const delay = Math.max(0, due - Date.now());
    const fire = (): void => {
      this.timer = undefined;
      void this.startPass();
    };
    this.timer = delay === 0 ? (setImmediate(fire) as unknown as NodeJS.Timeout) : setTimeout(fire, delay);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      clearImmediate(this.timer as unknown as NodeJS.Immediate);
      this.timer = undefined;
    }
  }

  private startPass(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.firstEventAt = undefined;
    this.dirty = false;
    const p = this.pass().finally(() => {
      this.inflight = undefined;
      if (this.dirty && !this.stopped) this.schedule();
    });
    this.inflight = p;
    return p;
  }

  private async pass(): Promise<void> {
    await this.gate;
    if (this.stopped) return;
    const snapshot = this.deps.currentSnapshot();
    if (snapshot === undefined) return;
    const { metrics, log } = this.deps;
    const name = this.resource.name;
    this.st = { ...this.st, passes: this.st.passes + 1 };
    let outcome: WorkerPassOutcome;
    try {
      const result = await syncResource(this.resource, snapshot, this.deps.templates, {
        noop: this.deps.noop,
        syncOnly: this.deps.syncOnly,
        keepStageFile: this.deps.keepStageFile,
        log,
      });
      metrics.renders.inc({ resource: name, result: result.status });
      for (const w of result.warnings) metrics.renderWarnings.inc({ resource: name, code: w.code });
      if (result.status === 'committed') this.reloadPending = true;
      let reloaded = false;
      if (this.deps.syncOnly || this.deps.noop) {
        this.reloadPending = false;
      } else if (this.reloadPending) {
        // A failed reload is retried on its backoff schedule; only a newer committed render
        // supersedes the wait (unchanged output from a busy prefix must not hammer reload_cmd).
        const retryDue = this.retryDue;
        if (result.status === 'committed' || retryDue === undefined || Date.now() >= retryDue) {
          reloaded = await this.reload(snapshot.revision);
        } else if (!this.stopped) {
          this.arm(retryDue, true);
        }
      }
      outcome = { ok: true, result, reloaded };
      this.failureRetry.reset();
      if (!this.reloadPending) {
        this.st = { ...this.st, renderedOk: true, lastError: undefined, lastSuccessAt: Date.now() };
        metrics.lastSuccess.set({ resource: name }, Date.now() / 1000);
        metrics.resourceFailing.set({ resource: name }, 0);
      }
    } catch (e) {
      const error = asResourceError(this.resource, e);
      metrics.renderErrors.inc({ resource: name, stage: error.stage });
      metrics.resourceFailing.set({ resource: name }, 1);
      if (error.stage === 'check') metrics.checkFailures.inc({ resource: name });
      if (error.stage !== 'reload') {
        // Retried with backoff: the cause may be passing (a script another resource writes, a
        // full disk, DNS); a newer change runs sooner. A deterministic failure repeats its error.
        const retryInMs = this.failureRetry.next();
        log.error(
          { resource: name, stage: error.stage, revision: snapshot.revision, dest: this.resource.dest, retryInMs },
          `${error.message} (the last good file stays)`,
        );
        if (!this.stopped && !this.dirty) this.arm(Date.now() + retryInMs, true);
      }
      this.st = { ...this.st, lastError: error };
      outcome = { ok: false, error };
    }
    this.deps.onPassDone?.(this.resource, outcome);
  }

  /** One reload attempt; on failure a retry pass is scheduled with backoff. */
  private async reload(revision: number): Promise<boolean> {
    const name = this.resource.name;
    try {
      const how = await (this.deps.reload ?? reloadStep)(this.resource, this.deps.log.child({ revision }));
      this.reloadPending = false;
      this.retryDue = undefined;
      this.retry.reset();
      if (how !== 'applied-at-runtime' && hasReloadStep(this.resource)) {
        this.lastReloadAt = Date.now();
        this.st = { ...this.st, reloads: this.st.reloads + 1 };
        this.deps.metrics.reloads.inc({ resource: name });
        return true;
      }
      return false;
    } catch (e) {
      const error = asResourceError(this.resource, e);
      this.deps.metrics.reloadFailures.inc({ resource: name });
      const delay = this.retry.next();
      this.deps.log.error({ resource: name, stage: 'reload', revision, retryInMs: delay }, error.message);
      this.st = { ...this.st, lastError: error };
      this.retryDue = Date.now() + delay;
      if (!this.stopped) this.arm(this.retryDue, true);
      throw error;
    }
  }
}
