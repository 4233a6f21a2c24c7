/** Parser for `show stat` (CSV with a `# pxname,svname,…` header), by column name. Pure. */

export type StatRow = Readonly<Record<string, string>>;

export interface ServerStat {
  readonly backend: string;
  readonly server: string;
  /** `UP`, `DOWN`, `UP 2/3`, `DOWN 1/2`, `DRAIN`, `MAINT`, `NOLB`, `no check` … */
  readonly status: string;
  /** Current sessions. */
  readonly sessions: number;
  readonly totalSessions: number;
  /** Last check result, e.g. `L4CON`, `L7OK`, `L7STS` (empty when no check). */
  readonly checkStatus: string;
  readonly checkCode: string;
  readonly lastCheckDesc: string;
  readonly weight: number;
  readonly addr: string;
}

export class StatParseError extends Error {
  override readonly name = 'StatParseError';
}

/** All rows (frontends, backends, servers) as header-name → value maps. */
export function parseShowStat(text: string): StatRow[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const headerLine = lines.find((l) => l.startsWith('# '));
  if (!headerLine) throw new StatParseError('show stat: no "# pxname,svname,…" header line');
  const header = headerLine.slice(2).split(',');
  const rows: StatRow[] = [];
  for (const l of lines) {
    if (l.startsWith('#')) continue;
    const cells = l.split(',');
    const row: Record<string, string> = {};
    header.forEach((h, i) => {
      if (h !== '') row[h] = cells[i] ?? '';
    });
    rows.push(row);
  }
  return rows;
}

const num = (v: string | undefined): number => {
  const n = Number(v);
  return v === undefined || v === '' || !Number.isFinite(n) ? 0 : n;
};

/** Only server rows (not FRONTEND / BACKEND), typed. */
export function serverStatsOf(rows: readonly StatRow[]): ServerStat[] {
  return rows
    .filter((r) => (r['type'] !== undefined && r['type'] !== '' ? r['type'] === '2' : r['svname'] !== 'FRONTEND' && r['svname'] !== 'BACKEND'))
    .map((r) => ({
      backend: r['pxname'] ?? '',
      server: r['svname'] ?? '',
      status: r['status'] ?? '',
      sessions: num(r['scur']),
      totalSessions: num(r['stot']),
      checkStatus: (r['check_status'] ?? '').replace(/^\* /, ''),
      checkCode: r['check_code'] ?? '',
      lastCheckDesc: r['last_chk'] ?? '',
      weight: num(r['weight']),
      addr: r['addr'] ?? '',
    }));
}
