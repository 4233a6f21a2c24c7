/**
 * End to end against real programs: etcd, a 3-node Patroni cluster (scope demo) plus a 1-node one
 * (scope other), HAProxy 2.6 in master-worker mode, and `haconfd -watch` rendering the shipped
 * templates/haproxy.cfg.hbs for every scope under /service. Asserts, through HAProxy's ports:
 *   1. write port → the leader (pg_is_in_recovery f, inet_server_port = leader), read port → a replica;
 *   2. after `patronictl switchover --force` the write port reaches the new leader, nothing reloaded;
 *   3. a replica stopped for good leaves the file, HAProxy is reloaded once, a session on the primary survives;
 *   4. a member added later appears in haproxy.cfg;
 *   5. the second scope, rendered by the same resource, has its own ports;
 *   6. a bad member key is left out and logged, and changes nothing.
 * Everything is torn down by PID in `after`, also when an assertion fails.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEtcd, type EtcdInstance } from '../harness/etcd.js';
import { psql, retrySql, startPatroniCluster, type PatroniCluster } from '../harness/patroni.js';
import { startHaproxy, type HaproxyInstance } from '../harness/haproxy.js';
import { runCli, startCli } from '../harness/cli.js';
import { freePorts, removeDir, requireBinary, tempDir, waitFor, type RunningProcess } from '../harness/process.js';
import { exchange } from '../../src/haproxy/runtime/socketTransport.js';
import { parseShowProc } from '../../src/haproxy/reload/procList.js';
import { writeHaproxyResource } from '../harness/haproxyResource.js';

let etcd: EtcdInstance | undefined;
let demo: PatroniCluster | undefined;
let other: PatroniCluster | undefined;
let haproxy: HaproxyInstance | undefined;
let haconfd: RunningProcess | undefined;
let dir = '';
let cfgFile = '';
const ports = { demoWrite: 0, demoRead: 0, otherWrite: 0, otherRead: 0, stats: 0 };
const timings: Record<string, number> = {};

function listenServers(cfg: string, listen: string): string[] {
  const lines = cfg.split('\n');
  const start = lines.indexOf(`listen ${listen}`);
  if (start < 0) return [];
  const out: string[] = [];
  for (let i = start + 1; i < lines.length && !(lines[i] ?? '').startsWith('listen '); i++) {
    const m = /^\s+server (\S+) /.exec(lines[i] ?? '');
    if (m) out.push(m[1] as string);
  }
  return out;
}

const cfg = (): string => (existsSync(cfgFile) ? readFileSync(cfgFile, 'utf8') : '');

/** How many reloads the master has done, from its `show proc` (the master line's reload count). */
async function reloadCount(): Promise<number> {
  if (haproxy === undefined) throw new Error('no haproxy');
  const list = parseShowProc(await exchange({ kind: 'unix', path: haproxy.masterSocket }, 'show proc', 2000));
  if (list.master === undefined) throw new Error('show proc: no master line');
  return list.master.reloads;
}

/**
 * Puts a key under /service that the template ignores, then waits until a pass at its revision (or
 * later) has ended: "in sync" (nothing written) or "reloaded". Passes run one at a time on the newest
 * snapshot, so every pass caused by an earlier change, and a reload in it, is over by then.
 */
async function barrierPass(): Promise<void> {
  if (etcd === undefined || haconfd === undefined) throw new Error('not started');
  const out = await etcd.ctl(['put', '/service/haconfd-test-barrier', String(Date.now()), '-w', 'json']);
  const rev = Number((JSON.parse(out) as { header: { revision: number | string } }).header.revision);
  const proc = haconfd;
  await waitFor(`a haproxy.toml pass at revision ${rev}`, () =>
    proc.log().split('\n').some((l) => {
      if (!l.includes('"resource":"haproxy.toml"') || !(l.includes('"msg":"in sync"') || l.includes('"msg":"reloaded"'))) return false;
      const m = /"revision":(\d+)/.exec(l);
      return m !== null && Number(m[1]) >= rev;
    }), 60_000, 50);
}

/** `select pg_is_in_recovery(), inet_server_port()` through a port: "f|5432". */
const whoAnswers = (port: number): Promise<string> => psql(port, 'select pg_is_in_recovery(), inet_server_port()', 5000);

before(async () => {
  requireBinary('haproxy', 'haproxy');
  const t0 = Date.now();
  dir = tempDir('e2e-patroni');
  etcd = await startEtcd('e2e-patroni');
  // Both clusters bootstrap at once.
  const started = await Promise.allSettled([
    startPatroniCluster({ etcd, scope: 'demo', nodes: 3 }),
    startPatroniCluster({ etcd, scope: 'other', nodes: 1, namePrefix: 'o' }),
  ]);
  // Keep whichever started, so after() stops it even when the other one failed.
  if (started[0].status === 'fulfilled') demo = started[0].value;
  if (started[1].status === 'fulfilled') other = started[1].value;
  for (const r of started) if (r.status === 'rejected') throw r.reason;
  timings['bootstrap (3 + 1 nodes)'] = Date.now() - t0;

  [ports.demoWrite, ports.demoRead, ports.otherWrite, ports.otherRead, ports.stats] = (await freePorts(5)) as [number, number, number, number, number];
  const resource = writeHaproxyResource({
    dir,
    statsPort: ports.stats,
    checkInter: '1s',
    hardStopAfter: '5m',
    clusters: { demo: { write: ports.demoWrite, read: ports.demoRead }, other: { write: ports.otherWrite, read: ports.otherRead } },
  });
  const confdir = resource.confdir;
  cfgFile = resource.cfgFile;
  const common = ['-backend', 'etcdv3', '-node', etcd.clientUrl, '-confdir', confdir, '-log-format', 'json'];
  // First file without reload (HAProxy is not running yet), then HAProxy, then the watcher.
  const first = await runCli(['-onetime', '-sync-only', ...common], { cwd: dir });
  assert.equal(first.code, 0, `haconfd -onetime failed: ${first.stderr}`);
  haproxy = await startHaproxy({ dir, configFile: cfgFile, masterSocket: join(dir, 'master.sock') });
  // Debug level: each pass that finds the file unchanged logs "in sync" with its revision (barrierPass).
  haconfd = startCli(['-watch', ...common, '-log-level', 'debug'], { logFile: join(dir, 'haconfd.log'), cwd: dir });
  timings['ready'] = Date.now() - t0;
});

after(async () => {
  const stops: Promise<unknown>[] = [];
  if (haconfd) stops.push(haconfd.stop());
  if (haproxy) stops.push(haproxy.stop());
  if (demo) stops.push(demo.stop());
  if (other) stops.push(other.stop());
  await Promise.allSettled(stops);
  await etcd?.stop().catch(() => undefined);
  if (dir) removeDir(dir);
  console.log(`# e2e timings (ms): ${JSON.stringify(timings)}`);
});

describe('haconfd -watch in front of a real Patroni cluster', { timeout: 1_200_000 }, () => {
  test('the rendered file has every member of both scopes', () => {
    assert.ok(demo && other);
    const c = cfg();
    assert.deepEqual(listenServers(c, 'demo_primary'), ['pg1', 'pg2', 'pg3']);
    assert.deepEqual(listenServers(c, 'demo_replicas'), ['pg1', 'pg2', 'pg3']);
    assert.deepEqual(listenServers(c, 'other_primary'), ['o1']);
  });

  test('1. write port reaches the leader, read port a replica', async () => {
    assert.ok(demo);
    const leader = await demo.leader();
    const leaderPort = demo.node(leader).pgPort;
    const t0 = Date.now();
    const w = await retrySql('write port → leader', async () => {
      const r = await whoAnswers(ports.demoWrite);
      if (r !== `f|${leaderPort}`) throw new Error(`write port answered ${r}`);
      return r;
    });
    timings['write port routed after start'] = Date.now() - t0;
    assert.equal(w, `f|${leaderPort}`);
    const replicaPorts = demo.nodes.filter((n) => n.name !== leader).map((n) => n.pgPort);
    const r = await retrySql('read port → replica', async () => {
      const out = await whoAnswers(ports.demoRead);
      if (!out.startsWith('t|')) throw new Error(`read port answered ${out}`);
      return out;
    });
    assert.ok(replicaPorts.includes(Number(r.split('|')[1])), `read port answered ${r}, replicas are on ${replicaPorts.join(',')}`);
  });

  test('2. after patronictl switchover the write port reaches the new leader, nothing reloaded', async () => {
    assert.ok(demo);
    const reloadsBefore = await reloadCount();
    const fileBefore = cfg();
    const oldLeader = await demo.leader();
    const t0 = Date.now();
    const candidate = await demo.switchover();
    assert.notEqual(candidate, oldLeader);
    await demo.waitForLeader(30_000, oldLeader);
    const newPort = demo.node(candidate).pgPort;
    await retrySql('write port → new leader', async () => {
      const r = await whoAnswers(ports.demoWrite);
      if (r !== `f|${newPort}`) throw new Error(`write port answered ${r}`);
    }, 45_000);
    timings['switchover → write port on new leader'] = Date.now() - t0;
    await barrierPass(); // every pass the switchover's key changes caused (and a reload in one) is over
    assert.equal(cfg(), fileBefore, 'haproxy.cfg changed on a switchover');
    assert.equal(await reloadCount(), reloadsBefore, 'HAProxy was reloaded on a switchover');
  });

  test('3. a replica stopped for good leaves the file; one reload; a session on the primary survives', async () => {
    assert.ok(demo);
    const leader = await demo.leader();
    const leaderPort = demo.node(leader).pgPort;
    // A long-running session through the write port, kept open across the reload.
    const session: ChildProcessWithoutNullStreams = spawn(
      'psql',
      ['-X', '-h', '127.0.0.1', '-p', String(ports.demoWrite), '-U', 'postgres', '-d', 'postgres', '-At'],
      { env: { ...process.env, PGPASSWORD: 'postgres' } },
    );
    let out = '';
    session.stdout.on('data', (b: Buffer) => (out += b.toString()));
    session.stderr.on('data', (b: Buffer) => (out += b.toString()));
    try {
      session.stdin.write('select pg_backend_pid(), inet_server_port();\n');
      await waitFor('the session to answer', () => /^\d+\|\d+$/m.test(out), 60_000);
      const [backendPid, port] = (out.trim().split('\n')[0] ?? '').split('|');
      assert.equal(Number(port), leaderPort);

      const reloadsBefore = await reloadCount();
      const victim = demo.nodes.find((n) => n.name !== leader && n.running());
      assert.ok(victim);
      const t0 = Date.now();
      await victim.stop();
      await waitFor(`${victim.name} to leave haproxy.cfg`, () => !listenServers(cfg(), 'demo_primary').includes(victim.name), 40_000, 100);
      timings['replica stopped → gone from haproxy.cfg'] = Date.now() - t0;
      assert.deepEqual(listenServers(cfg(), 'demo_replicas').length, 2);
      await waitFor('one reload', async () => (await reloadCount()) === reloadsBefore + 1, 60_000, 100);
      await barrierPass(); // a second (needless) reload would have happened by now
      assert.equal(await reloadCount(), reloadsBefore + 1, 'exactly one reload');

      out = '';
      session.stdin.write('select pg_backend_pid(), inet_server_port();\n');
      await waitFor('the old session to answer after the reload', () => /^\d+\|\d+$/m.test(out) || /error|terminat|closed/i.test(out), 60_000);
      assert.equal(out.trim().split('\n')[0], `${backendPid}|${leaderPort}`, `the session did not survive: ${out}`);
    } finally {
      session.stdin.end();
      session.kill();
    }
  });

  test('4. a member added later appears in haproxy.cfg', async () => {
    assert.ok(demo);
    const t0 = Date.now();
    const node = await demo.addNode();
    await waitFor(`${node.name} in haproxy.cfg`, () => listenServers(cfg(), 'demo_primary').includes(node.name), 60_000, 100);
    timings['new member → in haproxy.cfg'] = Date.now() - t0;
    assert.ok(listenServers(cfg(), 'demo_replicas').includes(node.name));
    // Once streaming it serves reads through the read port's checks like the others.
    await demo.waitForReplicas(2, 60_000);
  });

  test('5. the second scope has its own ports, routed to its own leader', async () => {
    assert.ok(other);
    const leader = await other.leader();
    const port = other.node(leader).pgPort;
    await retrySql('other write port → its leader', async () => {
      const r = await whoAnswers(ports.otherWrite);
      if (r !== `f|${port}`) throw new Error(`other write port answered ${r}`);
    });
    assert.notEqual(ports.otherWrite, ports.demoWrite);
    assert.match(cfg(), new RegExp(`listen other_primary\\n    bind 127\\.0\\.0\\.1:${ports.otherWrite}\\n`));
    assert.match(cfg(), new RegExp(`listen other_replicas\\n    bind 127\\.0\\.0\\.1:${ports.otherRead}\\n`));
  });

  test('6. a bad member key in etcd is left out, logged with its reason, and reloads nothing', async () => {
    assert.ok(etcd && haconfd);
    const reloadsBefore = await reloadCount();
    const fileBefore = cfg();
    const bad = JSON.stringify({ conn_url: 'postgres://10.9.9.9\nlisten evil\n    bind *:1:5432/postgres', api_url: 'http://10.9.9.9:8008/patroni', role: 'replica', state: 'running' });
    await etcd.ctl(['put', '/service/demo/members/evil', bad]);
    try {
      await waitFor('the member_rejected warning', () => /"code":"member_rejected".*evil/.test(haconfd?.log() ?? ''), 60_000, 50);
      assert.match(haconfd.log(), /conn_url: URL .* contains a newline/);
      await barrierPass(); // the pass that saw the bad key (and any reload) is over
      assert.equal(cfg(), fileBefore);
      assert.doesNotMatch(cfg(), /evil|10\.9\.9\.9/);
      assert.equal(await reloadCount(), reloadsBefore);
    } finally {
      await etcd.ctl(['del', '/service/demo/members/evil']);
    }
  });

  test('haconfd logged no error and is still running', () => {
    assert.ok(haconfd && !haconfd.exited(), `haconfd exited: ${haconfd?.log().slice(-2000)}`);
    const errors = (haconfd.log() ?? '').split('\n').filter((l) => /"level":(50|60)/.test(l));
    assert.deepEqual(errors, []);
  });
});
