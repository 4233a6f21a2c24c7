/** Wall time and peak RSS of a child process (VmHWM polled from /proc until it exits). */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Measured {
  readonly code: number | null;
  readonly wallMs: number;
  readonly peakRssMb: number;
  readonly stderr: string;
}

function hwmKb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export async function measureProcess(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Measured> {
  const started = process.hrtime.bigint();
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let peak = 0;
  const poll = setInterval(() => {
    if (child.pid !== undefined) peak = Math.max(peak, hwmKb(child.pid) ?? 0);
  }, 2);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  clearInterval(poll);
  return { code, wallMs, peakRssMb: peak / 1024, stderr };
}
