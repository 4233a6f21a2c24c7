import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../src/store/store.js';
import { parseCluster, type ClusterModel } from '../../src/patroni/cluster.js';
import { pendingSwitchover, planHolds, releaseAll, trackPending } from '../../src/haproxy/controller/switchoverHold.js';
import type { HoldStatus } from '../../src/haproxy/runtime/holdCommands.js';
import { holdLeaseMs } from '../../src/haproxy/controller/holdSteering.js';
import { clusterPairs, snapshotOf, threeMembers } from '../harness/patroniKeys.js';

const NOW = Date.parse('2026-12-06T10:00:00Z');
const W = new Map([['demo', ['demo_primary']]]);

function cluster(leader: string | null, failover?: string): ClusterModel {
  const pairs = new Map(clusterPairs('/service', 'demo', threeMembers(), leader));
  if (failover !== undefined) pairs.set('/service/demo/failover', failover);
  return parseCluster(new Store(snapshotOf(pairs), '/service/demo'));
}

const status = (requestedMs: number, listen = 'demo_primary'): HoldStatus => ({ listen, held: 0, released: 0, timedOut: 0, abandoned: 0, waitMs: 0, requestedMs });
const opts = (o: Partial<Parameters<typeof planHolds>[3]> = {}) => ({ enabled: true, now: NOW, leaseMs: 3000, pendingSince: new Map<string, number>(), maxMs: 30_000, ...o });

describe('pendingSwitchover', () => {
  test('held from the failover key naming the leader until the key names another member', () => {
    assert.match(pendingSwitchover(cluster('pg1', '{"leader":"pg1","member":"pg2"}'), NOW) ?? '', /switchover from pg1 to pg2 requested/);
    assert.match(pendingSwitchover(cluster(null, '{"leader":"pg1","member":"pg2"}'), NOW) ?? '', /leader key released/);
    assert.equal(pendingSwitchover(cluster('pg2', '{"leader":"pg1","member":"pg2"}'), NOW), undefined);
  });
  test('not for none, {}, malformed, another member, a failover without leader, a future time', () => {
    for (const v of [undefined, '{}', 'nope', '{"leader":"pg3","member":"pg2"}', '{"member":"pg2"}', JSON.stringify({ leader: 'pg1', member: 'pg2', scheduled_at: new Date(NOW + 1000).toISOString() })]) {
      assert.equal(pendingSwitchover(cluster('pg1', v), NOW), undefined, String(v));
    }
    assert.ok(pendingSwitchover(cluster('pg1', JSON.stringify({ leader: 'pg1', member: 'pg2', scheduled_at: new Date(NOW - 1).toISOString() })), NOW));
  });
});

describe('planHolds', () => {
  test('a pending switchover renews the request every pass; none pending releases one found', () => {
    const pending = cluster('pg1', '{"leader":"pg1","member":"pg2"}');
    assert.deepEqual(planHolds([pending], W, [], opts()).map((c) => [c.listen, c.action, c.ms]), [['demo_primary', 'hold', 3000]]);
    assert.deepEqual(planHolds([pending], W, [status(2500)], opts()).map((c) => c.action), ['hold']);
    const over = cluster('pg1', '{}');
    assert.deepEqual(planHolds([over], W, [status(0)], opts()), []);
    const r = planHolds([over], W, [status(2500)], opts());
    assert.deepEqual(r.map((c) => [c.action, c.reason]), [['release', 'switchover over or cancelled (pg1 holds the leader key)']]);
    assert.deepEqual(planHolds([cluster('pg2', '{"leader":"pg1","member":"pg2"}')], W, [status(10)], opts()).map((c) => c.reason), ['the leader key moved to pg2']);
  });
  test('disabled: never holds, releases what it finds', () => {
    const pending = cluster('pg1', '{"leader":"pg1","member":"pg2"}');
    assert.deepEqual(planHolds([pending], W, [], opts({ enabled: false })), []);
    assert.deepEqual(planHolds([pending], W, [status(100)], opts({ enabled: false })).map((c) => c.reason), ['hold_on_switchover is off']);
  });
  test('a switchover pending longer than maxMs is no longer held', () => {
    const pending = cluster('pg1', '{"leader":"pg1","member":"pg2"}');
    const since = new Map([['demo', NOW - 31_000]]);
    assert.deepEqual(planHolds([pending], W, [], opts({ pendingSince: since })), []);
    assert.match(planHolds([pending], W, [status(100)], opts({ pendingSince: since }))[0]?.reason ?? '', /31 s ago and still pending: no longer held/);
  });
  test('a listen no cluster claims is released; releaseAll ends every request', () => {
    assert.deepEqual(planHolds([], W, [status(100, 'gone_primary'), status(0, 'x_primary')], opts()).map((c) => [c.listen, c.action]), [['gone_primary', 'release']]);
    assert.deepEqual(releaseAll([status(100), status(0, 'b'), status(5, 'c')], 'stopping').map((c) => c.listen), ['demo_primary', 'c']);
  });
  test('trackPending keeps the first sighting while pending and forgets it after', () => {
    const pending = cluster('pg1', '{"leader":"pg1","member":"pg2"}');
    const a = trackPending(new Map(), [pending], NOW);
    assert.equal(a.get('demo'), NOW);
    assert.equal(trackPending(a, [pending], NOW + 500).get('demo'), NOW);
    assert.equal(trackPending(a, [cluster('pg1', '{}')], NOW + 600).has('demo'), false);
  });
  test('the request lease is a few controller passes, at least 2 s', () => {
    assert.equal(holdLeaseMs(200), 2000);
    assert.equal(holdLeaseMs(1000), 3000);
  });
});
