/**
 * The write listens' hold (templates/haconfd-hold.lua) in real HAProxy 2.6, with the shipped
 * haproxy.cfg: while no server of the write listen is usable, new connections wait (bounded by
 * hold_timeout) instead of being closed, and are routed the moment one is usable.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exchange } from '../../src/haproxy/runtime/socketTransport.js';
import { parseShowProc } from '../../src/haproxy/reload/procList.js';
import { commandLine } from '../../src/haproxy/runtime/runtimeCommand.js';
import { HOLDS_LINE, holdReleaseLine, holdReplyError, holdRequestLine, parseHolds, type HoldStatus } from '../../src/haproxy/runtime/holdCommands.js';
import { W, R, waitStates, withRig, type Rig } from './controller-fixture.js';
import { waitFor } from '../harness/process.js';

interface Attempt {
  /** What came back ('pg1' …) or 'closed' when HAProxy closed it with no data. */
  readonly result: Promise<string>;
  /** When the attempt ended, ms after it started. */
  readonly elapsed: Promise<number>;
  readonly socket: Socket;
  /** True once the attempt has ended. */
  ended(): boolean;
}

/** Opens a connection through `port` and reports the first line the server sends, or 'closed'. */
function attempt(port: number): Attempt {
  const started = Date.now();
  const socket = connect({ host: '127.0.0.1', port });
  // Like a Postgres client: the startup packet goes out right after connecting.
  socket.on('connect', () => socket.write('startup'));
  let data = '';
  let ended = 0;
  const result = new Promise<string>((resolve) => {
    socket.on('data', (d: Buffer) => {
      data += d.toString('utf8');
      if (data.includes('\n')) socket.destroy();
    });
    socket.on('close', () => {
      ended = Math.max(1, Date.now() - started);
      resolve(data.trim() === '' ? 'closed' : data.trim());
    });
    socket.on('error', () => undefined);
  });
  return { result, elapsed: result.then(() => ended), socket, ended: () => ended !== 0 };
}

/** Sends a runtime command; fails the test on an error reply. */
async function send(rig: Rig, line: string): Promise<string> {
  const r = await rig.client.send(line);
  assert.notEqual(r.severity, 'error', `${line}: ${r.body}`);
  return r.body;
}

async function holds(rig: Rig, listen = W): Promise<HoldStatus> {
  const out = await exchange({ kind: 'unix', path: rig.socket }, HOLDS_LINE, 2000);
  return parseHolds(out).find((h) => h.listen === listen) ?? { listen, held: 0, released: 0, timedOut: 0, abandoned: 0, waitMs: 0, requestedMs: 0 };
}

/** Sends a hold command; fails the test on an error reply. */
async function holdCommand(rig: Rig, line: string): Promise<void> {
  const reply = await exchange({ kind: 'unix', path: rig.socket }, line, 2000);
  assert.equal(holdReplyError(reply), undefined, `${line}: ${reply}`);
}

/** Current sessions on the write listen's frontend side (from `show stat`). */
async function frontendSessions(rig: Rig): Promise<number> {
  const rows = await rig.client.showStatRows();
  const fe = rows.find((r) => r['pxname'] === W && r['svname'] === 'FRONTEND');
  return Number(fe?.['scur'] ?? NaN);
}

async function allWriteServersOut(rig: Rig): Promise<void> {
  await send(rig, `set server ${W}/pg1 state maint; set server ${W}/pg2 state maint; set server ${W}/pg3 state maint`);
  await waitStates(rig, W, { pg1: 'maint', pg2: 'maint', pg3: 'maint' });
}

async function masterWorkerPid(rig: Rig): Promise<number> {
  const list = parseShowProc(await exchange({ kind: 'unix', path: rig.haproxy.masterSocket }, 'show proc', 2000));
  const w = list.workers[0];
  assert.ok(w, 'the master lists a worker');
  return w.pid;
}

/** Reloads HAProxy through its master socket; resolves to when the new worker was seen (epoch ms). */
async function reloadSeen(rig: Rig): Promise<number> {
  const oldWorker = await masterWorkerPid(rig);
  await exchange({ kind: 'unix', path: rig.haproxy.masterSocket }, 'reload', 5000);
  await waitFor('a new worker', async () => (await masterWorkerPid(rig)) !== oldWorker, 10_000, 20);
  return Date.now();
}

/** What each attempt got, and when it ended (epoch ms). */
function endings(attempts: readonly Attempt[]): Promise<{ result: string; endedAt: number }[]> {
  return Promise.all(attempts.map(async (a) => ({ result: await a.result, endedAt: Date.now() })));
}

describe('write-listen hold (haconfd-hold.lua in real HAProxy)', () => {
  test('a usable server: nothing is held, the connection is routed at once', () =>
    withRig(async (rig) => {
      await waitStates(rig, W, { pg1: 'up' });
      const a = attempt(rig.ports.write);
      assert.equal(await a.result, 'pg1');
      assert.equal((await holds(rig)).held, 0);
    }, { holdTimeout: '10s' }));

  test('200 connections held at once while no server is usable all reach the server made ready', () =>
    withRig(async (rig) => {
      await waitStates(rig, W, { pg1: 'up' });
      await allWriteServersOut(rig);
      const attempts = Array.from({ length: 200 }, () => attempt(rig.ports.write));
      await waitFor('200 connections held', async () => (await holds(rig)).held === 200, 15_000, 20);
      // Held, not closed: none has ended while every server is still out.
      assert.equal(attempts.filter((a) => a.ended()).length, 0);
      await send(rig, `set server ${W}/pg1 state ready`);
      const results = await Promise.all(attempts.map((a) => a.result));
      assert.deepEqual(new Set(results), new Set(['pg1']), `every held connection reaches pg1: ${JSON.stringify(results.filter((r) => r !== 'pg1').slice(0, 5))}`);
      const c = await holds(rig);
      assert.equal(c.released, 200);
      assert.equal(c.timedOut, 0);
    }, { holdTimeout: '20s', vars: { maxconn: 1000 } }));

  test('health down on every server (checks still running) holds too; a server coming UP releases', () =>
    withRig(async (rig) => {
      await waitStates(rig, W, { pg1: 'up' });
      await send(rig, `set server ${W}/pg1 health down; set server ${W}/pg2 health down; set server ${W}/pg3 health down`);
      await waitStates(rig, W, { pg1: 'down', pg2: 'down', pg3: 'down' });
      const a = attempt(rig.ports.write);
      await waitFor('the connection held', async () => (await holds(rig)).held === 1, 5000, 10);
      await send(rig, `set server ${W}/pg1 health up`);
      assert.equal(await a.result, 'pg1');
    }, { holdTimeout: '20s', checkInter: '30s' }));

  test('DRAIN of the only usable server holds new connections (the planned-switchover state)', () =>
    withRig(async (rig) => {
      await waitStates(rig, W, { pg1: 'up', pg2: 'down', pg3: 'down' }, 10_000);
      await send(rig, `set server ${W}/pg1 state drain`);
      await waitStates(rig, W, { pg1: 'drain' });
      const a = attempt(rig.ports.write);
      await waitFor('the connection held', async () => (await holds(rig)).held === 1, 5000, 10);
      await send(rig, `set server ${W}/pg1 state ready`);
      assert.equal(await a.result, 'pg1');
    }, { holdTimeout: '20s' }));

  test('hold_timeout lets the connection go to HAProxy\'s normal behaviour (closed with no server)', () =>
    withRig(async (rig) => {
      await waitStates(rig, W, { pg1: 'up' });
      await allWriteServersOut(rig);
      const a = attempt(rig.ports.write);
      assert.equal(await a.result, 'closed');
      const elapsed = await a.elapsed;
      assert.ok(elapsed >= 900, `held for about hold_timeout (1s), ended after ${elapsed} ms`);
      const c = await holds(rig);
      assert.equal(c.timedOut, 1);
      assert.equal(c.released, 0);
    }, { holdTimeout: '1s' }));

  test('read listens never hold: with no usable replica a connection is closed at once', () =>
    withRig(async (rig) => {
      await waitStates(rig, R, { pg2: 'up', pg3: 'up' });
      await send(rig, `set server ${R}/pg1 state maint; set server ${R}/pg2 state maint; set server ${R}/pg3 state maint`);
      await waitStates(rig, R, { pg1: 'maint', pg2: 'maint', pg3: 'maint' });
      const a = attempt(rig.ports.read);
      assert.equal(await a.result, 'closed');
      assert.ok((await a.elapsed) < 5000, 'not held for the write listen\'s hold_timeout');
      assert.equal((await holds(rig, R)).held, 0);
    }, { holdTimeout: '20s' }));

  test('a held client that disconnects is cleaned up: its session ends, nothing is routed for it', () =>
    withRig(async (rig) => {
      await waitStates(rig, W, { pg1: 'up' });
      await allWriteServersOut(rig);
      const attempts = Array.from({ length: 10 }, () => attempt(rig.ports.write));
      await waitFor('10 connections held', async () => (await holds(rig)).held === 10, 5000, 10);
      assert.equal(await frontendSessions(rig), 10);
      for (const a of attempts) a.socket.destroy();
      await waitFor('the held sessions gone', async () => (await frontendSessions(rig)) === 0, 5000, 20);
      await send(rig, `set server ${W}/pg1 state ready`);
      const after = attempt(rig.ports.write);
      assert.equal(await after.result, 'pg1');
      const c = await holds(rig);
      assert.equal(c.abandoned, 10);
      assert.equal(c.released, 0, 'none of the disconnected clients was routed');
    }, { holdTimeout: '20s' }));

  test('runtime commands the controller sends while connections are held never stop the worker', () =>
    withRig(async (rig) => {
      await waitStates(rig, W, { pg1: 'up' });
      const worker = await masterWorkerPid(rig);
      await allWriteServersOut(rig);
      const attempts = Array.from({ length: 50 }, () => attempt(rig.ports.write));
      await waitFor('50 connections held', async () => (await holds(rig)).held === 50, 10_000, 10);
      const sequences = [
        `set server ${W}/pg2 state drain`,
        `set server ${W}/pg2 state maint`,
        // The lines the controller sends (commandLine), so a server leaving MAINT is never usable
        // for an instant (weight 0 meanwhile): a held connection polling then would be let go.
        commandLine({ backend: W, server: 'pg2', action: 'ready-health-down' }),
        commandLine({ backend: W, server: 'pg3', action: 'ready-health-down' }),
        `shutdown sessions server ${W}/pg2`,
        `set server ${W}/pg2 weight 0`,
        `set server ${W}/pg2 weight 1`,
        `disable health ${W}/pg3`,
        `enable health ${W}/pg3`,
        commandLine({ backend: W, server: 'pg1', action: 'ready-health-down' }),
        `show servers state`,
        `show stat`,
      ];
      for (const line of sequences) {
        await send(rig, line);
        assert.equal(await masterWorkerPid(rig), worker, `the worker survives: ${line}`);
        assert.equal(rig.haproxy.process.exited(), false, `the master survives: ${line}`);
      }
      await send(rig, `set server ${W}/pg1 health up`);
      const results = await Promise.all(attempts.map((a) => a.result));
      assert.deepEqual(new Set(results), new Set(['pg1']));
      assert.equal(await masterWorkerPid(rig), worker);
    }, { holdTimeout: '20s', checkInter: '30s' }));

  // The old worker of a reload is steered by nobody (haconfd talks to the new one) and its listens
  // are stopped, so its nbsrv reads 0 whatever its servers: it lets every connection go at once.
  test('HAProxy reloaded during a hold: the old worker lets its held connections go at once (closed with no server there), none waits for hold_timeout', () =>
    withRig(async (rig) => {
      await waitStates(rig, W, { pg1: 'up' });
      await allWriteServersOut(rig);
      const attempts = Array.from({ length: 20 }, () => attempt(rig.ports.write));
      await waitFor('20 connections held', async () => (await holds(rig)).held === 20, 5000, 10);
      const newWorkerAt = await reloadSeen(rig);
      // The new worker starts without the runtime MAINT (no state file was written): pg1 is UP there.
      const fresh = attempt(rig.ports.write);
      assert.equal(await fresh.result, 'pg1');
      for (const e of await endings(attempts)) {
        assert.equal(e.result, 'closed', 'every server of the old worker is in MAINT');
        // Held on, they would end at hard-stop-after (5 s after the old worker stopped), hold_timeout being 20 s.
        assert.ok(e.endedAt - newWorkerAt < 2500, `let go once the old worker stopped: ${e.endedAt - newWorkerAt} ms after the new worker was seen`);
      }
      assert.equal(rig.haproxy.process.exited(), false, 'HAProxy keeps running');
    }, { holdTimeout: '20s' }));

  // Seen on the real cluster: a connection accepted by the old worker just before a reload stopped
  // its listens waited 30 s (hold_timeout) although the leader was UP there, then hard-stop-after cut it.
  test('a reload while a hold request holds connections and a server is usable: the old worker routes them to it at once', () =>
    withRig(async (rig) => {
      await waitStates(rig, W, { pg1: 'up', pg2: 'down', pg3: 'down' }, 10_000);
      await holdCommand(rig, holdRequestLine(W, 30_000));
      const attempts = Array.from({ length: 5 }, () => attempt(rig.ports.write));
      await waitFor('5 connections held', async () => (await holds(rig)).held === 5, 5000, 10);
      const newWorkerAt = await reloadSeen(rig);
      for (const e of await endings(attempts)) {
        assert.equal(e.result, 'pg1', 'routed by the old worker to its UP server');
        // Held on, they would outlast the request (30 s) and end at hard-stop-after, 5 s after the old worker stopped.
        assert.ok(e.endedAt - newWorkerAt < 2500, `routed once the old worker stopped: ${e.endedAt - newWorkerAt} ms after the new worker was seen`);
      }
    }, { holdTimeout: '20s' }));
  test('haconfd\'s hold request holds new connections although a server is usable; release routes them to it', () =>
    withRig(async (rig) => {
      await waitStates(rig, W, { pg1: 'up', pg2: 'down', pg3: 'down' }, 10_000);
      await holdCommand(rig, holdRequestLine(W, 20_000));
      assert.ok((await holds(rig)).requestedMs > 15_000);
      const attempts = Array.from({ length: 5 }, () => attempt(rig.ports.write));
      await waitFor('5 connections held', async () => (await holds(rig)).held === 5, 5000, 10);
      assert.equal(attempts.filter((a) => a.ended()).length, 0);
      // A long session already on the leader is not touched by the request.
      await holdCommand(rig, holdReleaseLine(W));
      assert.deepEqual(await Promise.all(attempts.map((a) => a.result)), ['pg1', 'pg1', 'pg1', 'pg1', 'pg1']);
      assert.equal((await holds(rig)).requestedMs, 0);
    }, { holdTimeout: '20s' }));

  test('a hold request ends by itself at its deadline (haconfd gone): held connections go to the usable server', () =>
    withRig(async (rig) => {
      await waitStates(rig, W, { pg1: 'up', pg2: 'down', pg3: 'down' }, 10_000);
      await holdCommand(rig, holdRequestLine(W, 800));
      const a = attempt(rig.ports.write);
      assert.equal(await a.result, 'pg1');
      const elapsed = await a.elapsed;
      assert.ok(elapsed >= 300 && elapsed < 5000, `held until the request's deadline, not hold_timeout: ${elapsed} ms`);
      assert.equal((await holds(rig)).requestedMs, 0);
    }, { holdTimeout: '20s' }));

  // HAProxy 2.6 drops a Lua wake-up that is already in the past when tcp-request content re-arms its
  // timer; a wake-up taken from a clock that went stale while the loop did slow work (a busy machine,
  // TLS handshakes, a slow Lua fetch) is, and the connection then slept until inspect-delay. The
  // slow work here is a Lua fetch burning 15 ms of CPU on a side listen, hit every 100 ms, on the
  // one thread that also runs the held connections. With core.msleep in the hold, 23 and 29 of ~400
  // held connections waited until inspect-delay (two runs of the same load outside the suite).
  test('held connections are released on time while HAProxy\'s loop is slowed by other work (no missed wake-up)', () =>
    withRig(async (rig) => {
      await waitStates(rig, W, { pg1: 'up', pg2: 'down', pg3: 'down' }, 10_000);
      // Each connection runs the slow fetch once and is closed by HAProxy's reject; any still open
      // when the test ends are destroyed then.
      const open = new Set<Socket>();
      const slow = setInterval(() => {
        const c = connect({ host: '127.0.0.1', port: rig.ports.extra });
        open.add(c);
        c.on('error', () => undefined);
        c.on('close', () => open.delete(c));
      }, 100);
      const attempts: Attempt[] = [];
      try {
        for (let round = 0; round < 4; round++) {
          await holdCommand(rig, holdRequestLine(W, 1000));
          const roundStart = attempts.length;
          const opener = setInterval(() => attempts.push(attempt(rig.ports.write)), 20);
          await waitFor('the hold request to end', async () => (await holds(rig)).requestedMs === 0, 10_000, 20);
          clearInterval(opener);
          assert.ok(attempts.length - roundStart >= 5, `round ${round}: connections were opened during the hold`);
        }
      } finally {
        clearInterval(slow);
        for (const c of open) c.destroy();
      }
      const results = await Promise.all(attempts.map(async (a) => ({ result: await a.result, elapsed: await a.elapsed })));
      const late = results.filter((r) => r.result !== 'pg1' || r.elapsed > 6000);
      assert.deepEqual(late, [], `all ${results.length} connections reach pg1 soon after the 1 s hold (a missed wake-up waits for inspect-delay, 11 s)`);
      const c = await holds(rig);
      assert.ok(c.held >= 20, `connections were held: ${c.held}`);
      assert.equal(c.timedOut, 0);
    }, {
      holdTimeout: '10s',
      extraGlobal: (dir) => ['nbthread 1', 'tune.lua.forced-yield 1000000000', `lua-load ${join(dir, 'slow-fetch.lua')}`],
      extraSections: (dir, port) => {
        writeFileSync(join(dir, 'slow-fetch.lua'), [
          'core.register_fetches("slow15", function(txn)',
          '  local t = os.clock()',
          '  while os.clock() - t < 0.015 do end',
          '  return 1',
          'end)',
        ].join('\n'));
        // Every connection runs the slow fetch, then is closed: no server needed.
        return ['listen slow_loop', `    bind 127.0.0.1:${port}`, '    tcp-request content reject if { lua.slow15 -m int 1 }'];
      },
    }));

  test('hold commands refuse a listen that does not exist and a bad duration, and change nothing', () =>
    withRig(async (rig) => {
      for (const line of ['haconfd hold nosuch_primary 1000', `haconfd hold ${W} 0`, `haconfd hold ${W} 1.5`, `haconfd hold ${W} 3600001`, `haconfd hold ${W}`, 'haconfd release nosuch_primary']) {
        const reply = await exchange({ kind: 'unix', path: rig.socket }, line, 2000);
        assert.match(holdReplyError(reply) ?? '', /no such listen|whole number/, line);
      }
      assert.equal((await holds(rig)).requestedMs, 0);
      await waitStates(rig, W, { pg1: 'up', pg2: 'down', pg3: 'down' }, 10_000);
      assert.equal(await attempt(rig.ports.write).result, 'pg1');
    }, { holdTimeout: '20s' }));
});
