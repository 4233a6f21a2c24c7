/**
 * The etcd backend's watch across etcd restarts: stopped (SIGTERM) or killed (SIGKILL) mid-watch,
 * writes made right after the restart, and a kill in the middle of a catch-up — every event arrives
 * exactly once, in order.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdInstance } from '../harness/etcd.js';
import { waitFor } from '../harness/process.js';
import { WatchRecorder } from '../harness/etcdWatchRecorder.js';
import { createEtcdBackend, type EtcdBackend } from '../../src/backends/etcd/etcd.js';
import type { Backend } from '../../src/backends/backend.js';
import { silentLogger } from '../../src/log/logger.js';

let etcd: EtcdInstance;
let backend: EtcdBackend;

before(async () => {
  etcd = await startEtcd('etcd-restart');
  backend = await createEtcdBackend({ nodes: [etcd.clientUrl], connectTimeoutMs: 3000 }, silentLogger());
});

after(async () => {
  await backend?.close();
  await etcd?.stop();
});

async function withWriter<T>(fn: (w: Etcd3) => Promise<T>): Promise<T> {
  const w = new Etcd3({ hosts: etcd.clientUrl });
  try {
    return await fn(w);
  } finally {
    w.close();
  }
}

async function restartMidWatch(prefix: string, hard: boolean): Promise<void> {
  const snap = await backend.read([prefix]);
  const rec = new WatchRecorder();
  const w = backend.watch([prefix], snap.revision, rec);
  const expected: string[] = [];
  try {
    await waitFor('connected', () => rec.count('connected') === 1);
    await withWriter(async (c) => {
      for (let i = 0; i < 20; i++) {
        await c.put(`${prefix}/k${i % 4}`).value(`before${i}`);
        expected.push(`put ${prefix}/k${i % 4}=before${i}`);
      }
    });
    await waitFor('events before the restart', () => rec.events.length === 20);
    await etcd.halt(hard);
    await waitFor('disconnected', () => rec.count('disconnected') >= 1);
    await etcd.restart();
    // Written at once, before the watch had a chance to come back.
    await withWriter(async (c) => {
      for (let i = 0; i < 20; i++) {
        if (i === 7) {
          await c.delete().key(`${prefix}/k1`);
          expected.push(`del ${prefix}/k1`);
        }
        await c.put(`${prefix}/k${i % 5}`).value(`after${i}`);
        expected.push(`put ${prefix}/k${i % 5}=after${i}`);
      }
    });
    await waitFor('every event', () => rec.events.length >= expected.length, 60_000);
    assert.deepEqual(rec.lines(), expected, 'events lost, duplicated or reordered');
    rec.assertRevisionOrder();
    const now = await backend.read([prefix]);
    assert.deepEqual(rec.state(snap.pairs), now.pairs, 'state from events differs from etcd');
    await waitFor('reconnected', () => rec.count('connected') === 2);
    assert.equal(rec.statuses[1]!.status, 'disconnected');
    assert.equal(rec.resyncs.length, 0, 'a resumable watch needs no re-read');
  } finally {
    await w.close();
  }
}

test('etcd stopped and restarted mid-watch: nothing lost, nothing twice', async () => {
  await restartMidWatch('/restart/soft', false);
});

test('etcd killed (SIGKILL) and restarted mid-watch: nothing lost, nothing twice', async () => {
  await restartMidWatch('/restart/hard', true);
});

test('etcd killed while the watch is catching up on old revisions: resumes mid-history', async () => {
  const prefix = '/restart/catchup';
  const snap = await backend.read([prefix]);
  // 2,500 revisions of history: etcd sends a catching-up watcher at most 1,000 revisions per response.
  await withWriter(async (c) => {
    for (let i = 0; i < 2500; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => c.put(`${prefix}/k${(i + j) % 10}`).value(String(i + j))));
    }
  });
  const truth = await backend.read([prefix]);
  const rec = new WatchRecorder();
  let killed = false;
  let firstBatch = 0;
  const w = backend.watch([prefix], snap.revision, {
    onEvents: (events, revision) => {
      rec.onEvents(events, revision);
      if (!killed) {
        killed = true;
        firstBatch = rec.events.length; // what arrived before the kill (later batches may be buffered already)
        etcd.process.kill('SIGKILL'); // right after the first batch, mid catch-up
      }
    },
    onResync: (r) => rec.onResync(r),
    onStatus: (s, e) => rec.onStatus(s, e),
  });
  try {
    await waitFor('killed', () => killed);
    await etcd.halt(true);
    await etcd.restart();
    await waitFor('all 2,500 events', () => rec.events.length >= 2500, 60_000);
    assert.ok(firstBatch < 2500, `the kill should land mid catch-up (first batch had ${firstBatch})`);
    assert.equal(rec.events.length, 2500, 'duplicates');
    rec.assertRevisionOrder();
    const revs = rec.events.map((e) => e.revision);
    assert.equal(new Set(revs).size, 2500, 'a revision delivered twice');
    assert.deepEqual(rec.state(snap.pairs), truth.pairs);
    assert.ok(rec.count('disconnected') >= 1);
  } finally {
    await w.close();
  }
});
