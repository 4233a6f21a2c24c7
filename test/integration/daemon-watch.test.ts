/**
 * The watching daemon against a real etcd (Debian's etcd-server), run as a process:
 * put → file, segment-matching prefixes, single flight, wait, the minimum reload interval,
 * min_keys, reload retries.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdInstance } from '../harness/etcd.js';
import { freePort, sleep, waitFor } from '../harness/process.js';
import { etcdClient, httpGet, makeWorkspace, memberLines, metric, startDaemon, waitPassAfter, waitSettled, type Daemon, type Workspace } from './daemon-fixture.js';

let etcd: EtcdInstance;
let client: Etcd3;

before(async () => {
  etcd = await startEtcd('daemon-watch');
  client = etcdClient(etcd.clientUrl);
});

after(async () => {
  client?.close();
  await etcd?.stop();
});

/** Runs `body` with a fresh workspace and daemon; both are cleaned up whatever happens. */
async function withDaemon(
  tag: string,
  setup: (ws: Workspace) => void,
  args: (ws: Workspace) => string[],
  body: (ws: Workspace, d: Daemon) => Promise<void>,
): Promise<void> {
  const ws = makeWorkspace(tag);
  let d: Daemon | undefined;
  try {
    setup(ws);
    d = startDaemon(ws, ['-watch', '-backend', 'etcdv3', '-node', etcd.clientUrl, ...args(ws)]);
    await body(ws, d);
  } catch (e) {
    if (d) console.error(`--- haconfd log (${tag}) ---\n${d.text().slice(-4000)}`);
    throw e;
  } finally {
    await d?.stop();
    ws.cleanup();
  }
}

const reloadCounter = (ws: Workspace, name = 'reloads'): string => `echo x >> ${ws.path(name)}`;

describe('haconfd -watch against etcd', () => {
  test('a put reaches the file quickly; the log line names resource, revision and duration', async () => {
    await client.put('/t1/demo/members/pg1').value('a');
    await withDaemon(
      'latency',
      (ws) => ws.writeResource('m.toml', { dest: ws.path('m.conf'), prefix: '/t1/demo' }),
      () => [],
      async (ws, d) => {
        await waitFor('first render', () => ws.read('m.conf') === memberLines({ pg1: 'a' }));
        // How fast is measured by `npm run bench` (daemon-watch), not asserted here.
        const put = await client.put('/t1/demo/members/pg2').value('b');
        await waitFor('pg2 in the file', () => ws.read('m.conf') === memberLines({ pg1: 'a', pg2: 'b' }), 60_000, 2);
        const rev = Number(put.header.revision);
        const line = await d.waitLog('updated line', (l) => l.msg === 'updated' && l['revision'] === rev);
        assert.equal(line['resource'], 'm.toml');
        assert.equal(typeof line['durationMs'], 'number');
        // A delete is applied to the kept snapshot too.
        await client.delete().key('/t1/demo/members/pg1');
        await waitFor('pg1 gone', () => ws.read('m.conf') === memberLines({ pg2: 'b' }));
        // Reads: one at start, none per event.
        const reads = d.lines().filter((l) => l.msg === 'full re-read').length;
        assert.equal(reads, 0, 'no re-read per event');
      },
    );
  });

  test('a change under /service/demo2 or outside keys does not render the /service/demo resource', async () => {
    await client.put('/t2/demo/members/pg1').value('a');
    await client.put('/t2/demo2/members/pg1').value('x');
    const port = await freePort();
    await withDaemon(
      'segment',
      (ws) => {
        ws.writeResource('a.toml', { dest: ws.path('a.conf'), prefix: '/t2/demo' });
        ws.writeResource('b.toml', { dest: ws.path('b.conf'), prefix: '/t2/demo2' });
      },
      () => ['-listen', `127.0.0.1:${port}`],
      async (ws) => {
        await waitFor('both rendered', () => ws.read('a.conf') === memberLines({ pg1: 'a' }) && ws.read('b.conf') === memberLines({ pg1: 'x' }));
        await waitFor('ready', async () => (await httpGet(port, '/readyz')).status === 200);
        const unchangedA = async (): Promise<number> => (await metric(port, 'haconfd_renders_total', { resource: 'a.toml', result: 'unchanged' })) ?? 0;
        const before = await unchangedA();
        await client.put('/t2/demo2/members/pg2').value('y');
        await client.put('/t2/demo/status').value('{"optime":1}'); // under the prefix, outside keys
        await client.put('/t2/demo2/members/pg3').value('z'); // barrier: b renders after both
        await waitFor('b updated', () => ws.read('b.conf') === memberLines({ pg1: 'x', pg2: 'y', pg3: 'z' }));
        // Every event above has been applied, so a pass of a.toml they caused (wrongly) has started.
        // A barrier a.toml does watch: its passes run one at a time, so once the barrier shows, such
        // a pass has ended, counted as 'unchanged'.
        await client.put('/t2/demo/members/pg2').value('a2');
        await waitFor('a updated by its barrier', () => ws.read('a.conf') === memberLines({ pg1: 'a', pg2: 'a2' }));
        assert.equal(await unchangedA(), before, 'a.toml must not be rendered for /t2/demo2 or /t2/demo/status');
      },
    );
  });

  test('single flight under a burst: far fewer reloads than writes, never overlapping, final file exact', async () => {
    const burstPort = await freePort();
    await withDaemon(
      'burst',
      (ws) =>
        ws.writeResource('m.toml', {
          dest: ws.path('m.conf'),
          prefix: '/t3/demo',
          // Detects two reloads running at once.
          reloadCmd: `mkdir ${ws.path('lock')} || echo OVERLAP >> ${ws.path('reloads')}; sleep 0.05; rmdir ${ws.path('lock')}; echo x >> ${ws.path('reloads')}`,
        }),
      () => ['-min-reload-interval', '0', '-listen', `127.0.0.1:${burstPort}`],
      async (ws) => {
        await client.put('/t3/demo/members/pg1').value('0');
        await waitFor('first render', () => ws.read('m.conf') === memberLines({ pg1: '0' }));
        await waitFor('first reload', () => ws.lines('reloads').length === 1);
        for (let i = 1; i <= 60; i++) await client.put('/t3/demo/members/pg1').value(String(i));
        await waitFor('final value', () => ws.read('m.conf') === memberLines({ pg1: '60' }), 60_000);
        // The pass that wrote it (and reloaded) has ended.
        await waitSettled(burstPort, 'm.toml', ws.path('m.conf'));
        const lines = ws.lines('reloads');
        assert.ok(!lines.includes('OVERLAP'), 'two reloads overlapped');
        assert.ok(lines.length - 1 <= 20, `60 writes caused ${lines.length - 1} reloads`);
        assert.equal(ws.read('m.conf'), memberLines({ pg1: '60' }));
      },
    );
  });

  test('wait = "2s:6s" renders once changes are quiet; the minimum reload interval spaces reloads but never delays an isolated change', async () => {
    // Durations long enough that a loaded machine stretching the test's own 50 ms steps cannot
    // change the outcome: quiet means 2 s without a change, reloads at least 6 s apart.
    const port = await freePort();
    await withDaemon(
      'wait',
      (ws) => {
        ws.writeResource('w.toml', { dest: ws.path('w.conf'), prefix: '/t4/w', wait: '2s:6s', reloadCmd: reloadCounter(ws, 'w-reloads') });
        ws.writeResource('m.toml', { dest: ws.path('m.conf'), prefix: '/t4/m', reloadCmd: `date +%s%3N >> ${ws.path('m-reloads')}` });
      },
      () => ['-min-reload-interval', '6000', '-listen', `127.0.0.1:${port}`],
      async (ws) => {
        await client.put('/t4/w/members/pg1').value('0');
        await client.put('/t4/m/members/pg1').value('0');
        await waitFor('first renders', () => ws.lines('w-reloads').length === 1 && ws.lines('m-reloads').length === 1, 60_000);
        // 15 changes 50 ms apart: quiet never lasts 2 s until the end → one reload (two if the
        // 6 s maximum cuts in on a very slow machine).
        for (let i = 1; i <= 15; i++) {
          await client.put('/t4/w/members/pg1').value(String(i));
          await sleep(50);
        }
        await waitFor('w final', () => ws.read('w.conf') === memberLines({ pg1: '15' }), 60_000);
        await waitSettled(port, 'w.toml', ws.path('w.conf'));
        const wReloads = ws.lines('w-reloads').length - 1;
        assert.ok(wReloads >= 1 && wReloads <= 2, `wait: ${wReloads} reloads for 15 changes`);

        // Isolated change (last reload more than the 6 s interval ago): not delayed by the interval.
        const last = Number(ws.lines('m-reloads').at(-1));
        const idle = last + 6300 - Date.now();
        if (idle > 0) await sleep(idle);
        const t0 = Date.now();
        await client.put('/t4/m/members/pg1').value('1');
        await waitFor('isolated change', () => ws.lines('m-reloads').length === 2, 60_000, 5);
        const r1 = Number(ws.lines('m-reloads')[1]);
        assert.ok(r1 - t0 < 4500, `isolated change reloaded ${r1 - t0} ms after the put (a delay by the interval would be ~6000)`);
        // Right after that reload, a second change waits out the 6 s minimum interval.
        await client.put('/t4/m/members/pg1').value('2');
        await waitFor('second change', () => ws.lines('m-reloads').length === 3, 60_000, 5);
        const r2 = Number(ws.lines('m-reloads')[2]);
        assert.ok(r2 - r1 >= 5950, `reloads ${r2 - r1} ms apart, minimum is 6000`);
        assert.equal(ws.read('m.conf'), memberLines({ pg1: '2' }));
      },
    );
  });

  test('min_keys: when every member vanishes the last good file stays, reported in log, metric and /readyz', async () => {
    await client.put('/t5/demo/members/pg1').value('a');
    await client.put('/t5/demo/members/pg2').value('b');
    const port = await freePort();
    await withDaemon(
      'minkeys',
      (ws) => ws.writeResource('m.toml', { dest: ws.path('m.conf'), prefix: '/t5/demo', minKeys: 1, reloadCmd: reloadCounter(ws) }),
      () => ['-listen', `127.0.0.1:${port}`],
      async (ws, d) => {
        const good = memberLines({ pg1: 'a', pg2: 'b' });
        await waitFor('rendered', () => ws.read('m.conf') === good);
        await waitFor('ready', async () => (await httpGet(port, '/readyz')).status === 200);
        await client.delete().prefix('/t5/demo/members/');
        await d.waitLog('min_keys error', (l) => l['stage'] === 'min_keys' && l.level === 50);
        assert.equal(ws.read('m.conf'), good, 'last good file must stay');
        const ready = await httpGet(port, '/readyz');
        assert.equal(ready.status, 503);
        assert.match(ready.body, /min_keys/);
        assert.equal(await metric(port, 'haconfd_resource_failing', { resource: 'm.toml' }), 1);
        assert.ok(((await metric(port, 'haconfd_render_errors_total', { resource: 'm.toml', stage: 'min_keys' })) ?? 0) >= 1);
        assert.equal(ws.lines('reloads').length, 1, 'no reload for a refused render');
        // A member comes back: rendered, ready again.
        await client.put('/t5/demo/members/pg3').value('c');
        await waitFor('pg3', () => ws.read('m.conf') === memberLines({ pg3: 'c' }));
        await waitFor('ready again', async () => (await httpGet(port, '/readyz')).status === 200);
        assert.equal(await metric(port, 'haconfd_resource_failing', { resource: 'm.toml' }), 0);
      },
    );
  });

  test('-watch with -interval 1: the safety re-read runs every second and an unchanged file is not reloaded', async () => {
    await client.put('/t8/demo/members/pg1').value('a');
    const port = await freePort();
    await withDaemon(
      'safety',
      (ws) => ws.writeResource('m.toml', { dest: ws.path('m.conf'), prefix: '/t8/demo', reloadCmd: reloadCounter(ws) }),
      () => ['-interval', '1', '-listen', `127.0.0.1:${port}`],
      async (ws) => {
        await waitFor('rendered', () => ws.read('m.conf') === memberLines({ pg1: 'a' }));
        await waitFor('two safety re-reads', async () => ((await metric(port, 'haconfd_backend_resyncs_total', { reason: 'safety' })) ?? 0) >= 2, 60_000);
        // The resync is counted when it starts, the read's duration when it ends.
        await waitFor('start-up read + two safety reads', async () => ((await metric(port, 'haconfd_backend_read_duration_seconds_count')) ?? 0) >= 3, 60_000);
        // A pass that ended after that: the re-read passes have run (a reload would come in one).
        await waitPassAfter(port, 'm.toml', Date.now() / 1000);
        assert.equal(ws.lines('reloads').length, 1, 'unchanged output: no reload');
      },
    );
  });

  test('arbitrary bytes: a 1 MB value and non-UTF-8 bytes are rendered, nothing crashes', async () => {
    await withDaemon(
      'bytes',
      (ws) => ws.writeResource('m.toml', { dest: ws.path('m.conf'), prefix: '/t7/demo' }),
      () => [],
      async (ws, d) => {
        await client.put('/t7/demo/members/pg1').value('a');
        await waitFor('rendered', () => ws.read('m.conf') === memberLines({ pg1: 'a' }));
        const big = 'x'.repeat(1024 * 1024);
        await client.put('/t7/demo/members/pg2').value(big);
        await waitFor('1 MB value rendered', () => ws.read('m.conf') === memberLines({ pg1: 'a', pg2: big }), 60_000);
        await client.put('/t7/demo/members/pg3').value(Buffer.from([0xff, 0xfe, 0x41, 0xc3]));
        await waitFor('non-UTF-8 rendered', () => (ws.read('m.conf') ?? '').includes('pg3 '), 60_000);
        await client.put('/t7/demo/members/pg2').value('b');
        await waitFor('still running', () => (ws.read('m.conf') ?? '').startsWith(memberLines({ pg1: 'a', pg2: 'b' })));
        assert.equal(d.proc.exited(), false);
      },
    );
  });

  test('a failed reload is retried with backoff until it succeeds', async () => {
    const port = await freePort();
    await withDaemon(
      'reloadfail',
      (ws) =>
        ws.writeResource('m.toml', {
          dest: ws.path('m.conf'),
          prefix: '/t6/demo',
          reloadCmd: `echo try >> ${ws.path('tries')}; test -f ${ws.path('ok')} || { echo 'service says no' >&2; exit 3; }; echo x >> ${ws.path('reloads')}`,
        }),
      () => ['-listen', `127.0.0.1:${port}`],
      async (ws, d) => {
        await client.put('/t6/demo/members/pg1').value('a');
        await waitFor('rendered', () => ws.read('m.conf') === memberLines({ pg1: 'a' }));
        const fail = await d.waitLog('reload failure', (l) => l['stage'] === 'reload' && typeof l['retryInMs'] === 'number');
        assert.match(String(fail.msg), /service says no/);
        assert.equal((await httpGet(port, '/readyz')).status, 503);
        await waitFor('a retry', () => ws.lines('tries').length >= 2, 60_000);
        await waitFor('failures counted', async () => ((await metric(port, 'haconfd_reload_failures_total', { resource: 'm.toml' })) ?? 0) >= 2, 60_000);
        writeFileSync(ws.path('ok'), '');
        await waitFor('reload succeeded', () => ws.lines('reloads').length === 1, 60_000);
        await waitFor('ready', async () => (await httpGet(port, '/readyz')).status === 200);
        const tries = ws.lines('tries').length;
        // A pass after the success (a put with the same value): it must not reload again.
        const since = Date.now() / 1000;
        await client.put('/t6/demo/members/pg1').value('a');
        await waitPassAfter(port, 'm.toml', since);
        assert.equal(ws.lines('tries').length, tries, 'no more reloads once one succeeded');
        assert.equal(ws.read('m.conf'), memberLines({ pg1: 'a' }));
      },
    );
  });
});
