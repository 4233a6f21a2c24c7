/**
 * The controller acceptance (as controller-failover.test.ts) with Patroni on ZooKeeper (issue 12):
 * Patroni's `zookeeper:` DCS (python3-kazoo) on a real ZooKeeper, haconfd -backend zookeeper.
 * The leader and member znodes are ephemeral: after kill -9 the leader key goes only when the dead
 * Patroni's session expires, and that deletion must be followed exactly like an etcd key's.
 * Same failovers and acceptance (assertFailoverAccepted) as controller-failover.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../harness/process.js';
import { assertFailoverAccepted, describeFailover, runFailover, startFailoverRig, type FailoverResult, type FailoverRig } from './controller-rig.js';

let rig: FailoverRig | undefined;
const results: FailoverResult[] = [];

before(async () => {
  rig = await startFailoverRig({ controller: true, dcs: 'zookeeper' });
});

after(async () => {
  for (const r of results) console.log(`# ${describeFailover(r)}`);
  await rig?.stop();
});


const SWITCHOVERS = Number(process.env['E2E_CONTROLLER_SWITCHOVERS'] ?? 2);
const KILLS = Number(process.env['E2E_CONTROLLER_KILLS'] ?? 2);

describe('controller failover acceptance on a real Patroni cluster on ZooKeeper', { timeout: 420_000 }, () => {
  test('start-up: the leader is confirmed through its REST API', async () => {
    const r = rig;
    assert.ok(r);
    assert.ok(r.haconfdLog().some((l) => String(l['msg']).includes('HAProxy controller started')));
    await waitFor('the initial leader confirmed', () => r.haconfdLog().some((l) => String(l['msg']).includes('confirmed as a running primary')), 10_000, 50);
    assert.ok(!r.haconfdLog().some((l) => String(l['msg']).includes('not confirmed in time')), 'no confirmation timed out');
  });

  for (let i = 1; i <= SWITCHOVERS; i++) {
    test(`patronictl switchover ${i}/${SWITCHOVERS}`, async () => {
      assert.ok(rig);
      const r = await runFailover(rig, 'switchover');
      results.push(r);
      assertFailoverAccepted(rig as FailoverRig, r);
    });
  }

  for (let i = 1; i <= KILLS; i++) {
    test(`kill -9 of the leader's Patroni + Postgres ${i}/${KILLS} (node restarted after)`, async () => {
      assert.ok(rig);
      const r = await runFailover(rig, 'kill9');
      results.push(r);
      assertFailoverAccepted(rig as FailoverRig, r);
    });
  }

  test('every failover was logged as routed', () => {
    assert.ok(rig);
    const routed = rig.haconfdLog().filter((l) => String(l['msg']).startsWith('writes routed to')).length;
    assert.ok(routed >= SWITCHOVERS + KILLS, `${routed} routed lines`);
  });

  test('membership: the killed member leaving and coming back went through the runtime API, not only reloads', () => {
    assert.ok(rig);
    if (KILLS === 0) return;
    const applied = rig.haconfdLog().filter((l) => l['msg'] === 'applied through the runtime API: no reload');
    assert.ok(applied.some((l) => Array.isArray(l['added']) && (l['added'] as unknown[]).length > 0), `a member added at runtime: ${JSON.stringify(applied)}`);
  });
});
