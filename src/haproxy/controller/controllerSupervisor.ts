/**
 * The HAProxy controller's life inside a long-running haconfd, given only small interfaces (the
 * composition root, src/daemon/compose.ts, wires them to the daemon): the DCS snapshots, whether
 * the DCS is reachable, a registry for its metrics, the resources that reload HAProxy, and the
 * reload step of those resources, which it runs under its watch.
 *
 * On a new configuration (SIGHUP) a changed [controller] or [haproxy] table restarts the controller
 * with the new settings (its metrics carry on); `enabled = false` or a removed table stops it, and
 * `enabled = true` again starts it. A bad table is logged and the running controller kept.
 */
import { readFile } from 'node:fs/promises';
import type { Registry } from 'prom-client';
import type { Snapshot } from '../../backends/backend.js';
import type { ConfigTables } from '../../config/tables.js';
import type { Logger } from '../../log/logger.js';
import type { TemplateResource } from '../../resource/templateResource.js';
import { HaproxyController } from './controller.js';
import { controllerSettingsOf, type ControllerConfig } from './controllerConfig.js';
import type { ControllerMetrics } from './controllerMetrics.js';

/** What the controller needs from the process it runs in. */
export interface ControllerHost {
  /** Where its metrics go (served at /metrics). */
  readonly registry: Registry;
  /** Whether the DCS is reachable now. */
  dcsReachable(): boolean;
}

/** A resource as the controller sees it: HAProxy's when it has a [template.haproxy] table. */
export type ControlledResource = Pick<TemplateResource, 'name' | 'dest' | 'haproxy'>;

/** A resource's own reload step (reload_cmd or its HAProxy strategy). */
export type OwnReloadStep = () => Promise<void>;

export type ReloadOutcome = 'reloaded' | 'applied-at-runtime';

interface Settings {
  /** What the controller depends on ([controller] and [haproxy]), to tell whether it changed. */
  readonly key: string;
  /** Undefined when the table is absent or `enabled = false`. */
  readonly config: ControllerConfig | undefined;
}

/** Throws ControllerConfigError for a bad table. */
function settingsOf(tables: ConfigTables): Settings {
  return { key: JSON.stringify([tables.controller ?? null, tables.haproxy]), config: controllerSettingsOf(tables) };
}

export class ControllerSupervisor {
  private settings: Settings;
  private host: ControllerHost | undefined;
  private controller: HaproxyController | undefined;
  private metrics: ControllerMetrics | undefined;
  private latest: Snapshot | undefined;
  /** The dests of the resources that reload HAProxy (known once the daemon has loaded conf.d). */
  private dests: readonly string[] | undefined;
  private adopting: Promise<unknown> = Promise.resolve();
  /** Reconfigurations run one after another; stop() waits for the one in flight. */
  private reconfiguring: Promise<void> = Promise.resolve();
  private stopping = false;
  /** Reload steps running under the current controller (a restart waits for them). */
  private readonly steps = new Set<Promise<unknown>>();
  private readonly log: Logger;

  /** Throws ControllerConfigError for a bad `[controller]` table. */
  constructor(tables: ConfigTables, log: Logger) {
    this.settings = settingsOf(tables);
    this.log = log.child({ component: 'controller' });
  }

  /** Starts the controller (unless absent or `enabled = false`) in `host`. */
  attach(host: ControllerHost): HaproxyController | undefined {
    this.host = host;
    return this.settings.config === undefined ? undefined : this.startController(this.settings.config);
  }

  /** The daemon's resource set (start-up, conf.d edits, SIGHUP). */
  resourcesApplied(resources: readonly ControlledResource[]): void {
    const first = this.dests === undefined;
    this.dests = resources.filter((r) => r.haproxy !== undefined).map((r) => r.dest);
    if (first && this.controller) this.adopt(this.controller);
  }

  setSnapshot(s: Snapshot): void {
    this.latest = s;
    this.controller?.setSnapshot(s);
  }

  /**
   * A resource's pass ended. A [template.haproxy] reload already ends with a pass (duringReload);
   * other reload steps (a reload_cmd that restarts HAProxy) are caught here.
   */
  passDone(resource: ControlledResource, reloaded: boolean): void {
    if (reloaded && resource.haproxy === undefined) this.controller?.notifyReload();
  }

  /**
   * The reload step of `resource`: an HAProxy resource's change that only adds or removes servers
   * is applied through the runtime API; anything else is the resource's own step, run under the
   * controller's watch.
   */
  async reloadStep(resource: ControlledResource, rlog: Logger, own: OwnReloadStep): Promise<ReloadOutcome | void> {
    if (resource.haproxy === undefined) return own();
    // Not while the controller is being replaced (SIGHUP): the one that runs next must see this
    // reload, and the one being stopped must not run it.
    await this.reconfiguring;
    const c = this.controller;
    if (c === undefined) return own();
    const step = (async (): Promise<ReloadOutcome> => {
      await this.adopting;
      const text = await readFile(resource.dest, 'utf8').catch(() => undefined);
      if (text !== undefined) {
        const started = Date.now();
        const o = await c.applyMembership(resource.dest, text);
        if (o.applied) {
          rlog.info({ resource: resource.name, added: o.added, removed: o.removed, waiting: o.waiting, durationMs: Date.now() - started }, 'applied through the runtime API: no reload');
          return 'applied-at-runtime';
        }
        rlog.info({ resource: resource.name }, `reloading HAProxy: ${o.reason}`);
        await c.prepareReload(text);
      }
      try {
        await c.duringReload(own);
      } catch (e) {
        c.forgetLoaded(resource.dest);
        throw e;
      }
      if (text !== undefined) c.noteLoaded(resource.dest, text);
      return 'reloaded';
    })();
    this.steps.add(step);
    try {
      return await step;
    } finally {
      this.steps.delete(step);
    }
  }

  /** A new configuration was applied (SIGHUP): restarts, starts or stops the controller if its tables changed. */
  reconfigure(tables: ConfigTables): Promise<void> {
    const run = async (): Promise<void> => {
      let s: Settings;
      try {
        s = settingsOf(tables);
      } catch (e) {
        this.log.error(`new configuration: ${(e as Error).message}; the controller keeps running as it was`);
        return;
      }
      if (this.stopping || s.key === this.settings.key || this.host === undefined) return;
      const old = this.controller;
      this.controller = undefined;
      // A reload step running under the old controller finishes first (new ones wait for this).
      await Promise.allSettled([...this.steps]);
      await old?.stop({ why: s.config === undefined ? '[controller] removed or enabled = false' : 'new [controller] settings' });
      if (s.config === undefined) {
        this.settings = s;
        if (old) this.log.warn('HAProxy controller stopped: [controller] removed or enabled = false (HAProxy\'s checks decide from here; operator overrides stay)');
        return;
      }
      if (this.stopping) return;
      try {
        this.startController(s.config, old);
      } catch (e) {
        // Nothing runs now: whatever table the next SIGHUP brings is tried.
        this.settings = { key: '', config: undefined };
        throw e;
      }
      this.settings = s;
      this.log.info(old ? 'HAProxy controller restarted with the new [controller] settings' : 'HAProxy controller started ([controller] enabled)');
    };
    this.reconfiguring = this.reconfiguring.then(run).catch((e: unknown) => {
      this.log.error(`applying the new [controller] settings: ${(e as Error).message}`);
    });
    return this.reconfiguring;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.reconfiguring;
    await this.controller?.stop({ why: 'haconfd stopping' });
  }

  private startController(cc: ControllerConfig, replaced?: HaproxyController): HaproxyController {
    const host = this.host as ControllerHost;
    // Same HAProxy (same socket): what the old controller knew of its config and pending removals carries on.
    const carried = replaced !== undefined && replaced.socket === cc.socket ? replaced.membershipState : undefined;
    const c = new HaproxyController({
      config: cc,
      log: this.log,
      registry: host.registry,
      ...(this.metrics ? { metrics: this.metrics } : {}),
      ...(carried ? { membershipState: carried } : {}),
      dcsReachable: () => host.dcsReachable(),
    });
    this.metrics = c.metrics;
    this.controller = c;
    c.start();
    if (this.latest) c.setSnapshot(this.latest);
    this.adopt(c);
    return c;
  }

  /** The configs the running HAProxy already loaded (so the first membership change needs no reload). */
  private adopt(c: HaproxyController): void {
    if (this.dests !== undefined) this.adopting = Promise.all(this.dests.map((dest) => c.adoptRunningConfig(dest)));
  }
}
