/**
 * Issue 5 on a real cluster: etcd + 3 Patroni + HAProxy 2.6 (shipped haproxy.cfg, checks
 * `inter 3s fall 3 rise 2`) + `haconfd -watch`, once with the controller and once without (HAProxy's
 * checks alone). A client writes through the write port every 20 ms, fresh connection each time,
 * across `patronictl switchover` ×5 and kill -9 of the leader (Patroni + Postgres) ×3, the killed
 * node restarted after each. Reported per mode:
 *   - routing delay: "a write straight to the new primary has completed" → "one through HAProxy has
 *     completed on it" (end to end, so a write's own duration is not counted in);
 *   - connections through the write port that reached a node not holding the leader key, after it changed;
 *   - write outage through HAProxy for a switchover, beside Patroni's own write gap measured with no
 *     proxy (old primary's last direct write → new primary's first): Patroni 3.0.2 stops the old
 *     primary, then polls pg_controldata once a second before it releases the key, so that gap is
 *     ≥ 1 s and no proxy can route around it.
 * BENCH_CONTROLLER_SWITCHOVERS / BENCH_CONTROLLER_KILLS override the counts.
 *
 * The orphan cases (issue 15): haconfd SIGKILLed ("controller killed"), or cut off from etcd while
 * Patroni is not, just before a switchover / kill -9 and kept away BENCH_ORPHAN_DOWN_MS (30 s):
 * routing delay and failed write attempts after the key changed, beside controller on and checks
 * alone. BENCH_ORPHAN_SWITCHOVERS / BENCH_ORPHAN_KILLS (default 2 / 1) set the counts.
 */
import { describeFailover, routingDelay, runFailover, startFailoverRig, writesStoppedBeforeKey, type FailoverKind, type FailoverResult, type OrphanHow } from '../e2e/controller-rig.js';
import { median, type BenchRow } from './table.js';

const SWITCHOVERS = Number(process.env['BENCH_CONTROLLER_SWITCHOVERS'] ?? 5);
const KILLS = Number(process.env['BENCH_CONTROLLER_KILLS'] ?? 3);
const ORPHAN_SWITCHOVERS = Number(process.env['BENCH_ORPHAN_SWITCHOVERS'] ?? 2);
const ORPHAN_KILLS = Number(process.env['BENCH_ORPHAN_KILLS'] ?? 1);
const ORPHAN_DOWN_MS = Number(process.env['BENCH_ORPHAN_DOWN_MS'] ?? 30_000);

/** haconfd with the controller, taken away (`how`) before each failover. */
async function orphanScenario(how: OrphanHow): Promise<FailoverResult[]> {
  const rig = await startFailoverRig({ controller: true, etcdProxy: how === 'etcd-cut' });
  const out: FailoverResult[] = [];
  try {
    const plan: FailoverKind[] = [...Array<FailoverKind>(ORPHAN_SWITCHOVERS).fill('switchover'), ...Array<FailoverKind>(how === 'kill' ? ORPHAN_KILLS : 0).fill('kill9')];
    for (const kind of plan) {
      const r = await runFailover(rig, kind, { how, downMs: ORPHAN_DOWN_MS });
      process.stderr.write(`bench controller-failover (haconfd ${how}): ${describeFailover(r)}\n`);
      out.push(r);
    }
  } finally {
    await rig.stop();
  }
  return out;
}

/** Writes through HAProxy that failed after the key changed (total). */
const failedAfterKey = (rs: readonly FailoverResult[]): number => rs.reduce((n, r) => n + r.attempts.filter((a) => !a.ok && a.start > r.keyChangedAt).length, 0);

async function scenario(controller: boolean): Promise<FailoverResult[]> {
  const rig = await startFailoverRig({ controller });
  const out: FailoverResult[] = [];
  try {
    const plan: FailoverKind[] = [...Array<FailoverKind>(SWITCHOVERS).fill('switchover'), ...Array<FailoverKind>(KILLS).fill('kill9')];
    for (const kind of plan) {
      const r = await runFailover(rig, kind);
      process.stderr.write(`bench controller-failover (${controller ? 'controller' : 'checks alone'}): ${describeFailover(r)}\n`);
      out.push(r);
    }
  } finally {
    await rig.stop();
  }
  return out;
}

const fmt = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);

function delays(rs: readonly FailoverResult[]): string {
  const d = rs.map(routingDelay).filter((x): x is number => x !== undefined);
  if (d.length === 0) return 'n/a';
  return `median ${fmt(median(d))}, max ${fmt(Math.max(...d))}${d.length < rs.length ? ` (${rs.length - d.length} unmeasured)` : ''}`;
}

export async function run(): Promise<BenchRow[]> {
  const on = await scenario(true);
  const off = await scenario(false);
  const killed = ORPHAN_SWITCHOVERS + ORPHAN_KILLS > 0 ? await orphanScenario('kill') : [];
  const cut = ORPHAN_SWITCHOVERS > 0 ? await orphanScenario('etcd-cut') : [];
  const rows: BenchRow[] = [];
  for (const kind of ['switchover', 'kill9'] as const) {
    const label = kind === 'switchover' ? 'switchover' : 'kill -9 of the leader';
    const of = (rs: readonly FailoverResult[]) => rs.filter((r) => r.kind === kind);
    const k = of(killed);
    const c = of(cut);
    if (k.length + c.length === 0) continue;
    rows.push({
      issue: 15,
      name: `${label}, haconfd away ${Math.round(ORPHAN_DOWN_MS / 1000)} s: routing delay (new primary writable → first write via HAProxy)`,
      value: `controller on: ${delays(of(on))}; checks alone: ${delays(of(off))}; controller killed: ${delays(k)}${c.length > 0 ? `; cut off from etcd: ${delays(c)}` : ''}`,
      target: '≤ rise × inter + 1 s = 7 s with haconfd away (as checks alone)',
      runs: k.length + c.length,
    });
    const per = (rs: readonly FailoverResult[]): string => (rs.length === 0 ? 'n/a' : `${failedAfterKey(rs)} in ${rs.length}`);
    rows.push({
      issue: 15,
      name: `${label}: failed write attempts after the key changed (20 ms apart)`,
      value: `controller on: ${per(of(on))}; checks alone: ${per(of(off))}; controller killed: ${per(k)}${c.length > 0 ? `; cut off from etcd: ${per(c)}` : ''}`,
      target: 'haconfd away: no worse than checks alone',
      runs: k.length + c.length,
    });
  }
  const back = [...killed, ...cut].reduce((n, r) => n + (r.orphan?.failedAfterBack.length ?? 0), 0);
  if (killed.length + cut.length > 0) rows.push({ issue: 15, name: 'haconfd back (restarted / etcd restored): writes failing after it took over (total)', value: String(back), target: '0', runs: killed.length + cut.length });
  for (const kind of ['switchover', 'kill9'] as const) {
    const label = kind === 'switchover' ? 'switchover' : 'kill -9 of the leader';
    const a = on.filter((r) => r.kind === kind);
    const b = off.filter((r) => r.kind === kind);
    rows.push({
      issue: 5,
      name: `${label}: routing delay (new primary writable → first write via HAProxy)`,
      value: `controller: ${delays(a)}; checks alone: ${delays(b)}`,
      target: '≤ 200 ms median, ≤ 500 ms max (checks alone 4.4–5.8 s)',
      runs: a.length,
    });
    const mis = (rs: readonly FailoverResult[]): number => rs.reduce((n, r) => n + r.misrouted.length, 0);
    rows.push({
      issue: 5,
      name: `${label}: write-port connections reaching a non-leader after the key changed (total)`,
      value: `controller: ${mis(a)}; checks alone: ${mis(b)}`,
      target: '0 (checks alone 300–390)',
      runs: a.length,
    });
  }
  const sw = (rs: readonly FailoverResult[]) => rs.filter((r) => r.kind === 'switchover');
  const outage = (rs: readonly FailoverResult[]): string => {
    const o = sw(rs).map((r) => r.outageMs);
    const before = sw(rs).map(writesStoppedBeforeKey).filter((x): x is number => x !== undefined);
    const afterKey = sw(rs).map((r) => r.outageAfterKeyMs).filter((x): x is number => x !== undefined);
    const gap = sw(rs).map((r) => r.directGapMs).filter((x): x is number => x !== undefined);
    const over = sw(rs).filter((r) => r.directGapMs !== undefined).map((r) => r.outageMs - (r.directGapMs as number));
    return `median ${fmt(median(o))} (max ${fmt(Math.max(...o))}): ${fmt(median(before))} before the key changed (old primary stopping), ${fmt(median(afterKey))} from the key change to the first write; Patroni's own gap with no proxy median ${fmt(median(gap))}, so HAProxy added median ${fmt(median(over))}`;
  };
  rows.push({
    issue: 5,
    name: 'switchover: write outage through HAProxy',
    value: `controller: ${outage(on)}; checks alone: ${outage(off)}`,
    target: '≤ 0.5 s (checks alone ~7 s)',
    runs: sw(on).length,
  });
  const failed = on.reduce((n, r) => n + r.failedAfterRouted.length, 0);
  rows.push({ issue: 5, name: 'controller: writes failing after the new primary was routed (total)', value: String(failed), target: '0', runs: on.length });
  return rows;
}
