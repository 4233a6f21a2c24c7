/**
 * The etcd backend on a 3-member etcd cluster on loopback, given as three nodes: the member the
 * watch is talking to is killed mid-watch while writes go on through the other two — every event
 * arrives, once, in order; reads fail over too.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd.js';
import { sleep, waitFor } from '../harness/process.js';
import { WatchRecorder } from '../harness/etcdWatchRecorder.js';
import { createEtcdBackend, type EtcdBackend } from '../../src/backends/etcd/etcd.js';
import type { Backend } from '../../src/backends/backend.js';
import { silentLogger } from '../../src/log/logger.js';

let cluster: EtcdCluster;
let backend: EtcdBackend;

before(async () => {
  cluster = await startEtcdCluster(3);
  backend = await createEtcdBackend({ nodes: [...cluster.endpoints], connectTimeoutMs: 5000 }, silentLogger());
});

after(async () => {
  await backend?.close();
  await cluster?.stop();
});

/** Puts until etcd confirms; a write lost in a leader change is simply written again. */
async function putSurely(c: Etcd3, key: string, value: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await c.put(key).value(value);
      return;
    } catch (e) {
      if (attempt > 100) throw e;
      await sleep(50);
    }
  }
}

test('the member the watch talks to is killed mid-watch: writes via the others all arrive, nothing lost', async () => {
  const prefix = '/service/cluster';
  await cluster.ctl(['put', `${prefix}/leader`, 'pg1']);
  const snap = await backend.read([prefix]);
  const rec = new WatchRecorder();
  const w = backend.watch([prefix], snap.revision, rec);
  try {
    await waitFor('connected', () => rec.count('connected') === 1 && w.endpoint !== undefined);
    const watched = w.endpoint as string;
    const victim = cluster.members.find((m) => m.clientUrl === watched);
    assert.ok(victim, `watch endpoint ${watched} is one of the members`);
    const others = cluster.members.filter((m) => m !== victim).map((m) => m.clientUrl);
    const writer = new Etcd3({ hosts: others });
    const written: string[] = [];
    try {
      for (let i = 0; i < 300; i++) {
        if (i === 100) {
          await waitFor('events so far', () => rec.events.length === 100);
          victim.process.kill('SIGKILL');
        }
        const value = `v${i}`;
        await putSurely(writer, `${prefix}/members/m${i % 3}`, value);
        written.push(value);
      }
      await waitFor('every event', () => rec.events.at(-1)?.type === 'put' && (rec.events.at(-1) as { value: string }).value === 'v299', 60_000);
    } finally {
      writer.close();
    }
    // A put retried after an ambiguous failure may legitimately commit twice; collapse those.
    const values = rec.events.map((e) => (e.type === 'put' ? e.value : '?')).filter((v, i, a) => i === 0 || v !== a[i - 1]);
    assert.deepEqual(values, written, 'events lost or reordered');
    const revs = rec.events.map((e) => e.revision);
    assert.ok(revs.every((r, i) => i === 0 || r > (revs[i - 1] as number)), 'an event delivered twice');
    assert.ok(rec.count('disconnected') >= 1, 'the kill was noticed');
    assert.equal(rec.statuses.at(-1)?.status, 'connected');
    assert.notEqual(w.endpoint, watched, 'moved to another member');
    assert.equal(rec.resyncs.length, 0, 'no re-read needed');

    // Reads go on too, whichever endpoint is tried first.
    const now = await backend.read([prefix]);
    assert.deepEqual(rec.state(snap.pairs), now.pairs);
  } finally {
    await w.close();
  }
});

test('reads fail over when a member is down, including the first endpoint', async () => {
  const down = cluster.members.filter((m) => m.process.exited());
  assert.equal(down.length, 1, 'one member is down after the previous test');
  const first = await createEtcdBackend({ nodes: [down[0]!.clientUrl, ...cluster.endpoints], connectTimeoutMs: 10_000 }, silentLogger());
  try {
    const t0 = Date.now();
    const s = await first.read(['/service/cluster']);
    assert.equal(s.pairs.get('/service/cluster/leader'), 'pg1');
    // A refused first endpoint must not cost the connect timeout (10 s; the rest is room for load).
    assert.ok(Date.now() - t0 < 6000, `failover read took ${Date.now() - t0} ms`);
  } finally {
    await first.close();
  }
});

test('the watched member loses its quorum (the other two frozen): the watch says so, and resumes once they are back', async () => {
  const dead = cluster.members.find((m) => m.process.exited());
  if (dead) {
    await dead.restart();
    await waitFor(`${dead.name} healthy again`, async () => (await fetch(`${dead.clientUrl}/health`).catch(() => undefined))?.ok === true, 60_000);
  }
  const prefix = '/service/partition';
  await cluster.ctl(['put', `${prefix}/leader`, 'pg1']);
  const b = await createEtcdBackend({ nodes: [...cluster.endpoints], connectTimeoutMs: 2000 }, silentLogger());
  const snap = await b.read([prefix]);
  const rec = new WatchRecorder();
  const w = b.watch([prefix], snap.revision, rec);
  let frozen: typeof cluster.members = [];
  try {
    await waitFor('connected', () => rec.count('connected') === 1 && w.endpoint !== undefined);
    await cluster.ctl(['put', `${prefix}/leader`, 'pg2']);
    await waitFor('first event', () => rec.events.length === 1);
    frozen = cluster.members.filter((m) => m.clientUrl !== w.endpoint);
    for (const m of frozen) m.process.kill('SIGSTOP');
    const t0 = Date.now();
    // etcd ends a "hasleader" watch once its member has lost the leader.
    await waitFor('disconnected', () => rec.count('disconnected') >= 1, 60_000);
    const noticedMs = Date.now() - t0;
    for (const m of frozen) m.process.kill('SIGCONT');
    frozen = [];
    await waitFor('writable again', async () => {
      await cluster.ctl(['put', `${prefix}/leader`, 'pg3']);
      return true;
    }, 60_000);
    await cluster.ctl(['put', `${prefix}/members/pg3`, '{}']);
    await waitFor('events after the partition', () => rec.events.some((e) => e.key === `${prefix}/members/pg3`), 60_000);
    const values = rec.lines().filter((l, i, a) => i === 0 || l !== a[i - 1]);
    assert.deepEqual(values, [`put ${prefix}/leader=pg2`, `put ${prefix}/leader=pg3`, `put ${prefix}/members/pg3={}`]);
    assert.ok(noticedMs < 15_000, `took ${noticedMs} ms to notice`);
  } finally {
    for (const m of frozen) m.process.kill('SIGCONT');
    await w.close();
    await b.close();
  }
});
