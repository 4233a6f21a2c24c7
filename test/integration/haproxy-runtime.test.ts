/** The runtime socket client, parsers and operator CLI against Debian's real haproxy 2.6. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHaproxy, haproxyTestConfig, type HaproxyInstance } from '../harness/haproxy.js';
import { freePorts, listenOn, removeDir, tempDir, waitFor } from '../harness/process.js';
import { applyAction } from '../harness/haproxyModel.js';
import { RuntimeClient } from '../../src/haproxy/runtime/runtimeClient.js';
import { MasterClient } from '../../src/haproxy/reload/masterClient.js';
import { stateNameOf, type ActualServer } from '../../src/haproxy/runtime/serversState.js';
import { pidOf } from '../../src/haproxy/runtime/infoList.js';
import {
  InvalidNameError,
  NoSuchBackendError,
  NoSuchServerError,
  PermissionDeniedError,
  SocketMissingError,
  CommandFailedError,
  RuntimeError,
} from '../../src/haproxy/runtime/runtimeErrors.js';
import { SERVER_ACTIONS, type ServerAction } from '../../src/haproxy/runtime/runtimeCommand.js';
import { runHaproxyCommand } from '../../src/cli/haproxyCommand.js';
import { loadOverrides, overridesPath } from '../../src/haproxy/controller/overrides.js';
import type { ActualServerState } from '../../src/haproxy/controller/plan.js';
import { captureIo } from '../harness/captureIo.js';

let dir: string;
let hap: HaproxyInstance | undefined;
let admin: string;
let operator: string;
let tcpPort: number;
let backends: Server[] = [];

before(async () => {
  dir = tempDir('hap-rt');
  const [statsPort, writePort, readPort, modelPort, pg1, pg2, pg3, tcp] = await freePorts(8) as number[] as [number, number, number, number, number, number, number, number];
  tcpPort = tcp;
  // Two live "databases" (plain TCP listeners) and one closed port.
  for (const port of [pg1, pg2]) {
    const srv = createServer((s) => s.on('error', () => {}).resume());
    await listenOn(srv, port);
    backends.push(srv);
  }
  admin = join(dir, 'admin.sock');
  operator = join(dir, 'operator.sock');
  const fast = 'inter 200ms fall 1 rise 1 on-marked-down shutdown-sessions';
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    haproxyTestConfig({
      adminSocket: admin,
      operatorSocket: operator,
      extraAdminSockets: [`ipv4@127.0.0.1:${tcpPort}`],
      statsPort,
      listens: [
        { name: 'primary', bindPort: writePort, defaultServer: fast, servers: [
          { name: 'pg1', addr: '127.0.0.1', port: pg1 }, { name: 'pg2', addr: '127.0.0.1', port: pg2 }, { name: 'pg3', addr: '127.0.0.1', port: pg3 },
        ] },
        { name: 'replicas', bindPort: readPort, defaultServer: fast, balance: 'roundrobin', servers: [
          { name: 'pg1', addr: '127.0.0.1', port: pg1 }, { name: 'pg2', addr: '127.0.0.1', port: pg2 }, { name: 'pg3', addr: '127.0.0.1', port: pg3 },
        ] },
        // No checks: the op state changes only by command, so HAProxy's behaviour is deterministic.
        { name: 'model', bindPort: modelPort, servers: ['m1', 'm2'].map((name) => ({ name, addr: '127.0.0.1', port: pg1, check: false })) },
      ],
    }),
  );
  hap = await startHaproxy({ dir, configFile: cfg });
  const client = new RuntimeClient(admin);
  // Let the first checks settle: pg1/pg2 UP, pg3 DOWN.
  await waitFor('first checks', async () => {
    const s = await client.showServersState('primary');
    return s.map((x) => x.opState).join(',') === 'up,up,down';
  });
});

after(async () => {
  await hap?.stop();
  for (const b of backends) b.close();
  removeDir(dir);
});

const find = (list: readonly ActualServer[], b: string, s: string): ActualServer => {
  const x = list.find((a) => a.backend === b && a.server === s);
  assert.ok(x, `${b}/${s} present`);
  return x;
};

test('show servers state / show stat / show info / show proc parse real replies', async () => {
  const client = new RuntimeClient(admin);
  const state = await client.showServersState();
  assert.deepEqual(state.map((s) => `${s.backend}/${s.server}`), [
    'primary/pg1', 'primary/pg2', 'primary/pg3', 'replicas/pg1', 'replicas/pg2', 'replicas/pg3', 'model/m1', 'model/m2',
  ]);
  assert.equal(stateNameOf(find(state, 'primary', 'pg3')), 'down');
  const stats = await client.showServerStats();
  assert.equal(stats.length, 8);
  const pg3 = stats.find((s) => s.backend === 'primary' && s.server === 'pg3');
  assert.equal(pg3?.status, 'DOWN');
  assert.equal(pg3?.checkStatus, 'L4CON');
  assert.equal(stats.find((s) => s.server === 'm1')?.status, 'no check');
  const info = await client.showInfo();
  assert.match(info['Version'] ?? '', /^2\.6\./);
  assert.equal(pidOf(info), await hap!.workerPid());
  const proc = await new MasterClient(hap!.masterSocket).showProc();
  assert.equal(proc.master?.pid, hap!.masterPid);
  assert.equal(proc.failedReloads, 0);
  assert.equal(proc.workers[0]?.pid, await hap!.workerPid());
});

test('TCP stats socket: ipv4@host:port and plain host:port', async () => {
  for (const addr of [`ipv4@127.0.0.1:${tcpPort}`, `127.0.0.1:${tcpPort}`]) {
    const info = await new RuntimeClient(addr).showInfo();
    assert.equal(pidOf(info), await hap!.workerPid(), addr);
  }
});

test('operator-level socket: reads work, a mutation is PermissionDenied with the level-admin hint', async () => {
  const client = new RuntimeClient(operator);
  assert.equal((await client.showServersState()).length, 8);
  await assert.rejects(
    client.apply({ backend: 'primary', server: 'pg1', action: 'drain', reason: 't' }),
    (e: unknown) => e instanceof PermissionDeniedError && /level admin/.test(e.message) && e.message.includes(operator),
  );
  assert.equal(stateNameOf(find(await new RuntimeClient(admin).showServersState(), 'primary', 'pg1')), 'up');
});

test('missing socket / refused TCP → SocketMissing naming the address', async () => {
  const missing = join(dir, 'nope.sock');
  await assert.rejects(new RuntimeClient(missing).showInfo(), (e: unknown) => e instanceof SocketMissingError && e.code === 'ENOENT' && e.message.includes(missing));
  const [closed] = await freePorts(1);
  await assert.rejects(
    new RuntimeClient(`ipv4@127.0.0.1:${closed}`).showInfo(),
    (e: unknown) => e instanceof SocketMissingError && e.code === 'ECONNREFUSED' && e.message.includes(`127.0.0.1:${closed}`),
  );
});

test('unknown backend / server / command → typed errors', async () => {
  const client = new RuntimeClient(admin);
  await assert.rejects(client.apply({ backend: 'nope', server: 'pg1', action: 'drain', reason: 't' }), (e: unknown) => e instanceof NoSuchBackendError && e.backend === 'nope');
  await assert.rejects(client.apply({ backend: 'primary', server: 'nope', action: 'maint', reason: 't' }), (e: unknown) => e instanceof NoSuchServerError && e.server === 'nope' && e.backend === 'primary');
  await assert.rejects(client.showServersState('nope'), NoSuchBackendError);
  await assert.rejects(client.send('frobnicate'), (e: unknown) => e instanceof CommandFailedError && /Unknown command/.test(e.message));
});

test('names are validated before anything reaches the socket', async () => {
  const client = new RuntimeClient(admin);
  const evil = ['pg1; set server primary/pg3 state ready', 'pg1\nset server primary/pg3 state ready', 'pg 1', 'pg1/x'];
  for (const server of evil) {
    await assert.rejects(client.apply({ backend: 'primary', server, action: 'drain', reason: 't' }), InvalidNameError, JSON.stringify(server));
    await assert.rejects(client.showServersState(server), InvalidNameError);
  }
  await assert.rejects(client.send('show info\nshow sess'), (e: unknown) => e instanceof RuntimeError && /one line/.test(e.message));
  const state = await client.showServersState('primary');
  assert.deepEqual(state.map(stateNameOf), ['up', 'up', 'down']);
});

test("HAProxy's real effect of every action matches the planner's model", async () => {
  const client = new RuntimeClient(admin);
  const setups: Record<string, string> = {
    up: 'state ready; set server model/m1 health up',
    down: 'weight 0; set server model/m1 state ready; set server model/m1 health down; set server model/m1 weight 100%',
    forcedMaint: 'state ready; set server model/m1 state maint',
    forcedDrainUp: 'state ready; set server model/m1 health up; set server model/m1 state drain',
    forcedDrainDown: 'weight 0; set server model/m1 state ready; set server model/m1 health down; set server model/m1 weight 100%; set server model/m1 state drain',
  };
  for (const [name, setup] of Object.entries(setups)) {
    for (const action of SERVER_ACTIONS) {
      await client.send(`set server model/m1 ${setup}`);
      const start = find(await client.showServersState('model'), 'model', 'm1');
      await client.apply({ backend: 'model', server: 'm1', action: action as ServerAction, reason: 'model check' });
      const real = find(await client.showServersState('model'), 'model', 'm1');
      const predicted: ActualServerState = applyAction(start, action);
      assert.deepEqual(
        { op: real.opState, admin: real.admin },
        { op: predicted.opState, admin: { maint: [...predicted.admin.maint], drain: [...predicted.admin.drain] } },
        `${name} + ${action}`,
      );
    }
  }
});

test('CLI: drain / maint / ready round trips, overrides file, status table and --json', async () => {
  const stateDir = join(dir, 'state');
  const run = async (...argv: string[]) => {
    const c = captureIo();
    const code = await runHaproxyCommand([...argv, '--socket', admin, '--state-dir', stateDir], c.io);
    return { code, out: c.out(), err: c.err() };
  };
  const client = new RuntimeClient(admin);
  const stateOf = async (b: string, s: string) => stateNameOf(find(await client.showServersState(b), b, s));

  let r = await run('drain', 'replicas/pg1');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /replicas\/pg1: UP → DRAIN \(set server replicas\/pg1 state drain\)/);
  assert.equal(await stateOf('replicas', 'pg1'), 'drain');
  assert.deepEqual(loadOverrides(overridesPath(stateDir)).map((o) => [o.backend, o.server, o.state]), [['replicas', 'pg1', 'drain']]);

  r = await run('drain', 'replicas/pg1');
  assert.equal(r.code, 0);
  assert.match(r.out, /already DRAIN/);

  // A member name: every backend with that server.
  r = await run('maint', 'pg2', '--json', '--reason', 'disk swap');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { ok: boolean; changes: { backend: string; after: string }[] };
  assert.equal(j.ok, true);
  assert.deepEqual(j.changes.map((c) => [c.backend, c.after]), [['primary', 'maint'], ['replicas', 'maint']]);
  assert.equal(loadOverrides(overridesPath(stateDir)).find((o) => o.backend === 'primary')?.reason, 'disk swap');

  r = await run('status');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^BACKEND\s+SERVER\s+ADDRESS\s+STATE\s+CHECK\s+SESSIONS$/m);
  assert.match(r.out, /^replicas\s+pg1\s+127\.0\.0\.1:\d+\s+DRAIN \(operator drain\)\s+DRAIN L4OK\s+0$/m);
  assert.match(r.out, /^primary\s+pg3\s+127\.0\.0\.1:\d+\s+DOWN\s+DOWN L4CON\s+0$/m);
  r = await run('status', '--json');
  const rows = JSON.parse(r.out) as { backend: string; server: string; state: string; override?: string }[];
  assert.equal(rows.find((x) => x.backend === 'primary' && x.server === 'pg2')?.state, 'MAINT');
  assert.equal(rows.find((x) => x.backend === 'primary' && x.server === 'pg2')?.override, 'maint');

  // ready from maint: never UP before a check (pg2's checks pass, so it comes UP only after one).
  r = await run('ready', 'primary/pg2');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /primary\/pg2: MAINT → DOWN \(set server primary\/pg2 weight 0; set server primary\/pg2 state ready; set server primary\/pg2 health down; set server primary\/pg2 weight 100%\)/);
  await waitFor('checks bring primary/pg2 UP', async () => (await stateOf('primary', 'pg2')) === 'up', 60_000);
  assert.deepEqual(loadOverrides(overridesPath(stateDir)).map((o) => `${o.backend}/${o.server}`), ['replicas/pg1', 'replicas/pg2']);

  // ready --leader: the confirmed leader is UP at once.
  await run('maint', 'primary/pg1');
  r = await run('ready', 'primary/pg1', '--leader');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /MAINT → UP \(set server primary\/pg1 state ready; set server primary\/pg1 health up\)/);

  // Clean up the rest.
  assert.equal((await run('ready', 'pg2')).code, 0);
  assert.equal((await run('ready', 'replicas/pg1')).code, 0);
  assert.deepEqual(loadOverrides(overridesPath(stateDir)), []);
  assert.equal(JSON.parse(readFileSync(overridesPath(stateDir), 'utf8')).version, 1);
});

test('CLI: runtime failures exit 1 with a clear message', async () => {
  const stateDir = join(dir, 'state2');
  const run = async (socket: string, ...argv: string[]) => {
    const c = captureIo();
    const code = await runHaproxyCommand([...argv, '--socket', socket, '--state-dir', stateDir], c.io);
    return { code, out: c.out(), err: c.err() };
  };
  let r = await run(admin, 'drain', 'nope/pg1');
  assert.equal(r.code, 1);
  assert.match(r.err, /no backend 'nope'/);
  r = await run(admin, 'drain', 'primary/nope');
  assert.equal(r.code, 1);
  assert.match(r.err, /no server 'nope'/);
  r = await run(admin, 'maint', 'ghost');
  assert.equal(r.code, 1);
  assert.match(r.err, /no backend has a server named 'ghost'/);
  r = await run(operator, 'drain', 'primary/pg1');
  assert.equal(r.code, 1);
  assert.match(r.err, /Permission denied.*level admin/);
  r = await run(join(dir, 'missing.sock'), 'status', '--json');
  assert.equal(r.code, 1);
  assert.match(r.err, /missing\.sock does not exist/);
  assert.equal(JSON.parse(r.out).ok, false);
  // Nothing was recorded for failed commands.
  assert.deepEqual(loadOverrides(overridesPath(stateDir)), []);
});
