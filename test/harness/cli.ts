/** Runs the built haconfd CLI (dist/cli/main.js) as a real process. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startProcess, type RunningProcess } from './process.js';
import { scanForPlanted } from './secrets.js';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
export const REPO = fileURLToPath(new URL('../..', import.meta.url));

function requireBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first (npm test does)`);
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  requireBuilt();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: opts.cwd, env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        // Every run of the suite: no planted test password may reach haconfd's output.
        scanForPlanted(`haconfd ${args.join(' ')}`, String(stdout) + String(stderr));
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

export function startCli(args: readonly string[], opts: { logFile: string; cwd?: string; env?: NodeJS.ProcessEnv }): RunningProcess {
  requireBuilt();
  const proc = startProcess(process.execPath, [CLI, ...args], {
    logFile: opts.logFile,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    env: { ...process.env, ...opts.env },
    group: false,
  });
  // Every daemon run of the suite: its whole log is scanned for planted test passwords.
  proc.child.once('exit', () => scanForPlanted(`haconfd ${args.join(' ')} (${opts.logFile})`, proc.log()));
  return proc;
}
