/**
 * Runs the HAProxy controller inside the daemon when haconfd.toml has a `[controller]` table:
 * the daemon's snapshot changes and reloads feed it, its metrics go on the daemon's registry, and
 * the daemon's backend status tells it whether the DCS is reachable.
 *
 *   const hooks = controllerHooks(config, log);          // undefined: no [controller]
 *   const daemon = new Daemon(config, log, { ...opts, ...hooks?.options });
 *   hooks?.attach(daemon);  …  await daemon.run();  await hooks?.stop();
 */
import type { Snapshot } from '../../backends/backend.js';
import type { Config } from '../../config/config.js';
import type { Daemon, DaemonOptions } from '../../daemon/daemon.js';
import type { Logger } from '../../log/logger.js';
import { HaproxyController } from './controller.js';
import { controllerEnabled, parseControllerConfig } from './controllerConfig.js';

export interface ControllerHooks {
  readonly options: Required<Pick<DaemonOptions, 'onSnapshot' | 'onPassDone'>>;
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
  return {
    options: {
      onSnapshot: (s) => {
        if (controller) controller.setSnapshot(s);
        else early = s;
      },
      onPassDone: (_resource, outcome) => {
        if (outcome.ok && outcome.reloaded) controller?.notifyReload();
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
      return controller;
    },
    async stop() {
      await controller?.stop();
    },
  };
}
