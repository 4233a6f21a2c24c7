/** Runs the built haconfd CLI (dist/cli/main.js) as a real process. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, type RunningProcess } from './process.js';
import { scanForPlanted } from './secrets.js';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The CLI's default paths (/etc/haconfd, /etc/confd, /etc/confd/confd.toml) moved to a directory
 * that never exists, so a confd or haconfd install on the test machine cannot leak into a test.
 * A test that exercises the defaults sets HACONFD_TEST_ETC_ROOT itself (config/defaultPaths.ts).
 */
const NO_ETC = join(tmpdir(), 'haconfd-tests-no-etc-root');

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
      { cwd: opts.cwd, env: { HACONFD_TEST_ETC_ROOT: NO_ETC, ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 },
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
    env: { HACONFD_TEST_ETC_ROOT: NO_ETC, ...process.env, ...opts.env },
    group: false,
  });
  // Every daemon run of the suite: its whole log is scanned for planted test passwords.
  proc.child.once('exit', () => scanForPlanted(`haconfd ${args.join(' ')} (${opts.logFile})`, proc.log()));
  return proc;
}
