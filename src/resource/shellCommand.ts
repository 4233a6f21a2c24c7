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

/** Signals a whole process group (the shell and everything it started). */
function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

/**
 * Runs `cmd` with /bin/sh -c in its own process group; resolves on exit 0, throws CommandError
 * otherwise. On timeout the whole group gets SIGTERM, then SIGKILL 2 s later, so a child of the
 * shell cannot keep the command (or its output pipes) alive.
 */
export async function runShellCommand(what: string, cmd: string, timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<CommandResult> {
  const started = Date.now();
  // Loaded on first use: a pass whose output is unchanged runs no command and pays nothing.
  const { execa } = await import('execa');
  const sub = execa('/bin/sh', ['-c', cmd], {
    reject: false,
    detached: true,
    stdin: 'ignore',
    env,
    cleanup: true,
  });
  let timedOut = false;
  let forceTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(sub.pid, 'SIGTERM');
    forceTimer = setTimeout(() => killGroup(sub.pid, 'SIGKILL'), 2000);
  }, timeoutMs);
  const r = await sub;
  clearTimeout(timer);
  clearTimeout(forceTimer);
  if (timedOut) killGroup(sub.pid, 'SIGKILL');
  const result: CommandResult = {
    exitCode: r.exitCode,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
    timedOut,
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
