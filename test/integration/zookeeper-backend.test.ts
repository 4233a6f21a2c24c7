/**
 * The ZooKeeper backend against a real ZooKeeper (Debian's zookeeperd, 3.8): confd's key mapping,
 * the kept tree following creates/updates/deletes (directories turning into keys and back),
 * ephemeral znodes vanishing with their owner's session, and bad input (non-UTF-8 data, a 1 MB
 * znode, unusual names, a bad port, an unreachable ensemble).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeEvent, Snapshot } from '../../src/backends/backend.js';
import { BackendConfigError, BackendUnavailableError } from '../../src/backends/backend.js';
import { createZookeeperBackend, type ZookeeperBackend } from '../../src/backends/zookeeper/zookeeper.js';
import type { ZkSession } from '../../src/backends/zookeeper/session.js';
import { advanceSnapshot } from '../../src/daemon/liveSnapshot.js';
import { memoryLogger } from '../harness/memoryLogger.js';
import { freePort, waitFor } from '../harness/process.js';
import { deleteTree, openZkClient, putZnode, startZookeeper, type ZookeeperInstance } from '../harness/zookeeper.js';

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

function backend(extra: { nodes?: string[]; connectTimeoutMs?: number } = {}): { b: ZookeeperBackend; logs: ReturnType<typeof memoryLogger> } {
  const logs = memoryLogger('debug');
  return { b: createZookeeperBackend({ nodes: extra.nodes ?? [zk.node], connectTimeoutMs: extra.connectTimeoutMs ?? 2000 }, logs.log), logs };
}

const entries = (s: Snapshot): Record<string, string> => Object.fromEntries(s.pairs);

/** A watch applying its events to `snap` (as the daemon does); `current()` is the kept snapshot. */
function follow(b: ZookeeperBackend, prefixes: string[], snap: Snapshot) {
  let current = snap;
  const statuses: string[] = [];
  const resyncs: string[] = [];
  const events: ChangeEvent[] = [];
  const w = b.watch(prefixes, snap.revision, {
    onEvents: (evs) => {
      const fresh = evs.filter((e) => e.revision > current.revision);
      events.push(...fresh);
      current = advanceSnapshot(current, fresh);
    },
    onResync: (r) => {
      resyncs.push(r);
      void b.read(prefixes).then((s) => (current = s));
    },
    onStatus: (s, e) => statuses.push(e ? `${s}: ${e.message}` : s),
  });
  return { w, current: () => entries(current), statuses, resyncs, events };
}

describe('ZooKeeper backend: key mapping (confd)', () => {
  test('a znode without children is a key (empty data: empty value); a znode with children is a directory, its data ignored', async () => {
    await putZnode(writer, '/m1/scope/leader', 'pg1');
    await putZnode(writer, '/m1/scope/members/pg1', '{"role":"primary"}');
    await putZnode(writer, '/m1/scope/members/pg2', '{"role":"replica"}');
    await putZnode(writer, '/m1/scope/members', 'data of a directory');
    await putZnode(writer, '/m1/scope/initialize', '');
    await putZnode(writer, '/m1/scope/deep/a/b/c', 'leaf');
    await putZnode(writer, '/m1/other', 'outside');
    const { b } = backend();
    try {
      const s = await b.read(['/m1/scope']);
      assert.deepEqual(entries(s), {
        '/m1/scope/deep/a/b/c': 'leaf',
        '/m1/scope/initialize': '',
        '/m1/scope/leader': 'pg1',
        '/m1/scope/members/pg1': '{"role":"primary"}',
        '/m1/scope/members/pg2': '{"role":"replica"}',
      });
      assert.deepEqual([...s.pairs.keys()], [...s.pairs.keys()].sort(), 'keys in order');
      // A prefix that is itself a leaf is one key; a missing prefix is no key (confd fails there).
      assert.deepEqual(entries(await b.read(['/m1/scope/leader', '/m1/nothing-here'])), { '/m1/scope/leader': 'pg1' });
      // Prefixes match whole segments.
      await putZnode(writer, '/m1/scope2/x', 'y');
      assert.equal(entries(await b.read(['/m1/scope'])).hasOwnProperty('/m1/scope2/x'), false);
    } finally {
      await b.close();
    }
  });
});

describe('ZooKeeper backend: the kept tree follows the watch', () => {
  test('create, update, delete of data and child znodes; a directory becomes a key when its last child goes, and back', async () => {
    await putZnode(writer, '/w1/s/leader', 'pg1');
    await putZnode(writer, '/w1/s/members/pg1', 'a');
    const { b } = backend();
    try {
      const f = follow(b, ['/w1/s'], await b.read(['/w1/s']));
      await waitFor('watch connected', () => f.statuses.includes('connected'));
      await putZnode(writer, '/w1/s/members/pg2', 'b');
      await putZnode(writer, '/w1/s/leader', 'pg2');
      await waitFor('create + update', () => JSON.stringify(f.current()) === JSON.stringify({ '/w1/s/leader': 'pg2', '/w1/s/members/pg1': 'a', '/w1/s/members/pg2': 'b' }));
      await writer.delete('/w1/s/members/pg1');
      await writer.delete('/w1/s/members/pg2');
      await waitFor('members/ is now a key (no children, empty data)', () => JSON.stringify(f.current()) === JSON.stringify({ '/w1/s/leader': 'pg2', '/w1/s/members': '' }));
      await putZnode(writer, '/w1/s/members/pg3/deeper', 'c');
      await waitFor('members/ a directory again', () => JSON.stringify(f.current()) === JSON.stringify({ '/w1/s/leader': 'pg2', '/w1/s/members/pg3/deeper': 'c' }));
      await writer.delete('/w1/s/leader');
      await waitFor('leader deleted', () => !('/w1/s/leader' in f.current()));
      // The kept copy equals a fresh read.
      assert.deepEqual(f.current(), entries(await b.read(['/w1/s'])));
      assert.deepEqual(f.resyncs, [], 'no re-read needed');
      await f.w.close();
    } finally {
      await b.close();
    }
  });

  test('1,000 znodes changed in a burst (pipelined writes): the kept copy ends exact', async () => {
    const { b } = backend();
    try {
      await putZnode(writer, '/burst/s/members/m0000', 'v0');
      const f = follow(b, ['/burst/s'], await b.read(['/burst/s']));
      await waitFor('watch connected', () => f.statuses.includes('connected'));
      const want: Record<string, string> = {};
      const ops: Promise<void>[] = [];
      for (let i = 0; i < 1000; i++) {
        const k = `/burst/s/members/m${String(i).padStart(4, '0')}`;
        want[k] = `value ${i}`;
        ops.push(i === 0 ? writer.setData(k, want[k]) : writer.create(k, want[k]));
      }
      await Promise.all(ops);
      await waitFor('1,000 keys', () => Object.keys(f.current()).length === 1000 && f.current()['/burst/s/members/m0999'] === 'value 999', 10_000);
      assert.deepEqual(f.current(), want);
      const dels: Promise<void>[] = [];
      for (let i = 0; i < 1000; i += 2) dels.push(writer.delete(`/burst/s/members/m${String(i).padStart(4, '0')}`));
      await Promise.all(dels);
      for (let i = 0; i < 1000; i += 2) delete want[`/burst/s/members/m${String(i).padStart(4, '0')}`];
      await waitFor('500 left', () => Object.keys(f.current()).length === 500, 10_000);
      assert.deepEqual(f.current(), want);
      assert.deepEqual(entries(await b.read(['/burst/s'])), want);
    } finally {
      await b.close();
    }
  });

  test("an ephemeral znode goes when its owner's session is closed, and when it expires: a key deletion like any other", async () => {
    const owner = await zk.client();
    const dying = await openZkClient(zk.node, 800);
    await putZnode(writer, '/eph/s/members/keep', 'persistent');
    await owner.create('/eph/s/leader', 'pg1', true);
    await dying.create('/eph/s/members/pg2', 'replica', true);
    const { b } = backend();
    try {
      const f = follow(b, ['/eph/s'], await b.read(['/eph/s']));
      assert.deepEqual(f.current(), { '/eph/s/leader': 'pg1', '/eph/s/members/keep': 'persistent', '/eph/s/members/pg2': 'replica' });
      await owner.close();
      await waitFor('leader gone with its closed session', () => !('/eph/s/leader' in f.current()));
      assert.ok(f.events.some((e) => e.type === 'delete' && e.key === '/eph/s/leader'));
      // A client that vanishes without closing: the server expires its session after the timeout.
      dying.abandon();
      await waitFor('pg2 gone with its expired session', () => !('/eph/s/members/pg2' in f.current()), 15_000);
      assert.deepEqual(f.current(), { '/eph/s/members/keep': 'persistent' });
    } finally {
      await owner.close();
      await b.close();
    }
  });

  test('ZooKeeper frozen past the session timeout (every session expires): disconnected, then a new session, a re-read, and the copy exact', async () => {
    const dying = await openZkClient(zk.node, 800);
    await putZnode(writer, '/frz/s/members/keep', 'k');
    await dying.create('/frz/s/members/eph', 'e', true);
    const { b, logs } = backend();
    try {
      const f = follow(b, ['/frz/s'], await b.read(['/frz/s']));
      await waitFor('watch connected', () => f.statuses.includes('connected'));
      zk.pause();
      try {
        await waitFor('disconnected', () => f.statuses.some((s) => s.startsWith('disconnected')), 15_000);
      } finally {
        zk.resume();
      }
      const down = f.statuses.find((s) => s.startsWith('disconnected')) as string;
      assert.match(down, /ZooKeeper connection lost: 127\.0\.0\.1:\d+: no answer for \d+ ms/);
      assert.doesNotMatch(down, /xid|jute|Error:/i, 'plain words');
      await waitFor('connected again', () => f.statuses.lastIndexOf('connected') > f.statuses.findIndex((s) => s.startsWith('disconnected')), 20_000);
      // The daemon re-reads on 'connected'; here: the same.
      const s = await b.read(['/frz/s']);
      // The abandoned owner's session expired while everyone was cut off: its ephemeral is gone.
      await waitFor('ephemeral expired', async () => !('/frz/s/members/eph' in entries(await b.read(['/frz/s']))), 15_000);
      assert.equal(entries(s)['/frz/s/members/keep'], 'k');
      assert.match(logs.text(), /session lost/);
      dying.abandon();
    } finally {
      await b.close();
      // The writer's session was cut off too.
      writer.abandon();
      writer = await zk.client();
    }
  });
});

describe('ZooKeeper backend: bad input', () => {
  test('znode data that is not UTF-8: replaced bytes, one warning naming the znode, the other keys intact', async () => {
    await putZnode(writer, '/bad/s/ok', 'fine');
    await putZnode(writer, '/bad/s/latin1', Buffer.from([0x63, 0x61, 0x66, 0xe9])); // "café" in Latin-1
    const { b, logs } = backend();
    try {
      const s = entries(await b.read(['/bad/s']));
      assert.equal(s['/bad/s/ok'], 'fine');
      assert.equal(s['/bad/s/latin1'], 'caf\uFFFD');
      assert.match(logs.text(), /znode \/bad\/s\/latin1: data is not valid UTF-8/);
    } finally {
      await b.close();
    }
  });

  test('a 1 MB znode is read whole, by the read and by the watch', async () => {
    const big = 'x'.repeat(1024 * 1024 - 64);
    const { b } = backend();
    try {
      await putZnode(writer, '/big/s/small', 's');
      const f = follow(b, ['/big/s'], await b.read(['/big/s']));
      await waitFor('watch connected', () => f.statuses.includes('connected'));
      await putZnode(writer, '/big/s/huge', big);
      await waitFor('huge via the watch', () => f.current()['/big/s/huge']?.length === big.length);
      assert.equal(entries(await b.read(['/big/s']))['/big/s/huge'], big);
    } finally {
      await b.close();
    }
  });

  test('unusual znode names map to keys verbatim; names ZooKeeper itself refuses never reach haconfd', async () => {
    const names = ['with space', 'ünïcødé', 'star*', 'br{{ace}}', 'per%cent', 'dot.ted'];
    for (const n of names) await putZnode(writer, `/odd/s/${n}`, n);
    await assert.rejects(writer.create('/odd/s/..', 'x'), /malformed|ZooKeeper error/);
    const { b } = backend();
    try {
      const s = entries(await b.read(['/odd/s']));
      assert.deepEqual(Object.keys(s).sort(), names.map((n) => `/odd/s/${n}`).sort());
      for (const n of names) assert.equal(s[`/odd/s/${n}`], n);
    } finally {
      await b.close();
    }
  });

  test('a node list with a bad port is a configuration error naming it', () => {
    const logs = memoryLogger();
    assert.throws(() => createZookeeperBackend({ nodes: ['127.0.0.1:2181,127.0.0.1:99999'], connectTimeoutMs: 500 }, logs.log), (e: unknown) => {
      assert.ok(e instanceof BackendConfigError);
      assert.match((e as Error).message, /-node 127\.0\.0\.1:99999: port must be a number from 1 to 65535/);
      return true;
    });
    assert.throws(() => createZookeeperBackend({ nodes: ['http://127.0.0.1:2181'], connectTimeoutMs: 500 }, logs.log), /host:port \(no http/);
    assert.throws(() => createZookeeperBackend({ nodes: ['zk1:abc'], connectTimeoutMs: 500 }, logs.log), /port must be a number/);
  });

  test('an unreachable ensemble: an outage error naming every server, within the connect timeout each', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const { b } = backend({ nodes: [`127.0.0.1:${p1},127.0.0.1:${p2}`], connectTimeoutMs: 500 });
    try {
      const t0 = Date.now();
      await assert.rejects(b.read(['/x']), (e: unknown) => {
        assert.ok(e instanceof BackendUnavailableError);
        assert.match((e as Error).message, new RegExp(`cannot use ZooKeeper at 127\\.0\\.0\\.1:${p1},127\\.0\\.0\\.1:${p2}: 127\\.0\\.0\\.1:\\d+: connection refused`));
        return true;
      });
      assert.ok(Date.now() - t0 < 5000);
    } finally {
      await b.close();
    }
  });

  test('a port that is not ZooKeeper (a silent listener): no answer within the connect timeout', async () => {
    const { createServer } = await import('node:net');
    const srv = createServer(() => undefined);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    const { b } = backend({ nodes: [`127.0.0.1:${port}`], connectTimeoutMs: 300 });
    try {
      await assert.rejects(b.read(['/x']), /127\.0\.0\.1:\d+: no answer within 300 ms/);
    } finally {
      await b.close();
      srv.close();
    }
  });

  test('one server of the list down: the next one is used', async () => {
    const dead = await freePort();
    await putZnode(writer, '/two/s/k', 'v');
    const { b } = backend({ nodes: [`127.0.0.1:${dead}`, zk.node] });
    try {
      assert.deepEqual(entries(await b.read(['/two/s'])), { '/two/s/k': 'v' });
    } finally {
      await b.close();
    }
  });
});

after(async () => {
  await deleteTree(writer, '/burst').catch(() => undefined);
});
