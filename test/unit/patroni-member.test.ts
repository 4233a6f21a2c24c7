import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMember, normalizeRole, type Member } from '../../src/patroni/member.js';
import { classifyHost, parsePort, parseUrl } from '../../src/patroni/address.js';

function ok(name: string, value: string): Member {
  const r = parseMember(name, value);
  assert.ok(r.ok, r.ok ? '' : r.rejection.reason);
  return r.member;
}

function reason(name: string, value: string): string {
  const r = parseMember(name, value);
  assert.ok(!r.ok, `expected ${name} to be rejected`);
  return r.rejection.reason;
}

const REAL_302 =
  '{"conn_url":"postgres://127.0.0.1:15432/postgres","api_url":"http://127.0.0.1:8008/patroni","state":"running","role":"master","version":"3.0.2","xlog_location":67108864,"timeline":1}';
const REAL_414 =
  '{"conn_url":"postgres://127.0.0.1:45433/postgres","api_url":"http://127.0.0.1:48009/patroni","state":"running","role":"replica","version":"4.1.4","tags":{"datacenter":"dc2"},"xlog_location":50331744,"replay_lsn":50331744,"receive_lsn":50331744,"replication_state":"streaming","timeline":1}';

describe('parseMember', () => {
  test('a real Patroni 3.0.2 value', () => {
    const m = ok('pg1', REAL_302);
    assert.equal(m.host, '127.0.0.1');
    assert.equal(m.port, 15432);
    assert.equal(m.address, '127.0.0.1:15432');
    assert.equal(m.apiHost, '127.0.0.1');
    assert.equal(m.apiPort, 8008);
    assert.equal(m.apiScheme, 'http');
    assert.equal(m.role, 'primary');
    assert.equal(m.rawRole, 'master');
    assert.equal(m.state, 'running');
    assert.equal(m.version, '3.0.2');
    assert.equal(m.lsn, 67108864);
    assert.equal(m.timeline, 1);
    assert.equal(m.legacy, false);
    assert.deepEqual(m.tags, { noloadbalance: false, nofailover: false, nosync: false, nostream: false, custom: {} });
  });

  test('a real Patroni 4.1.4 value with a custom tag', () => {
    const m = ok('pg2', REAL_414);
    assert.equal(m.role, 'replica');
    assert.equal(m.replicationState, 'streaming');
    assert.deepEqual(m.tags.custom, { datacenter: 'dc2' });
  });

  test('roles: master and primary are one; the others are kept; anything else is unknown', () => {
    assert.equal(normalizeRole('master'), 'primary');
    assert.equal(normalizeRole('primary'), 'primary');
    for (const r of ['replica', 'standby_leader', 'demoted', 'uninitialized', 'promoted'] as const) assert.equal(normalizeRole(r), r);
    assert.equal(normalizeRole('leader'), 'unknown');
    assert.equal(normalizeRole(''), 'unknown');
  });

  test('tags: booleans the way Patroni parses them', () => {
    const v = (tags: unknown): string => JSON.stringify({ conn_url: 'postgres://h:1/x', api_url: 'http://h:2/patroni', tags });
    assert.equal(ok('a', v({ noloadbalance: true })).tags.noloadbalance, true);
    assert.equal(ok('a', v({ noloadbalance: 'true' })).tags.noloadbalance, true);
    assert.equal(ok('a', v({ nofailover: 'on', nosync: 1 })).tags.nofailover, true);
    assert.equal(ok('a', v({ nosync: 1 })).tags.nosync, true);
    assert.equal(ok('a', v({ noloadbalance: false, nofailover: 'false' })).tags.nofailover, false);
    assert.deepEqual(ok('a', v({ clonefrom: true, failover_priority: 2, nested: { x: 1 } })).tags.custom, { clonefrom: true, failover_priority: 2 });
    assert.equal(ok('a', v(['x'])).tags.noloadbalance, false);
  });

  test('IPv6 conn_url and api_url', () => {
    const m = ok('v6', JSON.stringify({ conn_url: 'postgres://[fd00::1]:5432/postgres', api_url: 'https://[::1]:8443/patroni', role: 'replica' }));
    assert.equal(m.host, 'fd00::1');
    assert.equal(m.hostKind, 'ipv6');
    assert.equal(m.address, '[fd00::1]:5432');
    assert.equal(m.apiHost, '::1');
    assert.equal(m.apiScheme, 'https');
    assert.equal(m.apiPort, 8443);
  });

  test('user@host, user:password@host and no port (5432)', () => {
    assert.equal(ok('a', JSON.stringify({ conn_url: 'postgres://rep@db1.example.com/postgres', api_url: 'http://db1.example.com:8008' })).address, 'db1.example.com:5432');
    assert.equal(ok('a', JSON.stringify({ conn_url: 'postgresql://u:p@10.0.0.1:6432', api_url: 'http://10.0.0.1:8008' })).port, 6432);
  });

  test('legacy plain postgres:// value with the API in application_name', () => {
    const m = ok('old', 'postgres://replicator:rep@10.0.0.5:5433/postgres?application_name=http://10.0.0.5:8009/patroni');
    assert.equal(m.legacy, true);
    assert.equal(m.address, '10.0.0.5:5433');
    assert.equal(m.apiPort, 8009);
    assert.match(reason('old', 'postgres://10.0.0.5:5433/postgres'), /api_url is missing/);
  });

  test('conn_kwargs instead of conn_url', () => {
    const m = ok('w', JSON.stringify({ conn_kwargs: { host: '10.1.1.1', port: 5444 }, api_url: 'http://10.1.1.1:8008/patroni' }));
    assert.equal(m.address, '10.1.1.1:5444');
  });

  test('rejections carry the reason', () => {
    assert.match(reason('a', 'not json'), /not JSON/);
    assert.match(reason('a', '42'), /not a JSON object/);
    assert.match(reason('a', 'null'), /not a JSON object/);
    assert.match(reason('a', JSON.stringify({ api_url: 'http://h:1' })), /conn_url is missing/);
    assert.match(reason('a', JSON.stringify({ conn_url: 5, api_url: 'http://h:1' })), /conn_url is not a non-empty string/);
    assert.match(reason('a', JSON.stringify({ conn_url: 'postgres://h:1/x' })), /api_url is missing/);
    assert.match(reason('a', JSON.stringify({ conn_url: 'postgres://h:1/x', api_url: '' })), /api_url is not a non-empty string/);
    assert.match(reason('a', JSON.stringify({ conn_url: 'mysql://h:1/x', api_url: 'http://h:1' })), /scheme "mysql"/);
    assert.match(reason('a', JSON.stringify({ conn_url: 'postgres://h:1/x', api_url: 'ftp://h:1' })), /api_url: scheme "ftp"/);
    assert.match(reason('a', JSON.stringify({ conn_url: 'postgres://h\n:1/x', api_url: 'http://h:1' })), /a newline/);
    assert.match(reason('a', JSON.stringify({ conn_url: 'postgres://h h:1/x', api_url: 'http://h:1' })), /a space/);
    assert.match(reason('a', JSON.stringify({ conn_url: 'postgres://h#:1/x', api_url: 'http://h:1' })), /'#'/);
    assert.match(reason('a', JSON.stringify({ conn_url: 'postgres://h:0/x', api_url: 'http://h:1' })), /port 0 is outside/);
    assert.match(reason('a', JSON.stringify({ conn_url: 'postgres://h:70000/x', api_url: 'http://h:1' })), /port 70000 is outside/);
    assert.match(reason('a', JSON.stringify({ conn_url: 'postgres://h:5x/x', api_url: 'http://h:1' })), /port "5x" is not a number/);
    assert.match(reason('a', JSON.stringify({ conn_url: 'postgres://[::1/x', api_url: 'http://h:1' })), /unclosed/);
    assert.match(reason('a', JSON.stringify({ conn_url: 'postgres://[fe80::1%eth0]:1/x', api_url: 'http://h:1' })), /invalid IPv6/);
    assert.match(reason('a', JSON.stringify({ conn_url: 'postgres://:5432/x', api_url: 'http://h:1' })), /empty host/);
    assert.match(reason('a b', REAL_302), /member name "a b" contains a space/);
    assert.match(reason('a/b', REAL_302), /contains '\/'/);
    assert.match(reason('', REAL_302), /empty member name/);
    assert.match(reason('a;b', REAL_302), /contains ';'/);
  });
});

describe('addresses', () => {
  test('classifyHost', () => {
    assert.equal(classifyHost('10.0.0.1'), 'ipv4');
    assert.equal(classifyHost('::1'), 'ipv6');
    assert.equal(classifyHost('2001:db8::5'), 'ipv6');
    assert.equal(classifyHost('db-1.example.com'), 'dns');
    assert.equal(classifyHost('patroni1'), 'dns');
    assert.throws(() => classifyHost('300.1.1.1'), /invalid IPv4/);
    assert.throws(() => classifyHost('1:2:3'), /invalid IPv6/);
    assert.throws(() => classifyHost('-bad.example'), /neither/);
    assert.throws(() => classifyHost('a..b'), /neither/);
    assert.throws(() => classifyHost('a'.repeat(64)), /neither/);
    assert.throws(() => classifyHost('x'.repeat(254)), /longer than 253/);
  });
  test('parsePort', () => {
    assert.equal(parsePort('1'), 1);
    assert.equal(parsePort('65535'), 65535);
    assert.throws(() => parsePort('65536'), /outside/);
    assert.throws(() => parsePort('-1'), /not a number/);
    assert.throws(() => parsePort(''), /not a number/);
  });
  test('parseUrl keeps the query', () => {
    const u = parseUrl('postgres://h:1/db?application_name=http://x:2/patroni&sslmode=require');
    assert.equal(u.query.get('application_name'), 'http://x:2/patroni');
    assert.equal(u.port, 1);
  });
});
