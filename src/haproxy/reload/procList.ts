/** Parser for the master socket's `show proc` (HAProxy 2.6 layout). Pure. */

export interface ProcEntry {
  readonly pid: number;
  readonly type: string; // master | worker | program name
  /** How many reloads this process has been through. */
  readonly reloads: number;
  readonly uptime: string;
  readonly version: string;
}

export interface ProcList {
  readonly master: ProcEntry | undefined;
  /** Failed reloads counted by the master (`[failed: N]`), 0 when absent. */
  readonly failedReloads: number;
  /** The current worker(s). */
  readonly workers: readonly ProcEntry[];
  /** Workers of earlier generations still finishing their sessions. */
  readonly oldWorkers: readonly ProcEntry[];
  readonly programs: readonly ProcEntry[];
}

type Section = 'master' | 'workers' | 'old' | 'programs';

/** Parses `show proc` output. Unknown lines are ignored; a missing master line yields `master: undefined`. */
export function parseShowProc(text: string): ProcList {
  let section: Section = 'master';
  let master: ProcEntry | undefined;
  let failedReloads = 0;
  const workers: ProcEntry[] = [];
  const oldWorkers: ProcEntry[] = [];
  const programs: ProcEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const h = line.toLowerCase();
      if (h.startsWith('#<pid>')) section = 'master';
      else if (h.includes('old workers')) section = 'old';
      else if (h.includes('workers')) section = 'workers';
      else if (h.includes('programs')) section = 'programs';
      continue;
    }
    const failed = /\[failed:\s*(\d+)\]/.exec(line);
    const cleaned = line.replace(/\[failed:\s*\d+\]/, ' ');
    const f = cleaned.split(/\s+/).filter((x) => x !== '');
    const pid = Number(f[0]);
    if (!Number.isInteger(pid) || pid <= 0 || f.length < 2) continue;
    const entry: ProcEntry = {
      pid,
      type: f[1] as string,
      reloads: Number(f[2] ?? 0) || 0,
      uptime: f[3] ?? '',
      version: f[4] ?? '',
    };
    if (entry.type === 'master') {
      master = entry;
      if (failed) failedReloads = Number(failed[1]);
    } else if (section === 'old') oldWorkers.push(entry);
    else if (section === 'programs') programs.push(entry);
    else workers.push(entry);
  }
  return { master, failedReloads, workers, oldWorkers, programs };
}
