/**
 * The composition root of a long-running haconfd: builds the daemon (which builds the resource
 * workers) and the HAProxy controller, and wires them through the controller's small interfaces —
 * DCS snapshots and reachability from the daemon's backend session, the daemon's metrics
 * registry, the resources that reload HAProxy, and the reload step: each resource's own
 * (reload_cmd or its [template.haproxy] strategy), run under the controller's watch when the
 * controller is on. Nothing below imports this file.
 */
import type { Config } from '../config/config.js';
import { ControllerSupervisor } from '../haproxy/controller/controllerSupervisor.js';
import type { Logger } from '../log/logger.js';
import { Daemon, type DaemonOptions } from './daemon.js';
import { reloadStep } from './reloadSteps.js';

/**
 * Runs the daemon, with the controller inside it when haconfd.toml has an enabled `[controller]`
 * table (a SIGHUP can add, enable, change, disable or remove the table). A bad table is a
 * configuration error: exit 2 before anything starts.
 */
export async function runDaemon(config: Config, log: Logger, opts: Pick<DaemonOptions, 'reloadConfig' | 'handleSignals'> = {}): Promise<number> {
  let supervisor: ControllerSupervisor;
  try {
    supervisor = new ControllerSupervisor(config.tables, log);
  } catch (e) {
    log.fatal(`${(e as Error).message}`);
    return 2;
  }
  const daemon = new Daemon(config, log, {
    ...opts,
    reload: (resource, rlog) => supervisor.reloadStep(resource, rlog, () => reloadStep(resource, rlog)),
    onSnapshot: (s) => supervisor.setSnapshot(s),
    onResources: (resources) => supervisor.resourcesApplied(resources),
    onPassDone: (resource, outcome) => supervisor.passDone(resource, outcome.ok && outcome.reloaded),
    onConfigApplied: (next) => void supervisor.reconfigure(next.tables),
  });
  supervisor.attach({ registry: daemon.metrics.registry, dcsReachable: () => daemon.backendReachable });
  try {
    return await daemon.run();
  } finally {
    await supervisor.stop();
  }
}
