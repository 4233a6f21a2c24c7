/**
 * A private HAProxy (Debian's haproxy 2.6) in master-worker mode in a temp dir, stopped by PID.
 *
 *   haproxy -W -S <masterSocket> -f <configFile>     (foreground, no -D)
 *
 * startHaproxy() resolves once the master lists a worker and that worker answers on its CLI.
 * haproxyTestConfig() writes a small, valid config for tests (admin socket, optional operator-level
 * socket, stats listener, listens with servers, server-state file).
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { requireBinary, startProcess, waitFor, WaitAborted, type RunningProcess } from './process.js';
import { exchange } from '../../src/haproxy/runtime/socketTransport.js';
import { parseShowProc } from '../../src/haproxy/reload/procList.js';

export interface HaproxyInstance {
  readonly configFile: string;
  readonly masterSocket: string;
  readonly dir: string;
  readonly process: RunningProcess;
  masterPid: number;
  /** PID of the current worker, from the master's `show proc`. */
  workerPid(): Promise<number>;
  /** SIGTERM to the master's process group (SIGKILL after a grace period); resolves when gone. */
  stop(): Promise<void>;
  /** HAProxy's combined stdout+stderr so far. */
  log(): string;
}

export interface StartHaproxyOptions {
  dir: string;
  configFile: string;
  /** Default: `<dir>/master.sock`. */
  masterSocket?: string;
  /** How long to wait for the first worker (ms). Default 60 s (a ceiling for a loaded machine). */
  timeoutMs?: number;
}

export async function startHaproxy(opts: StartHaproxyOptions): Promise<HaproxyInstance> {
  const haproxy = requireBinary('haproxy', 'haproxy');
  const masterSocket = opts.masterSocket ?? join(opts.dir, 'master.sock');
  const logFile = join(opts.dir, 'haproxy.log');
  const proc = startProcess(haproxy, ['-W', '-S', masterSocket, '-f', opts.configFile], { logFile, cwd: opts.dir });
  const master = { kind: 'unix' as const, path: masterSocket };

  const workerPid = async (): Promise<number> => {
    const list = parseShowProc(await exchange(master, 'show proc', 2000));
    const w = list.workers[0];
    if (!w) throw new Error(`HAProxy master ${masterSocket} lists no worker`);
    return w.pid;
  };

  try {
    await waitFor(
      `HAProxy worker (config ${opts.configFile}, log ${logFile})`,
      async () => {
        if (proc.exited()) throw new WaitAborted(`haproxy exited: ${proc.log().slice(-3000)}`);
        if (!existsSync(masterSocket)) return false;
        await workerPid();
        // The worker answers through the master once it is fully started.
        const info = await exchange(master, '@1 show info', 2000);
        return /^Pid: \d+/m.test(info);
      },
      opts.timeoutMs ?? 60_000,
      25,
    );
  } catch (e) {
    await proc.stop();
    throw e;
  }

  return {
    configFile: opts.configFile,
    masterSocket,
    dir: opts.dir,
    process: proc,
    masterPid: proc.pid,
    workerPid,
    stop: () => proc.stop(),
    log: () => proc.log(),
  };
}

export interface TestServer {
  name: string;
  addr: string;
  port: number;
  /** Add `check` (TCP check, or HTTP when the listen has httpCheck). Default true. */
  check?: boolean;
  /** Extra keywords appended verbatim (tests only). */
  extra?: string;
}

export interface TestListen {
  name: string;
  bindPort: number;
  servers: readonly TestServer[];
  /** `option httpchk` (Patroni style checks). */
  httpCheck?: string;
  /** `default-server` line body. Default `inter 3s fall 3 rise 2 on-marked-down shutdown-sessions`. */
  defaultServer?: string;
  balance?: string;
}

export interface TestConfigOptions {
  /** Admin-level stats socket path (or `ipv4@127.0.0.1:PORT`). */
  adminSocket: string;
  /** Optional operator-level socket, to test permission errors. */
  operatorSocket?: string;
  /** More admin-level sockets, e.g. `ipv4@127.0.0.1:PORT`. */
  extraAdminSockets?: readonly string[];
  /** `listen stats` HTTP port on 127.0.0.1. */
  statsPort?: number;
  /** `server-state-file`; when set, `load-server-state-from-file global` is enabled. */
  serverStateFile?: string;
  listens: readonly TestListen[];
  hardStopAfter?: string;
}

/** A small, valid haproxy.cfg for tests. */
export function haproxyTestConfig(o: TestConfigOptions): string {
  const lines: string[] = ['global', `    stats socket ${o.adminSocket} mode 600 level admin expose-fd listeners`];
  if (o.operatorSocket) lines.push(`    stats socket ${o.operatorSocket} mode 600 level operator`);
  for (const extra of o.extraAdminSockets ?? []) lines.push(`    stats socket ${extra} level admin`);
  lines.push('    stats timeout 2m', `    hard-stop-after ${o.hardStopAfter ?? '5s'}`);
  if (o.serverStateFile) lines.push(`    server-state-file ${o.serverStateFile}`);
  lines.push(
    '',
    'defaults',
    '    mode tcp',
    '    timeout connect 1s',
    '    timeout client 30s',
    '    timeout server 30s',
    '    timeout check 1s',
  );
  if (o.serverStateFile) lines.push('    load-server-state-from-file global');
  if (o.statsPort !== undefined) {
    lines.push('', 'listen stats', '    mode http', `    bind 127.0.0.1:${o.statsPort}`, '    stats enable', '    stats uri /');
  }
  for (const l of o.listens) {
    lines.push('', `listen ${l.name}`, `    bind 127.0.0.1:${l.bindPort}`);
    if (l.balance) lines.push(`    balance ${l.balance}`);
    if (l.httpCheck) lines.push('    option httpchk', `    http-check send meth GET uri ${l.httpCheck}`, '    http-check expect status 200');
    lines.push(`    default-server ${l.defaultServer ?? 'inter 3s fall 3 rise 2 on-marked-down shutdown-sessions'}`);
    for (const s of l.servers) {
      const check = s.check === false ? '' : ' check';
      lines.push(`    server ${s.name} ${s.addr}:${s.port}${check}${s.extra ? ` ${s.extra}` : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
