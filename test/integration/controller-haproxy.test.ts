/**
 * The HAProxy controller against a real HAProxy 2.6 (master-worker) running the shipped
 * haproxy.cfg.hbs, fed Patroni-shaped snapshots, with small real HTTP servers standing in for the
 * members' REST APIs (test/integration/controller-fixture.ts). Covers the leader fast path, the
 * bounded confirmation, read backends, membership, overrides, and every "bad input" of issue 5.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { sleep, waitFor } from '../harness/process.js';
import { metricValue, steady, waitStates, withRig, type Rig, W, R } from './controller-fixture.js';
import { HaproxyController, MISSING_WARN_AFTER_MS } from '../../src/haproxy/controller/controller.js';
import { parseControllerConfig } from '../../src/haproxy/controller/controllerConfig.js';
import { createReloadStrategy, reloadHaproxy } from '../../src/haproxy/reload/reloadHaproxy.js';


/** How many times `node`'s REST API was asked GET /patroni (the controller's leader confirmation). */
function patroniGets(rig: Rig, node: string): number {
  return rig.node(node).apiRequests.filter((r) => r === 'GET /patroni').length;
}

/** Samples a backend every ~10 ms while `during` runs; returns every distinct state seen per server. */
async function sampleStates(rig: Rig, backend: string, during: () => Promise<void>): Promise<Record<string, Set<string>>> {
  const seen: Record<string, Set<string>> = {};
  let done = false;
  const sampler = (async () => {
    while (!done) {
      for (const [s, st] of Object.entries(await rig.states(backend).catch(() => ({})))) (seen[s] ??= new Set()).add(st);
      await sleep(10);
    }
  })();
  try {
    await during();
  } finally {
    done = true;
    await sampler;
  }
  return seen;
}

describe('HAProxy controller against a real HAProxy', { timeout: 600_000 }, () => {
  test('start-up: leader UP in the write backend, others DOWN (checks running), leader DOWN in the replicas; idempotent', async () => {
    await withRig(async (rig) => {
      const registry = new Registry();
      const c = await steady(rig, {}, { registry });
      assert.equal(await rig.through(rig.ports.write), 'pg1');
      for (let i = 0; i < 4; i++) assert.notEqual(await rig.through(rig.ports.read), 'pg1');
      const again = await c.reconcileNow();
      assert.equal(again.error, undefined);
      assert.deepEqual(again.commands, [], 'a second pass against the reached state sends nothing');
      assert.equal(await metricValue(registry, 'haconfd_controller_commands_total', { action: 'maint' }), 0, 'never MAINT');
      assert.ok(rig.node('pg1').apiRequests.includes('GET /patroni'), 'the leader was confirmed through its REST API');
    });
  });

  test('switchover: old leader cut in the pass that sees the key deleted, new leader UP once its API confirms', async () => {
    await withRig(async (rig) => {
      const registry = new Registry();
      const c = await steady(rig, {}, { registry });
      // Patroni: leader key deleted (old primary demoting) …
      rig.node('pg1').role = 'demoted';
      c.setSnapshot(rig.snapshot(null));
      await c.settle();
      assert.equal((await rig.states(W))['pg1'], 'down', 'the old primary is cut at once (DOWN, its checks running: never MAINT)');
      assert.equal(await rig.through(rig.ports.write), 'closed', 'no server takes writes without a leader key');
      // … then put naming pg2, whose API reports a running primary a little later.
      rig.node('pg2').role = 'replica';
      const seen = await sampleStates(rig, W, async () => {
        const asked = patroniGets(rig, 'pg2');
        c.setSnapshot(rig.snapshot('pg2'));
        // Its API has been asked (and said replica) twice: the confirmation ran and did not route it.
        await waitFor('pg2 asked for its role twice', () => patroniGets(rig, 'pg2') >= asked + 2, 60_000, 5);
        assert.notEqual((await rig.states(W))['pg2'], 'up', 'not UP before its REST API confirms');
        rig.node('pg2').role = 'master';
        await waitStates(rig, W, { pg1: 'down', pg2: 'up', pg3: 'down' });
      });
      assert.ok(!seen['pg1']?.has('up') && !seen['pg3']?.has('up'), `no non-leader UP: ${JSON.stringify(Object.fromEntries(Object.entries(seen).map(([k, v]) => [k, [...v]])))}`);
      assert.equal(await rig.through(rig.ports.write), 'pg2');
      // The old primary comes back as a replica: its checks bring it UP in the read backend (rise × inter), still DOWN for writes.
      rig.node('pg1').role = 'replica';
      c.setSnapshot(rig.snapshot('pg2'));
      await waitStates(rig, R, { pg1: 'up', pg2: 'down', pg3: 'up' }, 8000);
      assert.equal((await rig.states(W))['pg1'], 'down');
      assert.equal(await metricValue(registry, 'haconfd_controller_leader_changes_total'), 2);
      const hist = await registry.getSingleMetric('haconfd_controller_leader_routed_seconds')?.get();
      assert.equal(hist?.values.find((v) => (v as { metricName?: string }).metricName === 'haconfd_controller_leader_routed_seconds_count')?.value, 1);
      assert.ok(rig.logs.some((l) => l.includes('writes routed to pg2')), 'the routing is logged');
    });
  });

  test("leader's REST API hanging: never marked UP, handed to HAProxy's checks after the bound", async () => {
    await withRig(async (rig) => {
      const c = await steady(rig, { confirm_timeout: '800ms', confirm_request_timeout: '200ms' });
      rig.node('pg2').hang = true;
      rig.node('pg1').role = 'replica';
      const t0 = Date.now();
      const seen = await sampleStates(rig, W, async () => {
        c.setSnapshot(rig.snapshot('pg2'));
        await waitFor('pg2 handed to the checks', async () => rig.logs.some((l) => l.includes('not confirmed in time')), 60_000, 20);
        const a = (await rig.servers()).find((s) => s.backend === W && s.server === 'pg2');
        assert.ok(a !== undefined && a.admin.maint.length === 0 && a.opState === 'down', 'DOWN, its checks decide');
      });
      const elapsed = Date.now() - t0;
      assert.ok(elapsed >= 700, `handed over only after the bound (800 ms): ${elapsed} ms`);
      assert.ok(!seen['pg2']?.has('up'), `pg2 never UP: ${[...(seen['pg2'] ?? [])].join(',')}`);
      assert.equal((await rig.states(W))['pg1'], 'down');
      assert.ok(rig.logs.some((l) => l.includes('not confirmed in time')));
      assert.ok(c.lastReport?.error === undefined);
    });
  });

  test('two leader changes in quick succession: the older confirmation is cancelled', async () => {
    await withRig(async (rig) => {
      const registry = new Registry();
      const c = await steady(rig, {}, { registry });
      rig.node('pg1').role = 'replica';
      rig.node('pg2').role = 'replica'; // not primary yet: its confirmation keeps polling
      const asked = patroniGets(rig, 'pg2');
      c.setSnapshot(rig.snapshot('pg2'));
      await waitFor("pg2's confirmation polling", () => patroniGets(rig, 'pg2') > asked, 60_000, 5);
      rig.node('pg3').role = 'master';
      c.setSnapshot(rig.snapshot('pg3'));
      await waitStates(rig, W, { pg1: 'down', pg2: 'down', pg3: 'up' });
      // pg2's API now says primary: its cancelled confirmation must not make it UP.
      rig.node('pg2').role = 'master';
      const before = rig.node('pg2').apiRequests.filter((r) => r === 'GET /patroni').length;
      await sleep(400);
      assert.equal(rig.node('pg2').apiRequests.filter((r) => r === 'GET /patroni').length, before, 'no more polling of the older leader');
      assert.deepEqual(await rig.states(W), { pg1: 'down', pg2: 'down', pg3: 'up' });
    });
  });

  test("once routed, the leader is never forced UP again against HAProxy's checks", async () => {
    await withRig(async (rig) => {
      const c = await steady(rig);
      // HAProxy's checks (the safety net) mark the leader DOWN: the controller leaves it so.
      await rig.client.send('set server demo_primary/pg1 health down');
      for (let i = 0; i < 3; i++) {
        const r = await c.reconcileNow();
        assert.deepEqual(r.commands.filter((x) => x.server === 'pg1' && x.backend === W), []);
      }
      assert.equal((await rig.states(W))['pg1'], 'down');
      // A new epoch (the key moves and comes back) confirms and routes it again.
      c.setSnapshot(rig.snapshot(null));
      await waitStates(rig, W, { pg1: 'down' });
      c.setSnapshot(rig.snapshot('pg1'));
      await waitStates(rig, W, { pg1: 'up', pg2: 'down', pg3: 'down' });
    }, { checkInter: '30s' });
  });

  test('leader key naming an unknown member: every write server DOWN, nothing confirmed', async () => {
    await withRig(async (rig) => {
      const c = await steady(rig);
      c.setSnapshot(rig.snapshot('ghost'));
      await waitStates(rig, W, { pg1: 'down', pg2: 'down', pg3: 'down' });
      assert.ok(rig.logs.some((l) => l.includes('ghost (not a known member)')));
      const r = await c.reconcileNow();
      assert.equal(r.error, undefined);
    });
  });

  test('failsafe mode: leader key gone, failsafe key + failsafe_mode → the primary is not cut', async () => {
    await withRig(async (rig) => {
      const c = await steady(rig);
      const config = JSON.stringify({ ttl: 30, loop_wait: 10, retry_timeout: 10, failsafe_mode: true });
      const failsafe = JSON.stringify({ pg1: `http://127.0.0.1:${rig.node('pg1').apiPort}/patroni` });
      c.setSnapshot(rig.snapshot(null, [['/service/demo/config', config], ['/service/demo/failsafe', failsafe]]));
      const r = await c.reconcileNow();
      assert.deepEqual(r.commands.filter((x) => x.backend === W), []);
      assert.deepEqual(await rig.states(W), { pg1: 'up', pg2: 'down', pg3: 'down' });
      assert.equal(await rig.through(rig.ports.write), 'pg1');
      // Without failsafe_mode the same snapshot cuts it.
      c.setSnapshot(rig.snapshot(null, [['/service/demo/failsafe', failsafe]]));
      await waitStates(rig, W, { pg1: 'down' });
    });
  });

  test('maintenance mode (pause): leader key gone → write servers left to the checks; a present key still rules', async () => {
    await withRig(async (rig) => {
      const c = await steady(rig);
      const paused = JSON.stringify({ ttl: 30, loop_wait: 10, retry_timeout: 10, pause: true });
      c.setSnapshot(rig.snapshot(null, [['/service/demo/config', paused]]));
      const r = await c.reconcileNow();
      assert.deepEqual(r.commands.filter((x) => x.backend === W), []);
      assert.equal((await rig.states(W))['pg1'], 'up');
      // Paused, but a manual switchover moved the key: it is followed (with confirmation).
      rig.node('pg1').role = 'replica';
      rig.node('pg3').role = 'master';
      c.setSnapshot(rig.snapshot('pg3', [['/service/demo/config', paused]]));
      await waitStates(rig, W, { pg1: 'down', pg2: 'down', pg3: 'up' });
    });
  });

  test('DCS down during a switchover: nothing changes and it says so; the checks route the new primary on their own; back → follows the key', async () => {
    await withRig(async (rig) => {
      let up = true;
      const registry = new Registry();
      const c = await steady(rig, { dcs_down_release: '1500ms' }, { dcsReachable: () => up, registry });
      rig.node('pg1').role = 'demoted';
      c.setSnapshot(rig.snapshot(null));
      await waitStates(rig, W, { pg1: 'down', pg2: 'down', pg3: 'down' });
      up = false; // etcd gone before the new key is seen
      // Drift HAProxy by hand: the controller must not touch it while the DCS is down.
      await rig.client.send('set server demo_replicas/pg1 health up');
      const r = await c.reconcileNow();
      assert.equal(r.held, 'dcs unreachable');
      assert.deepEqual(r.commands, []);
      assert.equal((await rig.states(R))['pg1'], 'up');
      assert.ok(rig.logs.some((l) => l.includes('changes nothing: the DCS is unreachable')));
      assert.equal(await metricValue(registry, 'haconfd_controller_dcs_hold'), 1);
      // The new primary passes /primary: its checks make it UP (rise × inter) with the controller
      // held — every state it set is one the checks own, so nothing waits for the DCS to come back.
      rig.node('pg2').role = 'master';
      const t0 = Date.now();
      await waitStates(rig, W, { pg1: 'down', pg2: 'up', pg3: 'down' }, 60_000);
      const ms = Date.now() - t0;
      assert.ok(ms < 2 * 2000 + 2500, `the checks routed pg2 in ${ms} ms (rise 2 × inter 2 s)`);
      // Past dcs_down_release: nothing of ours is left to hand back (no MAINT, no DRAIN).
      await waitFor('released', async () => (await c.reconcileNow()).held === 'dcs unreachable: released to checks', 60_000, 100);
      assert.deepEqual((await c.reconcileNow()).commands, []);
      // The DCS is back with the new leader.
      up = true;
      c.setSnapshot(rig.snapshot('pg2'));
      await waitStates(rig, W, { pg1: 'down', pg2: 'up', pg3: 'down' }, 60_000);
      await waitFor('hold cleared', async () => (await metricValue(registry, 'haconfd_controller_dcs_hold')) === 0, 60_000, 50);
    });
  });

  test('read backends: noloadbalance or not running → DOWN, back to normal → its checks bring it UP', async () => {
    await withRig(async (rig) => {
      const c = await steady(rig);
      rig.node('pg3').tags = { noloadbalance: true };
      rig.node('pg2').state = 'starting';
      c.setSnapshot(rig.snapshot('pg1'));
      await waitStates(rig, R, { pg1: 'down', pg2: 'down', pg3: 'down' });
      assert.equal(await rig.through(rig.ports.read), 'closed');
      rig.node('pg3').tags = undefined;
      rig.node('pg2').state = 'running';
      c.setSnapshot(rig.snapshot('pg1'));
      await waitStates(rig, R, { pg1: 'down', pg2: 'up', pg3: 'up' }, 8000);
    });
  });

  test('a member that disappears from the DCS is cut from the write backend, left to its checks in reads until the render removes it', async () => {
    await withRig(async (rig) => {
      const c = await steady(rig);
      c.setSnapshot(rig.snapshot('pg1', [], undefined, ['pg1', 'pg2']));
      await waitStates(rig, W, { pg1: 'up', pg3: 'down' });
      // Reads: left to its checks (the removal drains it gracefully when the render drops it).
      const r = await c.reconcileNow();
      assert.ok(!r.commands.some((x) => x.backend === R && x.server === 'pg3'), JSON.stringify(r.commands));
      assert.equal((await rig.states(R))['pg3'], 'up');
    });
  });

  test('operator overrides are applied and never lifted', async () => {
    await withRig(async (rig) => {
      writeFileSync(join(rig.dir, 'overrides.json'), JSON.stringify({ version: 1, overrides: [{ backend: R, server: 'pg2', state: 'maint' }] }));
      const c = rig.controller();
      c.setSnapshot(rig.snapshot('pg1'));
      c.start();
      await waitStates(rig, R, { pg1: 'down', pg2: 'maint', pg3: 'up' });
      for (let i = 0; i < 3; i++) await c.reconcileNow();
      assert.equal((await rig.states(R))['pg2'], 'maint');
      // A broken overrides file: nothing is changed (never silently lift them). (Checks every 30 s
      // here: on a slow machine, 2 s checks would mark the leader DOWN in the read backend meanwhile.)
      writeFileSync(join(rig.dir, 'overrides.json'), '{not json');
      await rig.client.send('set server demo_replicas/pg1 health up');
      const r = await c.reconcileNow();
      assert.equal(r.held, 'overrides unreadable');
      assert.equal((await rig.states(R))['pg1'], 'up');
    }, { checkInter: '30s' });
  });

  test('a backend or server the controller expects that HAProxy lacks is reported (a warning only once it lasts); the rest is still steered', async () => {
    await withRig(async (rig) => {
      const registry = new Registry();
      let clock = Date.now();
      const c = rig.controller({ write_backends: ['{cluster}_primary', '{cluster}_extra'] }, { registry, now: () => clock });
      const pairs: [string, string][] = [['/service/demo/members/pg4', JSON.stringify({ conn_url: 'postgres://127.0.0.1:1/postgres', api_url: 'http://127.0.0.1:1/patroni', state: 'running', role: 'replica', version: '3.0.2' })]];
      c.setSnapshot(rig.snapshot('pg1', pairs));
      const r = await c.reconcileNow();
      assert.equal(r.error, undefined);
      assert.ok(r.missing.includes('demo_extra'), JSON.stringify(r.missing));
      assert.ok(r.missing.includes('demo_primary/pg4') && r.missing.includes('demo_replicas/pg4'), JSON.stringify(r.missing));
      await waitStates(rig, W, { pg2: 'down', pg3: 'down' });
      assert.equal(await metricValue(registry, 'haconfd_controller_missing_servers'), 3);
      // A member joining is missing for a moment: no warning for that (issue 13), only if it lasts.
      assert.ok(!rig.logs.some((l) => l.includes('HAProxy lacks')), rig.logs.join('\n'));
      clock += MISSING_WARN_AFTER_MS;
      await c.reconcileNow();
      assert.ok(rig.logs.some((l) => l.includes('HAProxy lacks 3') && l.includes('"level":40') && l.includes('for 10 s or more')), rig.logs.join('\n'));
    });
  });

  test('a clean stop hands every steered server back to the checks (an older haconfd\'s MAINT/DRAIN lifted, starting DOWN), keeps operator overrides, and logs it', async () => {
    await withRig(async (rig) => {
      writeFileSync(join(rig.dir, 'overrides.json'), JSON.stringify({ version: 1, overrides: [{ backend: R, server: 'pg3', state: 'drain' }] }));
      const c = rig.controller();
      c.setSnapshot(rig.snapshot('pg1'));
      c.start();
      await waitStates(rig, W, { pg1: 'up', pg2: 'down', pg3: 'down' });
      await waitStates(rig, R, { pg3: 'drain' });
      await c.stop({ handBack: false });
      // What an older haconfd (MAINT for non-leaders, DRAIN in reads) would have left.
      await rig.client.send(`set server ${W}/pg2 state maint`);
      await rig.client.send(`set server ${R}/pg1 state drain`);
      const d = rig.controller();
      d.setSnapshot(rig.snapshot('pg1'));
      await d.stop({ why: 'haconfd stopping' });
      const after = await rig.servers();
      const of = (b: string, s: string) => after.find((x) => x.backend === b && x.server === s);
      assert.deepEqual([of(W, 'pg2')?.admin.maint, of(W, 'pg2')?.opState], [[], 'down'], 'out of MAINT, starting DOWN: its checks decide');
      assert.deepEqual(of(R, 'pg1')?.admin.drain, [], 'out of DRAIN');
      assert.deepEqual(of(R, 'pg3')?.admin.drain, ['forced'], 'the operator override stays');
      assert.equal(of(W, 'pg1')?.opState, 'up', 'the leader keeps serving');
      assert.ok(rig.logs.some((l) => l.includes('HAProxy controller stopped (haconfd stopping): 2 server(s) handed back') && l.includes('operator overrides kept: demo_replicas/pg3 drain')), rig.logs.slice(-5).join('\n'));
    }, { checkInter: '30s' });
  });

  test('socket path missing: a typed error, counted, logged once, retried; never throws', async () => {
    await withRig(async (rig) => {
      const registry = new Registry();
      const c = new HaproxyController({
        config: parseControllerConfig({ socket: join(rig.dir, 'nope.sock'), interval: '100ms', overrides_file: join(rig.dir, 'o.json') }),
        log: rig.log,
        registry,
      });
      try {
        c.setSnapshot(rig.snapshot('pg1'));
        c.start();
        await waitFor('three failed passes', async () => (await metricValue(registry, 'haconfd_controller_reconcile_errors_total', { kind: 'SocketMissingError' })) >= 3, 60_000, 20);
        const r = await c.reconcileNow();
        assert.match(r.error ?? '', /does not exist/);
        assert.equal(rig.logs.filter((l) => l.includes('nope.sock') && l.includes('"level":50')).length, 1, 'logged once, not every tick');
      } finally {
        await c.stop();
      }
    });
  });

  test('socket at operator level: PermissionDenied with the hint, nothing half-applied silently', async () => {
    await withRig(async (rig) => {
      const registry = new Registry();
      const c = new HaproxyController({
        config: parseControllerConfig({ socket: join(rig.dir, 'operator.sock'), interval: '1s', overrides_file: join(rig.dir, 'o.json') }),
        log: rig.log,
        registry,
      });
      try {
        c.setSnapshot(rig.snapshot('pg1'));
        const r = await c.reconcileNow();
        assert.match(r.error ?? '', /Permission denied.*level admin/);
        assert.ok((await metricValue(registry, 'haconfd_controller_reconcile_errors_total', { kind: 'PermissionDeniedError' })) >= 1);
        assert.deepEqual(await rig.states(W), { pg1: 'up', pg2: 'up', pg3: 'up' }, 'nothing changed');
      } finally {
        await c.stop();
      }
    }, { extraGlobal: (dir) => [`stats socket ${join(dir, 'operator.sock')} mode 600 level operator`], checkInter: '30s' });
  });

  test('reload that adds a member: pre-added in MAINT, so the new worker never starts it UP in the write backend', async () => {
    await withRig(async (rig) => {
      const c = await steady(rig);
      // The next render adds pg4 (a replica) to every listen.
      const cfg = readFileSync(rig.cfgFile, 'utf8').replace(/^(\s+server pg3 .*)$/gm, (line) => `${line}\n${line.replace('pg3', 'pg4')}`);
      writeFileSync(rig.cfgFile, cfg);
      const pg4 = rig.node('pg3').member();
      const snap = rig.snapshot('pg1', [['/service/demo/members/pg4', JSON.stringify({ conn_url: `postgres://127.0.0.1:${pg4.port}/postgres`, api_url: `http://127.0.0.1:${pg4.apiPort}/patroni`, state: 'running', role: 'replica', version: '3.0.2' })]]);
      c.setSnapshot(snap);
      await c.settle();
      await c.prepareReload(cfg);
      assert.equal((await rig.states(W))['pg4'], 'maint', 'added to the running worker in MAINT');
      const strategy = createReloadStrategy({ kind: 'master-socket', masterSocket: rig.haproxy.masterSocket, configFile: rig.cfgFile, timeoutMs: 5000 });
      const seen = await sampleStates(rig, W, async () => {
        const r = await c.duringReload(() => reloadHaproxy(strategy, { stateFile: join(rig.dir, 'server-state'), adminSocket: rig.socket, newConfigText: cfg }, rig.log));
        assert.ok(r.confirmed && r.newPid !== r.oldPid, 'a new worker');
      });
      assert.ok(!seen['pg4']?.has('up'), `pg4 never UP in the write backend: ${[...(seen['pg4'] ?? [])].join(',')}`);
      await waitStates(rig, W, { pg1: 'up', pg2: 'down', pg3: 'down', pg4: 'down' });
      // In the read backend the new server starts DOWN (the state file says so): its checks, every
      // 30 s here, make it UP — never the reload itself.
      await waitStates(rig, R, { pg1: 'down', pg4: 'down' });
      assert.ok(rig.logs.some((l) => l.includes('added in MAINT before the reload')));
      assert.ok(rig.logs.some((l) => l.includes('new health-checked servers start DOWN') && l.includes('demo_replicas/pg4')));
    }, { checkInter: '30s' });
  });

  test('a leader confirmed while a reload runs is routed on the new worker, not on the old one', async () => {
    await withRig(async (rig) => {
      // The controller's clock stands still while the reload is held open, so its bounded hold of
      // routing (1 s) cannot run out on a slow machine before the test has looked.
      let frozenAt: number | undefined;
      const c = await steady(rig, {}, { now: () => frozenAt ?? Date.now() });
      const cfg = readFileSync(rig.cfgFile, 'utf8');
      const strategy = createReloadStrategy({ kind: 'master-socket', masterSocket: rig.haproxy.masterSocket, configFile: rig.cfgFile, timeoutMs: 5000 });
      const oldPid = await rig.haproxy.workerPid();
      let openGate = (): void => undefined;
      const gate = new Promise<void>((r) => (openGate = r));
      frozenAt = Date.now();
      const reload = c.duringReload(async () => {
        await gate;
        return reloadHaproxy(strategy, { stateFile: join(rig.dir, 'server-state'), adminSocket: rig.socket, newConfigText: cfg }, rig.log);
      });
      try {
        rig.node('pg1').role = 'replica';
        rig.node('pg2').role = 'master';
        c.setSnapshot(rig.snapshot('pg2'));
        await waitStates(rig, W, { pg1: 'down' }); // the cut is never deferred
        await waitFor('routing of pg2 deferred', () => rig.logs.some((l) => l.includes('routing deferred until the reload') && l.includes('"server":"pg2"')), 60_000, 10);
        assert.notEqual((await rig.states(W))['pg2'], 'up', 'routing waits for the new worker');
      } finally {
        frozenAt = undefined;
        openGate();
      }
      await reload;
      assert.notEqual(await rig.haproxy.workerPid(), oldPid);
      await waitStates(rig, W, { pg1: 'down', pg2: 'up', pg3: 'down' });
      assert.ok(rig.logs.some((l) => l.includes('writes routed to pg2')));
    }, { checkInter: '30s' });
  });

  test('HAProxy restarted under the controller: errors while it is gone, roles pushed again to the new worker', async () => {
    await withRig(async (rig) => {
      const registry = new Registry();
      await steady(rig, {}, { registry });
      // The controller has seen the first worker: a timer pass (which checks the worker) has ended,
      // as a second one has started. Restarting HAProxy before that, on a slow machine, would make
      // the new worker the first one it sees: nothing to count as a change.
      await waitFor('a timer pass ended', async () => (await metricValue(registry, 'haconfd_controller_reconciles_total', { trigger: 'timer' })) >= 2, 60_000, 20);
      await rig.restartHaproxy();
      // A fresh worker that read the state file would keep them; make sure the controller does it
      // even when it did not: force everything UP by hand, as a worker without state would start.
      for (const b of [W, R]) for (const s of ['pg1', 'pg2', 'pg3']) await rig.client.send(`set server ${b}/${s} state ready; set server ${b}/${s} health up`).catch(() => undefined);
      await waitStates(rig, W, { pg1: 'up', pg2: 'down', pg3: 'down' }, 60_000);
      await waitStates(rig, R, { pg1: 'down', pg2: 'up', pg3: 'up' }, 60_000);
      await waitFor('worker change noticed', async () => (await metricValue(registry, 'haconfd_controller_haproxy_worker_changes_total')) >= 1, 60_000, 50);
      assert.ok(rig.logs.some((l) => l.includes('new HAProxy worker')));
    }, { checkInter: '30s' });
  });
});
