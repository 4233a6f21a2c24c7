/**
 * A plain PostgreSQL 15 server (Debian's postgresql package) on 127.0.0.1 and a free port, in a temp
 * directory, run as the `postgres` user (Postgres refuses root). Stopped the way Patroni stops it: a
 * signal to the postmaster (SIGINT = fast, SIGQUIT = immediate), or SIGKILL.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, removeDir, requireBinary, retryOnAddressInUse, startProcess, tempDir, waitFor, WaitAborted, type RunningProcess } from './process.js';

export const PG_BIN_DIR = '/usr/lib/postgresql/15/bin';
/** Debian's programs first (/usr/bin/patroni needs /usr/bin/python3 and its dist-packages). */
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const AS_POSTGRES = ['--reuid=postgres', '--regid=postgres', '--init-groups'];
const C_LOCALE = { LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };

export interface PostgresAccount {
  readonly uid: number;
  readonly gid: number;
}

export function postgresAccount(): PostgresAccount {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (line === undefined) throw new Error("user 'postgres' missing: run 'apt-get install -y postgresql' (Debian 12)");
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/** Runs a program with Debian's PATH; its stdout, or an error quoting its stderr. */
export function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: { ...process.env, PATH: SYSTEM_PATH, ...env }, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${String(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
  });
}

export interface PostgresInstance {
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  log(): string;
  exited(): boolean;
  /** Signals the postmaster (fast: SIGINT, immediate: SIGQUIT) and waits for it to exit. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops it if running and removes its directory. */
  close(): Promise<void>;
}

/** `params` become `-c name=value` settings. */
export async function startPostgres(params: Readonly<Record<string, string>> = {}): Promise<PostgresInstance> {
  requireBinary('setpriv', 'util-linux');
  requireBinary(join(PG_BIN_DIR, 'postgres'), 'postgresql');
  const dir = tempDir('pg');
  const data = join(dir, 'data');
  mkdirSync(data);
  const owner = postgresAccount();
  chownSync(dir, owner.uid, owner.gid);
  chownSync(data, owner.uid, owner.gid);
  await run('setpriv', [...AS_POSTGRES, join(PG_BIN_DIR, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '--no-instructions'], C_LOCALE, 60_000);
  return retryOnAddressInUse('postgres', async () => {
    const port = await freePort();
    const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: dir, fsync: 'off', ...params };
    const args = [...AS_POSTGRES, join(PG_BIN_DIR, 'postgres'), '-D', data, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const p: RunningProcess = startProcess('setpriv', args, { logFile: join(dir, 'postgres.log'), env: { PATH: SYSTEM_PATH, ...C_LOCALE } });
    try {
      await waitFor(`postgres on port ${port}`, async () => {
        if (p.exited()) {
          const log = p.log();
          throw new WaitAborted(/could not bind|Address already in use/.test(log) ? 'address already in use' : log.slice(-1500));
        }
        return run(join(PG_BIN_DIR, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-t', '1'], C_LOCALE).then(() => true, () => false);
      }, 60_000, 50);
    } catch (e) {
      await p.stop(2000);
      throw new Error((e as Error).message.includes('address already in use') ? 'address already in use' : (e as Error).message);
    }
    const instance: PostgresInstance = {
      port,
      pid: p.pid,
      dir,
      log: () => p.log(),
      exited: () => p.exited(),
      stop: async (mode = 'fast') => {
        if (p.exited()) return;
        process.kill(p.pid, mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
        await waitFor('postgres to exit', () => p.exited(), 60_000, 20);
      },
      close: async () => {
        await p.stop(5000);
        if (existsSync(dir)) removeDir(dir);
      },
    };
    return instance;
  });
}
