/**
 * Runs the HAProxy controller inside the daemon when haconfd.toml has a `[controller]` table:
 * the daemon's snapshot changes and reloads feed it, its metrics go on the daemon's registry, and
 * the daemon's backend status tells it whether the DCS is reachable.
 *
 *   const hooks = controllerHooks(config, log);          // undefined: no [controller]
 *   const daemon = new Daemon(config, log, { ...opts, ...hooks?.options });
 *   hooks?.attach(daemon);  …  await daemon.run();  await hooks?.stop();
 */
import { readFile } from 'node:fs/promises';
import type { Snapshot } from '../../backends/backend.js';
import type { Config } from '../../config/config.js';
import type { Daemon, DaemonOptions } from '../../daemon/daemon.js';
import type { Logger } from '../../log/logger.js';
import { HaproxyController } from './controller.js';
import { controllerEnabled, parseControllerConfig } from './controllerConfig.js';
import { loadResourceSet } from '../../daemon/resourceSet.js';
import { createLogger } from '../../log/logger.js';

/** The dest of every conf.d resource that reloads HAProxy through a `[template.haproxy]` table. */
function haproxyDests(config: Config): string[] {
  const { resources } = loadResourceSet(config, createLogger({ level: 'silent', format: 'json' }));
  return resources.filter((r) => r.haproxy !== undefined).map((r) => r.dest);
}

export interface ControllerHooks {
  readonly options: Required<Pick<DaemonOptions, 'onSnapshot' | 'onPassDone' | 'reload'>>;
  /** Creates and starts the controller on the daemon's registry. */
  attach(daemon: Daemon): HaproxyController;
  stop(): Promise<void>;
}

/** Hooks for the daemon, or undefined when `[controller]` is absent or `enabled = false`. Throws ControllerConfigError. */
export function controllerHooks(config: Config, log: Logger): ControllerHooks | undefined {
  const table = config.sections['controller'];
  if (!controllerEnabled(table)) return undefined;
  const cc = parseControllerConfig(table as Record<string, unknown>, config.sections['haproxy'] ?? {});
  let controller: HaproxyController | undefined;
  let early: Snapshot | undefined;
  let adopting: Promise<unknown> = Promise.resolve();
  return {
    options: {
      onSnapshot: (s) => {
        if (controller) controller.setSnapshot(s);
        else early = s;
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
        if (resource.haproxy === undefined || controller === undefined) return reloadResource(resource, rlog);
        const c = controller;
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
      },
    },
    attach(daemon) {
      controller = new HaproxyController({
        config: cc,
        log: log.child({ component: 'controller' }),
        registry: daemon.metrics.registry,
        dcsReachable: async () => ((await daemon.metrics.backendUp.get()).values[0]?.value ?? 0) === 1,
      });
      controller.start();
      if (early) controller.setSnapshot(early);
      // The configs the running HAProxy already loaded (so the first membership change needs no reload).
      const c = controller;
      adopting = Promise.all(haproxyDests(config).map((dest) => c.adoptRunningConfig(dest)));
      return controller;
    },
    async stop() {
      await controller?.stop();
    },
  };
}

/**
 * The daemon with the controller running inside it (main.ts calls this when haconfd.toml has a
 * `[controller]` table). A bad table is a configuration error: exit 2 before anything starts.
 */
export async function runDaemonWithController(config: Config, log: Logger, opts: DaemonOptions = {}): Promise<number> {
  const { Daemon } = await import('../../daemon/daemon.js');
  let hooks: ControllerHooks | undefined;
  try {
    hooks = controllerHooks(config, log);
  } catch (e) {
    log.fatal(`${(e as Error).message}`);
    return 2;
  }
  if (hooks === undefined) return new Daemon(config, log, opts).run();
  const h = hooks;
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
  });
  h.attach(daemon);
  try {
    return await daemon.run();
  } finally {
    await h.stop();
  }
}
