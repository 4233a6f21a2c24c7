/**
 * confd Go templates kept current by `haconfd -watch` from a real etcd (Debian's etcd-server): the
 * Patroni-style haproxy.tmpl, haproxy-citus.tmpl, pgbouncer.tmpl and the confd-style nginx.tmpl of
 * examples/confd render the same bytes real confd rendered from the same keys (the golden corpus'
 * example-* cases, whose outputs came from confd -onetime and were cross-checked against etcd), and
 * follow the keys when they change.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdInstance } from '../harness/etcd.js';
import { waitFor } from '../harness/process.js';
import { etcdClient, makeWorkspace, startDaemon } from './daemon-fixture.js';

const CASES = join(import.meta.dirname, '..', 'golden', 'confd', 'cases');
const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples', 'confd');
const golden = (name: string, file: string): string => readFileSync(join(CASES, name, file), 'utf8');

let etcd: EtcdInstance;
let client: Etcd3;

before(async () => {
  etcd = await startEtcd('go-templates');
  client = etcdClient(etcd.clientUrl);
});

after(async () => {
  client?.close();
  await etcd?.stop();
});

test('-watch with etcd: haproxy.tmpl renders confd\'s bytes, and follows the leader key going away', async () => {
  const data = JSON.parse(golden('example-haproxy', 'data.json')) as Record<string, string>;
  const prefix = golden('example-haproxy', 'prefix.txt').trim();
  assert.equal(golden('example-haproxy-no-leader', 'prefix.txt').trim(), prefix);
  for (const [k, v] of Object.entries(data)) await client.put(k).value(v);

  const ws = makeWorkspace('go-watch');
  ws.writeTemplate('haproxy.tmpl', golden('example-haproxy', 'template.tmpl'));
  ws.writeResource('haproxy.toml', `[template]\nsrc = "haproxy.tmpl"\ndest = "${ws.path('haproxy.cfg')}"\nkeys = ["/"]\n`);
  const d = startDaemon(ws, ['-watch', '-backend', 'etcdv3', '-node', etcd.clientUrl, '-prefix', prefix]);
  try {
    const expected = golden('example-haproxy', 'expected.out');
    await waitFor('the first render', () => ws.read('haproxy.cfg') === expected, 15_000);

    // The leader key goes: the file becomes what confd renders without it.
    await client.delete().key(`${prefix}/leader`);
    const noLeader = golden('example-haproxy-no-leader', 'expected.out');
    await waitFor('the render without a leader', () => ws.read('haproxy.cfg') === noLeader, 15_000);
  } catch (e) {
    console.error(`--- haconfd log ---\n${d.text().slice(-4000)}`);
    throw e;
  } finally {
    await d.stop();
    ws.cleanup();
  }
});

test('-watch with etcd, one daemon: the four examples/confd templates render confd\'s bytes and follow key changes', async () => {
  // Patroni's conf.d style: each resource carries its own prefix, no -prefix on the command line.
  const patroni = JSON.parse(golden('example-haproxy', 'data.json')) as Record<string, string>;
  const nginx = JSON.parse(golden('example-nginx', 'data.json')) as Record<string, string>;
  for (const c of ['example-pgbouncer', 'example-haproxy-citus']) assert.deepEqual(JSON.parse(golden(c, 'data.json')), patroni, `${c}: same keys as example-haproxy`);
  await client.delete().all();
  for (const [k, v] of Object.entries({ ...patroni, ...nginx })) await client.put(k).value(v);

  const ws = makeWorkspace('go-watch-all');
  const resources = [
    { name: 'haproxy', template: join(EXAMPLES, 'templates', 'haproxy.tmpl'), golden: 'example-haproxy', keys: ['/'] },
    { name: 'pgbouncer', template: join(EXAMPLES, 'templates', 'pgbouncer.tmpl'), golden: 'example-pgbouncer', keys: ['/members/', '/leader'] },
    { name: 'haproxy-citus', template: join(EXAMPLES, 'citus', 'templates', 'haproxy-citus.tmpl'), golden: 'example-haproxy-citus', keys: ['/'] },
    { name: 'nginx', template: join(EXAMPLES, 'nginx', 'templates', 'nginx.tmpl'), golden: 'example-nginx', keys: ['/nginx', '/upstreams'] },
  ];
  for (const r of resources) {
    const prefixFile = join(CASES, r.golden, 'prefix.txt');
    const prefix = statSync(prefixFile, { throwIfNoEntry: false }) ? readFileSync(prefixFile, 'utf8').trim() : undefined;
    ws.writeTemplate(`${r.name}.tmpl`, readFileSync(r.template, 'utf8'));
    ws.writeResource(
      `${r.name}.toml`,
      `[template]\nsrc = "${r.name}.tmpl"\ndest = "${ws.path(`${r.name}.out`)}"\n${prefix === undefined ? '' : `prefix = "${prefix}"\n`}keys = ${JSON.stringify(r.keys)}\n`,
    );
  }
  const d = startDaemon(ws, ['-watch', '-backend', 'etcdv3', '-node', etcd.clientUrl]);
  try {
    for (const r of resources) {
      const expected = golden(r.golden, 'expected.out');
      await waitFor(`${r.name}: confd's bytes`, () => ws.read(`${r.name}.out`) === expected, 20_000);
    }
    const citusInode = statSync(ws.path('haproxy-citus.out')).ino;

    // The leader of /service/demo goes: haproxy becomes what confd renders without it; pgbouncer.tmpl
    // fails there in confd too (its `get "/leader"`), with confd's message, and its last file stays.
    await client.delete().key('/service/demo/leader');
    await waitFor('haproxy without a leader', () => ws.read('haproxy.out') === golden('example-haproxy-no-leader', 'expected.out'), 20_000);
    // (The corpus names every template template.tmpl; Go names it by its file, here pgbouncer.tmpl.)
    const confdError = golden('example-pgbouncer-no-leader', 'expected.err').trim().replaceAll('template.tmpl', 'pgbouncer.tmpl');
    await d.waitLog('pgbouncer render error', (l) => l['resource'] === 'pgbouncer.toml' && String(l.msg).includes(confdError), 20_000);
    assert.equal(ws.read('pgbouncer.out'), golden('example-pgbouncer', 'expected.out'), 'the last good pgbouncer.ini stays');

    // nginx's keys become example-nginx-defaults' keys: its render follows.
    const defaults = JSON.parse(golden('example-nginx-defaults', 'data.json')) as Record<string, string>;
    await client.delete().prefix('/upstreams/');
    await client.delete().key('/nginx/worker_processes');
    for (const [k, v] of Object.entries(defaults)) await client.put(k).value(v);
    await waitFor('nginx from the new keys', () => ws.read('nginx.out') === golden('example-nginx-defaults', 'expected.out'), 20_000);

    // Untouched keys, untouched file: the citus render was not rewritten.
    assert.equal(ws.read('haproxy-citus.out'), golden('example-haproxy-citus', 'expected.out'));
    assert.equal(statSync(ws.path('haproxy-citus.out')).ino, citusInode, 'haproxy-citus.out was replaced although its keys did not change');
  } catch (e) {
    console.error(`--- haconfd log ---\n${d.text().slice(-4000)}`);
    throw e;
  } finally {
    await d.stop();
    ws.cleanup();
  }
});
