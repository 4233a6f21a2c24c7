/**
 * Issue 16 on a real cluster (the failover rig: etcd + 3 Patroni + HAProxy 2.6 with the shipped
 * haproxy.cfg + `haconfd -watch` with [controller]): a client opens a fresh connection through the
 * write port every 20 ms, each attempt independent (bounded at 35 s, above hold_timeout), across
 * `patronictl switchover` ×5 and kill -9 of the leader's Patroni + Postgres ×3, once with the
 * shipped hold (write listens hold_timeout 30s, hold_on_switchover = true, switchover_hold_from =
 * "request" unless BENCH_HOLD_FROM=shutdown) and once without.
 * Reported per kind, hold on vs off: failed attempts (all, and those started after Patroni's
 * failover key / after the leader key changed), the longest single attempt, the routing delay.
 * BENCH_HOLD_SWITCHOVERS / BENCH_HOLD_KILLS override the counts.
 */
import { describeFailover, routingDelay, runFailover, startFailoverRig, type FailoverKind, type FailoverResult } from '../e2e/controller-rig.js';
import { median, type BenchRow } from './table.js';

const SWITCHOVERS = Number(process.env['BENCH_HOLD_SWITCHOVERS'] ?? 5);
const KILLS = Number(process.env['BENCH_HOLD_KILLS'] ?? 3);

async function scenario(hold: boolean): Promise<FailoverResult[]> {
  const from = process.env['BENCH_HOLD_FROM'];
  if (from !== undefined && from !== 'shutdown' && from !== 'request') throw new Error(`BENCH_HOLD_FROM must be "shutdown" or "request", not "${from}"`);
  const rig = await startFailoverRig({ controller: true, hold, ...(from === undefined ? {} : { holdFrom: from }) });
  const out: FailoverResult[] = [];
  try {
    const plan: FailoverKind[] = [...Array<FailoverKind>(SWITCHOVERS).fill('switchover'), ...Array<FailoverKind>(KILLS).fill('kill9')];
    for (const kind of plan) {
      // Bounded above hold_timeout (30 s), so a held attempt is measured, not cut.
      const r = await runFailover(rig, kind, undefined, { attemptTimeoutMs: 35_000 });
      // Failed attempts started after the key changed, by 100 ms bucket and error.
      const why = new Map<string, number>();
      for (const a of r.attempts) {
        if (a.ok || a.start <= r.keyChangedAt) continue;
        const k = `+${Math.round((a.start - r.keyChangedAt) / 100) * 100}ms ${a.error ?? '?'}`.slice(0, 120);
        why.set(k, (why.get(k) ?? 0) + 1);
      }
      process.stderr.write(`bench controller-hold (hold ${hold ? 'on' : 'off'}): ${describeFailover(r)}; failed ${r.failed.total} (after failover key ${r.failed.afterRequest}, after key change ${r.failed.afterKey}), longest attempt ${r.longestAttemptMs} ms (to the server's first byte ${r.longestToServerMs} ms, in HAProxy ${r.longestProxyWaitMs} ms; Patroni's gap ${r.directGapMs ?? '?'} ms)${why.size > 0 ? `; failed after the key change: ${JSON.stringify(Object.fromEntries(why))}` : ''}\n`);
      out.push(r);
    }
  } finally {
    await rig.stop();
  }
  return out;
}

const fmt = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
const per = (rs: readonly FailoverResult[], f: (r: FailoverResult) => number): string => `${rs.map(f).join(', ')} (total ${rs.reduce((n, r) => n + f(r), 0)})`;

function delay(rs: readonly FailoverResult[]): string {
  const d = rs.map(routingDelay).filter((x): x is number => x !== undefined);
  return d.length === 0 ? 'n/a' : `median ${fmt(median(d))}`;
}

export async function run(): Promise<BenchRow[]> {
  const on = await scenario(true);
  const off = await scenario(false);
  const rows: BenchRow[] = [];
  for (const kind of ['switchover', 'kill9'] as const) {
    const label = kind === 'switchover' ? 'switchover' : 'kill -9 of the leader';
    const a = on.filter((r) => r.kind === kind);
    const b = off.filter((r) => r.kind === kind);
    rows.push({
      issue: 16,
      name: `${label}: failed write attempts per failover (fresh connection every 20 ms)`,
      value: `hold on: ${per(a, (r) => r.failed.total)}; hold off: ${per(b, (r) => r.failed.total)}`,
      target: kind === 'switchover' ? '≤ 2 in total per switchover with hold on (was 70–72)' : 'see next row',
      runs: a.length,
    });
    rows.push({
      issue: 16,
      name: kind === 'switchover' ? `${label}: failed attempts started after Patroni's failover key` : `${label}: failed attempts started after the leader key changed`,
      value: `hold on: ${per(a, (r) => (kind === 'switchover' ? r.failed.afterRequest : r.failed.afterKey))}; hold off: ${per(b, (r) => (kind === 'switchover' ? r.failed.afterRequest : r.failed.afterKey))}`,
      target: kind === 'switchover' ? '' : '0 with hold on (was 8–10)',
      runs: a.length,
    });
    rows.push({
      issue: 16,
      name: `${label}: longest single attempt; Patroni's own write gap (median)`,
      value: `hold on: ${fmt(Math.max(...a.map((r) => r.longestAttemptMs)))}; hold off: ${fmt(Math.max(...b.map((r) => r.longestAttemptMs)))}; Patroni's gap ${fmt(median(a.map((r) => r.directGapMs).filter((x): x is number => x !== undefined)))}`,
      target: kind === 'switchover' ? "≤ Patroni's gap + 300 ms" : '',
      runs: a.length,
    });
    if (kind === 'switchover') {
      // Per switchover, beyond Patroni's own gap in that same switchover: the longest wait HAProxy
      // imposed (Tw + Tc in its log: held, queued, connecting) and the longest attempt end to end
      // (which adds the new primary's own time to start a backend and run the write).
      const over = (rs: readonly FailoverResult[], f: (r: FailoverResult) => number): string => rs.map((r) => (r.directGapMs === undefined ? '?' : fmt(f(r) - r.directGapMs))).join(', ');
      rows.push({
        issue: 16,
        name: `${label}: longest wait in HAProxy before a server took the connection (Tw+Tc) minus Patroni's gap, per switchover`,
        value: `hold on: ${over(a, (r) => r.longestProxyWaitMs)}; hold off: ${over(b, (r) => r.longestProxyWaitMs)}`,
        target: '≤ 300 ms with hold on',
        runs: a.length,
      });
      rows.push({
        issue: 16,
        name: `${label}: longest attempt end to end minus Patroni's gap, per switchover`,
        value: `hold on: ${over(a, (r) => r.longestAttemptMs)}; hold off: ${over(b, (r) => r.longestAttemptMs)}`,
        target: '',
        runs: a.length,
      });
    }
    rows.push({
      issue: 16,
      name: `${label}: routing delay (new primary writable → first write lands via HAProxy)`,
      value: `hold on: ${delay(a)}; hold off: ${delay(b)}`,
      target: '≤ 200 ms median',
      runs: a.length,
    });
  }
  return rows;
}
