/** The one planner (controller/planner.ts) and the controller's state types (controllerState.ts). Pure. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCluster } from '../../src/patroni/cluster.js';
import { Store } from '../../src/store/store.js';
import { CONTROLLER_DEFAULTS } from '../../src/haproxy/controller/controllerConfig.js';
import { planServerStates, type PlanContext, type PlannedServer } from '../../src/haproxy/controller/planner.js';
import { NO_WORKER, observeLeader, observeWorker, reloadEnded, reloadStarted, reroutedEpoch, routedEpoch, routedPlaces, RETIRED_WORKER_MS } from '../../src/haproxy/controller/controllerState.js';
import { clusterPairs, snapshotOf, threeMembers } from '../harness/patroniKeys.js';

const patterns = { writeBackends: CONTROLLER_DEFAULTS.writeBackends, readBackends: CONTROLLER_DEFAULTS.readBackends, readBackendsWithLeader: CONTROLLER_DEFAULTS.readBackendsWithLeader };

function model(leader: string | null, extra: [string, string][] = []) {
  const pairs = new Map(clusterPairs('/service', 'demo', threeMembers(), leader));
  for (const [k, v] of extra) pairs.set(k, v);
  return parseCluster(new Store(snapshotOf(pairs), '/service'), '/demo');
}

function servers(backend: string, names: string[], st: Partial<PlannedServer> = {}): PlannedServer[] {
  return names.map((server, i) => ({ backend, server, opState: 'up', admin: { maint: [], drain: [] }, addr: '127.0.0.1', port: 5432 + i, ...st }));
}

const ctx = (c: Partial<PlanContext> = {}): PlanContext => ({ patterns, dcsReachable: true, confirmations: new Map(), routed: new Map(), reloadHold: false, ...c });
const brief = (p: { commands: readonly { backend: string; server: string; action: string }[] }) => p.commands.map((c) => `${c.backend}/${c.server} ${c.action}`);

describe('planServerStates', () => {
  const pg = ['pg1', 'pg2', 'pg3'];
  test('the confirmed leader routed, every other write server cut, nothing for a pending one', () => {
    const actual = [...servers('demo_primary', ['pg1'], { opState: 'down', admin: { maint: ['forced'], drain: [] } }), ...servers('demo_primary', ['pg2', 'pg3'], { opState: 'down' })];
    const confirmed = planServerStates([model('pg1')], actual, [], ctx({ confirmations: new Map([['demo', 'confirmed']]) }));
    assert.deepEqual(brief(confirmed), ['demo_primary/pg1 ready-health-up']);
    assert.equal(confirmed.commands[0]?.kind, 'write');
    assert.equal(confirmed.commands[0]?.cluster, 'demo');
    assert.deepEqual(confirmed.writeBackends.get('demo'), ['demo_primary']);
    assert.deepEqual(brief(planServerStates([model('pg1')], actual, [], ctx())), []);
    assert.deepEqual(confirmed.missing, ['demo_replicas']);
  });
  test('rule 2 and rule 8: DCS unreachable plans nothing; past the release bound every server goes back to the checks', () => {
    const actual = servers('demo_primary', pg, { opState: 'down', admin: { maint: ['forced'], drain: [] } });
    assert.deepEqual(brief(planServerStates([model('pg1')], actual, [], ctx({ dcsReachable: false }))), []);
    const released = planServerStates([model('pg1')], actual, [{ backend: 'demo_primary', server: 'pg3', state: 'maint' }], ctx({ dcsReachable: false, released: 'dcs down' }));
    assert.deepEqual(brief(released), ['demo_primary/pg1 ready-health-down', 'demo_primary/pg2 ready-health-down']);
  });
  test('rule 6: a reload in progress defers routing, not cutting', () => {
    const actual = [...servers('demo_primary', ['pg1'], { opState: 'down', admin: { maint: ['forced'], drain: [] } }), ...servers('demo_primary', ['pg2'])];
    const p = planServerStates([model('pg1')], actual, [], ctx({ confirmations: new Map([['demo', 'confirmed']]), reloadHold: true }));
    assert.deepEqual(p.commands.map((c) => c.server), ['pg2']);
    assert.deepEqual(p.deferred.map((d) => d.command.server), ['pg1']);
  });
  test('rule 7: a routed leader is not forced UP against its checks, unless its server moved', () => {
    const down = servers('demo_primary', ['pg1'], { opState: 'down' });
    const place = `127.0.0.1:5432`;
    const routed = new Map([['demo', new Map([['demo_primary/pg1', place]])]]);
    const c = ctx({ confirmations: new Map([['demo', 'confirmed']]), routed });
    assert.deepEqual(brief(planServerStates([model('pg1')], down, [], c)), []);
    const moved = planServerStates([model('pg1')], [{ ...down[0]!, port: 6543 }], [], c);
    assert.deepEqual(brief(moved), ['demo_primary/pg1 health-up']);
    assert.equal(moved.commands[0]?.routesAgainAt, '127.0.0.1:6543');
    // Not routed yet: forced UP.
    assert.deepEqual(brief(planServerStates([model('pg1')], down, [], ctx({ confirmations: new Map([['demo', 'confirmed']]) }))), ['demo_primary/pg1 health-up']);
  });
  test('rule 9: a leader key naming no member is never confirmed', () => {
    const actual = servers('demo_primary', ['pg1', 'ghost'], { opState: 'down', admin: { maint: ['forced'], drain: [] } });
    const p = planServerStates([model('ghost')], actual, [], ctx({ confirmations: new Map([['demo', 'confirmed']]) }));
    assert.ok(!p.commands.some((x) => x.action === 'health-up' || x.action === 'ready-health-up'), JSON.stringify(brief(p)));
    assert.ok(p.commands.some((x) => x.server === 'ghost' && x.action === 'ready-health-down'), JSON.stringify(brief(p)));
  });
  test('backends no cluster manages: operator overrides only', () => {
    const p = planServerStates([model('pg1')], servers('web', ['a', 'b']), [{ backend: 'web', server: 'b', state: 'drain' }], ctx());
    assert.deepEqual(brief(p), ['web/b drain']);
    assert.equal(p.commands[0]?.kind, 'other');
    assert.equal(p.commands[0]?.cluster, undefined);
  });
});

describe('controller state', () => {
  test('leader epochs: first sighting, change, routed, rerouted', () => {
    const first = observeLeader(undefined, 'pg1', 100, 50);
    assert.deepEqual([first.seen, first.epoch.phase, first.epoch.seenAt, first.epoch.changed], ['first', 'awaiting', 50, false]);
    assert.equal(observeLeader(first.epoch, 'pg1', 200, 300).seen, 'same');
    const changed = observeLeader(first.epoch, 'pg2', 200, 300);
    assert.deepEqual([changed.seen, changed.epoch.seenAt, changed.epoch.changed], ['changed', 200, true]);
    const r = routedEpoch({ phase: 'awaiting', leader: 'pg2', seenAt: 200, changed: true }, new Map([['p/pg2', 'a:1']]));
    assert.equal(r.phase, 'routed');
    assert.deepEqual([...reroutedEpoch(r, 'p/pg2', 'a:2').routedAt], [['p/pg2', 'a:2']]);
    assert.deepEqual([...r.routedAt], [['p/pg2', 'a:1']], 'transitions do not mutate');
    assert.deepEqual([...routedPlaces(new Map([['demo', r], ['x', first.epoch]])).keys()], ['demo']);
    assert.equal(observeLeader(r, null, 400, 400).epoch.phase, 'awaiting');
  });
  test('worker tracking: first, new (ours or not), an old worker answering once more', () => {
    let t = observeWorker(NO_WORKER, 10, 0);
    assert.equal(t.seen.kind, 'first');
    t = observeWorker(t.tracking, 11, 1000);
    assert.deepEqual(t.seen, { kind: 'new', from: 10, ours: false });
    assert.equal(observeWorker(t.tracking, 10, 2000).seen.kind, 'same', 'the replaced worker still answering');
    assert.equal(observeWorker(t.tracking, 10, 1000 + RETIRED_WORKER_MS).seen.kind, 'new', 'a PID used again long after');
    const reloading = reloadStarted(t.tracking, 3000);
    assert.deepEqual(observeWorker(reloading, 12, 3001).seen, { kind: 'new', from: 11, ours: true });
    const done = reloadEnded(reloading, true, 11);
    assert.equal(done.ownWorkerDue, true);
    assert.equal(done.reloadingSince, undefined);
    assert.deepEqual(observeWorker(done, 12, 4000).seen, { kind: 'new', from: 11, ours: true });
    assert.equal(reloadEnded(reloading, false, 11).ownWorkerDue, false);
  });
});
