import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { renderDataFor, renderWithData } from './helpers-render.js';
import { LookupCache, sortAddresses, sortSrvRecords, srvQueryName, type SrvRecord } from '../../src/template/lookups.js';

/** A real (tiny) DNS server on 127.0.0.1 that answers SRV queries from a table; other names get NXDOMAIN. */
async function startSrvServer(table: Record<string, SrvRecord[]>, opts: { silent?: boolean } = {}): Promise<{ server: string; close: () => Promise<void>; queries: string[] }> {
  const sock: Socket = createSocket('udp4');
  const queries: string[] = [];
  sock.on('message', (msg, rinfo) => {
    if (opts.silent) return;
    let off = 12;
    const labels: string[] = [];
    while (msg[off] !== 0) {
      const len = msg[off] as number;
      labels.push(msg.subarray(off + 1, off + 1 + len).toString('ascii'));
      off += 1 + len;
    }
    const questionEnd = off + 5;
    const name = labels.join('.');
    queries.push(name);
    const records = table[name.toLowerCase()];
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    header.writeUInt16BE(records ? 0x8180 : 0x8183, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(records?.length ?? 0, 6);
    const answers = (records ?? []).map((r) => {
      const target = Buffer.concat([...r.target.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
      const rr = Buffer.alloc(12 + 6);
      rr.writeUInt16BE(0xc00c, 0);
      rr.writeUInt16BE(33, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(60, 6);
      rr.writeUInt16BE(6 + target.length, 10);
      rr.writeUInt16BE(r.priority, 12);
      rr.writeUInt16BE(r.weight, 14);
      rr.writeUInt16BE(r.port, 16);
      return Buffer.concat([rr, target]);
    });
    sock.send(Buffer.concat([header, msg.subarray(12, questionEnd), ...answers]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const { port } = sock.address() as AddressInfo;
  return { server: `127.0.0.1:${port}`, queries, close: () => new Promise<void>((resolve) => sock.close(() => resolve())) };
}

test('localhost resolves through the system resolver (/etc/hosts)', async () => {
  const cache = new LookupCache();
  assert.equal(cache.get('ip', 'localhost'), undefined);
  assert.equal(cache.get('ipv4', 'localhost'), undefined);
  assert.equal(cache.get('ipv6', 'localhost'), undefined);
  assert.ok(cache.hasPending());
  await cache.resolvePending();
  assert.equal(cache.hasPending(), false);
  const all = cache.get('ip', 'localhost') ?? [];
  assert.ok(all.includes('127.0.0.1') || all.includes('::1'), `localhost → ${JSON.stringify(all)}`);
  assert.deepEqual(cache.get('ipv4', 'localhost'), all.filter((a) => a.includes('.')));
  assert.deepEqual(cache.get('ipv6', 'localhost'), all.filter((a) => a.includes(':')));
  assert.equal(cache.errorOf('ip', 'localhost'), undefined);
  assert.deepEqual(cache.failures(), []);
});

test('an IP literal resolves to itself', async () => {
  const cache = new LookupCache();
  cache.get('ip', '10.1.2.3');
  cache.get('ipv6', '::1');
  await cache.resolvePending();
  assert.deepEqual(cache.get('ip', '10.1.2.3'), ['10.1.2.3']);
  assert.deepEqual(cache.get('ipv6', '::1'), ['::1']);
});

test('an unresolvable name caches [] and records the error', async () => {
  const cache = new LookupCache();
  cache.get('ip', 'no-such-host.invalid');
  await cache.resolvePending();
  assert.deepEqual(cache.get('ip', 'no-such-host.invalid'), []);
  assert.match(cache.errorOf('ip', 'no-such-host.invalid') ?? '', /^lookupIP no-such-host\.invalid: .*(ENOTFOUND|EAI_AGAIN|timed out)/);
  assert.deepEqual(cache.failures().map((f) => [f.kind, f.name]), [['ip', 'no-such-host.invalid']]);
  assert.equal(cache.hasPending(), false, 'a cached failure is not asked again');
});

test('two-round render: first pass records, resolvePending, second pass renders the answers', async () => {
  const cache = new LookupCache();
  const data = renderDataFor({ lookups: cache });
  const tpl = '{{#each (lookupIPV4 "localhost")}}server {{this}};{{/each}}|{{#each (lookupIP "no-such-host.invalid")}}x{{/each}}';
  assert.equal(renderWithData(tpl, data), '|');
  assert.ok(cache.hasPending());
  await cache.resolvePending();
  assert.equal(renderWithData(tpl, data), 'server 127.0.0.1;|');
  assert.equal(cache.hasPending(), false);
  assert.deepEqual(
    data.warnings.map((w) => w.code),
    ['lookup_failed'],
  );
  assert.match(data.warnings[0]?.message ?? '', /^lookupIP no-such-host\.invalid failed: /);
  renderWithData(tpl, data);
  assert.equal(data.warnings.length, 1, 'a third pass does not repeat the warning');
});

test('a lookup nested in another helper needs a further round', async () => {
  const cache = new LookupCache();
  const data = renderDataFor({ lookups: cache, pairs: [['/host', 'localhost']] });
  const tpl = '{{join (lookupIPV4 (getv "/host")) ","}}';
  assert.equal(renderWithData(tpl, data), '');
  await cache.resolvePending();
  assert.equal(renderWithData(tpl, data), '127.0.0.1');
});

test('ttlMs: an old entry counts as missing and is looked up again', async () => {
  let now = 1000;
  const cache = new LookupCache({ ttlMs: 500, now: () => now });
  cache.get('ip', '10.0.0.1');
  await cache.resolvePending();
  assert.deepEqual(cache.get('ip', '10.0.0.1'), ['10.0.0.1']);
  now += 499;
  assert.deepEqual(cache.get('ip', '10.0.0.1'), ['10.0.0.1']);
  now += 1;
  assert.equal(cache.get('ip', '10.0.0.1'), undefined);
  assert.ok(cache.hasPending());
});

test('lookupSRV queries _service._proto.name and sorts like confd', async () => {
  const dns = await startSrvServer({
    '_postgresql._tcp.db.test': [
      { target: 'pg2.db.test', port: 5432, priority: 10, weight: 5 },
      { target: 'pg1.db.test', port: 5433, priority: 20, weight: 5 },
      { target: 'pg1.db.test', port: 5432, priority: 10, weight: 5 },
    ],
  });
  try {
    const cache = new LookupCache({ srvServers: [dns.server], timeoutMs: 3000 });
    const data = renderDataFor({ lookups: cache });
    const tpl = '{{#each (lookupSRV "postgresql" "tcp" "db.test")}}{{target}}:{{port}} p{{priority}} w{{weight}};{{/each}}';
    assert.equal(renderWithData(tpl, data), '');
    await cache.resolvePending();
    assert.equal(renderWithData(tpl, data), 'pg1.db.test:5432 p10 w5;pg1.db.test:5433 p20 w5;pg2.db.test:5432 p10 w5;');
    assert.deepEqual(dns.queries, ['_postgresql._tcp.db.test']);
    assert.deepEqual(data.warnings, []);
  } finally {
    await dns.close();
  }
});

test('lookupSRV of an unknown name renders nothing and warns; a silent server times out', async () => {
  const dns = await startSrvServer({});
  const silent = await startSrvServer({}, { silent: true });
  try {
    const cache = new LookupCache({ srvServers: [dns.server], timeoutMs: 3000 });
    const data = renderDataFor({ lookups: cache });
    const tpl = '[{{#each (lookupSRV "" "" "_pg._tcp.nowhere.test")}}x{{/each}}]';
    renderWithData(tpl, data);
    await cache.resolvePending();
    assert.equal(renderWithData(tpl, data), '[]');
    assert.match(cache.errorOf('srv', '_pg._tcp.nowhere.test') ?? '', /^lookupSRV _pg\._tcp\.nowhere\.test: .*ENOTFOUND/);
    assert.equal(data.warnings[0]?.code, 'lookup_failed');

    const slow = new LookupCache({ srvServers: [silent.server], timeoutMs: 300 });
    slow.get('srv', '_pg._tcp.db.test');
    const t0 = Date.now();
    await slow.resolvePending();
    // Bounded by timeoutMs (300 ms); the resolver's own defaults would take 5 s a try. The rest is room for load.
    assert.ok(Date.now() - t0 < 4000, 'bounded by timeoutMs');
    assert.deepEqual(slow.get('srv', '_pg._tcp.db.test'), []);
    assert.match(slow.errorOf('srv', '_pg._tcp.db.test') ?? '', /timed out|ETIMEOUT/);
  } finally {
    await dns.close();
    await silent.close();
  }
});

test('sort orders and SRV query names match confd', () => {
  assert.deepEqual(sortAddresses(['10.0.0.2', '10.0.0.10', '::1', '10.0.0.2', '127.0.0.1']), ['10.0.0.10', '10.0.0.2', '127.0.0.1', '::1']);
  const recs: SrvRecord[] = [
    { target: 'b', port: 1, priority: 1, weight: 1 },
    { target: 'a', port: 80, priority: 1, weight: 1 },
    { target: 'a', port: 8, priority: 9, weight: 1 },
  ];
  // Go compares "a8011" with "a891": '0' < '9', so port 80 sorts before port 8.
  assert.deepEqual(sortSrvRecords(recs).map((r) => `${r.target}:${r.port}`), ['a:80', 'a:8', 'b:1']);
  assert.equal(srvQueryName('postgresql', 'tcp', 'db.test'), '_postgresql._tcp.db.test');
  assert.equal(srvQueryName('', '', '_x._udp.db.test'), '_x._udp.db.test');
});

test('DNS helpers check their arguments', () => {
  const data = renderDataFor();
  assert.throws(() => renderWithData('{{lookupIP}}', data), /^Error: lookupIP: expected 1 argument/);
  assert.throws(() => renderWithData('{{lookupSRV "a" "b"}}', data), /^Error: lookupSRV: expected 3 arguments/);
  assert.throws(() => renderWithData('{{lookupIPV6 missing}}', data), /lookupIPV6: the host name must be a string, got nothing/);
});

test('the engine renders lookups in rounds (createDefaultEngine + renderTemplate)', async () => {
  const { createDefaultEngine } = await import('../../src/template/helperSet.js');
  const { renderTemplate } = await import('../../src/template/renderTemplate.js');
  const data = renderDataFor({ pairs: [['/service/demo/host', 'localhost']], prefix: '/service/demo' });
  const tpl = createDefaultEngine().compile('dns', 'a={{join (lookupIPV4 (getv "/host")) ","}} b={{join (lookupIP "no-such-host.invalid") ","}}');
  const { content, warnings } = await renderTemplate(tpl, { store: data.store, vars: {}, resource: 'dns', log: data.log });
  assert.equal(content, 'a=127.0.0.1 b=');
  assert.deepEqual(warnings.map((w) => w.code), ['lookup_failed']);
});
