/**
 * A confd Go template kept current by `haconfd -watch` from a real etcd (Debian's etcd-server):
 * the Patroni-style haproxy.tmpl renders the same bytes real confd rendered from the same keys
 * (the golden corpus' example-haproxy cases), and follows the keys when the leader goes away.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdInstance } from '../harness/etcd.js';
import { waitFor } from '../harness/process.js';
import { etcdClient, makeWorkspace, startDaemon } from './daemon-fixture.js';

const CASES = join(import.meta.dirname, '..', 'golden', 'confd', 'cases');
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
