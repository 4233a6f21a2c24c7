/**
 * The one-shot etcd reader (gRPC unary calls over node:http2, used by -onetime) against a real etcd:
 * it returns exactly what the etcd3-based backend returns, fails over and times out the same way,
 * and a -onetime run of the CLI loads no gRPC module and exits at once.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { startEtcd, startEtcdCluster, type EtcdInstance } from '../harness/etcd.js';
import { freePorts } from '../harness/process.js';
import { CLI } from '../harness/cli.js';
import { makeWorkspace } from './daemon-fixture.js';
import { createEtcdBackend, type EtcdBackend } from '../../src/backends/etcd/etcd.js';
import { createEtcdOneShotBackend, type EtcdOneShotBackend, type EtcdOneShotOptions } from '../../src/backends/etcd/etcdOneShot.js';
import { BackendUnavailableError } from '../../src/backends/backend.js';
import { silentLogger } from '../../src/log/logger.js';

let etcd: EtcdInstance;
let writer: Etcd3;
let reference: EtcdBackend;

const BIG = 'x'.repeat(1024 * 1024 - 10) + 'ünïcødé';

before(async () => {
  etcd = await startEtcd('etcd-oneshot');
  writer = new Etcd3({ hosts: etcd.clientUrl });
  reference = await createEtcdBackend({ nodes: [etcd.clientUrl], connectTimeoutMs: 5000 }, silentLogger());
  await writer.put('/svc/demo').value('the prefix key itself');
  await writer.put('/svc/demo/leader').value('pg1');
  await writer.put('/svc/demo/members/pg1').value('{"role":"primary"}');
  await writer.put('/svc/demo2/leader').value('not mine');
  await writer.put('/svc/demo-x/leader').value('not mine either');
  await writer.put('/svc/demo/bytes/latin1').value(Buffer.from([0x63, 0x61, 0x66, 0xe9]));
  await writer.put('/svc/demo/bytes/junk').value(Buffer.from([0xff, 0xfe, 0x00, 0xc3]));
  await writer.put(Buffer.from('/svc/demo/bytes/\xff', 'latin1')).value('bad key');
  await writer.put('/svc/demo/big').value(BIG);
  await writer.put('/svc/demo/empty').value('');
  for (let i = 0; i < 10_000; i += 100) {
    const ops = Array.from({ length: 100 }, (_, j) => writer.put(`/many/members/m${String(i + j).padStart(5, '0')}`).value(`{"n":${i + j}}`));
    await writer.if('/many/x', 'Version', '>', -1).then(...ops).commit();
  }
  for (let i = 0; i < 150; i++) await writer.put(`/wide/p${i}/k`).value(String(i));
});

after(async () => {
  await reference?.close();
  writer?.close();
  await etcd?.stop();
});

async function withOneShot<T>(opts: Partial<EtcdOneShotOptions>, fn: (b: EtcdOneShotBackend) => Promise<T>): Promise<T> {
  const b = await createEtcdOneShotBackend({ nodes: [etcd.clientUrl], connectTimeoutMs: 4000, ...opts }, silentLogger());
  try {
    return await fn(b);
  } finally {
    await b.close();
  }
}

test('returns exactly what the etcd3 backend returns: same revision, same pairs', async () => {
  const wide = Array.from({ length: 150 }, (_, i) => `/wide/p${i}`); // 300 ranges: three transactions
  const cases: string[][] = [['/svc/demo'], ['/svc/demo', '/many'], ['/svc'], ['/'], [], ['/nothing/here'], ['/svc/demo/leader'], wide];
  await withOneShot({}, async (b) => {
    for (const prefixes of cases) {
      const ours = await b.read(prefixes);
      const theirs = await reference.read(prefixes);
      assert.equal(ours.revision, theirs.revision, `revision for ${prefixes.join(',')}`);
      assert.ok(ours.revision > 0);
      assert.deepEqual(ours.pairs, theirs.pairs, `pairs for ${prefixes.join(',')}`);
    }
    const s = await b.read(['/svc/demo']);
    assert.equal(s.pairs.get('/svc/demo'), 'the prefix key itself');
    assert.ok(!s.pairs.has('/svc/demo2/leader') && !s.pairs.has('/svc/demo-x/leader'), 'whole path segments only');
    assert.equal(s.pairs.get('/svc/demo/bytes/latin1'), 'caf\ufffd');
    assert.equal(s.pairs.get('/svc/demo/bytes/junk'), '\ufffd\ufffd\u0000\ufffd');
    assert.equal(s.pairs.get('/svc/demo/bytes/\ufffd'), 'bad key');
    assert.equal(s.pairs.get('/svc/demo/big'), BIG);
    assert.equal(s.pairs.get('/svc/demo/empty'), '');
    const many = await b.read(['/many']);
    assert.equal(many.pairs.size, 10_000);
    assert.equal(many.pairs.get('/many/members/m09999'), '{"n":9999}');
    assert.equal((await b.read(wide)).pairs.size, 150);
  });
});

test('watch() is refused; read() after close() is an outage error', async () => {
  const b = await createEtcdOneShotBackend({ nodes: [etcd.clientUrl], connectTimeoutMs: 2000 }, silentLogger());
  assert.throws(() => b.watch(), /cannot watch/);
  await b.close();
  await assert.rejects(b.read(['/svc/demo']), (e: unknown) => e instanceof BackendUnavailableError);
});

test('every endpoint refuses: BackendUnavailableError at once (not after the connect timeout), in plain words naming every endpoint', async () => {
  const [p1, p2] = (await freePorts(2)) as [number, number];
  const nodes = [`http://127.0.0.1:${p1}`, `127.0.0.1:${p2}`];
  await withOneShot({ nodes, connectTimeoutMs: 20_000 }, async (b) => {
    const t0 = Date.now();
    await assert.rejects(b.read(['/svc/demo']), (e: unknown) => {
      assert.ok(e instanceof BackendUnavailableError, String(e));
      assert.match(e.message, /etcd unreachable: read of \/svc\/demo failed on every endpoint/);
      assert.ok(e.message.includes(`http://127.0.0.1:${p1}`) && e.message.includes(`http://127.0.0.1:${p2}`), e.message);
      assert.match(e.message, /connection refused \(ECONNREFUSED\) — is etcd running there, and is that its client port \(2379 by default/);
      return true;
    });
    const ms = Date.now() - t0;
    assert.ok(ms < 10_000, `took ${ms} ms: a refusal needs no wait for the 20 s connect timeout (the margin is for a loaded machine)`);
  });
});

test('endpoints that accept but never answer: BackendUnavailableError naming every endpoint, within the connect timeout', async () => {
  const held: Socket[] = [];
  const silent = [createServer((s) => held.push(s)), createServer((s) => held.push(s))];
  const ports: number[] = [];
  for (const srv of silent) {
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    ports.push((srv.address() as { port: number }).port);
  }
  try {
    // A timeout long enough that the margin below absorbs a loaded machine.
    await withOneShot({ nodes: ports.map((p) => `http://127.0.0.1:${p}`), connectTimeoutMs: 4000 }, async (b) => {
      const t0 = Date.now();
      await assert.rejects(b.read(['/svc/demo']), (e: unknown) => {
        assert.ok(e instanceof BackendUnavailableError, String(e));
        assert.match(e.message, /etcd unreachable: read of \/svc\/demo failed on every endpoint/);
        assert.match(e.message, /within 4000 ms/);
        assert.match(e.message, /no answer \(host down, or a firewall drops the traffic\)/);
        return true;
      });
      const ms = Date.now() - t0;
      assert.ok(ms >= 3900 && ms < 7500, `took ${ms} ms (connect timeout 4000 ms)`);
    });
  } finally {
    for (const s of held) s.destroy();
    for (const srv of silent) srv.close();
  }
});

/** A TCP server that accepts connections and never answers (a hung member). */
async function silentServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${addr.port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

test('a silent first endpoint gets only its share of the budget; the next one answers', async () => {
  const silent = await silentServer();
  try {
    // Budgets long enough that the margins absorb a loaded machine.
    await withOneShot({ nodes: [silent.url, etcd.clientUrl], connectTimeoutMs: 8000 }, async (b) => {
      const t0 = Date.now();
      const s = await b.read(['/svc/demo']);
      const ms = Date.now() - t0;
      assert.equal(s.pairs.get('/svc/demo/leader'), 'pg1');
      assert.ok(ms >= 3900 && ms < 7900, `took ${ms} ms (share 4000 ms of 8000; the whole budget would be 8000)`);
    });
    await withOneShot({ nodes: [silent.url], connectTimeoutMs: 3000 }, async (b) => {
      const t0 = Date.now();
      await assert.rejects(b.read(['/svc/demo']), (e: unknown) => e instanceof BackendUnavailableError && e.message.includes(silent.url));
      assert.ok(Date.now() - t0 < 5500, `took ${Date.now() - t0} ms (budget 3000 ms)`);
    });
  } finally {
    await silent.close();
  }
});

test('3-member cluster: a dead first endpoint falls through to the next, same data as etcd3', async () => {
  const cluster = await startEtcdCluster(3, 'oneshotc');
  try {
    await cluster.ctl(['put', '/c/demo/leader', 'pg2']);
    await cluster.ctl(['put', '/c/demo/members/pg2', 'x']);
    await cluster.members[0]!.halt(true);
    const b = await createEtcdOneShotBackend({ nodes: [...cluster.endpoints], connectTimeoutMs: 5000 }, silentLogger());
    const ref = await createEtcdBackend({ nodes: cluster.endpoints.slice(1), connectTimeoutMs: 5000 }, silentLogger());
    try {
      // If the killed member led, the others elect a new leader first: wait for that through etcd3.
      const r = await ref.read(['/c/demo']);
      const t0 = Date.now();
      const s = await b.read(['/c/demo']);
      assert.ok(Date.now() - t0 < 4000, `took ${Date.now() - t0} ms (a refused endpoint must not cost the 5000 ms connect timeout)`);
      assert.equal(s.pairs.get('/c/demo/leader'), 'pg2');
      assert.equal(s.revision, r.revision);
      assert.deepEqual(s.pairs, r.pairs);
    } finally {
      await b.close();
      await ref.close();
    }
  } finally {
    await cluster.stop();
  }
});

test('a -onetime run of the CLI loads no gRPC module, renders 10,000 keys and exits at once', async () => {
  const ws = makeWorkspace('oneshot-cli');
  try {
    const preload = join(ws.dir, 'modules.cjs');
    const out = join(ws.dir, 'modules.json');
    writeFileSync(
      preload,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(Object.keys(require.cache))));\n`,
    );
    ws.writeResource('m.toml', { dest: ws.path('m.conf'), prefix: '/many' });
    const t0 = Date.now();
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--require', preload, CLI, '-onetime', '-confdir', ws.confdir, '-log-level', 'warn', '-backend', 'etcdv3', '-node', etcd.clientUrl], {
        cwd: ws.dir,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve({ code: c, stderr: err });
      });
    });
    assert.equal(code, 0, stderr);
    assert.ok(Date.now() - t0 < 55_000, `took ${Date.now() - t0} ms (a handle left open would keep it until the 60 s kill)`);
    assert.equal(ws.lines('m.conf').length, 10_000);
    const modules = JSON.parse(readFileSync(out, 'utf8')) as string[];
    assert.ok(modules.length > 0, 'the preload saw the module cache');
    const grpc = modules.filter((m) => /[\\/](@grpc|etcd3|protobufjs)[\\/]/.test(m));
    assert.deepEqual(grpc, [], 'gRPC modules loaded by -onetime');
  } finally {
    ws.cleanup();
  }
});

test('the preload check can fail: importing the etcd3 backend does load gRPC modules', async () => {
  const etcdModule = fileURLToPath(new URL('../../src/backends/etcd/etcd.ts', import.meta.url));
  const script = `await import(${JSON.stringify(etcdModule)}); const { createRequire } = await import('node:module'); console.log(Object.keys(createRequire(import.meta.url).cache).filter((m) => m.includes('@grpc')).length);`;
  const outText = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let o = '';
    child.stdout.on('data', (d: Buffer) => (o += d.toString()));
    child.on('error', reject);
    child.on('exit', () => resolve(o));
  });
  assert.ok(Number(outText.trim()) > 0, `expected @grpc modules, got ${outText}`);
});
