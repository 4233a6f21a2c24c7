/** Waiting for a new HAProxy worker after a reload: polls a PID probe until it changes. */
import { RuntimeClient } from '../runtime/runtimeClient.js';
import { MasterClient } from './masterClient.js';
import { pidOf } from '../runtime/infoList.js';

export type PidProbe = () => Promise<number | undefined>;

export function adminSocketPidProbe(adminSocket: string): PidProbe {
  const client = new RuntimeClient(adminSocket, { timeoutMs: 1000 });
  return async () => pidOf(await client.showInfo());
}

export function masterSocketPidProbe(masterSocket: string): PidProbe {
  const master = new MasterClient(masterSocket, { timeoutMs: 1000 });
  return async () => (await master.showProc()).workers[0]?.pid;
}

/** Reads the PID once, undefined on any failure (HAProxy may not be running yet). */
export async function readPid(probe: PidProbe): Promise<number | undefined> {
  try {
    return await probe();
  } catch {
    return undefined;
  }
}

/**
 * Resolves with the new PID once `probe` answers a PID different from `oldPid` (or any PID when
 * `oldPid` is undefined); resolves undefined after `timeoutMs`.
 */
export async function waitForNewPid(probe: PidProbe, oldPid: number | undefined, timeoutMs: number, intervalMs = 10): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pid = await readPid(probe);
    if (pid !== undefined && pid !== oldPid) return pid;
    if (Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
