/**
 * haconfd -backend zookeeper run as a process against a real ZooKeeper: the seed's entrypoint
 * line unchanged, -onetime, -watch following creates/deletes and an ephemeral znode's expiry,
 * a 1,000-znode burst with reloads bounded, ZooKeeper down at start (/readyz says why) and
 * restarted mid-watch — the last good file kept meanwhile, exact at the end.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ZkSession } from '../../src/backends/zookeeper/session.js';
import { freePort, waitFor } from '../harness/process.js';
import { openZkClient, putZnode, startZookeeper, type ZookeeperInstance } from '../harness/zookeeper.js';
import { httpGet, makeWorkspace, memberLines, startDaemon, waitExit, type Daemon, type Workspace } from './daemon-fixture.js';

let zk: ZookeeperInstance;
let writer: ZkSession;

before(async () => {
  zk = await startZookeeper();
  writer = await zk.client();
});

after(async () => {
  await writer?.close();
  await zk?.stop();
});

async function withDaemon(tag: string, prefix: string, args: string[], body: (ws: Workspace, d: Daemon) => Promise<void>, reloadCmd?: (ws: Workspace) => string): Promise<void> {
  const ws = makeWorkspace(tag);
  let d: Daemon | undefined;
  try {
    ws.writeResource('m.toml', { dest: ws.path('m.conf'), prefix, ...(reloadCmd ? { reloadCmd: reloadCmd(ws) } : {}) });
    d = startDaemon(ws, ['-backend', 'zookeeper', '-node', zk.node, ...args]);
    await body(ws, d);
  } catch (e) {
    if (d) console.error(`--- haconfd log (${tag}) ---\n${d.text().slice(-4000)}`);
    throw e;
  } finally {
    await d?.stop();
    ws.cleanup();
  }
}

describe('haconfd -backend zookeeper', () => {
  test("the seed's entrypoint line works unchanged (-prefix=… -interval=10 -backend zookeeper -node HOSTS), and -onetime", async () => {
    await putZnode(writer, '/service/seed/members/pg1', 'a');
    await putZnode(writer, '/service/seed/members/pg2', 'b');
    await putZnode(writer, '/service/seed/leader', 'pg1');
    const ws = makeWorkspace('zk-seed');
    try {
      ws.writeResource('m.toml', { dest: ws.path('m.conf') });
      // PATRONI_ZOOKEEPER_HOSTS is a comma-separated list; a dead server first in it is skipped.
      const dead = await freePort();
      const hosts = `127.0.0.1:${dead},${zk.node}`;
      const d = startDaemon(ws, ['-prefix=/service/seed', '-interval=10', '-backend', 'zookeeper', '-node', hosts]);
      try {
        await waitFor('rendered', () => ws.read('m.conf') === memberLines({ pg1: 'a', pg2: 'b' }), 15_000);
      } finally {
        await d.stop();
      }
      const once = makeWorkspace('zk-once');
      try {
        once.writeResource('m.toml', { dest: once.path('m.conf') });
        const o = startDaemon(once, ['-onetime', '-prefix', '/service/seed', '-backend', 'zookeeper', '-node', zk.node]);
        assert.equal(await waitExit(o, 15_000), 0, o.text());
        assert.equal(once.read('m.conf'), memberLines({ pg1: 'a', pg2: 'b' }));
      } finally {
        once.cleanup();
      }
    } finally {
      ws.cleanup();
    }
  });

  test('-watch: creates, updates and deletes reach the file; an ephemeral member whose session expires leaves it', async () => {
    await putZnode(writer, '/service/w/members/pg1', 'a');
    const owner = await openZkClient(zk.node, 800);
    await owner.create('/service/w/members/pg9', 'ephemeral', true);
    await withDaemon('zk-watch', '/service/w', ['-watch'], async (ws) => {
      await waitFor('first render', () => ws.read('m.conf') === memberLines({ pg1: 'a', pg9: 'ephemeral' }), 15_000);
      await putZnode(writer, '/service/w/members/pg2', 'b');
      await waitFor('pg2 added', () => ws.read('m.conf') === memberLines({ pg1: 'a', pg2: 'b', pg9: 'ephemeral' }));
      await putZnode(writer, '/service/w/members/pg1', 'a2');
      await waitFor('pg1 updated', () => ws.read('m.conf') === memberLines({ pg1: 'a2', pg2: 'b', pg9: 'ephemeral' }));
      await writer.delete('/service/w/members/pg2');
      await waitFor('pg2 deleted', () => ws.read('m.conf') === memberLines({ pg1: 'a2', pg9: 'ephemeral' }));
      owner.abandon(); // its session expires on the server
      await waitFor('pg9 gone with its session', () => ws.read('m.conf') === memberLines({ pg1: 'a2' }), 15_000);
    });
  });

  test('1,000 znodes in a burst: the final file exact, reloads bounded by single flight', async () => {
    await putZnode(writer, '/service/b/members/m0000', 'v');
    await withDaemon(
      'zk-burst',
      '/service/b',
      ['-watch', '-min-reload-interval', '0'],
      async (ws) => {
        await waitFor('first reload', () => ws.lines('reloads').length === 1, 15_000);
        const want: Record<string, string> = { m0000: 'v' };
        const ops: Promise<void>[] = [];
        for (let i = 1; i < 1000; i++) {
          const n = `m${String(i).padStart(4, '0')}`;
          want[n] = `value-${i}`;
          ops.push(writer.create(`/service/b/members/${n}`, want[n] as string));
        }
        await Promise.all(ops);
        await waitFor('1,000 members in the file', () => ws.read('m.conf') === memberLines(want), 20_000);
        const reloads = ws.lines('reloads').length - 1;
        assert.ok(reloads >= 1 && reloads <= 50, `999 writes caused ${reloads} reloads`);
      },
      (ws) => `echo x >> ${ws.path('reloads')}`,
    );
  });

  test('ZooKeeper down at start: /readyz says why, the daemon retries; restarted mid-watch: last good file kept, exact after', async () => {
    await putZnode(writer, '/service/o/members/pg1', 'a');
    const port = await freePort();
    await withDaemon('zk-outage', '/service/o', ['-watch', '-listen', `127.0.0.1:${port}`, '-connect-timeout', '500'], async (ws, d) => {
      await waitFor('first render', () => ws.read('m.conf') === memberLines({ pg1: 'a' }), 15_000);
      // Restart with a write right after it is back; and one more while the daemon may still be reconnecting.
      await writer.close();
      await zk.halt();
      await waitFor('/readyz: not ready, saying why', async () => {
        const r = await httpGet(port, '/readyz');
        return r.status === 503 && /ZooKeeper/.test(r.body) ? r : undefined;
      }, 20_000);
      const why = (await httpGet(port, '/readyz')).body;
      assert.match(why, /ZooKeeper connection lost|cannot use ZooKeeper/);
      assert.equal(ws.read('m.conf'), memberLines({ pg1: 'a' }), 'last good file kept');
      await zk.restart();
      writer = await zk.client();
      await putZnode(writer, '/service/o/members/pg2', 'b');
      await writer.delete('/service/o/members/pg1');
      await waitFor('exact after the restart', () => ws.read('m.conf') === memberLines({ pg2: 'b' }), 20_000);
      await waitFor('/readyz ready again', async () => (await httpGet(port, '/readyz')).status === 200, 20_000);
      assert.ok(d.lines().some((l) => typeof l.msg === 'string' && /keeping the last good files/.test(l.msg)));
    });
  });

  test('ZooKeeper down when haconfd starts: retried with backoff, /readyz names the servers; renders once it is up', async () => {
    await putZnode(writer, '/service/s/members/pg1', 'a');
    await writer.close();
    await zk.halt();
    const port = await freePort();
    try {
      await withDaemon('zk-start', '/service/s', ['-watch', '-listen', `127.0.0.1:${port}`, '-connect-timeout', '500'], async (ws) => {
        await waitFor('/readyz names the ensemble', async () => {
          const r = await httpGet(port, '/readyz').catch(() => undefined);
          return r && r.status === 503 && r.body.includes(`cannot use ZooKeeper at ${zk.node}`) && r.body.includes('connection refused') ? r : undefined;
        }, 20_000);
        assert.equal(ws.read('m.conf'), undefined);
        await zk.restart();
        await waitFor('rendered once ZooKeeper is up', () => ws.read('m.conf') === memberLines({ pg1: 'a' }), 40_000);
      });
    } finally {
      if (zk.process.exited()) await zk.restart();
      writer = await zk.client();
    }
  });
});
