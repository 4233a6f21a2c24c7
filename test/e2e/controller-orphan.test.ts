/**
 * Fail-safe acceptance on a real cluster (issue 15): etcd + 3 Patroni + HAProxy 2.6 (shipped
 * haproxy.cfg, `inter 3s fall 3 rise 2`) + `haconfd -watch` with [controller], haconfd reaching etcd
 * through a TCP proxy the test can cut (Patroni keeps its own access). haconfd is taken away just
 * before a failover and stays away 30 s (E2E_ORPHAN_DOWN_MS):
 *   1. SIGKILL, then `patronictl switchover`;
 *   2. SIGTERM (a clean stop: it hands every server back to the checks and logs it), then a switchover;
 *   3. its etcd cut off, then a switchover;
 *   4. SIGKILL, then kill -9 of the leader's Patroni + Postgres.
 * Each time the write port must route to the new primary on HAProxy's checks alone, within
 * rise × inter + 1 s (7 s) of it accepting writes directly; and once haconfd is back (restarted, or
 * its etcd restored) no write through HAProxy fails.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeFailover, routingDelay, runFailover, startFailoverRig, type FailoverKind, type FailoverResult, type FailoverRig, type OrphanHow } from './controller-rig.js';

const DOWN_MS = Number(process.env['E2E_ORPHAN_DOWN_MS'] ?? 30_000);
/** The shipped checks: inter 3s, rise 2 → rise × inter + 1 s. */
const BOUND_MS = 2 * 3000 + 1000;

let rig: FailoverRig | undefined;
const results: FailoverResult[] = [];

before(async () => {
  rig = await startFailoverRig({ controller: true, etcdProxy: true });
});

after(async () => {
  for (const r of results) console.log(`# ${describeFailover(r)}`);
  await rig?.stop();
});

async function orphaned(kind: FailoverKind, how: OrphanHow): Promise<FailoverResult> {
  assert.ok(rig);
  const r = await runFailover(rig, kind, { how, downMs: DOWN_MS });
  results.push(r);
  const where = describeFailover(r);
  const delay = routingDelay(r);
  assert.ok(delay !== undefined, `routing delay measured (${where})`);
  assert.ok(delay <= BOUND_MS, `routed ${delay} ms after the new primary was writable, with haconfd away: over rise × inter + 1 s = ${BOUND_MS} ms (${where})`);
  assert.ok(r.viaHaproxyAt !== undefined && r.orphan !== undefined && r.viaHaproxyAt < r.orphan.backAt, `routed before haconfd was back (${where})`);
  assert.deepEqual(r.orphan?.failedAfterBack.map((a) => `${a.start - (r.orphan?.backAt ?? 0)} ms after it was back: ${a.error}`), [], `writes failed once haconfd was back (${where})`);
  return r;
}

describe('the write port routes on HAProxy\'s checks while haconfd is away', { timeout: 900_000 }, () => {
  test('haconfd SIGKILLed, then a switchover; restarted after 30 s', async () => {
    await orphaned('switchover', 'kill');
  });

  test('haconfd stopped cleanly (SIGTERM), then a switchover: it handed the servers back and said so', async () => {
    assert.ok(rig);
    const since = Date.now();
    await orphaned('switchover', 'term');
    const stopped = rig.haconfdLog().find((l) => String(l['msg']).startsWith('HAProxy controller stopped (haconfd stopping)') && (l['time'] as number) >= since);
    assert.ok(stopped, 'the clean stop logs the hand-back');
  });

  test('haconfd cut off from etcd (Patroni is not), then a switchover; etcd back after 30 s', async () => {
    assert.ok(rig);
    const since = Date.now();
    await orphaned('switchover', 'etcd-cut');
    assert.ok(rig.haconfdLog().some((l) => String(l['msg']).includes('changes nothing: the DCS is unreachable') && (l['time'] as number) >= since), 'it held while etcd was gone');
  });

  // Last: a kill -9 restarts a node, and a slow heal must not hold up the cases before it.
  test('haconfd SIGKILLed, then kill -9 of the leader\'s Patroni + Postgres; restarted after 30 s', async () => {
    await orphaned('kill9', 'kill');
  });
});
