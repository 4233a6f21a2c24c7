/** Pure parts of the controller: the [controller] table and the Patroni model → planner mapping. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCluster } from '../../src/patroni/cluster.js';
import { Store } from '../../src/store/store.js';
import { desireServerStates, diffServerStates, type ActualServerState } from '../../src/haproxy/controller/plan.js';
import { backendLayoutOf, clusterViewOf, leaderlessHold, releasedDesiredState } from '../../src/haproxy/controller/clusterMapping.js';
import { CONTROLLER_DEFAULTS, controllerEnabled, parseControllerConfig } from '../../src/haproxy/controller/controllerConfig.js';
import { isPrimaryRunning } from '../../src/haproxy/controller/leaderConfirmation.js';
import { clusterPairs, snapshotOf, threeMembers } from '../harness/patroniKeys.js';

const patterns = { writeBackends: CONTROLLER_DEFAULTS.writeBackends, readBackends: CONTROLLER_DEFAULTS.readBackends, readBackendsWithLeader: CONTROLLER_DEFAULTS.readBackendsWithLeader };

function model(leader: string | null | undefined, extra: [string, string][] = [], members = threeMembers()) {
  const pairs = new Map(clusterPairs('/service', 'demo', members, leader));
  for (const [k, v] of extra) pairs.set(k, v);
  return parseCluster(new Store(snapshotOf(pairs), '/service'), '/demo');
}

function actual(backend: string, servers: string[], st: Partial<ActualServerState> = {}): ActualServerState[] {
  return servers.map((server) => ({ backend, server, opState: 'up', admin: { maint: [], drain: [] }, ...st }));
}

describe('[controller] config', () => {
  test('defaults and durations', () => {
    const c = parseControllerConfig({ socket: '/run/haproxy/admin.sock', interval: '2s', confirm_timeout: '3s' });
    assert.equal(c.intervalMs, 2000);
    assert.equal(c.confirmTimeoutMs, 3000);
    assert.equal(c.confirmPollMs, 25);
    assert.equal(c.namespace, '/service');
    assert.deepEqual(c.writeBackends, ['{cluster}_primary']);
    assert.equal(c.overridesFile, '/var/lib/haconfd/haproxy-overrides.json');
    assert.equal(c.runtimeMembership, true);
    assert.equal(c.removalGraceMs, 30_000);
    const m = parseControllerConfig({ socket: 'x', runtime_membership: false, removal_grace: '0s' });
    assert.equal(m.runtimeMembership, false);
    assert.equal(m.removalGraceMs, 0);
    assert.equal(c.holdOnSwitchover, true);
    assert.equal(c.switchoverHoldMaxMs, 30_000);
    const h = parseControllerConfig({ socket: 'x', hold_on_switchover: false, switchover_hold_max: '10s' });
    assert.equal(h.holdOnSwitchover, false);
    assert.equal(h.switchoverHoldMaxMs, 10_000);
    assert.equal(c.switchoverHoldFrom, 'request');
    assert.equal(parseControllerConfig({ socket: 'x', switchover_hold_from: 'shutdown' }).switchoverHoldFrom, 'shutdown');
    assert.equal(c.reloadHoldWaitMs, 30_000);
    assert.equal(parseControllerConfig({ socket: 'x', reload_hold_wait: '0s' }).reloadHoldWaitMs, 0);
    assert.equal(parseControllerConfig({ socket: 'x', reload_hold_wait: '2s' }).reloadHoldWaitMs, 2000);
  });
  test('socket and state dir fall back to [haproxy]', () => {
    const c = parseControllerConfig({}, { socket: 'ipv4@127.0.0.1:9999', state_dir: '/srv/state' });
    assert.equal(c.socket, 'ipv4@127.0.0.1:9999');
    assert.equal(c.overridesFile, '/srv/state/haproxy-overrides.json');
    assert.equal(parseControllerConfig({}, { admin_socket: '/run/a.sock' }).socket, '/run/a.sock');
    assert.equal(parseControllerConfig({ socket: '/run/c.sock' }, { socket: '/run/h.sock' }).socket, '/run/c.sock');
  });
  test('bad input is rejected with the key named', () => {
    assert.throws(() => parseControllerConfig({}), /socket is required/);
    assert.throws(() => parseControllerConfig({ socket: 'x', intervall: '1s' }), /unknown key "intervall" \(did you mean "interval"\?\)/);
    assert.throws(() => parseControllerConfig({ socket: 'x', interval: 'soon' }), /invalid duration/);
    assert.throws(() => parseControllerConfig({ socket: 'x', confirm_timeout: '10ms' }), /confirm_timeout must be between/);
    assert.throws(() => parseControllerConfig({ socket: 'x', confirm_poll_interval: '2s', confirm_timeout: '1s' }), /shorter than confirm_timeout/);
    assert.throws(() => parseControllerConfig({ socket: 'x', write_backends: ['a;b'] }), /not a backend name pattern/);
    assert.throws(() => parseControllerConfig({ socket: 'x', write_backends: 'demo' }), /list of strings/);
    assert.throws(() => parseControllerConfig({ socket: 'ipv4@host' }), /socket/);
    assert.throws(() => parseControllerConfig({ socket: 'x', api_verify_tls: 'no' }), /api_verify_tls/);
    assert.throws(() => parseControllerConfig({ socket: 'x', runtime_membership: 'yes' }), /runtime_membership must be true or false/);
    assert.throws(() => parseControllerConfig({ socket: 'x', removal_grace: '-1s' }), /removal_grace/);
    assert.throws(() => parseControllerConfig({ socket: 'x', hold_on_switchover: 'yes' }), /hold_on_switchover must be true or false/);
    assert.throws(() => parseControllerConfig({ socket: 'x', switchover_hold_from: 'shutdwn' }), /switchover_hold_from must be "shutdown" or "request" \(got "shutdwn"; did you mean "shutdown"\?\)/);
    assert.throws(() => parseControllerConfig({ socket: 'x', switchover_hold_from: true }), /switchover_hold_from must be "shutdown" or "request"$/);
    assert.throws(() => parseControllerConfig({ socket: 'x', switchover_hold_max: '10ms' }), /switchover_hold_max must be between/);
    assert.throws(() => parseControllerConfig({ socket: 'x', reload_hold_wait: '-1s' }), /reload_hold_wait/);
    assert.throws(() => parseControllerConfig({ socket: 'x', reload_hold_wait: '2h' }), /reload_hold_wait must be between/);
    assert.throws(() => parseControllerConfig({ socket: 'x', hold_on_switchovr: true }), /did you mean "hold_on_switchover"/);
  });
  test('enabled', () => {
    assert.equal(controllerEnabled(undefined), false);
    assert.equal(controllerEnabled({ socket: 'x' }), true);
    assert.equal(controllerEnabled({ socket: 'x', enabled: false }), false);
  });
});

describe('cluster mapping', () => {
  test('the view follows the leader key, not member roles', () => {
    const v = clusterViewOf(model('pg2'), 'pending', true);
    assert.equal(v.leader, 'pg2');
    assert.equal(v.failsafe, false);
    assert.deepEqual(v.members.map((m) => [m.name, m.role]), [['pg1', 'primary'], ['pg2', 'replica'], ['pg3', 'replica']]);
  });

  test('failsafe needs no leader key, failsafe_mode and a failsafe key', () => {
    const cfg: [string, string] = ['/service/demo/config', JSON.stringify({ failsafe_mode: true })];
    const fs: [string, string] = ['/service/demo/failsafe', JSON.stringify({ pg1: 'http://127.0.0.1:8008/patroni' })];
    assert.match(leaderlessHold(model(null, [cfg, fs])) ?? '', /failsafe/);
    assert.equal(leaderlessHold(model(null, [fs])), undefined);
    assert.equal(leaderlessHold(model(null, [cfg])), undefined);
    assert.equal(leaderlessHold(model('pg1', [cfg, fs])), undefined);
  });

  test('pause without a leader key holds the write servers', () => {
    const paused: [string, string] = ['/service/demo/config', JSON.stringify({ pause: true })];
    assert.match(leaderlessHold(model(null, [paused])) ?? '', /pause/);
    const d = desireServerStates(clusterViewOf(model(null, [paused]), 'pending', true), backendLayoutOf(model(null), patterns, actual('demo_primary', ['pg1', 'pg2', 'pg3'])).layout);
    assert.ok(d.backends[0]?.servers.every((s) => s.wanted === 'unchanged'));
  });

  test('layout: patterns × the backends HAProxy has; servers = HAProxy ∪ members', () => {
    const a = [...actual('demo_primary', ['pg1', 'pg2', 'old']), ...actual('demo_replicas', ['pg1', 'pg2']), ...actual('other_primary', ['x'])];
    const { layout, missingBackends } = backendLayoutOf(model('pg1'), { ...patterns, writeBackends: ['{cluster}_primary', '{cluster}_extra'] }, a);
    assert.deepEqual(missingBackends, ['demo_extra']);
    assert.deepEqual(layout.map((l) => [l.backend, l.kind, l.servers.map((s) => s.server)]), [
      ['demo_primary', 'write', ['pg1', 'pg2', 'old', 'pg3']],
      ['demo_replicas', 'read', ['pg1', 'pg2', 'pg3']],
    ]);
    // A server whose member vanished: MAINT for writes, DRAIN for reads.
    const d = desireServerStates(clusterViewOf(model('pg1'), 'confirmed', true), layout);
    const w = (b: string, s: string) => d.backends.find((x) => x.backend === b)?.servers.find((x) => x.server === s)?.wanted;
    assert.equal(w('demo_primary', 'old'), 'down-cut');
    assert.equal(w('demo_primary', 'pg1'), 'up');
    assert.equal(w('demo_replicas', 'pg1'), 'down');
  });

  test('read_only backends take the leader too', () => {
    const a = actual('demo_read_only', ['pg1', 'pg2', 'pg3']);
    const { layout, missingBackends } = backendLayoutOf(model('pg1'), patterns, a);
    assert.deepEqual(missingBackends, ['demo_primary', 'demo_replicas']);
    const d = desireServerStates(clusterViewOf(model('pg1'), 'confirmed', true), layout);
    assert.deepEqual(d.backends[0]?.servers.map((s) => s.wanted), ['ready', 'ready', 'ready']);
  });

  test('released: every steered server back to the checks, never forced UP; overrides stay', () => {
    const a = [...actual('demo_primary', ['pg1', 'pg2'], { admin: { maint: ['forced'], drain: [] }, opState: 'down' })];
    const { layout } = backendLayoutOf(model('pg1'), patterns, a);
    const cmds = diffServerStates(releasedDesiredState(layout, 'dcs down'), a, [{ backend: 'demo_primary', server: 'pg2', state: 'maint' }]);
    assert.deepEqual(cmds.map((c) => [c.server, c.action]), [['pg1', 'ready-health-down']]);
  });

  test('a running primary per GET /patroni', () => {
    assert.equal(isPrimaryRunning({ role: 'master', state: 'running' }), true);
    assert.equal(isPrimaryRunning({ role: 'primary', state: 'running' }), true);
    assert.equal(isPrimaryRunning({ role: 'primary', state: 'starting' }), false);
    assert.equal(isPrimaryRunning({ role: 'replica', state: 'running' }), false);
    assert.equal(isPrimaryRunning({ role: 'standby_leader', state: 'running' }), false);
  });
});
