/** `haproxy -c -f <file>`: used to quote HAProxy's own message when a reload was rejected. */
import { execa } from 'execa';

export interface ConfigCheckResult {
  readonly valid: boolean;
  readonly exitCode: number | undefined;
  /** The ALERT/WARNING lines HAProxy printed. */
  readonly output: string;
}

export async function checkConfigFile(configFile: string, haproxyBinary = 'haproxy', timeoutMs = 10_000): Promise<ConfigCheckResult> {
  const r = await execa(haproxyBinary, ['-c', '-f', configFile], { reject: false, timeout: timeoutMs, all: true });
  const output = (r.all ?? '')
    .split('\n')
    .filter((l) => /\[(ALERT|WARNING)\]/.test(l) || /error/i.test(l))
    .join('\n')
    .trim();
  // Exit 2 means valid but without a listener: still loadable.
  const valid = r.exitCode === 0 || r.exitCode === 2;
  return { valid, exitCode: r.exitCode, output: output || (r.all ?? '').trim() };
}
