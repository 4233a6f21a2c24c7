/**
 * Reload with a shell command, e.g. the classic
 * `haproxy -D -f cfg -p /run/haproxy.pid -x /run/haproxy/admin.sock -sf $(cat /run/haproxy.pid)`,
 * or `systemctl reload <unit>`. A non-zero exit is a rejected reload (stderr quoted); with an admin
 * socket, the new worker is confirmed by `show info`'s Pid changing.
 */
import { spawn } from 'node:child_process';
import type { Logger } from '../../log/logger.js';
import { adminSocketPidProbe, masterSocketPidProbe, readPid, waitForNewPid, type PidProbe } from './workerConfirmation.js';
import { DEFAULT_RELOAD_TIMEOUT_MS, ReloadFailedError, type ReloadOutcome, type ReloadStrategy } from './reloadStrategy.js';

interface CommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  output: string;
}

/**
 * Runs a program in its own process group with a time limit. On timeout the whole group is killed
 * (a `sh -c` child holding the output pipe would otherwise keep us waiting).
 */
function runBounded(file: string, args: readonly string[], timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stderr.on('data', (d: Buffer) => chunks.push(d));
    let timedOut = false;
    let done = false;
    const killGroup = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        /* gone */
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 1000).unref();
      // Do not wait for pipes a stray grandchild may hold.
      finish(null, 'SIGTERM');
    }, timeoutMs);
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ exitCode, signal, timedOut, output: Buffer.concat(chunks).toString('utf8') });
    };
    child.on('error', (e) => {
      chunks.push(Buffer.from(e.message));
      finish(127, null);
    });
    child.on('close', (code, signal) => finish(code, signal));
  });
}

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
  const r = await runBounded(file, args, timeoutMs);
  if (r.timedOut) throw new ReloadFailedError(`${what} did not finish within ${timeoutMs} ms`, kind, r.output.trim() || undefined);
  if (r.exitCode !== 0) {
    throw new ReloadFailedError(`${what} failed (exit ${r.exitCode ?? r.signal ?? '?'}); the old HAProxy keeps serving`, kind, r.output.trim() || undefined);
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
