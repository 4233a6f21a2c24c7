/**
 * Reload with a shell command, e.g. the classic
 * `haproxy -D -f cfg -p /run/haproxy.pid -x /run/haproxy/admin.sock -sf $(cat /run/haproxy.pid)`,
 * or `systemctl reload <unit>`. A non-zero exit is a rejected reload (stderr quoted); with an admin
 * socket, the new worker is confirmed by `show info`'s Pid changing.
 */
import { execa } from 'execa';
import type { Logger } from '../log/logger.js';
import { adminSocketPidProbe, masterSocketPidProbe, readPid, waitForNewPid, type PidProbe } from './workerConfirmation.js';
import { DEFAULT_RELOAD_TIMEOUT_MS, ReloadFailedError, type ReloadOutcome, type ReloadStrategy } from './reloadStrategy.js';

async function runReload(
  kind: 'command' | 'systemd',
  file: string,
  args: readonly string[],
  what: string,
  probe: PidProbe | undefined,
  timeoutMs: number,
  log: Logger,
): Promise<ReloadOutcome> {
  const oldPid = probe ? await readPid(probe) : undefined;
  const r = await execa(file, args, { reject: false, timeout: timeoutMs, all: true, stdin: 'ignore' });
  if (r.timedOut) throw new ReloadFailedError(`${what} did not finish within ${timeoutMs} ms`, kind, (r.all ?? '').trim() || undefined);
  if (r.exitCode !== 0) {
    throw new ReloadFailedError(`${what} failed (exit ${r.exitCode ?? r.signal ?? '?'}); the old HAProxy keeps serving`, kind, (r.all ?? '').trim() || undefined);
  }
  if (!probe) return { oldPid: undefined, newPid: undefined, confirmed: false };
  const newPid = await waitForNewPid(probe, oldPid, timeoutMs);
  if (newPid === undefined) {
    throw new ReloadFailedError(`${what} exited 0 but no new HAProxy worker answered within ${timeoutMs} ms (worker PID still ${oldPid ?? 'unknown'})`, kind);
  }
  log.debug({ oldPid, newPid }, 'haproxy reload confirmed');
  return { oldPid, newPid, confirmed: true };
}

export interface CommandReloadOptions {
  readonly command: string;
  /** Admin socket used to confirm the new worker (`show info` Pid). */
  readonly adminSocket?: string;
  readonly timeoutMs?: number;
}

export function commandReload(opts: CommandReloadOptions): ReloadStrategy {
  const probe = opts.adminSocket ? adminSocketPidProbe(opts.adminSocket) : undefined;
  return {
    kind: 'command',
    description: `command ${JSON.stringify(opts.command)}`,
    reload: (log) => runReload('command', '/bin/sh', ['-c', opts.command], `reload command ${JSON.stringify(opts.command)}`, probe, opts.timeoutMs ?? DEFAULT_RELOAD_TIMEOUT_MS, log),
  };
}

export interface SystemdReloadOptions {
  readonly unit: string;
  /** Confirm with the master socket's worker PID (preferred), or with the admin socket's. */
  readonly masterSocket?: string;
  readonly adminSocket?: string;
  readonly timeoutMs?: number;
  /** For tests: the systemctl program. */
  readonly systemctl?: string;
}

export function systemdReload(opts: SystemdReloadOptions): ReloadStrategy {
  if (!/^[A-Za-z0-9@_.:\\-]+$/.test(opts.unit)) throw new Error(`invalid systemd unit name ${JSON.stringify(opts.unit)}`);
  const probe = opts.masterSocket
    ? masterSocketPidProbe(opts.masterSocket)
    : opts.adminSocket
      ? adminSocketPidProbe(opts.adminSocket)
      : undefined;
  return {
    kind: 'systemd',
    description: `systemctl reload ${opts.unit}`,
    reload: (log) => runReload('systemd', opts.systemctl ?? 'systemctl', ['reload', opts.unit], `systemctl reload ${opts.unit}`, probe, opts.timeoutMs ?? DEFAULT_RELOAD_TIMEOUT_MS, log),
  };
}
