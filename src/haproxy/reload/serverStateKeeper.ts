/**
 * Keeps HAProxy's server-state file telling the current truth between reloads. Any reload — haconfd's,
 * `systemctl reload haproxy`, an operator's `reload` on the master socket or `kill -USR2` of the
 * master, a logrotate hook — starts the new worker from this file. Written only before haconfd's own
 * reloads, it would send a new worker back to the states of that moment (a former leader UP in the
 * write backend) until the controller noticed the worker. So it is rewritten, atomically, after
 * every controller pass that changed a server's state and on the periodic (timer) passes: the same
 * dump and filtering as before a reload (`show servers state`, filtered against the config file on
 * disk, which is what any reload loads), skipped when nothing but the clocks changed.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from '../../log/logger.js';
import { saveServerState } from './reloadHaproxy.js';

export interface StateFileTarget {
  /** `server-state-file` of the HAProxy config. */
  readonly stateFile: string;
  /** Admin socket the state is dumped from. */
  readonly adminSocket: string;
  /** The haproxy.cfg a reload would load (the resource's dest). */
  readonly configFile: string;
}

/** The kind of pass that calls for a refresh: it changed a server's state, or it is the periodic one. */
export function passCallsForRefresh(report: { readonly triggers: readonly string[]; readonly commands: readonly { readonly ok: boolean }[] }): boolean {
  return report.commands.some((c) => c.ok) || report.triggers.includes('timer');
}

export class ServerStateKeeper {
  /** Files rewritten so far (for tests and logs). */
  writes = 0;

  constructor(
    private readonly targets: () => readonly StateFileTarget[],
    private readonly log: Logger,
  ) {}

  /** Rewrites every target's state file that no longer says what HAProxy has. Never throws. */
  async refresh(): Promise<void> {
    for (const t of this.targets()) {
      try {
        const text = await readFile(t.configFile, 'utf8');
        const r = await saveServerState({ stateFile: t.stateFile, adminSocket: t.adminSocket, newConfigText: text }, this.log.child({ stateFile: t.stateFile }, { level: 'warn' }), { refresh: true });
        if (r.skipped === undefined && r.unchanged !== true) {
          this.writes++;
          this.log.debug({ stateFile: t.stateFile, servers: r.saved }, 'server-state file rewritten: the current states');
        }
      } catch (e) {
        this.log.warn({ stateFile: t.stateFile }, `could not refresh the server-state file: ${(e as Error).message}`);
      }
    }
  }
}
