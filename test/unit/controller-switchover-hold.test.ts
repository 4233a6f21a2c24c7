import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../src/store/store.js';
import { parseCluster, type ClusterModel } from '../../src/patroni/cluster.js';
import { pendingSwitchover, planHolds, releaseAll, trackPending, trackStopping, watchTargets, type HoldOptions } from '../../src/haproxy/controller/switchoverHold.js';
import type { ShutdownSeen } from '../../src/haproxy/controller/shutdownWatch.js';
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
const opts = (o: Partial<HoldOptions> = {}): HoldOptions => ({ enabled: true, now: NOW, leaseMs: 3000, pendingSince: new Map<string, number>(), maxMs: 30_000, from: 'request', stopping: new Map(), ...o });
const stopping = (leader: string, at = NOW, how = 'closed by the server'): ReadonlyMap<string, ShutdownSeen> => new Map([['demo', { cluster: 'demo', leader, how, at }]]);

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

describe('planHolds from the leader\'s shutdown (switchover_hold_from = "shutdown")', () => {
  const pending = cluster('pg1', '{"leader":"pg1","member":"pg2"}');
  const shutdown = (o: Partial<HoldOptions> = {}): HoldOptions => opts({ from: 'shutdown', ...o });
  test('the leader is watched while the key still names it; nothing is held until its Postgres stops', () => {
    assert.deepEqual(watchTargets([pending], { enabled: true, from: 'shutdown', now: NOW }), [{ cluster: 'demo', leader: 'pg1', host: '127.0.0.1', port: 15432 }]);
    assert.deepEqual(planHolds([pending], W, [], shutdown()), []);
    const held = planHolds([pending], W, [], shutdown({ stopping: stopping('pg1') }));
    assert.deepEqual(held.map((c) => [c.action, c.reason]), [['hold', "switchover from pg1 to pg2 requested; pg1's Postgres is shutting down (closed by the server)"]]);
  });
  test('no watch in "request" mode, when disabled, for no pending switchover, or once the key is released or moved', () => {
    assert.deepEqual(watchTargets([pending], { enabled: true, from: 'request', now: NOW }), []);
    assert.deepEqual(watchTargets([pending], { enabled: false, from: 'shutdown', now: NOW }), []);
    for (const m of [cluster('pg1', '{}'), cluster(null, '{"leader":"pg1","member":"pg2"}'), cluster('pg2', '{"leader":"pg1","member":"pg2"}')]) {
      assert.deepEqual(watchTargets([m], { enabled: true, from: 'shutdown', now: NOW }), []);
    }
  });
  test('the leader key released holds without a sighting; a sighting of another member holds nothing', () => {
    assert.match(planHolds([cluster(null, '{"leader":"pg1","member":"pg2"}')], W, [], shutdown())[0]?.reason ?? '', /leader key released/);
    assert.deepEqual(planHolds([pending], W, [], shutdown({ stopping: stopping('pg3') })), []);
  });
  test('a leader the cluster does not list cannot be watched: held from the request', () => {
    const pairs = new Map(clusterPairs('/service', 'demo', threeMembers(), 'pg9'));
    pairs.set('/service/demo/failover', '{"leader":"pg9","member":"pg2"}');
    const unknown = parseCluster(new Store(snapshotOf(pairs), '/service/demo'));
    assert.deepEqual(watchTargets([unknown], { enabled: true, from: 'shutdown', now: NOW }), []);
    assert.match(planHolds([unknown], W, [], shutdown())[0]?.reason ?? '', /pg9 is no listed member, so its shutdown cannot be watched: held from the request/);
  });
  test('a request found while waiting for the shutdown is released, saying why', () => {
    assert.deepEqual(planHolds([pending], W, [status(2000)], shutdown()).map((c) => [c.action, c.reason]), [['release', "switchover from pg1 to pg2 requested: waiting for pg1's Postgres to begin shutting down"]]);
  });
  test('switchover_hold_max runs from the shutdown seen, not from the request (the checkpoint is no hold)', () => {
    const since = new Map([['demo', NOW - 40_000]]);
    assert.equal(planHolds([pending], W, [], shutdown({ pendingSince: since, stopping: stopping('pg1', NOW - 1000) }))[0]?.action, 'hold');
    assert.deepEqual(planHolds([pending], W, [], shutdown({ pendingSince: since, stopping: stopping('pg1', NOW - 31_000) })), []);
  });
  test('trackStopping keeps a sighting of the request\'s leader while the switchover is pending, also after the leader key is released', () => {
    const seen = stopping('pg1', NOW - 500);
    const kept = trackStopping(new Map(), seen, [pending], NOW);
    assert.equal(kept.get('demo')?.at, NOW - 500);
    const released = cluster(null, '{"leader":"pg1","member":"pg2"}');
    assert.equal(trackStopping(kept, new Map(), [released], NOW).get('demo')?.at, NOW - 500);
    assert.equal(trackStopping(kept, new Map(), [cluster('pg2', '{"leader":"pg1","member":"pg2"}')], NOW).size, 0);
    assert.equal(trackStopping(kept, new Map(), [cluster('pg1', '{}')], NOW).size, 0);
    assert.equal(trackStopping(new Map(), stopping('pg3'), [pending], NOW).size, 0);
  });
});
