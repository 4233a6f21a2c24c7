/**
 * Test harness edges: free ports, temp dirs, real binaries started and stopped by PID.
 * A missing binary is a failure naming the Debian package to install, never a skip.
 */
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, openSync, closeSync, readFileSync, existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
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

/*
 * Ports, race-free across the test files that `node --test` runs in parallel:
 *  - taken from PORT_RANGE, below the kernel's ephemeral range (ip_local_port_range starts at 32768),
 *    so no outgoing connection is ever given one of them as its local port;
 *  - reserved by creating <tmp>/haconfd-test-ports/<port> exclusively (O_EXCL) with our PID: two
 *    test processes never get the same port, and a reservation is held until this process exits
 *    (files of dead processes are reclaimed);
 *  - checked bindable on 127.0.0.1 before it is handed out (something outside the harness may hold it).
 * Programs outside the harness can still take one: startups that bind retry on "address already in
 * use" with new ports (retryOnAddressInUse).
 */
const PORT_RANGE = { first: 20_000, last: 32_000 } as const;
const PORT_DIR = join(tmpdir(), 'haconfd-test-ports');
const reservedPorts = new Set<number>();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates the reservation file for `port`; false when another live process holds it. */
function reserve(port: number): boolean {
  const file = join(PORT_DIR, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      reservedPorts.add(port);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(file, 'utf8'));
    } catch {
      continue; // released meanwhile: try again
    }
    // An empty file is one being written right now: taken.
    if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid || pidAlive(owner)) return false;
    try {
      unlinkSync(file); // its process is gone
    } catch {
      /* someone else reclaimed it first */
    }
  }
  return false;
}

function release(port: number): void {
  if (!reservedPorts.delete(port)) return;
  try {
    unlinkSync(join(PORT_DIR, String(port)));
  } catch {
    /* already gone */
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

let nextCandidate = PORT_RANGE.first + Math.floor(Math.random() * (PORT_RANGE.last - PORT_RANGE.first));

/**
 * A TCP port on 127.0.0.1 reserved for this process until it exits: no other test process using
 * this harness gets it, the kernel never hands it out for an outgoing connection, and it was
 * bindable when reserved.
 */
export async function freePort(): Promise<number> {
  mkdirSync(PORT_DIR, { recursive: true, mode: 0o1777 });
  const span = PORT_RANGE.last - PORT_RANGE.first;
  for (let tried = 0; tried < span; tried++) {
    const port = nextCandidate;
    nextCandidate = nextCandidate >= PORT_RANGE.last ? PORT_RANGE.first : nextCandidate + 1;
    if (reservedPorts.has(port) || !reserve(port)) continue;
    if (await bindable(port)) return port;
    release(port);
  }
  throw new Error(`no free port in ${PORT_RANGE.first}-${PORT_RANGE.last} (reservations in ${PORT_DIR})`);
}

/** Several distinct free ports. */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) ports.push(await freePort());
  return ports;
}

/** True for the error a program (or Node) gives when a port is taken. */
export function isAddressInUse(e: unknown): boolean {
  const text = e instanceof Error ? `${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}` : String(e);
  return /EADDRINUSE|address already in use|cannot bind socket|bind: address/i.test(text);
}

/**
 * Runs `start` (which picks its ports with freePort()) again, up to `attempts` times, when it fails
 * because a port was taken by a program outside the harness. `start` must clean up after itself
 * when it throws.
 */
export async function retryOnAddressInUse<T>(what: string, start: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (e) {
      if (!isAddressInUse(e) || attempt >= attempts) throw e;
      process.stderr.write(`# ${what}: a port was taken (${e instanceof Error ? e.message.slice(0, 200) : String(e)}); new ports, attempt ${attempt + 1}\n`);
    }
  }
}

/** `server.listen(port, 127.0.0.1)` as a promise that rejects on an error (EADDRINUSE …). */
export function listenOn(server: Server, port: number, host = '127.0.0.1'): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
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

/** Thrown by a waitFor() probe to stop waiting at once (e.g. the program being waited for exited). */
export class WaitAborted extends Error {
  override readonly name = 'WaitAborted';
}

/**
 * Polls `probe` until it returns a truthy value or `timeoutMs` passes (then throws `what`). A probe
 * that throws is polled again (its last error is reported), except for WaitAborted, which ends the wait.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 60_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as T;
    } catch (e) {
      if (e instanceof WaitAborted) throw new Error(`gave up waiting for ${what}: ${e.message}`);
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
  for (const port of [...reservedPorts]) release(port);
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
