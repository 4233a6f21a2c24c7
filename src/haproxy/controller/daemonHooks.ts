/**
 * Runs the HAProxy controller inside the daemon when haconfd.toml has a `[controller]` table:
 * the daemon's snapshot changes and reloads feed it, its metrics go on the daemon's registry, and
 * the daemon's backend status tells it whether the DCS is reachable.
 *
 *   const hooks = controllerHooks(config, log);          // throws on a bad [controller]
 *   const daemon = new Daemon(config, log, { ...opts, ...hooks.options });
 *   hooks.attach(daemon);  …  await daemon.run();  await hooks.stop();
 *
 * On SIGHUP (onConfigApplied) a changed [controller] or [haproxy] table restarts the controller with
 * the new settings (its metrics carry on); `enabled = false` or a removed table stops it, and
 * `enabled = true` again starts it. A bad table is logged and the running controller kept.
 */
import { readFile } from 'node:fs/promises';
import type { Snapshot } from '../../backends/backend.js';
import type { Config } from '../../config/config.js';
import type { Daemon, DaemonOptions } from '../../daemon/daemon.js';
import type { Logger } from '../../log/logger.js';
import { HaproxyController } from './controller.js';
import { controllerEnabled, parseControllerConfig, type ControllerConfig } from './controllerConfig.js';
import type { ControllerMetrics } from './controllerMetrics.js';
import { loadResourceSet } from '../../daemon/resourceSet.js';
import { createLogger } from '../../log/logger.js';

/** The dest of every conf.d resource that reloads HAProxy through a `[template.haproxy]` table. */
function haproxyDests(config: Config): string[] {
  const { resources } = loadResourceSet(config, createLogger({ level: 'silent', format: 'json' }));
  return resources.filter((r) => r.haproxy !== undefined).map((r) => r.dest);
}

export interface ControllerHooks {
  readonly options: Required<Pick<DaemonOptions, 'onSnapshot' | 'onPassDone' | 'reload' | 'onConfigApplied'>>;
  /** Creates and starts the controller (unless `enabled = false`) on the daemon's registry. */
  attach(daemon: Daemon): HaproxyController | undefined;
  /** A new configuration was applied (SIGHUP): restarts, starts or stops the controller if its tables changed. */
  reconfigure(config: Config): Promise<void>;
  stop(): Promise<void>;
}

interface ControllerSettings {
  /** What the controller depends on ([controller] and [haproxy]), to tell whether it changed. */
  readonly key: string;
  /** Undefined when the table is absent or `enabled = false`. */
  readonly config: ControllerConfig | undefined;
}

/** Throws ControllerConfigError for a bad table. */
function settingsOf(config: Config): ControllerSettings {
  const table = config.sections['controller'];
  const haproxy = config.sections['haproxy'] ?? {};
  return {
    key: JSON.stringify([table ?? null, haproxy]),
    config: controllerEnabled(table) ? parseControllerConfig(table as Record<string, unknown>, haproxy) : undefined,
  };
}

/** Hooks for the daemon. Throws ControllerConfigError for a bad `[controller]` table. */
export function controllerHooks(config: Config, log: Logger): ControllerHooks {
  let settings = settingsOf(config);
  let controller: HaproxyController | undefined;
  let metrics: ControllerMetrics | undefined;
  let attached: Daemon | undefined;
  let latest: Snapshot | undefined;
  let adopting: Promise<unknown> = Promise.resolve();
  /** Reconfigurations run one after another; stop() waits for the one in flight. */
  let reconfiguring: Promise<void> = Promise.resolve();
  let stopping = false;
  /** Reload steps running under the current controller (a restart waits for them). */
  const steps = new Set<Promise<unknown>>();
  const clog = log.child({ component: 'controller' });

  const startController = (daemon: Daemon, cc: ControllerConfig, current: Config, replaced?: HaproxyController): HaproxyController => {
    // Same HAProxy (same socket): what the old controller knew of its config and pending removals carries on.
    const carried = replaced !== undefined && replaced.socket === cc.socket ? replaced.membershipState : undefined;
    const c = new HaproxyController({
      config: cc,
      log: clog,
      registry: daemon.metrics.registry,
      ...(metrics ? { metrics } : {}),
      ...(carried ? { membershipState: carried } : {}),
      dcsReachable: async () => ((await daemon.metrics.backendUp.get()).values[0]?.value ?? 0) === 1,
    });
    metrics = c.metrics;
    controller = c;
    c.start();
    if (latest) c.setSnapshot(latest);
    // The configs the running HAProxy already loaded (so the first membership change needs no reload).
    adopting = Promise.all(haproxyDests(current).map((dest) => c.adoptRunningConfig(dest)));
    return c;
  };

  const hooks: ControllerHooks = {
    options: {
      onSnapshot: (s) => {
        latest = s;
        controller?.setSnapshot(s);
      },
      // A [template.haproxy] reload already ends with a pass (duringReload); other reload steps
      // (a reload_cmd that restarts HAProxy) are caught here.
      onPassDone: (resource, outcome) => {
        if (outcome.ok && outcome.reloaded && resource.haproxy === undefined) controller?.notifyReload();
      },
      // An HAProxy resource's change that only adds or removes servers is applied through the
      // runtime API; anything else is the resource's own reload step, run under the controller's watch.
      reload: async (resource, rlog) => {
        const { reloadResource } = await import('../../resource/syncResource.js');
        if (resource.haproxy === undefined) return reloadResource(resource, rlog);
        // Not while the controller is being replaced (SIGHUP): the one that runs next must see this
        // reload, and the one being stopped must not run it.
        await reconfiguring;
        const c = controller;
        if (c === undefined) return reloadResource(resource, rlog);
        const step = (async (): Promise<'reloaded' | 'applied-at-runtime'> => {
          await adopting;
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
            await c.duringReload(() => reloadResource(resource, rlog));
          } catch (e) {
            c.forgetLoaded(resource.dest);
            throw e;
          }
          if (text !== undefined) c.noteLoaded(resource.dest, text);
          return 'reloaded';
        })();
        steps.add(step);
        try {
          return await step;
        } finally {
          steps.delete(step);
        }
      },
      onConfigApplied: (next) => {
        void hooks.reconfigure(next);
      },
    },
    attach(daemon) {
      attached = daemon;
      return settings.config === undefined ? undefined : startController(daemon, settings.config, config);
    },
    reconfigure(next) {
      const run = async (): Promise<void> => {
        let s: ControllerSettings;
        try {
          s = settingsOf(next);
        } catch (e) {
          clog.error(`new configuration: ${(e as Error).message}; the controller keeps running as it was`);
          return;
        }
        if (stopping || s.key === settings.key || attached === undefined) return;
        const old = controller;
        controller = undefined;
        // A reload step running under the old controller finishes first (new ones wait for this).
        await Promise.allSettled([...steps]);
        await old?.stop({ why: s.config === undefined ? '[controller] removed or enabled = false' : 'new [controller] settings' });
        if (s.config === undefined) {
          settings = s;
          if (old) clog.warn('HAProxy controller stopped: [controller] removed or enabled = false (HAProxy\'s checks decide from here; operator overrides stay)');
          return;
        }
        if (stopping) return;
        try {
          startController(attached, s.config, next, old);
        } catch (e) {
          // Nothing runs now: whatever table the next SIGHUP brings is tried.
          settings = { key: '', config: undefined };
          throw e;
        }
        settings = s;
        clog.info(old ? 'HAProxy controller restarted with the new [controller] settings' : 'HAProxy controller started ([controller] enabled)');
      };
      reconfiguring = reconfiguring.then(run).catch((e: unknown) => {
        clog.error(`applying the new [controller] settings: ${(e as Error).message}`);
      });
      return reconfiguring;
    },
    async stop() {
      stopping = true;
      await reconfiguring;
      await controller?.stop({ why: 'haconfd stopping' });
    },
  };
  return hooks;
}

/**
 * The daemon with the controller running inside it when haconfd.toml has an enabled `[controller]`
 * table (main.ts runs every daemon through this, so a SIGHUP can add, enable, change, disable or
 * remove the table). A bad table is a configuration error: exit 2 before anything starts.
 */
export async function runDaemonWithController(config: Config, log: Logger, opts: DaemonOptions = {}): Promise<number> {
  const { Daemon } = await import('../../daemon/daemon.js');
  let h: ControllerHooks;
  try {
    h = controllerHooks(config, log);
  } catch (e) {
    log.fatal(`${(e as Error).message}`);
    return 2;
  }
  const daemon = new Daemon(config, log, {
    ...opts,
    reload: opts.reload ?? h.options.reload,
    onSnapshot: (s) => {
      opts.onSnapshot?.(s);
      h.options.onSnapshot(s);
    },
    onPassDone: (r, o) => {
      opts.onPassDone?.(r, o);
      h.options.onPassDone(r, o);
    },
    onConfigApplied: (c) => {
      opts.onConfigApplied?.(c);
      h.options.onConfigApplied(c);
    },
  });
  h.attach(daemon);
  try {
    return await daemon.run();
  } finally {
    await h.stop();
  }
}
