/**
 * What each server state change does to established sessions and to the health checks, measured on
 * the real HAProxy (2.6 on Debian 12) — the facts the controller's fail-safe design rests on (README,
 * "Failure behaviour"). Every server has `on-marked-down shutdown-sessions` unless said otherwise, an
 * HTTP check on its own port (a local server answering 200 or 503, like Patroni's /primary) and a
 * data port echoing what it gets.
 *
 * A session "cut" is the client seeing its connection closed; a session "kept" is an echo answered
 * through it after the state change is visible on the socket (the positive signal that the change
 * has been processed).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHaproxy, haproxyTestConfig, type HaproxyInstance, type TestListen } from '../harness/haproxy.js';
import { freePorts, removeDir, tempDir, waitFor } from '../harness/process.js';
import { RuntimeClient } from '../../src/haproxy/runtime/runtimeClient.js';
import { stateNameOf } from '../../src/haproxy/runtime/serversState.js';

const INTER_MS = 200;
const FALL = 2;
const RISE = 2;
const CHECKS = `inter ${INTER_MS} fall ${FALL} rise ${RISE}`;

/** Scenario name → whether its server's check passes now. */
const checkOk = new Map<string, boolean>();
const SCENARIOS = ['checksfail', 'healthdown', 'healthdownnoopt', 'maint', 'maintnoopt', 'drain', 'shutdown', 'healthup', 'fromdown', 'readyfrommaint'] as const;
type Scenario = (typeof SCENARIOS)[number];

let dir: string;
let hap: HaproxyInstance | undefined;
let client: RuntimeClient;
const bindPort = new Map<Scenario, number>();
const closers: (Server | HttpServer)[] = [];
const clients: Socket[] = [];

before(async () => {
  dir = tempDir('hap-transitions');
  const ports = await freePorts(SCENARIOS.length * 2 + 1);
  const echo = createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  const echoPort = ports[0] as number;
  await new Promise<void>((r) => echo.listen(echoPort, '127.0.0.1', r));
  closers.push(echo);
  // One HTTP server answers every check: the path names the scenario.
  const checks = createHttpServer((req, res) => {
    const ok = checkOk.get((req.url ?? '/').slice(1)) ?? false;
    res.writeHead(ok ? 200 : 503);
    res.end(ok ? 'primary' : 'not primary');
  });
  await new Promise<void>((r) => checks.listen(0, '127.0.0.1', r));
  const checkPort = (checks.address() as { port: number }).port;
  closers.push(checks);
  const listens: TestListen[] = SCENARIOS.map((name, i) => {
    checkOk.set(name, name !== 'fromdown' && name !== 'healthup');
    const port = ports[1 + i] as number;
    bindPort.set(name, port);
    return {
      name: `t_${name}`,
      bindPort: port,
      httpCheck: `/${name}`,
      defaultServer: `${CHECKS}${name.endsWith('noopt') ? '' : ' on-marked-down shutdown-sessions'}`,
      servers: [{ name: 's', addr: '127.0.0.1', port: echoPort, extra: `port ${checkPort}` }],
    };
  });
  const admin = join(dir, 'admin.sock');
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyTestConfig({ adminSocket: admin, listens }));
  hap = await startHaproxy({ dir, configFile: cfg });
  client = new RuntimeClient(admin);
  await waitFor(
    'first checks settled',
    async () => (await client.showServersState()).every((s) => s.opState === (checkOk.get(s.backend.slice(2)) ? 'up' : 'down')),
    10_000,
  );
});

after(async () => {
  for (const c of clients) c.destroy();
  await hap?.stop();
  for (const c of closers) c.close();
  removeDir(dir);
});

interface Session {
  readonly socket: Socket;
  closed: boolean;
  echo(): Promise<boolean>;
}

/** A client session through the scenario's listen, open once an echo came back through it. */
async function session(name: Scenario): Promise<Session> {
  const socket = connect(bindPort.get(name) as number, '127.0.0.1');
  clients.push(socket);
  socket.on('error', () => {});
  const s: Session = {
    socket,
    closed: false,
    echo: () =>
      new Promise((resolve) => {
        if (s.closed) return resolve(false);
        const word = `w${Math.random()}`;
        let got = '';
        const onData = (d: Buffer): void => {
          got += d.toString();
          if (got.includes(word)) done(true);
        };
        const onClose = (): void => done(false);
        const timer = setTimeout(() => done(false), 3000);
        const done = (v: boolean): void => {
          clearTimeout(timer);
          socket.off('data', onData);
          socket.off('close', onClose);
          resolve(v);
        };
        socket.on('data', onData);
        socket.once('close', onClose);
        socket.write(word);
      }),
  };
  socket.on('close', () => {
    s.closed = true;
  });
  assert.equal(await s.echo(), true, `a session through t_${name}`);
  return s;
}

async function stateOf(name: Scenario): Promise<string> {
  const a = (await client.showServersState(`t_${name}`))[0];
  assert.ok(a);
  return stateNameOf(a);
}

const cutBound = 3000;
const waitCut = (s: Session, what: string) => waitFor(`${what}: session cut`, async () => s.closed, cutBound);

test('checks failing (UP → DOWN by the checks) cut sessions (on-marked-down shutdown-sessions)', async () => {
  const s = await session('checksfail');
  checkOk.set('checksfail', false);
  await waitFor('DOWN by its checks', async () => (await stateOf('checksfail')) === 'down', FALL * INTER_MS * 10);
  await waitCut(s, 'checks failing');
});

test('`set server health down` cuts sessions like a failed check, keeps the checks running: a passing check brings it UP after rise', async () => {
  const s = await session('healthdown');
  await client.send('set server t_healthdown/s health down');
  await waitCut(s, 'health down');
  assert.equal(await stateOf('healthdown'), 'down');
  const t0 = Date.now();
  await waitFor('UP again by its checks', async () => (await stateOf('healthdown')) === 'up', RISE * INTER_MS * 10);
  const ms = Date.now() - t0;
  assert.ok(ms >= (RISE - 1) * INTER_MS, `UP after ${ms} ms: sooner than ${RISE} checks`);
});

test('`set server health down` without on-marked-down keeps sessions', async () => {
  const s = await session('healthdownnoopt');
  await client.send('set server t_healthdownnoopt/s health down');
  await waitFor('DOWN', async () => (await stateOf('healthdownnoopt')) === 'down', 2000);
  assert.equal(await s.echo(), true, 'session kept');
});

test('`set server state maint` cuts sessions (on-marked-down) and stops the checks: it stays MAINT', async () => {
  const s = await session('maint');
  await client.send('set server t_maint/s state maint');
  await waitCut(s, 'maint');
  // The checks are off: `show servers state` reports the check as disabled-by-maint, and the server stays MAINT.
  const a = (await client.showServersState('t_maint'))[0];
  assert.deepEqual(a?.admin.maint, ['forced']);
  const stat = (await client.showServerStats()).find((x) => x.backend === 't_maint' && x.server === 's');
  assert.match(stat?.status ?? '', /MAINT/);
  await client.send('set server t_maint/s state ready');
});

test('`set server state maint` without on-marked-down keeps sessions', async () => {
  const s = await session('maintnoopt');
  await client.send('set server t_maintnoopt/s state maint');
  await waitFor('MAINT', async () => (await stateOf('maintnoopt')) === 'maint', 2000);
  assert.equal(await s.echo(), true, 'session kept');
  await client.send('set server t_maintnoopt/s state ready');
});

test('`set server state drain` keeps sessions and the checks', async () => {
  const s = await session('drain');
  await client.send('set server t_drain/s state drain');
  await waitFor('DRAIN', async () => (await stateOf('drain')) === 'drain', 2000);
  assert.equal(await s.echo(), true, 'session kept');
  await client.send('set server t_drain/s state ready');
});

test('`shutdown sessions server` cuts sessions and changes no state', async () => {
  const s = await session('shutdown');
  await client.send('shutdown sessions server t_shutdown/s');
  await waitCut(s, 'shutdown sessions');
  assert.equal(await stateOf('shutdown'), 'up');
});

test('`set server health up` against failing checks: DOWN again after fall checks', async () => {
  assert.equal(await stateOf('healthup'), 'down');
  const t0 = Date.now();
  await client.send('set server t_healthup/s health up');
  assert.equal(await stateOf('healthup'), 'up');
  await waitFor('DOWN again by its checks', async () => (await stateOf('healthup')) === 'down', FALL * INTER_MS * 10);
  const ms = Date.now() - t0;
  assert.ok(ms >= (FALL - 1) * INTER_MS, `DOWN after ${ms} ms: sooner than ${FALL} checks`);
});

test('`set server health down` on a server already DOWN: no change; a passing check then brings it UP after rise', async () => {
  assert.equal(await stateOf('fromdown'), 'down');
  await client.send('set server t_fromdown/s health down');
  assert.equal(await stateOf('fromdown'), 'down');
  checkOk.set('fromdown', true);
  await waitFor('UP by its checks', async () => (await stateOf('fromdown')) === 'up', RISE * INTER_MS * 10);
});

test('`set server state ready` out of MAINT is UP at once, before any check', async () => {
  await client.send('set server t_readyfrommaint/s state maint');
  assert.equal(await stateOf('readyfrommaint'), 'maint');
  checkOk.set('readyfrommaint', false);
  await client.send('set server t_readyfrommaint/s state ready');
  assert.equal(await stateOf('readyfrommaint'), 'up', 'UP without a passing check');
  await waitFor('DOWN by its failing checks', async () => (await stateOf('readyfrommaint')) === 'down', FALL * INTER_MS * 10);
});
