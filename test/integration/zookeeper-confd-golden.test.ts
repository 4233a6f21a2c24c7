/**
 * confd's ZooKeeper key mapping, matched byte for byte: the tree in
 * test/golden/confd-zookeeper-tree/tree.json is created in a real ZooKeeper, haconfd -onetime
 * renders haconfd.hbs from it, and the file must equal confd.out — what real confd 0.17
 * (-backend zookeeper) rendered from the same tree with the equivalent Go template (confd.tmpl).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startZookeeper, type ZookeeperInstance } from '../harness/zookeeper.js';
import { makeWorkspace, startDaemon, waitExit } from './daemon-fixture.js';

const GOLDEN = join(import.meta.dirname, '..', 'golden', 'confd-zookeeper-tree');
let zk: ZookeeperInstance;

before(async () => {
  zk = await startZookeeper();
});

after(async () => {
  await zk?.stop();
});

test('haconfd renders the same bytes as confd from the same ZooKeeper tree', async () => {
  const tree = JSON.parse(readFileSync(join(GOLDEN, 'tree.json'), 'utf8')) as { znodes: [string, string][] };
  const c = await zk.client();
  try {
    for (const [path, data] of tree.znodes) await c.create(path, data);
  } finally {
    await c.close();
  }
  const ws = makeWorkspace('zk-golden');
  try {
    ws.writeTemplate('t.hbs', readFileSync(join(GOLDEN, 'haconfd.hbs'), 'utf8'));
    ws.writeResource('t.toml', { src: 't.hbs', dest: ws.path('t.out'), prefix: '/golden/s', keys: ['/'] });
    const d = startDaemon(ws, ['-onetime', '-backend', 'zookeeper', '-node', zk.node]);
    assert.equal(await waitExit(d, 20_000), 0, d.text());
    assert.equal(ws.read('t.out'), readFileSync(join(GOLDEN, 'confd.out'), 'utf8'));
  } finally {
    ws.cleanup();
  }
});
