/**
 * haconfd -watch -backend zookeeper against a 3-member ZooKeeper ensemble (Debian's zookeeper 3.8,
 * read-only mode enabled): each member in turn stopped with writes made while it is down (haconfd
 * moves to a member that serves and ends exact), then the quorum lost (the last member turns
 * read-only: refused, said in /readyz, last good file kept) and restored (exact again).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, waitFor } from '../harness/process.js';
import { openZkClient, putZnode, startZookeeperEnsemble, type ZookeeperEnsemble } from '../harness/zookeeper.js';
import { httpGet, makeWorkspace, memberLines, startDaemon, type Daemon, type Workspace } from './daemon-fixture.js';

let zk: ZookeeperEnsemble;

before(async () => {
  zk = await startZookeeperEnsemble(3);
});

after(async () => {
  await zk?.stop();
});

/** One write through whichever member serves. */
async function write(fn: (c: Awaited<ReturnType<ZookeeperEnsemble['client']>>) => Promise<void>): Promise<void> {
  const c = await waitFor('a member that serves writes', () => zk.client().catch(() => undefined), 30_000, 200);
  try {
    await fn(c);
  } finally {
    await c.close();
  }
}

async function serving(node: string): Promise<boolean> {
  const s = await openZkClient(node).catch(() => undefined);
  if (!s) return false;
  await s.close();
  return true;
}

describe('haconfd -backend zookeeper against an ensemble', () => {
  let ws: Workspace;
  let d: Daemon;
  let port: number;

  before(async () => {
    await write((c) => putZnode(c, '/service/e/members/pg1', 'a'));
    ws = makeWorkspace('zk-ensemble');
    ws.writeResource('m.toml', { dest: ws.path('m.conf'), prefix: '/service/e' });
    port = await freePort();
    d = startDaemon(ws, ['-watch', '-backend', 'zookeeper', '-node', zk.nodes, '-connect-timeout', '1000', '-listen', `127.0.0.1:${port}`]);
    await waitFor('first render', () => ws.read('m.conf') === memberLines({ pg1: 'a' }), 30_000);
  });

  after(async () => {
    await d?.stop();
    ws?.cleanup();
  });

  test('each member stopped in turn, with writes while it is down: the file ends exact every time', async () => {
    const want: Record<string, string> = { pg1: 'a' };
    for (const m of zk.members) {
      await m.halt();
      const name = `pg-${m.id}`;
      want[name] = `written while member ${m.id} was down`;
      await write((c) => putZnode(c, `/service/e/members/${name}`, want[name] as string));
      await waitFor(`file exact with member ${m.id} down`, () => ws.read('m.conf') === memberLines(want), 30_000);
      await m.restart();
      await waitFor(`member ${m.id} serving again`, () => serving(m.node), 60_000, 200);
    }
    await waitFor('/readyz ready', async () => (await httpGet(port, '/readyz')).status === 200, 30_000);
  });

  test('quorum lost: the last member is read-only and refused, /readyz says so, the last good file stays; quorum back: exact', async () => {
    const before = ws.read('m.conf');
    const [m1, m2, m3] = zk.members as [ZookeeperEnsemble['members'][0], ZookeeperEnsemble['members'][0], ZookeeperEnsemble['members'][0]];
    await Promise.all([m2.halt(), m3.halt()]);
    const why = await waitFor('/readyz: not ready, saying why', async () => {
      const r = await httpGet(port, '/readyz');
      return r.status === 503 && /read-only mode|no quorum|closed the connection|connection refused/.test(r.body) ? r.body : undefined;
    }, 60_000, 200);
    assert.match(why, /ZooKeeper/);
    // Once m1 notices it is alone it serves read-only: haconfd says so rather than render stale data.
    await waitFor('read-only named', async () => /read-only mode: it has lost contact with the rest of its ensemble/.test((await httpGet(port, '/readyz')).body), 60_000, 200);
    assert.equal(ws.read('m.conf'), before, 'last good file kept');
    assert.equal(d.proc.exited(), false);
    await Promise.all([m2.restart(), m3.restart()]);
    await waitFor('quorum back', () => serving(m1.node), 90_000, 200);
    await write((c) => putZnode(c, '/service/e/members/pg1', 'after the quorum came back'));
    await waitFor('file exact after the quorum came back', () => ws.read('m.conf')?.includes('pg1 after the quorum came back\n') === true, 30_000);
    await waitFor('/readyz ready again', async () => (await httpGet(port, '/readyz')).status === 200, 30_000);
  });
});
