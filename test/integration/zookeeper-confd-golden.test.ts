/**
 * confd's ZooKeeper key mapping, matched byte for byte. 1: the tree in
 * test/golden/confd-zookeeper-tree/tree.json is created in a real ZooKeeper, haconfd -onetime
 * renders haconfd.hbs from it, and the file must equal confd.out — what real confd 0.17
 * (-backend zookeeper) rendered from the same tree with the equivalent Go template (confd.tmpl).
 * 2: the corpus's test/golden/confd-zookeeper tree and its prefix-sibling run (a key=value listing,
 * written here as the equivalent Handlebars template; the other runs need the Go template engine).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deleteTree, startZookeeper, type ZookeeperInstance } from '../harness/zookeeper.js';
import { makeWorkspace, startDaemon, waitExit } from './daemon-fixture.js';

const GOLDEN = join(import.meta.dirname, '..', 'golden', 'confd-zookeeper-tree');
const CORPUS = join(import.meta.dirname, '..', 'golden', 'confd-zookeeper');
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

test("the corpus's confd zookeeper run prefix-sibling: the same bytes", async () => {
  const tree = JSON.parse(readFileSync(join(CORPUS, 'tree.json'), 'utf8')) as { znodes: { path: string; data: string | null }[] };
  const c = await zk.client();
  try {
    await deleteTree(c, '/golden'); // the first test's tree
    for (const z of tree.znodes) await c.create(z.path, z.data ?? '');
  } finally {
    await c.close();
  }
  const run = join(CORPUS, 'runs', 'prefix-sibling');
  const ws = makeWorkspace('zk-corpus');
  try {
    ws.writeTemplate('t.hbs', '{{#each (gets "/*")}}{{key}}={{value}}\n{{/each}}{{#each (gets "/*/*")}}{{key}}={{value}}\n{{/each}}\n\n'); // Handlebars drops the newline after a standalone {{/each}}
    ws.writeResource('t.toml', { src: 't.hbs', dest: ws.path('t.out'), keys: JSON.parse(readFileSync(join(run, 'keys.json'), 'utf8')) as string[] });
    const prefix = readFileSync(join(run, 'prefix.txt'), 'utf8').trim();
    const d = startDaemon(ws, ['-onetime', '-prefix', prefix, '-backend', 'zookeeper', '-node', zk.node]);
    assert.equal(await waitExit(d, 20_000), 0, d.text());
    assert.equal(ws.read('t.out'), readFileSync(join(run, 'expected.out'), 'utf8'));
  } finally {
    ws.cleanup();
  }
});
