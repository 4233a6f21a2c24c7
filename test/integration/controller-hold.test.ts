/**
 * Issue 16 against a real HAProxy 2.6 running the shipped haproxy.cfg with its Lua hold. By default
 * the controller holds new connections to the write listen from Patroni's `failover` key until the
 * leader key has moved. With switchover_hold_from = "shutdown" it watches the leader's Postgres
 * once the key names it and holds from the moment that Postgres shuts down; until then the leader
 * keeps taking connections (Patroni's pre-shutdown checkpoint). Never otherwise (another member
 * named, a future `scheduled_at`, a malformed key, hold_on_switchover = false); a cancelled
 * switchover puts the leader back at once; a controller that dies mid-switchover leaves a request
 * that ends by itself. The stand-in Postgres nodes wait for a startup packet, as Postgres does.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { waitFor } from '../harness/process.js';
import { metricValue, steady, waitStates, withRig, type Rig, W } from './controller-fixture.js';
import { exchange } from '../../src/haproxy/runtime/socketTransport.js';
import type { HaproxyController } from '../../src/haproxy/controller/controller.js';
import { HOLDS_LINE, parseHolds, type HoldStatus } from '../../src/haproxy/runtime/holdCommands.js';

const FAILOVER = '/service/demo/failover';

interface Attempt {
  readonly result: Promise<string>;
  ended(): boolean;
}

/** A client connection through `port`: the first line the node sends, or 'closed'. */
function attempt(port: number): Attempt {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('connect', () => socket.write('startup'));
  let data = '';
  let ended = false;
  const result = new Promise<string>((resolve) => {
    socket.on('data', (d: Buffer) => {
      data += d.toString('utf8');
      if (data.includes('\n')) socket.destroy();
    });
    socket.on('close', () => {
      ended = true;
      resolve(data.trim() === '' ? 'closed' : data.trim());
    });
    socket.on('error', () => undefined);
  });
  return { result, ended: () => ended };
}

/** A long session: connected through `port`, greeted, kept open. */
async function openSession(port: number): Promise<{ greeting: string; closed(): boolean }> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('connect', () => socket.write('startup'));
  let closed = false;
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  const greeting = await new Promise<string>((resolve) => {
    let data = '';
    socket.on('data', (d: Buffer) => {
      data += d.toString('utf8');
      if (data.includes('\n')) resolve(data.trim());
    });
    socket.on('close', () => resolve(data.trim() === '' ? 'closed' : data.trim()));
  });
  return { greeting, closed: () => closed };
}

async function holds(rig: Rig): Promise<HoldStatus> {
  const all = parseHolds(await exchange({ kind: 'unix', path: rig.socket }, HOLDS_LINE, 2000));
  return all.find((h) => h.listen === W) ?? { listen: W, held: 0, released: 0, timedOut: 0, abandoned: 0, waitMs: 0, requestedMs: 0 };
}

const requested = async (rig: Rig): Promise<boolean> => (await holds(rig)).requestedMs > 0;

/** A held attempt: HAProxy counts it as held before anything else happens. */
async function heldAttempt(rig: Rig): Promise<Attempt> {
  const before = (await holds(rig)).held;
  const a = attempt(rig.ports.write);
  await waitFor('the connection held', async () => (await holds(rig)).held > before, 5000, 10);
  return a;
}

/** Patroni asks to take pg1 away (the failover key names it): the hold is requested, and one connection held. */
async function heldBySwitchoverRequest(rig: Rig, c: HaproxyController): Promise<Attempt> {
  c.setSnapshot(rig.snapshot('pg1', [[FAILOVER, '{"leader":"pg1","member":"pg2"}']]));
  await waitFor('the hold requested', () => requested(rig), 5000, 10);
  return heldAttempt(rig);
}

/**
 * Patroni finishing the switchover: the leader key deleted (old primary stopped: pg1 cut, `held`
 * still waiting), then naming pg2, which takes `held`; the request is released.
 */
async function keyMovesToPg2(rig: Rig, c: HaproxyController, held: Attempt): Promise<void> {
  rig.node('pg1').role = 'demoted';
  c.setSnapshot(rig.snapshot(null, [[FAILOVER, '{"leader":"pg1","member":"pg2"}']]));
  await waitStates(rig, W, { pg1: 'down' });
  assert.equal(held.ended(), false, 'still held while no leader is routed');
  rig.node('pg2').role = 'master';
  rig.node('pg1').role = 'replica';
  c.setSnapshot(rig.snapshot('pg2', [[FAILOVER, '{}']]));
  assert.equal(await held.result, 'pg2');
  await waitFor('the request released', async () => !(await requested(rig)), 5000, 10);
}

const opts = { holdTimeout: '20s', checkInter: '1s' };
const FROM_SHUTDOWN = { switchover_hold_from: 'shutdown' };

/** The rig's cluster led by pg1, steered; its stand-in Postgres nodes answer after a startup packet. */
async function steadyPostgresLike(rig: Rig, table: Record<string, unknown> = {}, o: Parameters<typeof steady>[2] = {}): ReturnType<typeof steady> {
  for (const n of rig.nodes) n.startupFirst = true;
  return steady(rig, table, o);
}

describe('controller: hold new connections around a planned switchover (real HAProxy + haconfd-hold.lua)', { timeout: 180_000 }, () => {
  test('switchover_hold_from = "shutdown": the leader takes new connections until its Postgres stops, then they wait, and the key move routes them to the new leader', () =>
    withRig(async (rig) => {
      const registry = new Registry();
      const c = await steadyPostgresLike(rig, FROM_SHUTDOWN, { registry });
      const pg1 = rig.node('pg1');
      pg1.hold = true; // the stand-in Postgres keeps sessions open
      const session = await openSession(rig.ports.write);
      assert.equal(session.greeting, 'pg1');
      c.setSnapshot(rig.snapshot('pg1', [[FAILOVER, '{"leader":"pg1","member":"pg2"}']]));
      await waitFor("the leader's Postgres watched", () => pg1.silentConnections() >= 1, 5000, 10);
      await c.reconcileNow();
      assert.equal(await requested(rig), false, 'nothing held while the leader is writable (Patroni checkpoints first)');
      pg1.hold = false;
      assert.equal(await attempt(rig.ports.write).result, 'pg1', 'the leader still takes new connections');
      // Patroni stops Postgres in fast mode: every backend ends, the watch with them. No DCS change.
      pg1.shutdown();
      await waitFor('the hold requested on the shutdown alone', () => requested(rig), 5000, 5);
      assert.equal(session.closed(), true, 'sessions end with Postgres (not the hold)');
      const held = await heldAttempt(rig);
      await keyMovesToPg2(rig, c, held);
      assert.equal(await metricValue(registry, 'haconfd_controller_switchover_shutdowns_seen_total', { cluster: 'demo' }), 1);
      assert.ok((await metricValue(registry, 'haconfd_controller_hold_requests_total', { listen: W, action: 'hold' })) >= 1);
      assert.ok(rig.logs.some((l) => l.includes("pg1's Postgres is shutting down (closed by the server): holding new connections to demo_primary")), rig.logs.join('\n'));
      assert.equal(pg1.silentConnections(), 0, 'the watch is gone');
    }, opts));

  test('switchover_hold_from = "shutdown": a leader whose Postgres already refuses connections is held at once; a switchover cancelled before the shutdown held nothing and ends the watch', () =>
    withRig(async (rig) => {
      const c = await steadyPostgresLike(rig, FROM_SHUTDOWN);
      const pg1 = rig.node('pg1');
      c.setSnapshot(rig.snapshot('pg1', [[FAILOVER, '{"leader":"pg1","member":"pg2"}']]));
      await waitFor("the leader's Postgres watched", () => pg1.silentConnections() >= 1, 5000, 10);
      c.setSnapshot(rig.snapshot('pg1', [[FAILOVER, '{}']]));
      await waitFor('the watch ended', () => pg1.silentConnections() === 0, 5000, 10);
      await c.reconcileNow();
      assert.equal(await requested(rig), false);
      assert.equal(await attempt(rig.ports.write).result, 'pg1');
      await pg1.refuse();
      c.setSnapshot(rig.snapshot('pg1', [[FAILOVER, '{"leader":"pg1","member":"pg2"}']]));
      await waitFor('the hold requested', () => requested(rig), 5000, 10);
      assert.ok(rig.logs.some((l) => l.includes("pg1's Postgres is shutting down (connection refused)")), rig.logs.join('\n'));
      c.setSnapshot(rig.snapshot('pg1', [[FAILOVER, '{}']]));
      await waitFor('released', async () => !(await requested(rig)), 5000, 10);
    }, opts));

  test('failover key naming the leader (switchover_hold_from = "request", the default): new connections wait from the key, existing sessions stay, the key move routes them to the new leader', () =>
    withRig(async (rig) => {
      const registry = new Registry();
      const c = await steadyPostgresLike(rig, {}, { registry });
      rig.node('pg1').hold = true; // the stand-in Postgres keeps sessions open
      const session = await openSession(rig.ports.write);
      assert.equal(session.greeting, 'pg1');
      c.setSnapshot(rig.snapshot('pg1', [[FAILOVER, '{"leader":"pg1","member":"pg2"}']]));
      await waitFor('the hold requested', () => requested(rig), 5000, 10);
      assert.deepEqual(await rig.states(W), { pg1: 'up', pg2: 'down', pg3: 'down' }, 'no server state changes for the request');
      const held = await heldAttempt(rig);
      assert.equal(session.closed(), false, 'a session already open on the leader is not touched by the hold');
      await keyMovesToPg2(rig, c, held);
      assert.equal(await metricValue(registry, 'haconfd_controller_hold_requests_total', { listen: W, action: 'hold' }), 1);
      assert.ok((await metricValue(registry, 'haconfd_haproxy_held_connections', { listen: W, outcome: 'released' })) >= 0);
      assert.ok(rig.logs.some((l) => l.includes('new connections held: switchover from pg1 to pg2 requested')), rig.logs.join('\n'));
    }, opts));

  test('cancelled or refused switchover (key emptied to {} or deleted, same leader): the leader takes the held connections at once', () =>
    withRig(async (rig) => {
      const c = await steadyPostgresLike(rig);
      for (const end of [[[FAILOVER, '{}']], []] as [string, string][][]) {
        const held = await heldBySwitchoverRequest(rig, c);
        c.setSnapshot(rig.snapshot('pg1', end));
        assert.equal(await held.result, 'pg1');
        assert.equal(await requested(rig), false);
      }
      assert.ok(rig.logs.some((l) => l.includes('hold released: switchover over or cancelled (pg1 holds the leader key)')), rig.logs.join('\n'));
    }, opts));

  test('nothing is held for a key naming another member, a future scheduled_at (until due), a malformed key', () =>
    withRig(async (rig) => {
      const c = await steadyPostgresLike(rig);
      const quiet = async (what: string): Promise<void> => {
        // A pass has run on this snapshot (positive signal) and requested nothing.
        await c.reconcileNow();
        assert.equal(await requested(rig), false, what);
        assert.equal(await attempt(rig.ports.write).result, 'pg1', what);
      };
      c.setSnapshot(rig.snapshot('pg1', [[FAILOVER, '{"leader":"pg3","member":"pg2"}']]));
      await quiet('another member named');
      const due = Date.now() + 1500;
      c.setSnapshot(rig.snapshot('pg1', [[FAILOVER, JSON.stringify({ leader: 'pg1', member: 'pg2', scheduled_at: new Date(due).toISOString() })]]));
      await quiet('scheduled in the future');
      await waitFor('the hold requested once due', () => requested(rig), 10_000, 20);
      assert.ok(Date.now() >= due, 'not before scheduled_at');
      c.setSnapshot(rig.snapshot('pg1', [[FAILOVER, '{"leader": pg1']]));
      await waitFor('released', async () => !(await requested(rig)), 5000, 10);
      await quiet('malformed');
      assert.ok(rig.logs.some((l) => l.includes('the failover key of demo cannot be read (not JSON): ignored, nothing held')));
    }, opts));

  test('hold_on_switchover = false: the failover key changes nothing, and nothing is watched', () =>
    withRig(async (rig) => {
      const c = await steadyPostgresLike(rig, { hold_on_switchover: false, ...FROM_SHUTDOWN });
      c.setSnapshot(rig.snapshot('pg1', [[FAILOVER, '{"leader":"pg1","member":"pg2"}']]));
      await c.reconcileNow();
      assert.equal(await requested(rig), false);
      assert.equal(rig.node('pg1').silentConnections(), 0);
      assert.equal(await attempt(rig.ports.write).result, 'pg1');
    }, opts));

  test('haconfd dies mid-switchover (no hand-back): the request ends by itself within its lease; a clean stop releases it at once', () =>
    withRig(async (rig) => {
      const c = await steadyPostgresLike(rig);
      const held = await heldBySwitchoverRequest(rig, c);
      const stoppedAt = Date.now();
      await c.stop({ handBack: false }); // as after SIGKILL: nothing is sent any more
      assert.equal(await held.result, 'pg1', 'routed to the leader once the request lapsed');
      const waited = Date.now() - stoppedAt;
      assert.ok(waited < 20_000, `ended by the request's lease, not hold_timeout: ${waited} ms`);

      const c2 = await steadyPostgresLike(rig);
      const held2 = await heldBySwitchoverRequest(rig, c2);
      await c2.stop({ why: 'test stop' });
      assert.equal(await requested(rig), false, 'a clean stop releases the request');
      assert.equal(await held2.result, 'pg1');
      assert.ok(rig.logs.some((l) => l.includes('switchover hold request(s) released')));
    }, opts));

  // An old worker nobody steers lets its held connections go at once: a reload while the leader is
  // changing would fail them. So the reload step waits for them to be routed first.
  test('a reload waits until the connections held in the write listens are routed (at most reload_hold_wait), then goes on', () =>
    withRig(async (rig) => {
      const c = await steadyPostgresLike(rig);
      const cfg = readFileSync(rig.cfgFile, 'utf8');
      const held = await heldBySwitchoverRequest(rig, c);
      let preparedAt = 0;
      const prepared = c.prepareReload(cfg).then(() => (preparedAt = Date.now()));
      await waitFor('the reload waiting', () => rig.logs.some((l) => l.includes('the reload waits for 1 connection(s) held in the write listens to be routed (at most 30000 ms)')), 5000, 10);
      assert.equal(preparedAt, 0, 'not before the held connection is routed');
      let routedAt = 0;
      const routed = held.result.then((r) => ((routedAt = Date.now()), r));
      await keyMovesToPg2(rig, c, held);
      assert.equal(await routed, 'pg2');
      await prepared;
      assert.ok(preparedAt >= routedAt, `the reload went on after the held connection was routed (${preparedAt - routedAt} ms)`);
      assert.ok(rig.logs.some((l) => l.includes('the held connections were routed after')), rig.logs.join('\n'));
    }, opts));

  test('reload_hold_wait bounds that wait: a reload goes on with connections still held, and says so', () =>
    withRig(async (rig) => {
      const c = await steadyPostgresLike(rig, { reload_hold_wait: '300ms' });
      const held = await heldBySwitchoverRequest(rig, c);
      const started = Date.now();
      await c.prepareReload(readFileSync(rig.cfgFile, 'utf8'));
      assert.ok(Date.now() - started >= 300, 'waited reload_hold_wait');
      assert.equal(held.ended(), false, 'still held');
      assert.ok(rig.logs.some((l) => l.includes('reloading with 1 connection(s) still held after reload_hold_wait (300 ms)')), rig.logs.join('\n'));
      c.setSnapshot(rig.snapshot('pg1', [[FAILOVER, '{}']]));
      assert.equal(await held.result, 'pg1');
    }, opts));

  test('a restarted controller releases a request it finds and no longer wants', () =>
    withRig(async (rig) => {
      await exchange({ kind: 'unix', path: rig.socket }, `haconfd hold ${W} 60000`, 2000);
      assert.equal(await requested(rig), true);
      await steady(rig);
      await waitFor('released', async () => !(await requested(rig)), 5000, 10);
    }, opts));
});
