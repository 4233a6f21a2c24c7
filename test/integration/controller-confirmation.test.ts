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
import { sleep, waitFor } from '../harness/process.js';

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

describe('leader confirmation against a real HTTP server', { timeout: 60_000 }, () => {
  test('probe: role and state from GET /patroni (200 or 503)', async () => {
    modes.set('/a', { kind: 'json', body: { role: 'master', state: 'running', xlog: {} } });
    assert.deepEqual(await probePatroni(`${base}/a`, { timeoutMs: 500 }), { role: 'master', state: 'running' });
    modes.set('/b', { kind: 'json', body: { role: 'replica', state: 'stopping' }, status: 503 });
    assert.deepEqual(await probePatroni(`${base}/b`, { timeoutMs: 500 }), { role: 'replica', state: 'stopping' });
    modes.set('/c', { kind: 'raw', text: '<html>', status: 200 });
    await assert.rejects(probePatroni(`${base}/c`, { timeoutMs: 500 }), /not JSON/);
    modes.set('/d', { kind: 'json', body: { hello: 1 } });
    await assert.rejects(probePatroni(`${base}/d`, { timeoutMs: 500 }), /no role\/state/);
    modes.set('/e', { kind: 'raw', text: '', status: 404 });
    await assert.rejects(probePatroni(`${base}/e`, { timeoutMs: 500 }), /HTTP 404/);
    await assert.rejects(probePatroni('ftp://127.0.0.1/x', { timeoutMs: 500 }), /scheme/);
    await assert.rejects(probePatroni('http://127.0.0.1:1/patroni', { timeoutMs: 500 }), /ECONNREFUSED/);
  });

  test('confirms as soon as the API reports a running primary (polled fast)', async () => {
    modes.set('/promote', { kind: 'json', body: { role: 'replica', state: 'running' } });
    setTimeout(() => modes.set('/promote', { kind: 'json', body: { role: 'primary', state: 'running' } }), 200);
    const t0 = Date.now();
    const r = await confirmLeader(`${base}/promote`, opts);
    const ms = Date.now() - t0;
    assert.equal(r.outcome, 'confirmed');
    // Confirmed by the polls after the change, well before the 1000 ms bound (slack for a loaded machine).
    assert.ok(ms >= 190 && ms < 700, `confirmed ${ms} ms after start (poll 20 ms)`);
    assert.ok(r.attempts >= 5, `${r.attempts} attempts`);
  });

  test('a hanging API: each request bounded, the whole attempt bounded, never confirmed', async () => {
    modes.set('/hang', { kind: 'hang' });
    const t0 = Date.now();
    const r = await confirmLeader(`${base}/hang`, opts);
    const ms = Date.now() - t0;
    assert.equal(r.outcome, 'timed-out');
    assert.ok(ms >= 950 && ms < 2000, `gave up after ${ms} ms (bound 1000 ms)`);
    assert.ok(r.attempts >= 5, `kept retrying with fresh requests: ${r.attempts}`);
    assert.match(r.last, /no reply within/);
    const s = await confirmLeader(silentUrl, { ...opts, timeoutMs: 400 });
    assert.equal(s.outcome, 'timed-out');
  });

  test('a stalled request does not delay the next one (overlapping polls)', async () => {
    modes.set('/stall', { kind: 'hang-first', body: { role: 'master', state: 'running' }, hung: false });
    const t0 = Date.now();
    const r = await confirmLeader(`${base}/stall`, { ...opts, requestTimeoutMs: 1000, timeoutMs: 3000 });
    const ms = Date.now() - t0;
    assert.equal(r.outcome, 'confirmed');
    assert.ok(ms < 700, `confirmed after ${ms} ms although the first request never answered (it times out at 1000 ms)`);
    // A hanging API keeps at most a few requests open at once.
    modes.set('/hang2', { kind: 'hang' });
    const before = hits.get('/hang2') ?? 0;
    const h = await confirmLeader(`${base}/hang2`, { ...opts, requestTimeoutMs: 1000, timeoutMs: 500, maxInFlight: 3 });
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
    const lc = new LeaderConfirmations({ ...opts, timeoutMs: 600, onSettled: (s) => settled.push(s) });
    try {
      modes.set('/old', { kind: 'json', body: { role: 'replica', state: 'running' } });
      modes.set('/new', { kind: 'json', body: { role: 'master', state: 'running' } });
      assert.equal(lc.track('demo', 'pg2', `${base}/old`)?.status, 'pending');
      await sleep(80);
      assert.equal(lc.track('demo', 'pg3', `${base}/new`)?.status, 'pending');
      modes.set('/old', { kind: 'json', body: { role: 'master', state: 'running' } });
      await waitFor('pg3 confirmed', () => settled.length > 0, 2000, 10);
      // A request the old attempt sent just before it was cancelled may still reach the server
      // late on a loaded machine; count from after that, then watch ten poll intervals.
      await sleep(100);
      const oldHits = hits.get('/old') ?? 0;
      await sleep(200);
      assert.deepEqual(settled.map((s) => [s.leader, s.status]), [['pg3', 'confirmed']]);
      assert.equal(hits.get('/old') ?? 0, oldHits, 'the old attempt stopped polling');
      assert.equal(lc.track('demo', 'pg3', `${base}/new`)?.status, 'confirmed');
      // Leader without a member key yet: pending, then timed out at the bound.
      assert.equal(lc.track('other', 'x1', undefined)?.status, 'pending');
      await waitFor('x1 timed out', () => settled.some((s) => s.leader === 'x1'), 2000, 10);
      assert.equal(lc.track('other', 'x1', undefined)?.status, 'timed-out');
      // The member key appears in time: confirmed.
      assert.equal(lc.track('third', 'y1', undefined)?.status, 'pending');
      await sleep(50);
      lc.track('third', 'y1', `${base}/new`);
      await waitFor('y1 confirmed', () => settled.some((s) => s.leader === 'y1' && s.status === 'confirmed'), 2000, 10);
      // Leader key gone → forgotten.
      assert.equal(lc.track('demo', undefined, undefined), undefined);
    } finally {
      lc.cancelAll();
    }
  });
});
