/**
 * Test harness edges: free ports, temp dirs, real binaries started and stopped by PID.
 * A missing binary is a failure naming the Debian package to install, never a skip.
 */
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, openSync, closeSync, readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Throws a clear error when `binary` is not on PATH (or at the absolute path given). */
export function requireBinary(binary: string, debianPackage: string): string {
  try {
    if (binary.startsWith('/')) {
      if (existsSync(binary)) return binary;
    } else {
      return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim();
    }
  } catch {
    /* fall through */
  }
  throw new Error(
    `required program '${binary}' is not installed: run 'apt-get install -y ${debianPackage}' (Debian 12)`,
  );
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') return reject(new Error('no port'));
      const port = addr.port;
      srv.close(() => resolve(port));
    });
  });
}

/** Several distinct free ports. */
export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `haconfd-${tag}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes (then throws `what`). */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as T;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}

export interface RunningProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** The process's combined stdout+stderr so far. */
  log(): string;
  exited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

export interface StartOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  logFile: string;
  /** Spawn in its own process group so stop() also reaches its children. */
  group?: boolean;
}

const running = new Set<RunningProcess>();

/** Starts a program with output to a log file. Every process started here is killed at exit. */
export function startProcess(cmd: string, args: readonly string[], opts: StartOptions): RunningProcess {
  const fd = openSync(opts.logFile, 'a');
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', fd, fd],
    detached: opts.group ?? true,
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  const pid = child.pid;
  let done = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      done = true;
      resolve();
    });
    child.once('error', () => {
      done = true;
      resolve();
    });
  });
  const signal = (sig: NodeJS.Signals): void => {
    try {
      if (opts.group ?? true) process.kill(-pid, sig);
      else process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  };
  const rp: RunningProcess = {
    pid,
    child,
    logFile: opts.logFile,
    log: () => {
      try {
        return readFileSync(opts.logFile, 'utf8');
      } catch {
        return '';
      }
    },
    exited: () => done,
    kill: signal,
    stop: async (graceMs = 5000) => {
      running.delete(rp);
      if (done) return;
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), graceMs);
      await exitPromise;
      clearTimeout(timer);
    },
  };
  running.add(rp);
  return rp;
}

process.once('exit', () => {
  for (const rp of running) {
    try {
      process.kill(-rp.pid, 'SIGKILL');
    } catch {
      try {
        process.kill(rp.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
});
