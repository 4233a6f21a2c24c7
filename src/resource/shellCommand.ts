/**
 * check_cmd and reload_cmd: run through /bin/sh -c with a timeout (then killed), stderr captured
 * so failures can quote it.
 */
import { execa } from 'execa';

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

/** Runs `cmd` with /bin/sh -c; resolves on exit 0, throws CommandError otherwise. */
export async function runShellCommand(what: string, cmd: string, timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<CommandResult> {
  const started = Date.now();
  const r = await execa('/bin/sh', ['-c', cmd], {
    reject: false,
    timeout: timeoutMs,
    killSignal: 'SIGTERM',
    forceKillAfterDelay: 2000,
    stdin: 'ignore',
    all: false,
    env,
    cleanup: true,
  });
  const result: CommandResult = {
    exitCode: r.exitCode,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
    timedOut: r.timedOut === true,
    durationMs: Date.now() - started,
  };
  if (result.timedOut) {
    throw new CommandError(`${what} timed out after ${timeoutMs} ms and was killed: ${cmd}`, result);
  }
  if (result.exitCode !== 0) {
    const why = result.exitCode === undefined ? `was killed (${r.signal ?? 'signal'})` : `exited ${result.exitCode}`;
    const detail = tail(result.stderr) || tail(result.stdout);
    throw new CommandError(`${what} ${why}: ${cmd}${detail ? `\n${detail}` : ''}`, result);
  }
  return result;
}
