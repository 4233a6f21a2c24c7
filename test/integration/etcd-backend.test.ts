/** The etcd v3 backend against a real etcd (Debian's etcd-server): reads, watches, odd values. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdInstance } from '../harness/etcd.js';
import { waitFor } from '../harness/process.js';
import { WatchRecorder } from '../harness/etcdWatchRecorder.js';
import { runReadWatchClose } from '../harness/etcdExitProbe.js';
import { createEtcdBackend, type EtcdBackend } from '../../src/backends/etcd/etcd.js';
import { BackendUnavailableError, type Backend } from '../../src/backends/backend.js';
import { silentLogger } from '../../src/log/logger.js';

let etcd: EtcdInstance;
let writer: Etcd3;
let backend: EtcdBackend;

before(async () => {
  etcd = await startEtcd('etcd-backend');
  writer = new Etcd3({ hosts: etcd.clientUrl });
  backend = await createEtcdBackend({ nodes: [etcd.clientUrl], connectTimeoutMs: 5000 }, silentLogger());
});

after(async () => {
  await backend?.close();
  writer?.close();
  await etcd?.stop();
});

/** etcd's own answer for one prefix (exact key + children) at a revision, via the plain etcd3 client. */
async function truthAt(prefix: string, revision: number): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  const self = await writer.get(prefix).revision(revision).buffer();
  if (self !== null) m.set(prefix, self.toString('utf8'));
  const kids = await writer.getAll().prefix(prefix + '/').revision(revision).buffers();
  for (const [k, v] of Object.entries(kids)) m.set(k, v.toString('utf8'));
  return m;
}

test('reads several prefixes at one revision while a writer keeps changing them', async () => {
  let stop = false;
  let n = 0;
  const writing = (async () => {
    while (!stop) {
      n++;
      await writer.put('/snap/a/counter').value(String(n));
      await writer.put('/snap/b/counter').value(String(n));
      await writer.put(`/snap/c/k${n % 50}`).value(String(n));
    }
  })();
  try {
    await waitFor('writer started', () => n > 5);
    for (let i = 0; i < 25; i++) {
      const snap = await backend.read(['/snap/a', '/snap/b', '/snap/c']);
      const a = Number(snap.pairs.get('/snap/a/counter'));
      const b = Number(snap.pairs.get('/snap/b/counter'));
      assert.ok(a === b || a === b + 1, `a=${a} b=${b} cannot both hold at one revision`);
      const truth = new Map([...(await truthAt('/snap/a', snap.revision)), ...(await truthAt('/snap/b', snap.revision)), ...(await truthAt('/snap/c', snap.revision))]);
      assert.deepEqual(snap.pairs, truth, `snapshot differs from etcd at revision ${snap.revision}`);
    }
  } finally {
    stop = true;
    await writing;
  }
});

test('prefixes match whole path segments in reads', async () => {
  await writer.put('/seg/demo').value('self');
  await writer.put('/seg/demo/leader').value('pg1');
  await writer.put('/seg/demo/members/pg1').value('{}');
  for (const other of ['/seg/demo2', '/seg/demo2/leader', '/seg/demo-x/leader', '/seg/demo.bak', '/seg/dem', '/seg/demo0']) {
    await writer.put(other).value('no');
  }
  const snap = await backend.read(['/seg/demo/']);
  assert.deepEqual([...snap.pairs.keys()].sort(), ['/seg/demo', '/seg/demo/leader', '/seg/demo/members/pg1']);
  const nested = await backend.read(['/seg/demo', '/seg/demo/members', 'seg/demo2']);
  assert.deepEqual([...nested.pairs.keys()].sort(), ['/seg/demo', '/seg/demo/leader', '/seg/demo/members/pg1', '/seg/demo2', '/seg/demo2/leader']);
  const empty = await backend.read(['/seg/none']);
  assert.equal(empty.pairs.size, 0);
  assert.ok(empty.revision >= snap.revision);
});

test('prefixes match whole path segments in watches', async () => {
  const start = await backend.read(['/wseg/demo']);
  const rec = new WatchRecorder();
  const w = backend.watch(['/wseg/demo', '/wseg/demo/members'], start.revision, rec);
  try {
    await waitFor('watch connected', () => rec.count('connected') === 1);
    await writer.put('/wseg/demo2/leader').value('x');
    await writer.put('/wseg/demo-x').value('x');
    await writer.put('/wseg/demo.bak/k').value('x');
    await writer.put('/wseg/demo').value('self');
    await writer.put('/wseg/demo/members/pg1').value('m');
    await waitFor('two events', () => rec.events.length >= 2);
    await writer.put('/wseg/demo/end').value('e');
    await waitFor('sentinel', () => rec.events.some((e) => e.key === '/wseg/demo/end'));
    assert.deepEqual(rec.lines().sort(), ['put /wseg/demo/end=e', 'put /wseg/demo/members/pg1=m', 'put /wseg/demo=self']);
  } finally {
    await w.close();
  }
});

test('no prefixes: read returns the revision and no keys; a watch reports connected and stays quiet', async () => {
  const s = await backend.read([]);
  assert.ok(s.revision > 1);
  assert.equal(s.pairs.size, 0);
  const rec = new WatchRecorder();
  const w = backend.watch([], s.revision, rec);
  await waitFor('connected', () => rec.count('connected') === 1);
  await writer.put('/quiet/k').value('v');
  await w.close();
  assert.equal(rec.events.length, 0);
});

test('watch delivers puts and deletes in revision order, starting after the given revision', async () => {
  await writer.put('/order/before').value('old');
  const snap = await backend.read(['/order']);
  const rec = new WatchRecorder();
  const w = backend.watch(['/order'], snap.revision, rec);
  const expected: string[] = [];
  const present = new Set<string>();
  try {
    for (let i = 0; i < 60; i++) {
      const k = `/order/k${i % 7}`;
      if (i % 5 === 4) {
        await writer.delete().key(k);
        if (present.delete(k)) expected.push(`del ${k}`); // deleting a missing key is no event
      } else {
        await writer.put(k).value(`v${i}`);
        present.add(k);
        expected.push(`put ${k}=v${i}`);
      }
    }
    // A transaction touching two keys: one revision, both events.
    await writer.if('/order/k0', 'Version', '>', -1).then(writer.put('/order/t1').value('a'), writer.put('/order/t2').value('b')).commit();
    expected.push('put /order/t1=a', 'put /order/t2=b');
    await waitFor('all events', () => rec.events.length >= expected.length);
    assert.deepEqual(rec.lines(), expected);
    rec.assertRevisionOrder();
    assert.ok(rec.events.every((e) => e.revision > snap.revision));
    for (const b of rec.batches) assert.equal(b.revision, b.events[b.events.length - 1]!.revision);
    const t = rec.events.slice(-2);
    assert.equal(t[0]!.revision, t[1]!.revision, 'one transaction, one revision');
  } finally {
    await w.close();
  }
});

test('several prefixes catching up on history: one stream in revision order, keys between them filtered out', async () => {
  const snap = await backend.read(['/mp/a', '/mp/b']);
  const expected: string[] = [];
  for (let i = 0; i < 1200; i += 40) {
    // Interleaved across the prefixes, with keys in between that belong to neither.
    const ops = Array.from({ length: 40 }, (_, j) => {
      const n = i + j;
      const key = ['/mp/a/k', '/mp/ab/k', '/mp/b/k', '/mp/a-x'][n % 4] + String(n % 7);
      if (!key.startsWith('/mp/ab') && !key.startsWith('/mp/a-x')) expected.push(`put ${key}=${n}`);
      return { key, n };
    });
    for (const o of ops) await writer.put(o.key).value(String(o.n));
  }
  const rec = new WatchRecorder();
  const w = backend.watch(['/mp/b', '/mp/a'], snap.revision, rec);
  try {
    await waitFor('all events', () => rec.events.length >= expected.length, 60_000);
    rec.assertRevisionOrder();
    assert.deepEqual(rec.lines(), expected);
  } finally {
    await w.close();
  }
});

test('non-UTF-8 values, a 1 MB value and 10,000 keys', async () => {
  const rec = new WatchRecorder();
  const start = await backend.read(['/bytes']);
  const w = backend.watch(['/bytes'], start.revision, rec);
  try {
    await writer.put('/bytes/latin1').value(Buffer.from([0x63, 0x61, 0x66, 0xe9])); // "café" in Latin-1
    await writer.put('/bytes/junk').value(Buffer.from([0xff, 0xfe, 0x00, 0xc3]));
    await writer.put(Buffer.from([0x2f, 0x62, 0x79, 0x74, 0x65, 0x73, 0x2f, 0xff])).value('bad key');
    const big = 'x'.repeat(1024 * 1024 - 10) + 'ünïcødé';
    await writer.put('/bytes/big').value(big);
    const snap = await backend.read(['/bytes']);
    assert.equal(snap.pairs.get('/bytes/latin1'), 'caf\ufffd');
    assert.equal(snap.pairs.get('/bytes/junk'), '\ufffd\ufffd\u0000\ufffd');
    assert.equal(snap.pairs.get('/bytes/\ufffd'), 'bad key');
    assert.equal(snap.pairs.get('/bytes/big'), big);
    await waitFor('watch events', () => rec.events.length >= 4);
    assert.deepEqual(rec.state(), snap.pairs);
  } finally {
    await w.close();
  }

  // 10,000 keys under one prefix, written in transactions of 100.
  for (let i = 0; i < 10_000; i += 100) {
    const ops = Array.from({ length: 100 }, (_, j) => writer.put(`/many/members/m${String(i + j).padStart(5, '0')}`).value(`{"conn_url":"postgres://10.0.${(i + j) >> 8}.${(i + j) & 255}:5432/postgres","role":"replica"}`));
    await writer.if('/many/x', 'Version', '>', -1).then(...ops).commit();
  }
  const t0 = performance.now();
  const many = await backend.read(['/many']);
  const ms = performance.now() - t0;
  assert.equal(many.pairs.size, 10_000);
  assert.equal(many.pairs.get('/many/members/m09999'), '{"conn_url":"postgres://10.0.39.15:5432/postgres","role":"replica"}');
  // How fast is the bench's business (npm run bench: etcd-read); this only catches a pathological read.
  assert.ok(ms < 20_000, `10,000-key read took ${ms.toFixed(0)} ms`);
});

test('a compacted resume revision gives onResync("compacted"), then events flow again with none lost', async () => {
  await writer.put('/compact/a').value('1');
  const snap = await backend.read(['/compact']);
  await writer.put('/compact/a').value('2');
  await writer.put('/compact/b').value('3');
  const cur = await backend.read(['/compact']);
  await etcd.ctl(['compact', String(cur.revision)]);
  const rec = new WatchRecorder();
  let resnap: Map<string, string> | undefined;
  let resnapRev = 0;
  const w = backend.watch(['/compact'], snap.revision, {
    onEvents: (e, r) => rec.onEvents(e, r),
    onStatus: (s, e) => rec.onStatus(s, e),
    onResync: (reason) => {
      rec.onResync(reason);
      // What the daemon does: re-read, then keep applying events newer than the re-read.
      void backend.read(['/compact']).then((s) => {
        resnap = new Map(s.pairs);
        resnapRev = s.revision;
      });
    },
  });
  try {
    await waitFor('onResync', () => rec.resyncs.length > 0);
    assert.deepEqual(rec.resyncs, ['compacted']);
    assert.equal(rec.events.length, 0, 'no events from before the compaction');
    await writer.put('/compact/c').value('4');
    await writer.delete().key('/compact/a');
    await waitFor('events after the resync', () => rec.events.length >= 2 && resnap !== undefined);
    const final = new Map(resnap);
    for (const e of rec.events) {
      if (e.revision <= resnapRev) continue;
      if (e.type === 'put') final.set(e.key, e.value);
      else final.delete(e.key);
    }
    assert.deepEqual(final, await truthAt('/compact', (await backend.read(['/compact'])).revision));
    assert.deepEqual([...final.keys()].sort(), ['/compact/b', '/compact/c']);
  } finally {
    await w.close();
  }
});

test('unreachable endpoints: read rejects with BackendUnavailableError naming them, within the timeout', async () => {
  const b = await createEtcdBackend({ nodes: ['127.0.0.1:1', 'http://127.0.0.1:9'], connectTimeoutMs: 1500 }, silentLogger());
  try {
    const t0 = Date.now();
    await assert.rejects(b.read(['/x']), (e: unknown) => {
      assert.ok(e instanceof BackendUnavailableError, String(e));
      assert.match(e.message, /http:\/\/127\.0\.0\.1:1\b/);
      assert.match(e.message, /http:\/\/127\.0\.0\.1:9\b/);
      return true;
    });
    const ms = Date.now() - t0;
    assert.ok(ms <= 1500 + 300, `took ${ms} ms`);
    const rec = new WatchRecorder();
    const w = b.watch(['/x'], 1, rec);
    await waitFor('disconnected status', () => rec.count('disconnected') > 0);
    assert.ok(rec.statuses[0]!.error instanceof BackendUnavailableError);
    await w.close();
  } finally {
    await b.close();
  }
});

test('close() releases everything: a process that read and watched exits by itself', async () => {
  const { code, output } = await runReadWatchClose({ nodes: [etcd.clientUrl, '127.0.0.1:1'], connectTimeoutMs: 20_000 }, ['/order', '/seg']);
  assert.equal(code, 0, `child did not exit by itself after close(): ${output}`);
  assert.match(output, /closed/);
});
