/**
 * Reloads that keep runtime state, against the real haproxy 2.6: master-socket reloads with the
 * server-state file, a rejected reload (the old worker keeps serving), and the classic `-sf` command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, createConnection, type Server } from 'node:net';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startHaproxy, haproxyTestConfig, type TestConfigOptions } from '../harness/haproxy.js';
import { freePorts, listenOn, removeDir, tempDir, waitFor, requireBinary } from '../harness/process.js';
import { RuntimeClient } from '../../src/haproxy/runtime/runtimeClient.js';
import { stateNameOf } from '../../src/haproxy/runtime/serversState.js';
import { pidOf } from '../../src/haproxy/runtime/infoList.js';
import { reloadHaproxy, createReloadStrategy, saveServerState } from '../../src/haproxy/reload/reloadHaproxy.js';
import { masterSocketReload } from '../../src/haproxy/reload/masterSocketReload.js';
import { commandReload, systemdReload } from '../../src/haproxy/reload/commandReload.js';
import { ReloadFailedError } from '../../src/haproxy/reload/reloadStrategy.js';
import { parseServersState } from '../../src/haproxy/runtime/serversState.js';
import { silentLogger } from '../../src/log/logger.js';

const log = silentLogger();

interface Setup {
  dir: string;
  cfgFile: string;
  admin: string;
  stateFile: string;
  opts: (pg2Port?: number) => TestConfigOptions;
  ports: { write: number; read: number; pg1: number; pg2: number; pg2b: number };
  live: Server[];
}

async function setup(tag: string): Promise<Setup> {
  const dir = tempDir(tag);
  const [write, read, pg1, pg2, pg2b] = (await freePorts(5)) as [number, number, number, number, number];
  const live: Server[] = [];
  for (const port of [pg1, pg2, pg2b]) {
    const srv = createServer((s) => s.on('error', () => {}).resume());
    await listenOn(srv, port);
    live.push(srv);
  }
  const admin = join(dir, 'admin.sock');
  const stateFile = join(dir, 'server-state');
  const opts = (pg2Port = pg2): TestConfigOptions => ({
    adminSocket: admin,
    serverStateFile: stateFile,
    hardStopAfter: '3s',
    listens: [
      { name: 'primary', bindPort: write, defaultServer: 'inter 2s fall 3 rise 2', servers: [
        { name: 'pg1', addr: '127.0.0.1', port: pg1 }, { name: 'pg2', addr: '127.0.0.1', port: pg2Port },
      ] },
      { name: 'replicas', bindPort: read, defaultServer: 'inter 2s fall 3 rise 2', servers: [
        { name: 'pg1', addr: '127.0.0.1', port: pg1 }, { name: 'pg2', addr: '127.0.0.1', port: pg2Port },
      ] },
    ],
  });
  const cfgFile = join(dir, 'haproxy.cfg');
  writeFileSync(cfgFile, haproxyTestConfig(opts()));
  return { dir, cfgFile, admin, stateFile, opts, ports: { write, read, pg1, pg2, pg2b }, live };
}

async function teardown(s: Setup): Promise<void> {
  for (const l of s.live) l.close();
  removeDir(s.dir);
}

/** Opens a TCP connection through HAProxy's port and reports whether it stays open briefly. */
async function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(port, '127.0.0.1');
    c.on('error', () => resolve(false));
    c.on('connect', () => {
      setTimeout(() => {
        const ok = !c.destroyed;
        c.destroy();
        resolve(ok);
      }, 50);
    });
  });
}

test('master-socket reload keeps drain/maint through the server-state file; a changed port is not restored', async () => {
  const s = await setup('hap-reload');
  const hap = await startHaproxy({ dir: s.dir, configFile: s.cfgFile });
  try {
    const client = new RuntimeClient(s.admin);
    await client.apply({ backend: 'replicas', server: 'pg1', action: 'drain', reason: 't' });
    await client.apply({ backend: 'primary', server: 'pg2', action: 'maint', reason: 't' });
    await client.apply({ backend: 'replicas', server: 'pg2', action: 'maint', reason: 't' });
    const strategy = masterSocketReload({ masterSocket: hap.masterSocket, configFile: s.cfgFile });
    const oldPid = await hap.workerPid();

    // Same config: every runtime state survives.
    const r1 = await reloadHaproxy(strategy, { stateFile: s.stateFile, adminSocket: s.admin, newConfigText: readFileSync(s.cfgFile, 'utf8') }, log);
    assert.equal(r1.strategy, 'master-socket');
    assert.equal(r1.oldPid, oldPid);
    assert.notEqual(r1.newPid, oldPid);
    assert.equal(r1.newPid, await hap.workerPid());
    assert.equal(r1.confirmed, true);
    assert.equal(r1.savedServers, 4);
    assert.deepEqual(r1.droppedServers, []);
    assert.equal(pidOf(await client.showInfo()), r1.newPid);
    let state = await client.showServersState();
    assert.deepEqual(state.map((x) => `${x.backend}/${x.server}=${stateNameOf(x)}`), [
      'primary/pg1=up', 'primary/pg2=maint', 'replicas/pg1=drain', 'replicas/pg2=maint',
    ]);
    assert.equal(parseServersState(readFileSync(s.stateFile, 'utf8')).servers.length, 4);

    // pg2 moves to another port: its old state is left out, so it comes back with the new port, out of maint.
    const moved = haproxyTestConfig(s.opts(s.ports.pg2b));
    writeFileSync(s.cfgFile, moved);
    const r2 = await reloadHaproxy(strategy, { stateFile: s.stateFile, adminSocket: s.admin, newConfigText: moved }, log);
    assert.deepEqual(r2.droppedServers.map((d) => d.ref), ['primary/pg2', 'replicas/pg2']);
    assert.match(r2.droppedServers[0]?.reason ?? '', new RegExp(`port ${s.ports.pg2} → ${s.ports.pg2b}`));
    state = await client.showServersState();
    const pg2 = state.find((x) => x.backend === 'primary' && x.server === 'pg2');
    assert.equal(pg2?.port, s.ports.pg2b);
    assert.equal(pg2?.admin.maint.length, 0);
    assert.equal(stateNameOf(state.find((x) => x.backend === 'replicas' && x.server === 'pg1')!), 'drain');
  } finally {
    await hap.stop();
    await teardown(s);
  }
});

test('a reload adding servers: a health-checked one starts DOWN and only its checks make it UP; an unchecked one is UP', async () => {
  const s = await setup('hap-newsrv');
  const hap = await startHaproxy({ dir: s.dir, configFile: s.cfgFile });
  try {
    const client = new RuntimeClient(s.admin);
    const strategy = masterSocketReload({ masterSocket: hap.masterSocket, configFile: s.cfgFile });
    const base = s.opts();
    const primary = base.listens[0] as TestConfigOptions['listens'][number];
    const grown = haproxyTestConfig({
      ...base,
      listens: [
        { ...primary, defaultServer: 'inter 300ms fall 3 rise 2', servers: [...primary.servers, { name: 'pg3', addr: '127.0.0.1', port: s.ports.pg2b }, { name: 'pg4', addr: '127.0.0.1', port: s.ports.pg2b, check: false }] },
        ...base.listens.slice(1),
      ],
    });
    writeFileSync(s.cfgFile, grown);
    await reloadHaproxy(strategy, { stateFile: s.stateFile, adminSocket: s.admin, newConfigText: grown }, log);
    const first = await client.showServersState('primary');
    const state = (name: string): string => stateNameOf(first.find((x) => x.server === name)!);
    assert.equal(state('pg3'), 'down', 'the new checked server waits for its checks');
    assert.equal(state('pg4'), 'up', 'a server without checks has nothing to wait for');
    assert.match(readFileSync(s.stateFile, 'utf8'), / pg3 127\.0\.0\.1 0 0 1 1 0 8 2 0 6 /);
    await waitFor('pg3 UP after its checks pass', async () => stateNameOf((await client.showServersState('primary')).find((x) => x.server === 'pg3')!) === 'up', 60_000, 50);
  } finally {
    await hap.stop();
    await teardown(s);
  }
});

test('without the state file a reload forgets drain (why the dump matters)', async () => {
  const s = await setup('hap-reload-nostate');
  const hap = await startHaproxy({ dir: s.dir, configFile: s.cfgFile });
  try {
    const client = new RuntimeClient(s.admin);
    await client.apply({ backend: 'replicas', server: 'pg1', action: 'drain', reason: 't' });
    const r = await reloadHaproxy(createReloadStrategy({ kind: 'master-socket', masterSocket: hap.masterSocket }), {}, log);
    assert.equal(r.stateSkipped, 'no server-state file configured');
    const pg1 = (await client.showServersState('replicas')).find((x) => x.server === 'pg1');
    assert.equal(stateNameOf(pg1!), 'up');
  } finally {
    await hap.stop();
    await teardown(s);
  }
});

test('a reload HAProxy rejects is a ReloadFailedError quoting HAProxy, and the old worker keeps serving', async () => {
  const s = await setup('hap-reload-bad');
  const hap = await startHaproxy({ dir: s.dir, configFile: s.cfgFile });
  try {
    const client = new RuntimeClient(s.admin);
    await client.apply({ backend: 'replicas', server: 'pg1', action: 'drain', reason: 't' });
    const oldPid = await hap.workerPid();
    const broken = `${readFileSync(s.cfgFile, 'utf8')}\nlisten broken\n    bind 127.0.0.1:1\n    server x 127.0.0.1:2 frobnicate\n`;
    writeFileSync(s.cfgFile, broken);
    const strategy = masterSocketReload({ masterSocket: hap.masterSocket, configFile: s.cfgFile, timeoutMs: 5000 });
    await assert.rejects(
      reloadHaproxy(strategy, { stateFile: s.stateFile, adminSocket: s.admin, newConfigText: broken }, log),
      (e: unknown) =>
        e instanceof ReloadFailedError &&
        e.strategy === 'master-socket' &&
        /failed reloads 0 → 1/.test(e.message) &&
        /unknown keyword 'frobnicate'/.test(e.haproxyMessage ?? '') &&
        e.message.includes(`old worker ${oldPid} keeps serving`),
    );
    // The old worker still serves, with its runtime state.
    assert.equal(await hap.workerPid(), oldPid);
    assert.equal(pidOf(await client.showInfo()), oldPid);
    assert.equal(stateNameOf((await client.showServersState('replicas')).find((x) => x.server === 'pg1')!), 'drain');
    assert.equal(await connects(s.ports.write), true);
    // Fixed config: the next reload succeeds.
    writeFileSync(s.cfgFile, haproxyTestConfig(s.opts()));
    const ok = await reloadHaproxy(strategy, { stateFile: s.stateFile, adminSocket: s.admin, newConfigText: readFileSync(s.cfgFile, 'utf8') }, log);
    assert.notEqual(ok.newPid, oldPid);
  } finally {
    await hap.stop();
    await teardown(s);
  }
});

test('a valid config whose port is taken: the reload fails, -c passes, the message says so', async () => {
  const s = await setup('hap-reload-port');
  const hap = await startHaproxy({ dir: s.dir, configFile: s.cfgFile });
  const blocker = createServer();
  try {
    const [busy] = await freePorts(1);
    await new Promise<void>((r) => blocker.listen(busy, '127.0.0.1', r));
    const opts = s.opts();
    writeFileSync(s.cfgFile, haproxyTestConfig({ ...opts, listens: [...opts.listens, { name: 'clash', bindPort: busy!, servers: [] }] }));
    const oldPid = await hap.workerPid();
    await assert.rejects(
      masterSocketReload({ masterSocket: hap.masterSocket, configFile: s.cfgFile, timeoutMs: 5000 }).reload(log),
      (e: unknown) => e instanceof ReloadFailedError && /passes, so the new worker failed at start-up/.test(e.haproxyMessage ?? ''),
    );
    assert.equal(await hap.workerPid(), oldPid);
  } finally {
    blocker.close();
    await hap.stop();
    await teardown(s);
  }
});

test('classic command reload (-D -p -x -sf): confirmed by the new Pid; a failing command is reported, old process serves', async () => {
  const haproxy = requireBinary('haproxy', 'haproxy');
  const s = await setup('hap-reload-cmd');
  const pidFile = join(s.dir, 'haproxy.pid');
  const killAll = (): void => {
    for (const p of existsSync(pidFile) ? readFileSync(pidFile, 'utf8').split(/\s+/).filter(Boolean) : []) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  const pids = new Set<number>();
  try {
    const cmd = `${haproxy} -D -f ${s.cfgFile} -p ${pidFile} -x ${s.admin} -sf $(cat ${pidFile} 2>/dev/null)`;
    const strategy = commandReload({ command: cmd, adminSocket: s.admin, timeoutMs: 5000 });
    // First start: the same command without -x/-sf (there is no old process to take sockets from).
    const r0 = await commandReload({ command: `${haproxy} -D -f ${s.cfgFile} -p ${pidFile}`, adminSocket: s.admin, timeoutMs: 5000 }).reload(log);
    assert.equal(r0.oldPid, undefined);
    assert.ok(r0.newPid);
    pids.add(r0.newPid);
    const client = new RuntimeClient(s.admin);
    await client.apply({ backend: 'replicas', server: 'pg2', action: 'drain', reason: 't' });
    const r1 = await reloadHaproxy(strategy, { stateFile: s.stateFile, adminSocket: s.admin, newConfigText: readFileSync(s.cfgFile, 'utf8') }, log);
    pids.add(r1.newPid!);
    assert.equal(r1.strategy, 'command');
    assert.equal(r1.oldPid, r0.newPid);
    assert.notEqual(r1.newPid, r0.newPid);
    assert.equal(stateNameOf((await client.showServersState('replicas')).find((x) => x.server === 'pg2')!), 'drain');
    await waitFor('old process gone', () => {
      try {
        process.kill(r0.newPid!, 0);
        return false;
      } catch {
        return true;
      }
    }, 60_000);

    writeFileSync(s.cfgFile, `${readFileSync(s.cfgFile, 'utf8')}\nlisten broken\n    bind 127.0.0.1:1\n    server x 127.0.0.1:2 frobnicate\n`);
    await assert.rejects(
      strategy.reload(log),
      (e: unknown) => e instanceof ReloadFailedError && e.strategy === 'command' && /exit 1/.test(e.message) && /unknown keyword 'frobnicate'/.test(e.haproxyMessage ?? ''),
    );
    assert.equal(pidOf(await client.showInfo()), r1.newPid);
    assert.equal(await connects(s.ports.write), true);
  } finally {
    killAll();
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await teardown(s);
  }
});

test('command and systemd strategies: timeouts and bad unit names', async () => {
  const r = commandReload({ command: 'sleep 5; echo never', timeoutMs: 200 });
  const t0 = Date.now();
  await assert.rejects(r.reload(log), (e: unknown) => e instanceof ReloadFailedError && /did not finish within 200 ms/.test(e.message));
  // The hung command is killed with its whole process group; we do not wait for it.
  assert.ok(Date.now() - t0 < 4500, `took ${Date.now() - t0} ms (the command sleeps 5 s)`);
  assert.throws(() => systemdReload({ unit: 'haproxy; rm -rf /' }), /invalid systemd unit name/);
  assert.equal(systemdReload({ unit: 'haproxy.service' }).description, 'systemctl reload haproxy.service');
});

test('saveServerState: unreadable socket leaves an empty (not stale) state file', async () => {
  const dir = tempDir('hap-state');
  try {
    const stateFile = join(dir, 'server-state');
    writeFileSync(stateFile, '1\n# stale\n3 primary 1 pg1 10.0.0.1 2 0 1 1 0 8 2 0 14 0 0 0 - 5432 - 0 0 - - 0\n');
    const r = await saveServerState({ stateFile, adminSocket: join(dir, 'none.sock'), newConfigText: '' }, log);
    assert.match(r.skipped ?? '', /could not read 'show servers state'.*does not exist/);
    assert.deepEqual(parseServersState(readFileSync(stateFile, 'utf8')).servers, []);
  } finally {
    removeDir(dir);
  }
});
