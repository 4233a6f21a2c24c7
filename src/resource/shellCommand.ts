import { runBounded } from './boundedProcess.js';

/**
 * check_cmd and reload_cmd: run through /bin/sh -c with a timeout (then killed), stderr captured
 * so failures can quote it.
 */

export interface CommandResult {
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly durationMs: number;
}

export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    message: string,
    readonly result: CommandResult,
  ) {
    super(message);
  }
}

/** Replaces {{.src}} and {{.dest}} (confd's spelling, spaces allowed) in a command line. */
export function expandCommand(cmd: string, vars: { src: string; dest: string }): string {
  return cmd.replace(/\{\{\s*\.(src|dest)\s*\}\}/g, (_m, k: 'src' | 'dest') => vars[k]);
}

/** Keeps the end of long output, where the error usually is. */
function tail(text: string, max = 2000): string {
  const t = text.trim();
  return t.length > max ? '…' + t.slice(-max) : t;
}

/**
 * Runs `cmd` with /bin/sh -c in its own process group; resolves on exit 0, throws CommandError
 * otherwise. The command is done when the shell exits (a background child it leaves behind is
 * neither waited for nor killed); a shell still running at the timeout is killed with its whole
 * group (SIGTERM, then SIGKILL 2 s later). See boundedProcess.ts.
 */
export async function runShellCommand(what: string, cmd: string, timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<CommandResult> {
  const r = await runBounded('/bin/sh', ['-c', cmd], { timeoutMs, ...(env ? { env } : {}) });
  const result: CommandResult = {
    exitCode: r.exitCode ?? undefined,
    stdout: r.stdout,
    stderr: r.stderr,
    timedOut: r.timedOut,
    durationMs: r.durationMs,
  };
  if (result.timedOut) {
    throw new CommandError(`${what} timed out after ${timeoutMs} ms and was killed: ${cmd}`, result);
  }
  if (result.exitCode !== 0) {
    const why = r.spawnError ? `could not start (${r.spawnError.message})` : result.exitCode === undefined ? `was killed (${r.signal ?? 'signal'})` : `exited ${result.exitCode}`;
    const detail = tail(result.stderr) || tail(result.stdout);
    throw new CommandError(`${what} ${why}: ${cmd}${detail ? `\n${detail}` : ''}`, result);
  }
  return result;
}
