import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../src/store/store.js';
import { parseCluster, parseClusters } from '../../src/patroni/cluster.js';
import { clusterPorts, resolveProxySettings, DEFAULT_PROXY_SETTINGS, checkPortConflicts, bindAddress, listenNames, parseListenName } from '../../src/patroni/proxySettings.js';
import { clusterPairs, snapshotOf, threeMembers } from '../harness/patroniKeys.js';

describe('parseCluster', () => {
  test('one scope seen from its own prefix', () => {
    const store = new Store(snapshotOf(clusterPairs('/service', 'demo', threeMembers())), '/service/demo');
    const c = parseCluster(store);
    assert.equal(c.scope, 'demo');
    assert.equal(c.id, 'demo');
    assert.equal(c.group, null);
    assert.deepEqual(c.members.map((m) => m.name), ['pg1', 'pg2', 'pg3']);
    assert.equal(c.leader, 'pg1');
    assert.equal(c.leaderKnown, true);
    assert.equal(c.paused, false);
    assert.equal(c.failsafeMode, false);
    assert.deepEqual(c.rejected, []);
  });

  test('the leader key is the truth even when roles lag', () => {
    const members = threeMembers();
    const pairs = clusterPairs('/service', 'demo', members, 'pg2'); // pg1 still says master
    const c = parseCluster(new Store(snapshotOf(pairs), '/service'), '/demo');
    assert.equal(c.leader, 'pg2');
    assert.equal(c.leaderKnown, true);
    assert.equal(c.members.find((m) => m.name === 'pg1')?.role, 'primary');
  });

  test('leader naming an unknown member; empty leader; no leader', () => {
    const s = (leader: string | null): ReturnType<typeof parseCluster> =>
      parseCluster(new Store(snapshotOf(clusterPairs('/service', 'demo', threeMembers(), leader)), '/service'), 'demo');
    assert.deepEqual([s('ghost').leader, s('ghost').leaderKnown], ['ghost', false]);
    assert.deepEqual([s('').leader, s('').leaderKnown], [null, false]);
    assert.deepEqual([s(null).leader, s(null).leaderKnown], [null, false]);
  });

  test('failsafe, pause, sync', () => {
    const pairs = clusterPairs('/service', 'demo', threeMembers());
    pairs.push(['/service/demo/failsafe', JSON.stringify({ pg1: 'http://127.0.0.1:18008/patroni', pg2: 'http://127.0.0.1:18009/patroni' })]);
    pairs.push(['/service/demo/sync', JSON.stringify({ leader: 'pg1', sync_standby: 'pg2,pg3', quorum: 1 })]);
    const i = pairs.findIndex(([k]) => k === '/service/demo/config');
    pairs[i] = ['/service/demo/config', JSON.stringify({ ttl: 30, failsafe_mode: true, pause: true })];
    const c = parseCluster(new Store(snapshotOf(pairs), '/service/demo'));
    assert.deepEqual(c.failsafe, { pg1: 'http://127.0.0.1:18008/patroni', pg2: 'http://127.0.0.1:18009/patroni' });
    assert.equal(c.failsafeMode, true);
    assert.equal(c.paused, true);
    assert.deepEqual(c.sync, { leader: 'pg1', standbys: ['pg2', 'pg3'], quorum: 1 });
  });

  test('bad config/sync/failsafe values are ignored, not fatal', () => {
    const pairs = clusterPairs('/service', 'demo', threeMembers());
    pairs.push(['/service/demo/failsafe', 'garbage'], ['/service/demo/sync', '[1]']);
    const i = pairs.findIndex(([k]) => k === '/service/demo/config');
    pairs[i] = ['/service/demo/config', '{'];
    const c = parseCluster(new Store(snapshotOf(pairs), '/service/demo'));
    assert.equal(c.failsafe, null);
    assert.equal(c.sync, null);
    assert.equal(c.paused, false);
  });

  test('members under a nested key are rejected with the whole name', () => {
    const pairs = clusterPairs('/service', 'demo', threeMembers());
    pairs.push(['/service/demo/members/bad/name', '{}'], ['/service/demo/members/bad/deeper/x', '{}']);
    const c = parseCluster(new Store(snapshotOf(pairs), '/service/demo'));
    assert.equal(c.members.length, 3);
    assert.deepEqual(c.rejected.map((r) => r.name).sort(), ['bad/deeper/x', 'bad/name']);
    assert.match(c.rejected[0]?.reason ?? '', /contains '\/'/);
  });
});

describe('parseClusters', () => {
  test('every scope under the namespace, sorted; plain keys at the top ignored', () => {
    const pairs = [
      ...clusterPairs('/service', 'zeta', threeMembers('z')),
      ...clusterPairs('/service', 'alpha', threeMembers('a')),
      ['/service/readme', 'x'] as [string, string],
      ['/service/notacluster/foo/bar', 'x'] as [string, string],
    ];
    const set = parseClusters(new Store(snapshotOf(pairs), '/service'));
    assert.deepEqual(set.clusters.map((c) => c.id), ['alpha', 'zeta']);
    assert.deepEqual(set.rejectedScopes, []);
    // The same from the root, naming the namespace dir.
    assert.deepEqual(parseClusters(new Store(snapshotOf(pairs), '/'), '/service').clusters.map((c) => c.scope), ['alpha', 'zeta']);
  });

  test('Citus groups', () => {
    const pairs = [...clusterPairs('/service/citus', '1', threeMembers('w')), ...clusterPairs('/service/citus', '0', threeMembers('c'))];
    const set = parseClusters(new Store(snapshotOf(pairs), '/service'));
    assert.deepEqual(set.clusters.map((c) => [c.scope, c.group, c.id]), [['citus', 0, 'citus_0'], ['citus', 1, 'citus_1']]);
  });

  test('a scope name that is not a safe HAProxy name is rejected', () => {
    const pairs = [...clusterPairs('/service', 'ok', threeMembers()), ...clusterPairs('/service', 'no way', threeMembers())];
    const set = parseClusters(new Store(snapshotOf(pairs), '/service'));
    assert.deepEqual(set.clusters.map((c) => c.id), ['ok']);
    assert.equal(set.rejectedScopes[0]?.scope, 'no way');
  });
});

describe('proxy settings', () => {
  test('defaults are Patroni demo values', () => {
    const s = resolveProxySettings({});
    assert.equal(s.primary_port, 5000);
    assert.equal(s.replica_port, 5001);
    assert.equal(s.stats_port, 7000);
    assert.deepEqual(s, { ...DEFAULT_PROXY_SETTINGS, log_target: '' });
  });
  test('production defaults: stats page on loopback, no auth, maxconn 4096, backlog 1024; log_target auto = /dev/log when the host has it', () => {
    const s = resolveProxySettings({});
    assert.equal(s.stats_bind, '127.0.0.1:7000');
    assert.equal(s.stats_user, '');
    assert.equal(s.maxconn, 4096);
    assert.equal(s.backlog, 1024);
    assert.equal(s.log_target, '', 'auto without a syslog socket: no log');
    assert.equal(resolveProxySettings({}, { syslogSocket: true }).log_target, '/dev/log');
    assert.equal(resolveProxySettings({ log_target: '' }, { syslogSocket: true }).log_target, '', '"" turns it off');
    assert.equal(resolveProxySettings({ stats_address: '*' }).stats_bind, '*:7000');
  });
  test('strings from env-style vars are accepted where unambiguous', () => {
    const s = resolveProxySettings({ primary_port: '6000', enable_sync: 'true', check_inter: 1000 });
    assert.equal(s.primary_port, 6000);
    assert.equal(s.enable_sync, true);
    assert.equal(s.check_inter, '1000ms');
  });
  test('ports per cluster', () => {
    const s = resolveProxySettings({ clusters: { b: { replica_port: 7001 } } });
    assert.deepEqual(clusterPorts(s, 'a', 0), { primary: 5000, replica: 5001, read_only: 5002, sync: 5003 });
    assert.deepEqual(clusterPorts(s, 'b', 1), { primary: 5010, replica: 7001, read_only: 5012, sync: 5013 });
    assert.throws(() => clusterPorts(resolveProxySettings({ primary_port: 65530 }), 'c', 1), /outside 1-65535/);
  });
  test('bad vars', () => {
    assert.throws(() => resolveProxySettings({ primary_port: 0 }), /vars\.primary_port/);
    assert.throws(() => resolveProxySettings({ bind_address: 'example.com' }), /vars\.bind_address/);
    assert.throws(() => resolveProxySettings({ clusters: [] }), /vars\.clusters must be a table/);
    assert.throws(() => resolveProxySettings({ clusters: { a: 5 } }), /vars\.clusters\.a must be a table/);
    assert.throws(() => resolveProxySettings({ server_state_file: 'relative/path' }), /vars\.server_state_file/);
  });
  test('bind addresses and conflicts', () => {
    assert.equal(bindAddress('*', 5000), '*:5000');
    assert.equal(bindAddress('::', 5000), '[::]:5000');
    assert.equal(bindAddress('10.0.0.1', 5000), '10.0.0.1:5000');
    assert.throws(() => checkPortConflicts([{ port: 1, what: 'a' }, { port: 1, what: 'b' }]), /port 1 is used twice: a and b/);
  });
});

test('listen names and back', () => {
  assert.deepEqual(listenNames('citus_1'), { primary: 'citus_1_primary', replicas: 'citus_1_replicas', read_only: 'citus_1_read_only', sync: 'citus_1_sync' });
  assert.deepEqual(parseListenName('citus_1_read_only'), { clusterId: 'citus_1', kind: 'read_only' });
  assert.deepEqual(parseListenName('demo_replicas'), { clusterId: 'demo', kind: 'replicas' });
  assert.equal(parseListenName('stats'), undefined);
});
