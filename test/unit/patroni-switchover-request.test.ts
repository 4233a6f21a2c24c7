import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../src/store/store.js';
import { parseCluster } from '../../src/patroni/cluster.js';
import { parseSwitchoverRequest, switchoverDue } from '../../src/patroni/switchoverRequest.js';
import { durationMs, resolveProxySettings, SettingsError } from '../../src/patroni/proxySettings.js';
import { clusterPairs, snapshotOf, threeMembers } from '../harness/patroniKeys.js';

describe('parseSwitchoverRequest (Patroni\'s failover key)', () => {
  test('absent, empty and {} (Patroni 3.0 empties it when done) are no request', () => {
    for (const v of [undefined, '', '  ', '{}']) assert.deepEqual(parseSwitchoverRequest(v), { kind: 'none' }, String(v));
  });

  test('a switchover now, a scheduled one, a failover naming only the candidate', () => {
    assert.deepEqual(parseSwitchoverRequest('{"leader":"pg1","member":"pg2"}'), { kind: 'request', request: { leader: 'pg1', candidate: 'pg2', scheduledAt: null } });
    assert.deepEqual(parseSwitchoverRequest('{"leader":"pg1","member":"pg2","scheduled_at":"2026-12-06T10:00:00+00:00"}'), {
      kind: 'request',
      request: { leader: 'pg1', candidate: 'pg2', scheduledAt: Date.parse('2026-12-06T10:00:00Z') },
    });
    assert.deepEqual(parseSwitchoverRequest('{"member":"pg3"}'), { kind: 'request', request: { leader: null, candidate: 'pg3', scheduledAt: null } });
  });

  test('malformed values say why', () => {
    const cases: [string, RegExp][] = [
      ['{"leader":', /not JSON/],
      ['["pg1"]', /not a JSON object/],
      ['"pg1"', /not a JSON object/],
      ['{"leader":1,"member":"pg2"}', /"leader" is not a string/],
      ['{"leader":"pg1","member":{}}', /"member" is not a string/],
      ['{"leader":"pg1","scheduled_at":"tomorrow"}', /scheduled_at/],
      ['{"version":2}', /neither/],
    ];
    for (const [v, re] of cases) {
      const r = parseSwitchoverRequest(v);
      assert.equal(r.kind, 'malformed', v);
      if (r.kind === 'malformed') assert.match(r.reason, re, v);
    }
  });
});

describe('switchoverDue', () => {
  const now = Date.parse('2026-12-06T10:00:00Z');
  const req = (leader: string | null, candidate: string | null, scheduledAt: number | null = null) => ({ leader, candidate, scheduledAt });
  test('names the current leader, due now or in the past: due', () => {
    assert.equal(switchoverDue(req('pg1', 'pg2'), 'pg1', now), true);
    assert.equal(switchoverDue(req('pg1', null), 'pg1', now), true);
    assert.equal(switchoverDue(req('pg1', 'pg2', now - 1), 'pg1', now), true);
    assert.equal(switchoverDue(req('pg1', 'pg2', now), 'pg1', now), true);
  });
  test('another member, no leader field, a future time, no leader key, or the leader as candidate: not due', () => {
    assert.equal(switchoverDue(req('pg2', 'pg3'), 'pg1', now), false);
    assert.equal(switchoverDue(req(null, 'pg2'), 'pg1', now), false);
    assert.equal(switchoverDue(req('pg1', 'pg2', now + 1), 'pg1', now), false);
    assert.equal(switchoverDue(req('pg1', 'pg2'), null, now), false);
    assert.equal(switchoverDue(req('pg1', 'pg1'), 'pg1', now), false);
  });
});

test('the cluster model carries the failover key', () => {
  const pairs = new Map(clusterPairs('/service', 'demo', threeMembers(), 'pg1'));
  pairs.set('/service/demo/failover', '{"leader":"pg1","member":"pg2"}');
  const c = parseCluster(new Store(snapshotOf(pairs), '/service/demo'));
  assert.deepEqual(c.switchover, { kind: 'request', request: { leader: 'pg1', candidate: 'pg2', scheduledAt: null } });
  const none = parseCluster(new Store(snapshotOf(clusterPairs('/service', 'demo', threeMembers(), 'pg1')), '/service/demo'));
  assert.deepEqual(none.switchover, { kind: 'none' });
});

describe('hold settings of the shipped haproxy.cfg', () => {
  test('on by default (30s, the script beside the template); off with hold_timeout 0 or without a known script', () => {
    const s = resolveProxySettings({}, undefined, { templateDir: '/etc/haconfd/templates' });
    assert.equal(s.hold_script, '/etc/haconfd/templates/haconfd-hold.lua');
    assert.equal(s.hold_timeout_ms, 30_000);
    assert.equal(s.hold_inspect_delay, '31000ms');
    assert.equal(resolveProxySettings({ hold_timeout: '0' }, undefined, { templateDir: '/t' }).hold_timeout_ms, 0);
    assert.equal(resolveProxySettings({ hold_timeout: '30s' }).hold_timeout_ms, 0);
    assert.equal(resolveProxySettings({}).hold_timeout_ms, 0, 'no template directory known and no hold_script: off');
    assert.equal(resolveProxySettings({ hold_timeout: '2m' }, undefined, { templateDir: '/t' }).hold_inspect_delay, '121000ms');
    const own = resolveProxySettings({ hold_script: '/usr/local/share/hold.lua', hold_timeout: '5s' });
    assert.equal(own.hold_script, '/usr/local/share/hold.lua');
    assert.equal(own.hold_timeout_ms, 5000);
  });
  test('bad values are refused naming the var', () => {
    assert.throws(() => resolveProxySettings({ hold_timeout: 'soon' }, undefined, { templateDir: '/t' }), (e: Error) => e instanceof SettingsError && /vars\.hold_timeout/.test(e.message));
    assert.throws(() => resolveProxySettings({ hold_timeout: '2h' }, undefined, { templateDir: '/t' }), /at most 1h/);
    assert.throws(() => resolveProxySettings({ hold_script: 'relative.lua' }), /vars\.hold_script/);
    assert.throws(() => resolveProxySettings({ hold_timeout: '30s' }, undefined, { templateDir: '/a dir with spaces' }), /hold_script/);
  });
  test('durationMs reads HAProxy times', () => {
    assert.equal(durationMs('30s'), 30_000);
    assert.equal(durationMs('500'), 500);
    assert.equal(durationMs('2m'), 120_000);
    assert.equal(durationMs('1500us'), 2);
  });
});
