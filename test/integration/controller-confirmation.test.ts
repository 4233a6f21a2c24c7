/**
 * Leader confirmation through a real local HTTP server standing in for Patroni's REST API:
 * fast polling until a running primary, bounded waits, a server that never answers, bad replies,
 * and cancellation by a newer leader.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { confirmLeader, LeaderConfirmations, probePatroni, type ConfirmationSettled } from '../../src/haproxy/controller/leaderConfirmation.js';
import { waitFor } from '../harness/process.js';

type Mode = { kind: 'json'; body: unknown; status?: number } | { kind: 'hang' } | { kind: 'hang-first'; body: unknown; hung: boolean } | { kind: 'raw'; text: string; status: number };

let server: Server;
let silent: TcpServer;
let base = '';
let silentUrl = '';
const modes = new Map<string, Mode>();
const hits = new Map<string, number>();
const hung = new Set<ServerResponse>();
const silentSockets = new Set<Socket>();

before(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const m = modes.get(path) ?? { kind: 'raw', text: 'not found', status: 503 };
    if (m.kind === 'hang') {
      hung.add(res);
      return;
    }
    if (m.kind === 'hang-first') {
      if (!m.hung) {
        m.hung = true;
        hung.add(res);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(m.body));
      return;
    }
    if (m.kind === 'raw') {
      res.writeHead(m.status);
      res.end(m.text);
      return;
    }
    res.writeHead(m.status ?? 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(m.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Accepts connections and never says a word.
  silent = createTcpServer((s) => {
    silentSockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/patroni`;
});

after(async () => {
  for (const r of hung) r.destroy();
  for (const s of silentSockets) s.destroy();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await new Promise<void>((r) => silent.close(() => r()));
});

const opts = { timeoutMs: 1000, pollMs: 20, requestTimeoutMs: 150 };

describe('leader confirmation against a real HTTP server', { timeout: 300_000 }, () => {
  test('probe: role and state from GET /patroni (200 or 503)', async () => {
    modes.set('/a', { kind: 'json', body: { role: 'master', state: 'running', xlog: {} } });
    assert.deepEqual(await probePatroni(`${base}/a`, { timeoutMs: 5000 }), { role: 'master', state: 'running' });
    modes.set('/b', { kind: 'json', body: { role: 'replica', state: 'stopping' }, status: 503 });
    assert.deepEqual(await probePatroni(`${base}/b`, { timeoutMs: 5000 }), { role: 'replica', state: 'stopping' });
    modes.set('/c', { kind: 'raw', text: '<html>', status: 200 });
    await assert.rejects(probePatroni(`${base}/c`, { timeoutMs: 5000 }), /not JSON/);
    modes.set('/d', { kind: 'json', body: { hello: 1 } });
    await assert.rejects(probePatroni(`${base}/d`, { timeoutMs: 5000 }), /no role\/state/);
    modes.set('/e', { kind: 'raw', text: '', status: 404 });
    await assert.rejects(probePatroni(`${base}/e`, { timeoutMs: 5000 }), /HTTP 404/);
    await assert.rejects(probePatroni('ftp://127.0.0.1/x', { timeoutMs: 5000 }), /scheme/);
    await assert.rejects(probePatroni('http://127.0.0.1:1/patroni', { timeoutMs: 5000 }), /ECONNREFUSED/);
  });

  test('confirms as soon as the API reports a running primary (polled fast)', async () => {
    modes.set('/promote', { kind: 'json', body: { role: 'replica', state: 'running' } });
    // The API turns primary once it has answered "replica" five times (not after a fixed time, which
    // a loaded machine could stretch past the bound).
    const before = hits.get('/promote') ?? 0;
    const promoted = waitFor('five polls answered "replica"', () => (hits.get('/promote') ?? 0) >= before + 5, 15_000, 2).then(() =>
      modes.set('/promote', { kind: 'json', body: { role: 'primary', state: 'running' } }),
    );
    const r = await confirmLeader(`${base}/promote`, { ...opts, timeoutMs: 15_000 });
    await promoted;
    assert.equal(r.outcome, 'confirmed');
    assert.ok(r.attempts >= 6, `confirmed by a poll after the change: ${r.attempts} attempts`);
  });

  test('a hanging API: each request bounded, the whole attempt bounded, never confirmed', async () => {
    modes.set('/hang', { kind: 'hang' });
    const t0 = Date.now();
    const r = await confirmLeader(`${base}/hang`, opts);
    const ms = Date.now() - t0;
    assert.equal(r.outcome, 'timed-out');
    // Bounded: not before 1000 ms; the ceiling only leaves room for a loaded machine.
    assert.ok(ms >= 950 && ms < 10_000, `gave up after ${ms} ms (bound 1000 ms)`);
    assert.ok(r.attempts >= 3, `kept retrying with fresh requests: ${r.attempts}`);
    assert.match(r.last, /no reply within/);
    const s = await confirmLeader(silentUrl, { ...opts, timeoutMs: 400 });
    assert.equal(s.outcome, 'timed-out');
  });

  test('a stalled request does not delay the next one (overlapping polls)', async () => {
    modes.set('/stall', { kind: 'hang-first', body: { role: 'master', state: 'running' }, hung: false });
    const t0 = Date.now();
    // The first request hangs for its whole 8 s timeout: a confirmation well before that came from a
    // later request that did not wait behind it (the ceiling leaves 6 s for a loaded machine).
    const r = await confirmLeader(`${base}/stall`, { ...opts, requestTimeoutMs: 8000, timeoutMs: 15_000 });
    const ms = Date.now() - t0;
    assert.equal(r.outcome, 'confirmed');
    assert.ok(ms < 6000, `confirmed after ${ms} ms although the first request never answered (it times out at 8000 ms)`);
    // A hanging API keeps at most a few requests open at once: over 2 s of 20 ms polls, 3 requests.
    modes.set('/hang2', { kind: 'hang' });
    const before = hits.get('/hang2') ?? 0;
    const h = await confirmLeader(`${base}/hang2`, { ...opts, requestTimeoutMs: 10_000, timeoutMs: 2000, maxInFlight: 3 });
    assert.equal(h.outcome, 'timed-out');
    assert.equal((hits.get('/hang2') ?? 0) - before, 3);
  });

  test('a primary that is not running is not confirmed', async () => {
    modes.set('/starting', { kind: 'json', body: { role: 'master', state: 'starting' } });
    const r = await confirmLeader(`${base}/starting`, { ...opts, timeoutMs: 300 });
    assert.equal(r.outcome, 'timed-out');
    assert.equal(r.last, 'role master, state starting');
  });

  test('tracking: a newer leader cancels the older confirmation; settles once; no member key → bounded', async () => {
    const settled: ConfirmationSettled[] = [];
    const lc = new LeaderConfirmations({ ...opts, timeoutMs: 10_000, onSettled: (s) => settled.push(s) });
    // A confirmation that keeps polling (a replica) as a clock: once it has polled N more times, a
    // poller that was not cancelled would have polled too.
    const canary = new LeaderConfirmations({ ...opts, timeoutMs: 60_000, onSettled: () => undefined });
    modes.set('/canary', { kind: 'json', body: { role: 'replica', state: 'running' } });
    const canaryPolls = async (n: number): Promise<void> => {
      const from = hits.get('/canary') ?? 0;
      await waitFor(`${n} more canary polls`, () => (hits.get('/canary') ?? 0) >= from + n, 60_000, 5);
    };
    try {
      modes.set('/old', { kind: 'json', body: { role: 'replica', state: 'running' } });
      modes.set('/new', { kind: 'json', body: { role: 'master', state: 'running' } });
      const oldBefore = hits.get('/old') ?? 0;
      assert.equal(lc.track('demo', 'pg2', `${base}/old`)?.status, 'pending');
      await waitFor('pg2 polled', () => (hits.get('/old') ?? 0) > oldBefore, 60_000, 5);
      assert.equal(lc.track('demo', 'pg3', `${base}/new`)?.status, 'pending');
      modes.set('/old', { kind: 'json', body: { role: 'master', state: 'running' } });
      await waitFor('pg3 confirmed', () => settled.length > 0, 60_000, 10);
      canary.track('canary', 'c1', `${base}/canary`);
      // A request the old attempt sent just before it was cancelled may still reach the server
      // late on a loaded machine; count from after that, then watch ten poll intervals.
      await canaryPolls(5);
      const oldHits = hits.get('/old') ?? 0;
      await canaryPolls(10);
      assert.deepEqual(settled.map((s) => [s.leader, s.status]), [['pg3', 'confirmed']]);
      assert.equal(hits.get('/old') ?? 0, oldHits, 'the old attempt stopped polling');
      assert.equal(lc.track('demo', 'pg3', `${base}/new`)?.status, 'confirmed');
      // Leader without a member key yet: pending, then timed out at the bound.
      const short = new LeaderConfirmations({ ...opts, timeoutMs: 600, onSettled: (s) => settled.push(s) });
      assert.equal(short.track('other', 'x1', undefined)?.status, 'pending');
      await waitFor('x1 timed out', () => settled.some((s) => s.leader === 'x1'), 60_000, 10);
      assert.equal(short.track('other', 'x1', undefined)?.status, 'timed-out');
      // The member key appears in time (the bound here is 10 s): confirmed.
      assert.equal(lc.track('third', 'y1', undefined)?.status, 'pending');
      await canaryPolls(2);
      lc.track('third', 'y1', `${base}/new`);
      await waitFor('y1 confirmed', () => settled.some((s) => s.leader === 'y1' && s.status === 'confirmed'), 60_000, 10);
      // Leader key gone → forgotten.
      assert.equal(lc.track('demo', undefined, undefined), undefined);
    } finally {
      lc.cancelAll();
      canary.cancelAll();
    }
  });
});
