/**
 * Runs a program (a `/bin/sh -c` command line, usually) in its own process group with a time limit.
 * The command is done when the program itself exits: its output is read until then plus a short
 * grace, then the pipes are let go. A background child it started (`… &`, `nohup … &`,
 * `setsid … &`, an init script, `haproxy -D`) may keep the pipes open for ever; it is neither waited
 * for nor killed. Only a program that does not exit within the limit is killed — with its whole
 * process group (SIGTERM, then SIGKILL), since whatever it started is part of what hangs.
 * A leaf module: imports nothing of haconfd's.
 */
import { spawn } from 'node:child_process';

export interface BoundedResult {
  /** The program's exit code; null when a signal ended it or it could not start. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  /** Set when the program could not be started (ENOENT, EACCES, …). */
  readonly spawnError?: Error;
}

export interface BoundedOptions {
  readonly timeoutMs: number;
  readonly env?: NodeJS.ProcessEnv;
  /** How long output is still read after the program exited (default 200 ms). */
  readonly graceMs?: number;
  /** After a timeout: SIGTERM to the group, SIGKILL this much later (default 2000 ms). */
  readonly killAfterMs?: number;
}

/** Output kept per stream (the end is kept: that is where errors are). */
const MAX_OUTPUT = 64 * 1024;

function keepTail(chunks: Buffer[], total: { n: number }, d: Buffer): void {
  chunks.push(d);
  total.n += d.length;
  while (total.n > MAX_OUTPUT && chunks.length > 1) total.n -= (chunks.shift() as Buffer).length;
}

export function runBounded(file: string, args: readonly string[], opts: BoundedOptions): Promise<BoundedResult> {
  const started = Date.now();
  const graceMs = opts.graceMs ?? 200;
  const killAfterMs = opts.killAfterMs ?? 2000;
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...(opts.env ? { env: opts.env } : {}) });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const outN = { n: 0 };
    const errN = { n: 0 };
    child.stdout.on('data', (d: Buffer) => keepTail(out, outN, d));
    child.stderr.on('data', (d: Buffer) => keepTail(err, errN, d));
    // A reader that is let go must not turn a late EPIPE/ECONNRESET into an unhandled error.
    child.stdout.on('error', () => undefined);
    child.stderr.on('error', () => undefined);
    let timedOut = false;
    let done = false;
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        /* the group is gone */
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), killAfterMs);
    }, opts.timeoutMs);
    const finish = (spawnError?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      if (timedOut) {
        // The timed-out program is gone; what it started goes with it.
        clearTimeout(killTimer);
        killGroup('SIGKILL');
      }
      // Let go of pipes a background child may still hold.
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({
        exitCode: spawnError ? null : (exited?.code ?? null),
        signal: exited?.signal ?? null,
        timedOut,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + (spawnError ? spawnError.message : ''),
        durationMs: Date.now() - started,
        ...(spawnError ? { spawnError } : {}),
      });
    };
    child.on('error', (e) => finish(e));
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      graceTimer = setTimeout(() => finish(), graceMs);
    });
    // Pipes closed too (no child holds them): done at once.
    child.on('close', () => {
      if (exited) finish();
    });
  });
}
