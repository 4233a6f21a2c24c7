/**
 * Membership changes without a reload, against a real HAProxy 2.6 running the shipped
 * haproxy.cfg.hbs (test/integration/controller-fixture.ts): a member added to the rendered file
 * becomes `add server` with every keyword, a member removed becomes `del server` (after its
 * sessions, bounded by removal_grace), the worker is never replaced — and everything that cannot go
 * through the runtime API falls back to a reload with its reason.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { waitFor } from '../harness/process.js';
import { startCli } from '../harness/cli.js';
import { writeHaproxyResource } from '../harness/haproxyResource.js';
import { clusterPairs } from '../harness/patroniKeys.js';
import { metricValue, steady, waitStates, withRig, writeControllerToml, type Rig, W, R } from './controller-fixture.js';
import { createReloadStrategy, reloadHaproxy } from '../../src/haproxy/reload/reloadHaproxy.js';
import type { HaproxyController } from '../../src/haproxy/controller/controller.js';

/** The rendered file plus member pg4 (a replica answering on pg3's ports) in every listen. */
function withPg4(cfg: string): string {
  return cfg.replace(/^(\s+server pg3 .*)$/gm, (line) => `${line}\n${line.replace('pg3', 'pg4')}`);
}

function withoutPg3(cfg: string): string {
  return cfg.replace(/^\s+server pg3 .*\n/gm, '');
}

function snapshotWithPg4(rig: Rig): ReturnType<Rig['snapshot']> {
  const pg4 = rig.node('pg3').member();
  return rig.snapshot('pg1', [['/service/demo/members/pg4', JSON.stringify({ conn_url: `postgres://127.0.0.1:${pg4.port}/postgres`, api_url: `http://127.0.0.1:${pg4.apiPort}/patroni`, state: 'running', role: 'replica', version: '3.0.2' })]]);
}

/** Steady controller that knows the rig's file as the running config (as after a reload it ran). */
async function steadyKnowing(rig: Rig, table: Record<string, unknown> = {}, registry = new Registry()): Promise<HaproxyController> {
  const c = await steady(rig, table, { registry });
  c.noteLoaded(rig.cfgFile, readFileSync(rig.cfgFile, 'utf8'));
  return c;
}

async function commit(rig: Rig, c: HaproxyController, cfg: string): Promise<Awaited<ReturnType<HaproxyController['applyMembership']>>> {
  writeFileSync(rig.cfgFile, cfg);
  return c.applyMembership(rig.cfgFile, cfg);
}

/**
 * A session on pg1 (the leader, through the write port), then pg1 removed from the file: it waits,
 * drained, for that session (removal_grace 1h). The caller destroys `s`.
 */
async function leaderRemovedWithSession(rig: Rig): Promise<{ c: HaproxyController; cfg: string; s: Socket }> {
  const c = await steadyKnowing(rig, { removal_grace: '1h' });
  rig.node('pg1').hold = true;
  const s = connect({ host: '127.0.0.1', port: rig.ports.write });
  await new Promise((r) => s.once('data', r));
  const cfg = readFileSync(rig.cfgFile, 'utf8');
  const o1 = await commit(rig, c, cfg.replace(/^\s+server pg1 .*\n/gm, ''));
  assert.ok(o1.applied && o1.waiting.includes('demo_primary/pg1'), JSON.stringify(o1));
  return { c, cfg, s };
}

/** A session through the read port that landed on pg3 (held open by it); `held` are all sockets opened. */
async function readSessionOnPg3(rig: Rig): Promise<{ held: Socket[]; onPg3: Socket }> {
  rig.node('pg3').hold = true;
  const held: Socket[] = [];
  let onPg3: Socket | undefined;
  for (let i = 0; i < 6 && onPg3 === undefined; i++) {
    const s = connect({ host: '127.0.0.1', port: rig.ports.read });
    held.push(s);
    const who = await new Promise<string>((resolve) => {
      s.once('data', (d: Buffer) => resolve(d.toString('utf8').trim()));
      s.once('error', () => resolve('error'));
      s.once('close', () => resolve('closed'));
    });
    if (who === 'pg3') onPg3 = s;
  }
  if (onPg3 === undefined) {
    for (const s of held) s.destroy();
    assert.fail('no session through the read port on pg3');
  }
  return { held, onPg3 };
}

/**
 * Reloads the rig's HAProxy to `cfg` the way the daemon's reload step does (prepare, reload with
 * passes running, note what loaded); resolves to the new worker's PID.
 */
async function reloadTo(rig: Rig, c: HaproxyController, cfg: string): Promise<number | undefined> {
  writeFileSync(rig.cfgFile, cfg);
  const strategy = createReloadStrategy({ kind: 'master-socket', masterSocket: rig.haproxy.masterSocket, configFile: rig.cfgFile, timeoutMs: 5000 });
  await c.prepareReload(cfg);
  const r = await c.duringReload(() => reloadHaproxy(strategy, { stateFile: join(rig.dir, 'server-state'), adminSocket: rig.socket, newConfigText: cfg }, rig.log));
  assert.ok(r.confirmed, JSON.stringify(r));
  c.noteLoaded(rig.cfgFile, cfg);
  return r.newPid;
}

describe('membership through the runtime API (real HAProxy)', { timeout: 600_000 }, () => {
  test('a member added: add server with every keyword, checks on, its roles at once; no reload; a later reload keeps it', async () => {
    await withRig(async (rig) => {
      const registry = new Registry();
      const c = await steadyKnowing(rig, {}, registry);
      const pid = await rig.haproxy.workerPid();
      c.setSnapshot(snapshotWithPg4(rig));
      const o = await commit(rig, c, withPg4(readFileSync(rig.cfgFile, 'utf8')));
      assert.ok(o.applied, JSON.stringify(o));
      assert.deepEqual([...o.added].sort(), ['demo_primary/pg4', 'demo_replicas/pg4']);
      assert.equal(await rig.haproxy.workerPid(), pid, 'no reload: the same worker');
      await waitStates(rig, W, { pg1: 'up', pg2: 'down', pg3: 'down', pg4: 'down' });
      // A replica: ready, starting DOWN; HAProxy's checks (enabled after the add) make it UP.
      await waitStates(rig, R, { pg1: 'down', pg4: 'up' }, 60_000);
      const pg4 = (await rig.servers()).find((s) => s.backend === R && s.server === 'pg4');
      assert.equal(pg4?.checkPort, rig.node('pg3').apiPort, 'check port from the server line');
      assert.equal(pg4?.port, rig.node('pg3').pgPort);
      assert.equal(await metricValue(registry, 'haconfd_controller_commands_total', { action: 'add', kind: 'membership', result: 'ok' }), 2);
      assert.equal(await metricValue(registry, 'haconfd_controller_membership_changes_total', { outcome: 'runtime' }), 1);
      assert.ok(rig.logs.some((l) => l.includes('demo_replicas/pg4 added at runtime')));
      // The moment between the DCS naming pg4 and its add is no warning (issue 13: it was noise).
      assert.ok(!rig.logs.some((l) => l.includes('HAProxy lacks')), rig.logs.join('\n'));

      // A reload later (any other change) reads the file, which has pg4: it stays, in its role.
      assert.notEqual(await reloadTo(rig, c, readFileSync(rig.cfgFile, 'utf8')), pid);
      await waitStates(rig, W, { pg1: 'up', pg2: 'down', pg3: 'down', pg4: 'down' });
      await waitStates(rig, R, { pg1: 'down', pg4: 'up' }, 60_000);
    }, { checkInter: '300ms' });
  });

  test('a member removed: MAINT and del server at once when it has no sessions; no reload', async () => {
    await withRig(async (rig) => {
      const c = await steadyKnowing(rig);
      const pid = await rig.haproxy.workerPid();
      c.setSnapshot(rig.snapshot('pg1', [], undefined, ['pg1', 'pg2']));
      const o = await commit(rig, c, withoutPg3(readFileSync(rig.cfgFile, 'utf8')));
      assert.ok(o.applied, JSON.stringify(o));
      assert.deepEqual([...o.removed].sort(), ['demo_primary/pg3', 'demo_replicas/pg3']);
      assert.deepEqual(o.waiting, []);
      assert.equal(await rig.haproxy.workerPid(), pid);
      assert.deepEqual(await rig.states(W), { pg1: 'up', pg2: 'down' });
      assert.deepEqual(await rig.states(R), { pg1: 'down', pg2: 'up' });
      for (let i = 0; i < 4; i++) assert.equal(await rig.through(rig.ports.read), 'pg2');
    }, { checkInter: '30s' });
  });

  test('a removed member whose Postgres refuses connections: deleted only once no stream waiting to retry on it is left (HAProxy 2.6 crashes on a server deleted under one); the worker survives', async () => {
    await withRig(async (rig) => {
      const c = await steadyKnowing(rig, { interval: '100ms' });
      // A config without `on-marked-down shutdown-sessions` (confd users' own templates): MAINT then
      // leaves a stream waiting to retry its connect (`retries 2`, 1 s apart) pointing at the server.
      const full = readFileSync(rig.cfgFile, 'utf8').replace(/ on-marked-down shutdown-sessions/g, '');
      const pid = await reloadTo(rig, c, full);
      await waitStates(rig, R, { pg3: 'up' }, 60_000);
      await rig.node('pg3').refuse();
      // Streams of the read listen past the queue (scb state 3+: retrying, connecting, connected…)
      // with no server: their server was deleted under them.
      const orphans = async (): Promise<number> => (await rig.client.send('show sess')).body.split('\n').filter((l) => / be=demo_replicas srv=<none> .* scb=\[([3-9]|1\d),/.test(l)).length;
      const sockets = new Set<Socket>();
      // A new connection through the read port every 5 ms, closed once answered: those HAProxy
      // hands to pg3 are refused, retried, then closed by HAProxy.
      const load = setInterval(() => {
        const s = connect({ host: '127.0.0.1', port: rig.ports.read });
        sockets.add(s);
        s.on('data', () => s.destroy());
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      }, 5);
      try {
        for (let round = 1; round <= 2; round++) {
          await waitFor(`round ${round}: streams waiting to retry on demo_replicas/pg3`, async () => ((await rig.client.streamsByServer()).get('demo_replicas/pg3') ?? 0) > 0, 60_000, 5);
          c.setSnapshot(rig.snapshot('pg1', [], undefined, ['pg1', 'pg2']));
          const o = await commit(rig, c, withoutPg3(full));
          assert.ok(o.applied, JSON.stringify(o));
          assert.ok(o.waiting.includes('demo_replicas/pg3'), `round ${round}: waits for the streams, in MAINT: ${JSON.stringify(o)}`);
          assert.equal((await rig.states(R))['pg3'], 'maint');
          assert.ok(rig.logs.some((l) => l.includes('demo_replicas/pg3 removed from the config: in MAINT, deleted once the')), rig.logs.join('\n'));
          await waitFor(`round ${round}: demo_replicas/pg3 deleted`, async () => !('pg3' in (await rig.states(R))), 60_000, 20);
          assert.equal(await orphans(), 0, `round ${round}: no stream lost its server`);
          assert.equal(rig.haproxy.process.exited(), false, `round ${round}: HAProxy runs`);
          assert.equal(await rig.haproxy.workerPid(), pid, `round ${round}: the same worker`);
          // pg3 a member again (its Postgres still refusing): added, UP by its checks, streams again.
          c.setSnapshot(rig.snapshot('pg1'));
          const back = await commit(rig, c, full);
          assert.ok(back.applied && back.added.includes('demo_replicas/pg3'), JSON.stringify(back));
          await waitStates(rig, R, { pg3: 'up' }, 60_000);
        }
      } finally {
        clearInterval(load);
        for (const s of sockets) s.destroy();
      }
      assert.equal(rig.haproxy.process.exited(), false, 'HAProxy runs');
      assert.equal(await rig.haproxy.workerPid(), pid, 'the same worker');
    }, { checkInter: '300ms' });
  });

  test('a removed member with a session: it waits drained (no new connections, its session kept), sessions shut after removal_grace, then deleted', async () => {
    await withRig(async (rig) => {
      const registry = new Registry();
      const c = await steadyKnowing(rig, { removal_grace: '1s', interval: '100ms' }, registry);
      const { held, onPg3 } = await readSessionOnPg3(rig);
      const closed = new Promise<number>((resolve) => onPg3?.once('close', () => resolve(Date.now())));
      try {
        c.setSnapshot(rig.snapshot('pg1', [], undefined, ['pg1', 'pg2']));
        const started = Date.now();
        const o = await commit(rig, c, withoutPg3(readFileSync(rig.cfgFile, 'utf8')));
        assert.ok(o.applied, JSON.stringify(o));
        assert.deepEqual(o.waiting, ['demo_replicas/pg3'], 'the server with a session waits');
        assert.equal((await rig.states(R))['pg3'], 'drain', 'drained, its session kept');
        for (let i = 0; i < 4; i++) assert.equal(await rig.through(rig.ports.read), 'pg2', 'no new connection goes to it');
        const reconciled = await c.reconcileNow();
        assert.ok(!reconciled.commands.some((x) => x.server === 'pg3'), 'the planner leaves it alone');
        await waitFor('demo_replicas/pg3 deleted', async () => !('pg3' in (await rig.states(R))), 60_000, 50);
        const closedAt = await closed;
        assert.ok(closedAt - started >= 900, `sessions kept for the grace (${closedAt - started} ms)`);
        assert.ok(rig.logs.some((l) => l.includes('still has sessions: shutting them down')));
        assert.equal(await metricValue(registry, 'haconfd_controller_commands_total', { action: 'del', kind: 'membership', result: 'ok' }), 2);
      } finally {
        for (const s of held) s.destroy();
      }
    }, { checkInter: '30s' });
  });

  test('a member removed and back before its removal completed: kept, given its role again', async () => {
    await withRig(async (rig) => {
      const { c, cfg, s } = await leaderRemovedWithSession(rig);
      try {
        assert.equal((await rig.states(W))['pg1'], 'drain');
        const o2 = await commit(rig, c, cfg);
        // demo_replicas/pg1 had no session and was deleted at once: it is added again.
        assert.ok(o2.applied && o2.added.join() === 'demo_replicas/pg1' && o2.waiting.length === 0, JSON.stringify(o2));
        assert.ok(rig.logs.some((l) => l.includes('demo_primary/pg1 is back before its removal completed')));
        await waitStates(rig, W, { pg1: 'up', pg2: 'down', pg3: 'down' });
        await waitStates(rig, R, { pg1: 'down' });
      } finally {
        s.destroy();
      }
    }, { checkInter: '30s' });
  });

  const comebacks = [
    {
      how: 'with another server line (a weight)',
      change: (cfg: string) => cfg.replace(/^(\s+server pg1 .*)$/gm, '$1 weight 50'),
      reason: /demo_primary\/pg1 came back with a different server line/,
      weight: 50,
    },
    {
      how: 'as it was, with a change that needs a reload',
      change: (cfg: string) => cfg.replace(/^(\s+timeout connect) .*$/m, '$1 7s'),
      reason: /not a server line/,
      weight: 1,
    },
  ];
  for (const { how, change, reason, weight } of comebacks) test(`a member removed, then back ${how} before its removal completed: reloaded, never deleted while the config lists it`, async () => {
    await withRig(async (rig) => {
      const { c, cfg, s } = await leaderRemovedWithSession(rig);
      try {
        const changed = change(cfg);
        assert.notEqual(changed, cfg);
        const o2 = await commit(rig, c, changed);
        assert.ok(!o2.applied && reason.test(o2.reason), JSON.stringify(o2));
        const pid = await rig.haproxy.workerPid();
        assert.notEqual(await reloadTo(rig, c, changed), pid);
        // Passes after the reload leave it in place, in its role, with the new line.
        for (let i = 0; i < 3; i++) await c.reconcileNow();
        await waitStates(rig, W, { pg1: 'up', pg2: 'down', pg3: 'down' });
        const pg1 = (await rig.servers()).find((x) => x.backend === W && x.server === 'pg1');
        assert.equal(pg1?.userWeight, weight, 'the new worker has the new line');
        assert.deepEqual(c.lastReport?.commands.filter((x) => x.server === 'pg1') ?? [], []);
        assert.ok(!rig.logs.some((l) => l.includes('demo_primary/pg1 deleted at runtime')), rig.logs.join('\n'));
      } finally {
        s.destroy();
      }
    }, { checkInter: '30s' });
  });

  test('a removed server in MAINT (an operator override) with a session stays in MAINT while it waits: drain would lift MAINT', async () => {
    await withRig(async (rig) => {
      const c = await steadyKnowing(rig, { removal_grace: '1h', interval: '100ms' });
      // Without shutdown-sessions, MAINT keeps a server's sessions.
      const noCut = readFileSync(rig.cfgFile, 'utf8').replace(/ on-marked-down shutdown-sessions/g, '');
      await reloadTo(rig, c, noCut);
      await waitStates(rig, R, { pg1: 'down', pg2: 'up', pg3: 'up' });
      const { held, onPg3 } = await readSessionOnPg3(rig);
      try {
        writeFileSync(join(rig.dir, 'overrides.json'), JSON.stringify({ version: 1, overrides: [{ backend: R, server: 'pg3', state: 'maint' }] }));
        await waitStates(rig, R, { pg3: 'maint' });
        assert.ok(!onPg3.destroyed && onPg3.readyState === 'open', 'MAINT kept the session');
        const o = await commit(rig, c, withoutPg3(noCut));
        assert.ok(o.applied && o.waiting.includes(`${R}/pg3`), JSON.stringify(o));
        assert.equal((await rig.states(R))['pg3'], 'maint', 'still MAINT, not lifted to DRAIN');
        await c.reconcileNow();
        assert.equal((await rig.states(R))['pg3'], 'maint');
        assert.ok(rig.logs.some((l) => l.includes(`${R}/pg3 removed from the config: in MAINT`)), rig.logs.join('\n'));
      } finally {
        for (const s of held) s.destroy();
      }
    }, { checkInter: '30s' });
  });

  test('del server refused for good (another server tracks it): left in MAINT, not steered, logged; the next change reloads', async () => {
    await withRig(async (rig) => {
      const c = await steadyKnowing(rig, { interval: '100ms' });
      // A server elsewhere tracks demo_replicas/pg3: HAProxy will not delete pg3 while t1 exists.
      const tracked = `${readFileSync(rig.cfgFile, 'utf8')}\nbackend trk\n    server t1 127.0.0.1:9 track ${R}/pg3\n`;
      await reloadTo(rig, c, tracked);
      await waitStates(rig, R, { pg1: 'down', pg2: 'up', pg3: 'up' });
      // pg3 leaves the DCS and the config, and t1 with it; pg3 comes first, while t1 still tracks it.
      c.setSnapshot(rig.snapshot('pg1', [], undefined, ['pg1', 'pg2']));
      const next = withoutPg3(tracked).replace(/^\s+server t1 .*\n/m, '');
      const o = await commit(rig, c, next);
      assert.ok(o.applied, JSON.stringify(o));
      assert.ok(o.removed.includes(`${W}/pg3`) && !o.removed.includes(`${R}/pg3`), JSON.stringify(o));
      assert.deepEqual(o.waiting, [], 'not retried every pass');
      assert.ok(rig.logs.some((l) => l.includes(`${R}/pg3 removed from the config but HAProxy refuses to delete it`)), rig.logs.join('\n'));
      for (let i = 0; i < 3; i++) await c.reconcileNow();
      assert.equal((await rig.states(R))['pg3'], 'maint', 'left in MAINT, not steered back');
      const again = await c.applyMembership(rig.cfgFile, next);
      assert.ok(!again.applied && /not known/.test(again.reason), JSON.stringify(again));
    }, { checkInter: '30s' });
  });

  test('a reload that moves the routed leader (new port): the new worker starts it DOWN, the controller routes it again at once', async () => {
    await withRig(async (rig) => {
      const c = await steadyKnowing(rig);
      await c.reconcileNow();
      const cfg = readFileSync(rig.cfgFile, 'utf8');
      const from = `127.0.0.1:${rig.node('pg1').pgPort}`;
      const to = `127.0.0.1:${rig.node('pg3').pgPort}`;
      const moved = cfg.replace(new RegExp(`(server pg1 )${from.replace(/\./g, '\\.')}\\b`, 'g'), `$1${to}`);
      assert.notEqual(moved, cfg);
      await reloadTo(rig, c, moved);
      // Checks every 30 s would take a minute to bring it UP; the controller does it now.
      await waitStates(rig, W, { pg1: 'up', pg2: 'down', pg3: 'down' }, 60_000);
      const pg1 = (await rig.servers()).find((x) => x.backend === W && x.server === 'pg1');
      assert.equal(`${pg1?.addr}:${pg1?.port}`, to);
      assert.ok(rig.logs.some((l) => l.includes(`moved (${from} → ${to}) since the leader was routed`) || l.includes('leader pg1 of demo is routed again on the new HAProxy worker')), rig.logs.join('\n'));
    }, { checkInter: '30s' });
  });

  test('bad input: every change that cannot go through the runtime API is refused with its reason (the caller reloads)', async () => {
    await withRig(async (rig) => {
      const registry = new Registry();
      const c = await steady(rig, {}, { registry });
      const cfg = readFileSync(rig.cfgFile, 'utf8');
      // The running config is not known (nothing noted or adopted).
      const unknown = await c.applyMembership(rig.cfgFile, withPg4(cfg));
      assert.ok(!unknown.applied && /not known/.test(unknown.reason), JSON.stringify(unknown));
      c.noteLoaded(rig.cfgFile, cfg);
      // Something besides server lines changed.
      const other = await c.applyMembership(rig.cfgFile, cfg.replace(/timeout connect \S+/, 'timeout connect 7s'));
      assert.ok(!other.applied && /timeout connect 7s.*not a server line/.test(other.reason), JSON.stringify(other));
      // A server line changed (address).
      const moved = await c.applyMembership(rig.cfgFile, cfg.replace(/(server pg2 127\.0\.0\.1):\d+/, '$1:1'));
      assert.ok(!moved.applied && /demo_primary\/pg2 changed/.test(moved.reason), JSON.stringify(moved));
      // A server HAProxy already has (added by hand) under the name the file adds.
      await rig.client.send(`add server ${W}/pg4 127.0.0.1:1`);
      const exists = await c.applyMembership(rig.cfgFile, withPg4(cfg));
      assert.ok(!exists.applied && /demo_primary\/pg4 already exists/.test(exists.reason), JSON.stringify(exists));
      await rig.client.send(`del server ${W}/pg4`);
      // A keyword HAProxy refuses for dynamic servers: its own error is the reason.
      const refused = await c.applyMembership(rig.cfgFile, withPg4(cfg).replace(/(server pg4 \S+)/g, '$1 redir http://x'));
      assert.ok(!refused.applied && /add server demo_(primary|replicas)\/pg4/.test(refused.reason), JSON.stringify(refused));
      // Switched off.
      const off = await rig.controller({ runtime_membership: false }).applyMembership(rig.cfgFile, withPg4(cfg));
      assert.ok(!off.applied && /runtime_membership = false/.test(off.reason));
      assert.equal(await metricValue(registry, 'haconfd_controller_membership_changes_total', { outcome: 'reload' }), 5);
      assert.deepEqual(await rig.states(W), { pg1: 'up', pg2: 'down', pg3: 'down' }, 'nothing else changed');
    }, { checkInter: '30s' });
  });

  test('start-up adoption: the file is taken as running only when the worker started after it was written', async () => {
    await withRig(async (rig) => {
      const c = await steady(rig);
      const info = await rig.client.showInfo();
      const started = Number(info['Start_time_sec']);
      utimesSync(rig.cfgFile, started - 5, started - 5);
      assert.equal(await c.adoptRunningConfig(rig.cfgFile), true);
      c.setSnapshot(snapshotWithPg4(rig));
      const o = await commit(rig, c, withPg4(readFileSync(rig.cfgFile, 'utf8')));
      assert.ok(o.applied, JSON.stringify(o));
      // A controller that knows the config already keeps it.
      assert.equal(await c.adoptRunningConfig(rig.cfgFile), true);
      await c.stop();
      // haconfd started again: a file written after the worker started (edited by hand, or
      // rendered while HAProxy was not reloaded) is not trusted.
      const c2 = await steady(rig);
      utimesSync(rig.cfgFile, started + 5, started + 5);
      assert.equal(await c2.adoptRunningConfig(rig.cfgFile), false);
      const o2 = await c2.applyMembership(rig.cfgFile, withoutPg3(readFileSync(rig.cfgFile, 'utf8')));
      assert.ok(!o2.applied && /not known/.test(o2.reason));
      assert.equal(await c2.adoptRunningConfig(join(rig.dir, 'missing.cfg')), false, 'a missing file is not adopted');
    }, { checkInter: '30s' });
  });

  test('through the daemon: members joining and leaving the DCS reach HAProxy without a reload, across a SIGHUP restart of the controller (the first change reloads: nothing to vouch for)', async () => {
    await withRig(async (rig) => {
      const paths = writeHaproxyResource({ dir: rig.dir, statsPort: rig.ports.stats, clusters: { demo: { write: rig.ports.write, read: rig.ports.read } }, checkInter: '300ms', hardStopAfter: '5s' });
      assert.equal(paths.cfgFile, rig.cfgFile);
      assert.equal(paths.masterSocket, rig.haproxy.masterSocket);
      writeControllerToml(paths.confdir, rig);
      const data = join(rig.dir, 'dcs.json');
      const members = (names: readonly string[]) => names.map((n) => (n === 'pg4' ? { ...rig.node('pg3').member(), name: 'pg4' } : rig.node(n).member()));
      const publish = (names: readonly string[]): void => writeFileSync(data, JSON.stringify(Object.fromEntries(clusterPairs('/service', 'demo', members(names), 'pg1'))));
      publish(['pg1', 'pg2', 'pg3']);
      const logFile = join(rig.dir, 'haconfd.log');
      const haconfd = startCli(['-watch', '-backend', 'file', '-file', data, '-confdir', paths.confdir, '-log-format', 'json'], { logFile, cwd: rig.dir });
      const logged = (text: string): number => haconfd.log().split('\n').filter((l) => l.includes(text)).length;
      try {
        await waitFor('haconfd steering pg1', () => logged('confirmed as a running primary') > 0, 60_000, 50);
        await waitStates(rig, W, { pg1: 'up', pg2: 'down', pg3: 'down' }, 60_000);
        // The start-up render differs from the rig's file (other vars): committed and reloaded.
        await waitFor('the start-up reload', () => logged('"msg":"reloaded"') === 1, 60_000, 50);
        const pid = await rig.haproxy.workerPid();

        publish(['pg1', 'pg2', 'pg3', 'pg4']);
        await waitFor('pg4 applied through the runtime API', () => logged('applied through the runtime API: no reload') === 1, 60_000, 50);
        await waitStates(rig, W, { pg1: 'up', pg4: 'down' });
        await waitStates(rig, R, { pg1: 'down', pg4: 'up' }, 60_000);
        assert.match(readFileSync(rig.cfgFile, 'utf8'), /server pg4 /, 'the file has it, so a later reload keeps it');

        // A SIGHUP that changes [controller] restarts the controller; what it knew of the running
        // config carries on, so the next change still needs no reload.
        writeControllerToml(paths.confdir, rig, { interval: '300ms' });
        haconfd.kill('SIGHUP');
        await waitFor('the controller restarted', () => logged('HAProxy controller restarted with the new [controller] settings') === 1, 60_000, 50);

        publish(['pg1', 'pg2', 'pg4']);
        await waitFor('pg3 removed through the runtime API', () => logged('applied through the runtime API: no reload') === 2, 60_000, 50);
        await waitFor('pg3 gone from HAProxy', async () => !('pg3' in (await rig.states(W))) && !('pg3' in (await rig.states(R))), 60_000, 50);
        assert.equal(await rig.haproxy.workerPid(), pid, 'the same worker throughout');
        assert.equal(logged('"msg":"reloaded"'), 1, 'one reload in all: the first change');
        assert.ok(!/"level":(50|60)/.test(haconfd.log()), haconfd.log());
        // Each join is a moment where the DCS names a server HAProxy does not have yet: no warning (issue 13).
        assert.equal(logged('HAProxy lacks'), 0, haconfd.log());
      } finally {
        await haconfd.stop();
      }
    }, { checkInter: '30s' });
  });
});
