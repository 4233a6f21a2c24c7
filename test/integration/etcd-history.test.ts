/**
 * Knowing which etcd cluster the snapshot came from, against real etcd: the daemon's etcd is wiped
 * and restarted (revision back to 1), restored from an older `etcdctl snapshot`, or -node is
 * switched to another cluster by SIGHUP. Each time the file ends up equal to the new cluster's
 * keys (not a mix, not the old ones), the change is logged at WARN with both cluster IDs and
 * revisions and counted, and /readyz never answers 200 while the file still shows the old store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEtcd, type EtcdInstance } from '../harness/etcd.js';
import { freePort, waitFor } from '../harness/process.js';
import { etcdClient, httpGet, makeWorkspace, memberLines, metric, startDaemon, type Daemon, type Workspace } from './daemon-fixture.js';

/** Polls /readyz all the time; `okBetween` says whether a 200 was answered to a request sent after `from` and answered before `to`. */
class ReadyProbe {
  private readonly seen: { sent: number; done: number; status: number }[] = [];
  private running = true;
  private readonly loop: Promise<void>;
  constructor(port: number) {
    this.loop = (async () => {
      while (this.running) {
        const sent = Date.now();
        const status = await httpGet(port, '/readyz').then((r) => r.status, () => 0);
        this.seen.push({ sent, done: Date.now(), status });
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
  }
  oksBetween(from: number, to: number): number {
    return this.seen.filter((s) => s.status === 200 && s.sent >= from && s.done <= to).length;
  }
  countBetween(from: number, to: number): number {
    return this.seen.filter((s) => s.sent >= from && s.done <= to).length;
  }
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

async function putAll(url: string, pairs: Record<string, string>, filler = 0): Promise<void> {
  const c = etcdClient(url);
  try {
    // Revisions well past the other store's, so only the history check can tell them apart.
    for (let i = 0; i < filler; i++) await c.put('/filler').value(String(i));
    for (const [k, v] of Object.entries(pairs)) await c.put(`/members/${k}`).value(v);
  } finally {
    c.close();
  }
}

function tenMembers(tag: string, n = 15): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i < n; i++) o[`${tag}${String(i).padStart(2, '0')}`] = `${tag}-${i}`;
  return o;
}

async function wipeData(etcd: EtcdInstance): Promise<void> {
  await etcd.halt(true);
  rmSync(join(etcd.dataDir, 'data'), { recursive: true, force: true });
}

/**
 * When the daemon committed the file after `from` (its log's clock is ours): /readyz may be 200 from
 * then on. The file is committed before its "updated" line is written, so the line is waited for.
 */
async function committedAfter(d: Daemon, from: number): Promise<number> {
  const hit = await waitFor('an "updated" line after the change', () => d.lines().find((l) => l.msg === 'updated' && Number(l['time']) >= from), 10_000);
  return Number(hit['time']);
}

function historyWarnings(d: Daemon): Record<string, unknown>[] {
  return d.lines().filter((l) => l.level === 40 && typeof l['reason'] === 'string' && /cluster-changed|revision-went-back/.test(String(l['reason'])));
}

async function scenario(
  tag: string,
  run: (ctx: { ws: Workspace; etcd: EtcdInstance; d: Daemon; probe: ReadyProbe; port: number }) => Promise<void>,
  mode: readonly string[] = ['-watch', '-interval', '3'],
): Promise<void> {
  const etcd = await startEtcd(tag);
  const ws = makeWorkspace(tag);
  const port = await freePort();
  let d: Daemon | undefined;
  let probe: ReadyProbe | undefined;
  let failed = true;
  try {
    ws.writeResource('m.toml', { dest: ws.path('m.conf') });
    d = startDaemon(ws, [...mode, '-backend', 'etcdv3', '-node', etcd.clientUrl, '-listen', `127.0.0.1:${port}`]);
    probe = new ReadyProbe(port);
    await run({ ws, etcd, d, probe, port });
    failed = false;
  } finally {
    await probe?.stop();
    if (failed && d) process.stderr.write(`--- haconfd log ---\n${d.text().slice(-6000)}\n`);
    await d?.stop();
    await etcd.stop();
    ws.cleanup();
  }
}

test('etcd wiped and restarted (revision back to 1): the file becomes the new store, never a mix', async () => {
  await scenario('hist-wipe', async ({ ws, etcd, d, probe, port }) => {
    const old = tenMembers('old');
    await putAll(etcd.clientUrl, old, 300);
    await waitFor('old members rendered', () => ws.read('m.conf') === memberLines(old), 15_000);
    await waitFor('ready', async () => (await httpGet(port, '/readyz')).status === 200);
    const oldRevision = await metric(port, 'haconfd_backend_revision');
    assert.ok((oldRevision ?? 0) > 300);

    await wipeData(etcd);
    await etcd.restart();
    const from = Date.now();
    await putAll(etcd.clientUrl, { fresh: 'new-1' });
    await waitFor('the new store rendered', () => ws.read('m.conf') === memberLines({ fresh: 'new-1' }), 20_000);
    const to = await committedAfter(d, from);
    // At least one probe answered inside the window (a fast machine switches stores within ~60 ms:
    // several probe rounds), so the next assertion is not vacuous.
    assert.ok(probe.countBetween(from, to) >= 1, `the probe was running (${to - from} ms window)`);
    assert.equal(probe.oksBetween(from, to), 0, '/readyz answered 200 while the file showed the wiped store');
    await waitFor('ready again', async () => (await httpGet(port, '/readyz')).status === 200, 15_000);
    assert.equal(await metric(port, 'haconfd_backend_history_changes_total', { reason: 'revision-went-back' }), 1);
    assert.ok((await metric(port, 'haconfd_backend_revision'))! < 10, 'the revision gauge follows the new store');
    const warn = historyWarnings(d)[0];
    assert.ok(warn, 'a WARN line names the change');
    assert.equal(warn['previousRevision'], oldRevision);
    assert.ok(Number(warn['revision']) < 10);
    assert.match(String(warn['previousClusterId']), /^[0-9a-f]+$/);
    assert.match(String(warn['clusterId']), /^[0-9a-f]+$/);
    // Watching the new store from its revision: a later change arrives by itself.
    await putAll(etcd.clientUrl, { later: 'new-2' });
    await waitFor('watching the new store', () => ws.read('m.conf') === memberLines({ fresh: 'new-1', later: 'new-2' }), 10_000);
    // Past the old revision: still no key of the old store comes back.
    await putAll(etcd.clientUrl, {}, 320);
    await putAll(etcd.clientUrl, { last: 'new-3' });
    await waitFor('past the old revision', () => ws.read('m.conf') === memberLines({ fresh: 'new-1', later: 'new-2', last: 'new-3' }), 10_000);
  });
});

function execEtcdctl(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('etcdctl', args, { env: { ...process.env, ETCDCTL_API: '3' } }, (err, out, errOut) => (err ? reject(new Error(`etcdctl ${args.join(' ')}: ${errOut || err.message}`)) : resolve(out))),
  );
}

test('etcd restored from an older snapshot (etcdctl snapshot save/restore): the file becomes the restored keys', async () => {
  await scenario('hist-restore', async ({ ws, etcd, d, probe, port }) => {
    const early = tenMembers('early', 5);
    await putAll(etcd.clientUrl, early, 20);
    const backup = join(ws.dir, 'backup.db');
    await execEtcdctl(['--endpoints', etcd.clientUrl, 'snapshot', 'save', backup]);
    const late = tenMembers('late', 10);
    await putAll(etcd.clientUrl, late, 200);
    await waitFor('everything rendered', () => ws.read('m.conf') === memberLines({ ...early, ...late }), 15_000);
    await waitFor('ready', async () => (await httpGet(port, '/readyz')).status === 200);

    await etcd.halt(true);
    rmSync(join(etcd.dataDir, 'data'), { recursive: true, force: true });
    const peer = `http://127.0.0.1:${etcd.peerPort}`;
    await execEtcdctl(['snapshot', 'restore', backup, '--data-dir', join(etcd.dataDir, 'data'), '--name', etcd.name, '--initial-cluster', `${etcd.name}=${peer}`, '--initial-advertise-peer-urls', peer]);
    const from = Date.now();
    await etcd.restart();
    await waitFor('the restored keys rendered', () => ws.read('m.conf') === memberLines(early), 20_000);
    const to = await committedAfter(d, from);
    // At least one probe answered inside the window (a fast machine switches stores within ~60 ms:
    // several probe rounds), so the next assertion is not vacuous.
    assert.ok(probe.countBetween(from, to) >= 1, `the probe was running (${to - from} ms window)`);
    assert.equal(probe.oksBetween(from, to), 0, '/readyz answered 200 while the file showed keys the restored store does not have');
    await waitFor('ready again', async () => (await httpGet(port, '/readyz')).status === 200, 15_000);
    assert.equal(historyWarnings(d).length, 1);
    assert.equal((await metric(port, 'haconfd_backend_history_changes_total', { reason: 'revision-went-back' })) ?? 0, 1);
    await putAll(etcd.clientUrl, { after: 'restore' });
    await waitFor('watching the restored store', () => ws.read('m.conf') === memberLines({ ...early, after: 'restore' }), 10_000);
  });
});

test('SIGHUP switches -node to another cluster: the file becomes that cluster\'s keys, /readyz not 200 meanwhile', async () => {
  const a = await startEtcd('hist-a');
  const b = await startEtcd('hist-b');
  const ws = makeWorkspace('hist-switch');
  const port = await freePort();
  let d: Daemon | undefined;
  let probe: ReadyProbe | undefined;
  let failed = true;
  try {
    const inA = tenMembers('a', 4);
    const inB = tenMembers('b', 3);
    await putAll(a.clientUrl, inA, 50);
    await putAll(b.clientUrl, inB, 400);
    const cfg = join(ws.dir, 'haconfd.toml');
    writeFileSync(cfg, `backend = "etcdv3"\nnodes = [${JSON.stringify(a.clientUrl)}]\n`);
    ws.writeResource('m.toml', { dest: ws.path('m.conf') });
    d = startDaemon(ws, ['-watch', '-config-file', cfg, '-listen', `127.0.0.1:${port}`]);
    probe = new ReadyProbe(port);
    await waitFor('cluster A rendered', () => ws.read('m.conf') === memberLines(inA), 15_000);
    await waitFor('ready', async () => (await httpGet(port, '/readyz')).status === 200);

    writeFileSync(cfg, `backend = "etcdv3"\nnodes = [${JSON.stringify(b.clientUrl)}]\n`);
    d.proc.kill('SIGHUP');
    const applied = await d.waitLog('applied', (l) => l.msg === 'configuration applied');
    const from = Number(applied['time']);
    await waitFor('cluster B rendered', () => ws.read('m.conf') === memberLines(inB), 15_000);
    const to = await committedAfter(d, from);
    assert.equal(probe.oksBetween(from, to), 0, '/readyz answered 200 while the file showed the cluster no longer connected');
    await waitFor('ready again', async () => (await httpGet(port, '/readyz')).status === 200, 15_000);
    const warn = historyWarnings(d)[0];
    assert.ok(warn);
    assert.equal(warn['reason'], 'cluster-changed');
    assert.notEqual(warn['previousClusterId'], warn['clusterId']);
    assert.equal(await metric(port, 'haconfd_backend_history_changes_total', { reason: 'cluster-changed' }), 1);
    // A put to A no longer shows; one to B does.
    await putAll(a.clientUrl, { stray: 'a' });
    await putAll(b.clientUrl, { more: 'b' });
    await waitFor('watching B', () => ws.read('m.conf') === memberLines({ ...inB, more: 'b' }), 10_000);
    failed = false;
  } finally {
    await probe?.stop();
    if (failed && d) process.stderr.write(`--- haconfd log ---\n${d.text().slice(-6000)}\n`);
    await d?.stop();
    await a.stop();
    await b.stop();
    ws.cleanup();
  }
});

test('-interval mode: a wiped etcd is noticed on the next pass (WARN, counted), the file becomes the new store', async () => {
  await scenario(
    'hist-interval',
    async ({ ws, etcd, d, port }) => {
      const old = tenMembers('old', 5);
      await putAll(etcd.clientUrl, old, 100);
      await waitFor('old members rendered', () => ws.read('m.conf') === memberLines(old), 15_000);
      await wipeData(etcd);
      await etcd.restart();
      await putAll(etcd.clientUrl, { fresh: 'new-1' });
      await waitFor('the new store rendered', () => ws.read('m.conf') === memberLines({ fresh: 'new-1' }), 20_000);
      assert.equal(await metric(port, 'haconfd_backend_history_changes_total', { reason: 'revision-went-back' }), 1);
      assert.equal(historyWarnings(d).length, 1);
    },
    ['-interval', '1'],
  );
});
