/**
 * `haconfd haproxy status|ready` with Patroni roles from a real etcd, against a real HAProxy 2.6,
 * the CLI run as a process (dist/cli/main.js: build first).
 *
 * etcd holds Patroni-shaped keys for scope `demo` (leader pg1; pg2, pg3 replicas) and scope `other`
 * (leader key naming no member); HAProxy has demo_primary / demo_replicas with servers named after
 * the members, plus one server that is no member.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startHaproxy, haproxyTestConfig, type HaproxyInstance } from '../harness/haproxy.js';
import { startEtcd, type EtcdInstance } from '../harness/etcd.js';
import { runCli } from '../harness/cli.js';
import { freePorts, listenOn, removeDir, tempDir, waitFor } from '../harness/process.js';
import { RuntimeClient } from '../../src/haproxy/runtime/runtimeClient.js';
import { stateNameOf } from '../../src/haproxy/runtime/serversState.js';
import { loadOverrides, overridesPath } from '../../src/haproxy/controller/overrides.js';

let dir: string;
let hap: HaproxyInstance | undefined;
let etcd: EtcdInstance | undefined;
let admin: string;
let client: RuntimeClient;
const listeners: Server[] = [];
/**
 * A local HTTP server standing in for each member's Patroni REST API (GET /<member> → role, state),
 * so `ready` can confirm a leader the way the controller does.
 */
let api: HttpServer | undefined;
let apiPort = 0;
const apiSays = new Map<string, { role: string; state: string }>([
  ['pg1', { role: 'primary', state: 'running' }],
  ['pg2', { role: 'replica', state: 'running' }],
]);

function member(name: string, port: number, role: string, state = 'running'): string {
  return JSON.stringify({ conn_url: `postgres://127.0.0.1:${port}/postgres`, api_url: `http://127.0.0.1:${apiPort}/${name}`, state, role, version: '3.0.2' });
}

/** No HACONFD_* from the outer environment, no /etc/haconfd: only what each test gives. */
const ENV = { HACONFD_BACKEND: '', HACONFD_NODE: '', HACONFD_CONFIG_FILE: '', HACONFD_CONFDIR: '' };

async function cli(...args: string[]) {
  return runCli(['haproxy', ...args, '-confdir', join(dir, 'empty-confdir')], { env: ENV });
}

const stateOf = async (b: string, s: string): Promise<string> => {
  const x = (await client.showServersState(b)).find((a) => a.server === s);
  assert.ok(x, `${b}/${s}`);
  return stateNameOf(x);
};

before(async () => {
  dir = tempDir('hap-cli-roles');
  const [writePort, readPort, pg1, pg2, pg3, pg9] = (await freePorts(6)) as [number, number, number, number, number, number];
  // Live "databases": the checks pass for every server, so only our commands (and the checks'
  // timing) decide the states.
  for (const port of [pg1, pg2, pg3, pg9]) {
    const srv = createServer((s) => s.on('error', () => {}).resume());
    await listenOn(srv, port);
    listeners.push(srv);
  }
  api = createHttpServer((req, res) => {
    const said = apiSays.get((req.url ?? '/').slice(1));
    res.writeHead(said ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify(said ?? { role: 'replica', state: 'stopped' }));
  });
  await new Promise<void>((r) => api!.listen(0, '127.0.0.1', r));
  apiPort = (api.address() as { port: number }).port;
  etcd = await startEtcd('hap-cli-roles-etcd');
  const puts: [string, string][] = [
    ['/service/demo/config', JSON.stringify({ ttl: 30, loop_wait: 10 })],
    ['/service/demo/leader', 'pg1'],
    ['/service/demo/members/pg1', member('pg1', pg1, 'primary')],
    ['/service/demo/members/pg2', member('pg2', pg2, 'replica')],
    ['/service/demo/members/pg3', member('pg3', pg3, 'replica', 'starting')],
    ['/service/other/leader', 'nobody'],
    ['/service/other/members/q1', member('q1', pg9, 'replica')],
  ];
  for (const [k, v] of puts) await etcd.ctl(['put', k, v]);

  admin = join(dir, 'admin.sock');
  // Checks slow enough that a server taken out of MAINT with `health down` is still DOWN when the
  // command reads it back, fast enough that the checks bring it UP within a second or two.
  const checks = 'inter 1s fall 2 rise 1 on-marked-down shutdown-sessions';
  const servers = [
    { name: 'pg1', addr: '127.0.0.1', port: pg1 },
    { name: 'pg2', addr: '127.0.0.1', port: pg2 },
    { name: 'pg3', addr: '127.0.0.1', port: pg3 },
  ];
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    haproxyTestConfig({
      adminSocket: admin,
      listens: [
        { name: 'demo_primary', bindPort: writePort, defaultServer: checks, servers },
        { name: 'demo_replicas', bindPort: readPort, defaultServer: checks, balance: 'roundrobin', servers: [...servers, { name: 'pg9', addr: '127.0.0.1', port: pg9 }] },
      ],
    }),
  );
  hap = await startHaproxy({ dir, configFile: cfg });
  client = new RuntimeClient(admin);
  await waitFor('first checks: every server UP', async () => (await client.showServersState()).every((s) => s.opState === 'up'), 60_000);
});

after(async () => {
  await hap?.stop();
  await etcd?.stop();
  api?.close();
  for (const l of listeners) l.close();
  removeDir(dir);
});

test('status shows the Patroni role and member state beside each server (table and --json)', async () => {
  const r = await cli('status', '--socket', admin, '--state-dir', join(dir, 'st'), '-node', etcd!.clientUrl);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^BACKEND\s+SERVER\s+ADDRESS\s+STATE\s+CHECK\s+SESSIONS\s+ROLE\s+MEMBER STATE$/m);
  assert.match(r.stdout, /^demo_primary\s+pg1\s+127\.0\.0\.1:\d+\s+UP\s+UP L4OK\s+0\s+primary \(leader\)\s+running$/m);
  assert.match(r.stdout, /^demo_primary\s+pg2\s+.*\s+replica\s+running$/m);
  assert.match(r.stdout, /^demo_replicas\s+pg3\s+.*\s+replica\s+starting$/m);
  assert.match(r.stdout, /^demo_replicas\s+pg9\s+.*\s+-\s+-$/m, 'a server that is no member');
  // The other scope's leader key names no member: a warning, not a failure.
  assert.match(r.stderr, /warning: cluster other: leader key names 'nobody', which is not a member/);

  const j = await cli('status', '--socket', admin, '--state-dir', join(dir, 'st'), '--node', etcd!.clientUrl, '--json');
  assert.equal(j.code, 0, j.stderr);
  const rows = JSON.parse(j.stdout) as { backend: string; server: string; role: string | null; leader: boolean; memberState: string | null; cluster: string | null }[];
  const row = (b: string, s: string) => rows.find((x) => x.backend === b && x.server === s);
  const pg1 = row('demo_primary', 'pg1');
  assert.deepEqual([pg1?.role, pg1?.leader, pg1?.memberState, pg1?.cluster], ['primary', true, 'running', 'demo']);
  assert.deepEqual([row('demo_replicas', 'pg2')?.role, row('demo_replicas', 'pg2')?.leader], ['replica', false]);
  assert.deepEqual([row('demo_replicas', 'pg9')?.role, row('demo_replicas', 'pg9')?.memberState, row('demo_replicas', 'pg9')?.cluster], [null, null, null]);

  // Without a backend: the plain table, no etcd touched.
  const plain = await cli('status', '--socket', admin, '--state-dir', join(dir, 'st'));
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^BACKEND\s+SERVER\s+ADDRESS\s+STATE\s+CHECK\s+SESSIONS$/m);
  assert.doesNotMatch(plain.stdout, /ROLE/);
  // --no-roles turns a configured backend off.
  const off = await cli('status', '--socket', admin, '--state-dir', join(dir, 'st'), '-node', etcd!.clientUrl, '--no-roles');
  assert.doesNotMatch(off.stdout, /ROLE/);
});

test('socket, state dir and backend come from haconfd.toml', async () => {
  const confdir = join(dir, 'conf');
  const stateDir = join(dir, 'state-from-toml');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(confdir, { recursive: true });
  writeFileSync(
    join(confdir, 'haconfd.toml'),
    [`nodes = ["${etcd!.clientUrl}"]`, '[haproxy]', `socket = "${admin}"`, `state_dir = "${stateDir}"`, ''].join('\n'),
  );
  const run = (...args: string[]) => runCli(['haproxy', ...args, '-confdir', confdir], { env: ENV });
  let r = await run('status');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^demo_primary\s+pg1\s+.*primary \(leader\)\s+running$/m);

  r = await run('drain', 'demo_replicas/pg2', '--reason', 'from toml');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await stateOf('demo_replicas', 'pg2'), 'drain');
  assert.deepEqual(loadOverrides(overridesPath(stateDir)).map((o) => [o.backend, o.server, o.state, o.reason]), [['demo_replicas', 'pg2', 'drain', 'from toml']]);
  r = await run('status');
  assert.match(r.stdout, /^demo_replicas\s+pg2\s+\S+\s+DRAIN \(operator drain\)\s+.*replica\s+running$/m);
  r = await run('ready', 'demo_replicas/pg2');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(loadOverrides(overridesPath(stateDir)), []);
  assert.equal(existsSync(overridesPath(join(dir, 'empty-confdir'))), false);
});

test('no socket anywhere → exit 2 with a hint', async () => {
  const r = await cli('status');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no HAProxy runtime socket: give --socket PATH .* \[haproxy\] table/);
});

test('ready on the write backend: the leader-key holder confirmed by its REST API is UP at once, a non-leader waits for its checks', async () => {
  const stateDir = join(dir, 'st-ready');
  const run = (...args: string[]) => cli(...args, '--socket', admin, '--state-dir', stateDir, '-node', etcd!.clientUrl);

  // The leader: MAINT → UP in the command itself, no check involved.
  let r = await run('maint', 'demo_primary/pg1');
  assert.equal(r.code, 0, r.stderr);
  r = await run('ready', 'demo_primary/pg1');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /demo_primary\/pg1: MAINT → UP \(set server demo_primary\/pg1 state ready; set server demo_primary\/pg1 health up\) — confirmed leader: leader key of demo names pg1, http:\/\/127\.0\.0\.1:\d+\/pg1 confirms a running primary/);

  // A non-leader on the write backend: `state ready; health down`, then only the checks bring it UP.
  r = await run('maint', 'demo_primary/pg2');
  r = await run('ready', 'demo_primary/pg2', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { changes: { command: string; after: string; leader?: string }[] };
  assert.equal(j.changes[0]?.command, 'set server demo_primary/pg2 weight 0; set server demo_primary/pg2 state ready; set server demo_primary/pg2 health down; set server demo_primary/pg2 weight 100%');
  assert.equal(j.changes[0]?.after, 'down');
  assert.equal(j.changes[0]?.leader, undefined);
  await waitFor('checks bring demo_primary/pg2 UP', async () => (await stateOf('demo_primary', 'pg2')) === 'up', 60_000);

  // A member name: every backend; only the write backend's leader goes UP at once.
  r = await run('maint', 'pg1');
  assert.equal(r.code, 0, r.stderr);
  r = await run('ready', 'pg1');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^demo_primary\/pg1: MAINT → UP .*health up\) — confirmed leader/m);
  assert.match(r.stdout, /^demo_replicas\/pg1: MAINT → DOWN \(set server demo_replicas\/pg1 weight 0; set server demo_replicas\/pg1 state ready; set server demo_replicas\/pg1 health down; set server demo_replicas\/pg1 weight 100%\)$/m);
  await waitFor('checks bring demo_replicas/pg1 UP', async () => (await stateOf('demo_replicas', 'pg1')) === 'up', 60_000);

  // The leader key moves to pg2 before its API reports it primary: ready refuses, nothing changes.
  await etcd!.ctl(['put', '/service/demo/leader', 'pg2']);
  try {
    await run('maint', 'demo_primary/pg1');
    await run('maint', 'demo_primary/pg2');
    r = await run('ready', 'demo_primary/pg2');
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /demo_primary\/pg2 not made ready: leader key of demo names pg2, but http:\/\/127\.0\.0\.1:\d+\/pg2 did not confirm a running primary within 5000 ms \(last: role replica, state running\)\. Nothing changed/);
    assert.equal(await stateOf('demo_primary', 'pg2'), 'maint');
    assert.ok(loadOverrides(overridesPath(stateDir)).some((o) => o.server === 'pg2' && o.state === 'maint'), 'the override stays');
    // Its API confirms now: pg2 is the one made UP at once, and pg1 is not.
    apiSays.set('pg2', { role: 'primary', state: 'running' });
    apiSays.set('pg1', { role: 'replica', state: 'running' });
    r = await run('ready', 'demo_primary/pg2');
    assert.match(r.stdout, /MAINT → UP .* — confirmed leader: leader key of demo names pg2/);
    r = await run('ready', 'demo_primary/pg1');
    assert.match(r.stdout, /demo_primary\/pg1: MAINT → DOWN \(.*health down; set server demo_primary\/pg1 weight 100%\)$/m);
  } finally {
    await etcd!.ctl(['put', '/service/demo/leader', 'pg1']);
    apiSays.set('pg1', { role: 'primary', state: 'running' });
    apiSays.set('pg2', { role: 'replica', state: 'running' });
  }
  await waitFor('checks bring demo_primary/pg1 UP', async () => (await stateOf('demo_primary', 'pg1')) === 'up', 60_000);
  assert.deepEqual(loadOverrides(overridesPath(stateDir)), []);
});

// Last: stops etcd.
test('etcd unreachable: status still prints, role ?, a warning, exit 0; ready falls back to the checks', async () => {
  await etcd!.halt();
  const stateDir = join(dir, 'st-down');
  const run = (...args: string[]) => cli(...args, '--socket', admin, '--state-dir', stateDir, '-node', etcd!.clientUrl, '-connect-timeout', '1000');
  const t0 = Date.now();
  let r = await run('status');
  const ms = Date.now() - t0;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: cannot read Patroni roles from etcdv3 http:\/\/127\.0\.0\.1:\d+ \/service: /);
  assert.match(r.stdout, /^demo_primary\s+pg1\s+127\.0\.0\.1:\d+\s+UP\s+UP L4OK\s+0\s+\?\s+\?$/m);
  assert.ok(ms < 10_000, `status with etcd down took ${ms} ms`);

  r = await run('status', '--json');
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { role: string; memberState: string }[];
  assert.ok(rows.length === 7 && rows.every((x) => x.role === '?' && x.memberState === '?'), r.stdout);

  // HAProxy's socket missing: exit 1 at once, without waiting for the DCS.
  const t1 = Date.now();
  r = await cli('status', '--socket', join(dir, 'missing.sock'), '-node', etcd!.clientUrl, '-connect-timeout', '20000');
  const missingMs = Date.now() - t1;
  assert.equal(r.code, 1);
  assert.match(r.stderr, /missing\.sock does not exist/);
  assert.doesNotMatch(r.stderr, /Patroni roles/);
  assert.ok(missingMs < 12_000, `took ${missingMs} ms: waited for etcd (connect timeout 20 s)`);

  // Without the leader key, even the leader is handed back to the checks.
  await run('maint', 'demo_primary/pg1');
  r = await run('ready', 'demo_primary/pg1');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: cannot read Patroni roles/);
  assert.match(r.stdout, /demo_primary\/pg1: MAINT → DOWN \(.*health down; set server demo_primary\/pg1 weight 100%\)$/m);
  await waitFor('checks bring demo_primary/pg1 UP', async () => (await stateOf('demo_primary', 'pg1')) === 'up', 60_000);
});
