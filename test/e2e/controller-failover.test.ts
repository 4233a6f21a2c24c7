/**
 * Acceptance of the HAProxy controller on a real cluster (issue 5): etcd + 3 Patroni nodes +
 * HAProxy 2.6 master-worker (shipped haproxy.cfg, master-socket reloads with a state file) +
 * `haconfd -watch` with [controller]. A client writes through the write port every 20 ms (fresh
 * connection each time) across `patronictl switchover` ×5 and kill -9 of the leader ×3 (the killed
 * node restarted after each; E2E_CONTROLLER_SWITCHOVERS / _KILLS change the counts). Asserts, per failover:
 *   1. after the leader key changed, no connection through the write port reached a node that did
 *      not hold the key when the connection started;
 *   2. every failed write started before the controller routed the confirmed new primary (one
 *      that HAProxy's log shows handed to the new leader and that timed out inside PostgreSQL — a
 *      replica being rebuilt loads a small machine's disk — is counted and reported apart);
 *   after each switchover HAProxy is also reloaded from outside haconfd (issue 14), and 1. holds
 *   through the new worker too;
 *   3. the routing delay ("a write straight to the new primary completed" → "one via HAProxy
 *      completed on it") is recorded (and bounded loosely here; the bench reports the figures).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../harness/process.js';
import { assertFailoverAccepted, describeFailover, runFailover, startFailoverRig, type FailoverResult, type FailoverRig } from './controller-rig.js';

let rig: FailoverRig | undefined;
const results: FailoverResult[] = [];

before(async () => {
  rig = await startFailoverRig({ controller: true });
});

after(async () => {
  for (const r of results) console.log(`# ${describeFailover(r)}`);
  await rig?.stop();
});


/**
 * A write through HAProxy fails when it errs, reaches the wrong node, or takes longer than 5 s. On a
 * loaded machine a write to a just-promoted primary (or across an HAProxy reload) can take over a
 * second without anything being wrong; a connection stuck on a stopped node still shows.
 */
const ATTEMPTS = { attemptTimeoutMs: 5000 };

const SWITCHOVERS = Number(process.env['E2E_CONTROLLER_SWITCHOVERS'] ?? 5);
const KILLS = Number(process.env['E2E_CONTROLLER_KILLS'] ?? 3);

describe('controller failover acceptance on a real Patroni cluster', { timeout: 2_100_000 }, () => {
  test('start-up: the leader is confirmed through its REST API', async () => {
    const r = rig;
    assert.ok(r);
    assert.ok(r.haconfdLog().some((l) => String(l['msg']).includes('HAProxy controller started')));
    await waitFor('the initial leader confirmed', () => r.haconfdLog().some((l) => String(l['msg']).includes('confirmed as a running primary')), 60_000, 50);
    assert.ok(!r.haconfdLog().some((l) => String(l['msg']).includes('not confirmed in time')), 'no confirmation timed out');
  });

  for (let i = 1; i <= SWITCHOVERS; i++) {
    test(`patronictl switchover ${i}/${SWITCHOVERS}`, async () => {
      assert.ok(rig);
      // Issue 14: after each switchover HAProxy is reloaded from outside haconfd, alternately through
      // the master socket and SIGUSR2; the new worker starts from the server-state file.
      const r = await runFailover(rig, 'switchover', undefined, { ...ATTEMPTS, outsideReload: i % 2 === 1 ? 'master-socket' : 'sigusr2' });
      results.push(r);
      assertFailoverAccepted(rig as FailoverRig, r);
    });
  }

  for (let i = 1; i <= KILLS; i++) {
    test(`kill -9 of the leader's Patroni + Postgres ${i}/${KILLS} (node restarted after)`, async () => {
      assert.ok(rig);
      const r = await runFailover(rig, 'kill9', undefined, ATTEMPTS);
      results.push(r);
      assertFailoverAccepted(rig as FailoverRig, r);
    });
  }

  test('every switchover was followed by an outside reload with writes flowing (issue 14)', () => {
    const reloaded = results.filter((r) => r.outsideReload !== undefined);
    assert.equal(reloaded.length, SWITCHOVERS);
    for (const r of reloaded) assert.ok((r.outsideReload?.writes ?? 0) >= 25, describeFailover(r));
  });

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
