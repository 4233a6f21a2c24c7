/**
 * The daemon through etcd outages, against real etcd processes: a restart mid-watch, a compaction
 * while it was away, an etcd that is not there at start, and a 3-member cluster losing the member
 * haconfd talks to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../harness/cli.js';
import { startEtcd, startEtcdCluster, type EtcdCluster, type EtcdInstance } from '../harness/etcd.js';
import { freePort, sleep, waitFor } from '../harness/process.js';
import { connectedPorts, etcdClient, httpGet, makeWorkspace, memberLines, metric, startDaemon, waitPassAfter, type Daemon, type Workspace } from './daemon-fixture.js';

const READY = async (port: number): Promise<boolean> => (await httpGet(port, '/readyz')).status === 200;

async function cleanup(d: Daemon | undefined, ws: Workspace, etcd: { stop(): Promise<void> } | undefined, failed: boolean): Promise<void> {
  if (failed && d) console.error(`--- haconfd log ---\n${d.text().slice(-5000)}`);
  await d?.stop();
  await etcd?.stop();
  ws.cleanup();
}

test('etcd restarted mid-watch: last good file stays; on return one re-read, no reload if nothing changed; writes after it land exactly', async () => {
  const ws = makeWorkspace('restart');
  let etcd: EtcdInstance | undefined;
  let d: Daemon | undefined;
  let failed = true;
  try {
    etcd = await startEtcd('daemon-restart');
    const client = etcdClient(etcd.clientUrl);
    try {
      await client.put('/svc/demo/members/pg1').value('a');
      await client.put('/svc/demo/members/pg2').value('b');
    } finally {
      client.close();
    }
    const port = await freePort();
    ws.writeResource('m.toml', { dest: ws.path('m.conf'), prefix: '/svc/demo', reloadCmd: `echo x >> ${ws.path('reloads')}` });
    d = startDaemon(ws, ['-watch', '-backend', 'etcdv3', '-node', etcd.clientUrl, '-listen', `127.0.0.1:${port}`, '-connect-timeout', '1000']);
    const good = memberLines({ pg1: 'a', pg2: 'b' });
    await waitFor('rendered', () => ws.read('m.conf') === good);
    await waitFor('ready', () => READY(port));

    // 1) Outage without writes: file kept, not ready, back without a reload.
    await etcd.halt(true);
    await waitFor('not ready', async () => !(await READY(port)), 60_000);
    assert.equal(ws.read('m.conf'), good);
    assert.equal(await metric(port, 'haconfd_backend_up'), 0);
    const lastPass = (await metric(port, 'haconfd_last_success_timestamp_seconds', { resource: 'm.toml' })) ?? 0;
    await etcd.restart();
    await waitFor('ready again', () => READY(port), 60_000);
    await waitFor('reconnect counted', async () => ((await metric(port, 'haconfd_watch_reconnects_total')) ?? 0) >= 1, 60_000);
    // The re-read's pass has run (a reload would have happened in it, before it ends in sync).
    await waitPassAfter(port, 'm.toml', lastPass);
    assert.equal(ws.lines('reloads').length, 1, 'unchanged output after a reconnect must not reload');
    assert.equal(d.lines().filter((l) => l.msg === 'updated').length, 1);

    // 2) Outage, then writes right after the restart while haconfd is still reconnecting.
    await etcd.halt(true);
    await waitFor('not ready', async () => !(await READY(port)), 60_000);
    await etcd.restart();
    const c2 = etcdClient(etcd.clientUrl);
    try {
      for (let i = 0; i < 20; i++) await c2.put('/svc/demo/members/pg2').value(`b${i}`);
      await c2.delete().key('/svc/demo/members/pg1');
      await c2.put('/svc/demo/members/pg3').value('c');
    } finally {
      c2.close();
    }
    const final = memberLines({ pg2: 'b19', pg3: 'c' });
    await waitFor('final file', () => ws.read('m.conf') === final, 60_000);
    await waitFor('ready', () => READY(port), 60_000);
    // A barrier write: passes run one at a time on the newest snapshot, so once the barrier shows,
    // no pass left from the outage can still write an older version over it.
    const c3 = etcdClient(etcd.clientUrl);
    try {
      await c3.put('/svc/demo/members/pg9').value('barrier');
    } finally {
      c3.close();
    }
    const withBarrier = memberLines({ pg2: 'b19', pg3: 'c', pg9: 'barrier' });
    await waitFor('barrier rendered', () => ws.read('m.conf') === withBarrier, 60_000);
    assert.equal(ws.read('m.conf'), withBarrier);
    failed = false;
  } finally {
    await cleanup(d, ws, etcd, failed);
  }
});

test('compacted while haconfd was away: the watch cannot resume, a full re-read brings the file exact', async () => {
  const ws = makeWorkspace('compact');
  let etcd: EtcdInstance | undefined;
  let d: Daemon | undefined;
  let failed = true;
  try {
    etcd = await startEtcd('daemon-compact');
    const port = await freePort();
    await etcd.ctl(['put', '/svc/c/members/pg1', 'a']);
    ws.writeResource('m.toml', { dest: ws.path('m.conf'), prefix: '/svc/c' });
    d = startDaemon(ws, ['-watch', '-backend', 'etcdv3', '-node', etcd.clientUrl, '-listen', `127.0.0.1:${port}`, '-connect-timeout', '1000']);
    await waitFor('rendered', () => ws.read('m.conf') === memberLines({ pg1: 'a' }));
    // Freeze haconfd, cut its connection, write and compact past its revision, let it go.
    d.proc.kill('SIGSTOP');
    try {
      await etcd.halt(true);
      await etcd.restart();
      const c = etcdClient(etcd.clientUrl);
      try {
        await c.put('/svc/c/members/pg2').value('b');
        await c.put('/svc/c/members/pg1').value('a2');
        const last = await c.put('/svc/c/other').value('x');
        await etcd.ctl(['compact', String(last.header.revision)]);
      } finally {
        c.close();
      }
    } finally {
      d.proc.kill('SIGCONT');
    }
    await waitFor('final file', () => ws.read('m.conf') === memberLines({ pg1: 'a2', pg2: 'b' }), 60_000);
    await waitFor('compaction resync', async () => ((await metric(port, 'haconfd_backend_resyncs_total', { reason: 'compacted' })) ?? 0) >= 1, 60_000);
    await d.waitLog('full re-read logged', (l) => l.msg === 'full re-read' && String(l['reason']).includes('compact'));
    failed = false;
  } finally {
    await cleanup(d, ws, etcd, failed);
  }
});

test('etcd unreachable at start: -onetime exits 1 within the connect timeout naming the endpoints', async () => {
  const ws = makeWorkspace('onetime-down');
  try {
    ws.writeResource('m.toml', { dest: ws.path('m.conf'), prefix: '/svc/demo' });
    const [p1, p2] = [await freePort(), await freePort()];
    const t0 = Date.now();
    const r = await runCli(['-onetime', '-confdir', ws.confdir, '-log-format', 'json', '-backend', 'etcdv3', '-node', `http://127.0.0.1:${p1}`, '-node', `127.0.0.1:${p2}`, '-connect-timeout', '1500'], { cwd: ws.dir });
    const took = Date.now() - t0;
    assert.equal(r.code, 1, r.stderr);
    // A ceiling (process start-up on a loaded machine), not a speed: it must not retry forever.
    assert.ok(took < 1500 + 10_000, `took ${took} ms with a 1500 ms connect timeout`);
    assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${p1}`));
    assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${p2}`));
    assert.equal(ws.read('m.conf'), undefined, 'no file written');
  } finally {
    ws.cleanup();
  }
});

test('etcd unreachable at start: the daemon retries, touches no file, is not ready, then becomes ready when etcd appears', async () => {
  const ws = makeWorkspace('daemon-down');
  let etcd: EtcdInstance | undefined;
  let d: Daemon | undefined;
  let failed = true;
  try {
    // Start etcd once to own its ports and data, then take it away before haconfd starts.
    etcd = await startEtcd('daemon-late');
    await etcd.ctl(['put', '/svc/late/members/pg1', 'a']);
    await etcd.halt();
    const port = await freePort();
    ws.writeResource('m.toml', { dest: ws.path('m.conf'), prefix: '/svc/late' });
    d = startDaemon(ws, ['-watch', '-backend', 'etcdv3', '-node', etcd.clientUrl, '-listen', `127.0.0.1:${port}`, '-connect-timeout', '500']);
    await waitFor('healthz', async () => (await httpGet(port, '/healthz')).status === 200);
    await d.waitLog('a retry', (l) => typeof l['retryInMs'] === 'number', 60_000);
    const ready = await httpGet(port, '/readyz');
    assert.equal(ready.status, 503);
    assert.match(ready.body, /backend not reachable/);
    assert.ok(d.proc.exited() === false, 'the daemon keeps running');
    assert.equal(ws.read('m.conf'), undefined, 'no file touched while etcd is away');
    await etcd.restart();
    await waitFor('rendered', () => ws.read('m.conf') === memberLines({ pg1: 'a' }), 60_000);
    await waitFor('ready', () => READY(port), 60_000);
    failed = false;
  } finally {
    await cleanup(d, ws, etcd, failed);
  }
});

test('3-member cluster: the member haconfd talks to is killed mid-watch; writes go on through the others, nothing is lost', async () => {
  const ws = makeWorkspace('cluster');
  let cluster: EtcdCluster | undefined;
  let d: Daemon | undefined;
  let failed = true;
  try {
    cluster = await startEtcdCluster(3, 'dcl');
    const port = await freePort();
    await cluster.ctl(['put', '/svc/cl/members/pg1', '0']);
    ws.writeResource('m.toml', { dest: ws.path('m.conf'), prefix: '/svc/cl', reloadCmd: `echo x >> ${ws.path('reloads')}` });
    d = startDaemon(ws, ['-watch', '-backend', 'etcdv3', ...cluster.endpoints.flatMap((e) => ['-node', e]), '-listen', `127.0.0.1:${port}`, '-connect-timeout', '3000']);
    await waitFor('rendered', () => ws.read('m.conf') === memberLines({ pg1: '0' }));
    await waitFor('ready', () => READY(port));
    const daemon = d;
    const victim = await waitFor('the member haconfd is connected to', () =>
      cluster?.members.find((m) => connectedPorts(daemon.proc.pid).includes(m.clientPort)),
    );
    const others = cluster.members.filter((m) => m !== victim).map((m) => m.clientUrl);
    const client = etcdClient(others);
    try {
      await client.put('/svc/cl/members/pg1').value('1');
      await waitFor('value 1', () => ws.read('m.conf') === memberLines({ pg1: '1' }));
      await victim.halt(true);
      for (let i = 2; i <= 30; i++) {
        await client.put('/svc/cl/members/pg1').value(String(i));
        if (i === 15) await client.put('/svc/cl/members/pg2').value('x');
        await sleep(20);
      }
    } finally {
      client.close();
    }
    const final = memberLines({ pg1: '30', pg2: 'x' });
    await waitFor('final file', () => ws.read('m.conf') === final, 60_000);
    await waitFor('ready', () => READY(port), 60_000);
    const errors = d.lines().filter((l) => (l.level ?? 0) >= 50);
    assert.ok(((await metric(port, 'haconfd_watch_reconnects_total')) ?? 0) >= 1, 'the lost member shows as a watch reconnect');
    assert.deepEqual(errors, [], 'nothing worse than a reconnect');
    assert.equal(ws.read('m.conf'), final);
    failed = false;
  } finally {
    await cleanup(d, ws, cluster, failed);
  }
});
