/**
 * etcd backend figures against a real etcd: reading a prefix of 10,000 keys (median of 5 reads, and
 * the peak RSS one read adds, measured in a fresh process), and etcd put → onEvents latency
 * (p50/p99 over 200 puts, medians over 3 runs).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { startEtcd } from '../harness/etcd.js';
import { createEtcdBackend } from '../../src/backends/etcd/etcd.js';
import { silentLogger } from '../../src/log/logger.js';
import { median, percentile, type BenchRow } from './table.js';

const KEYS = 10_000;
const PREFIX = '/service/bench';

function memberValue(i: number): string {
  return JSON.stringify({
    conn_url: `postgres://10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:5432/postgres`,
    api_url: `http://10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8008/patroni`,
    state: 'running',
    role: 'replica',
    version: '3.0.2',
    xlog_location: 67108864 + i,
    timeline: 1,
  });
}

/** Runs one read in a fresh process: its wall time and the peak RSS it adds (MB). */
async function readInChild(clientUrl: string): Promise<{ ms: number; peakDeltaMb: number; importMs: number }> {
  const etcdModule = fileURLToPath(new URL('../../src/backends/etcd/etcd.ts', import.meta.url));
  const loggerModule = fileURLToPath(new URL('../../src/log/logger.ts', import.meta.url));
  const script = `
    const { silentLogger: _warm } = await import(${JSON.stringify(loggerModule)});
    const ti = performance.now();
    const { createEtcdBackend } = await import(${JSON.stringify(etcdModule)});
    const importMs = performance.now() - ti;
    const { silentLogger } = await import(${JSON.stringify(loggerModule)});
    const b = await createEtcdBackend({ nodes: [${JSON.stringify(clientUrl)}], connectTimeoutMs: 5000 }, silentLogger());
    await b.read(['/service/none']); // connect first: the figure is the read, not the handshake
    const before = process.memoryUsage().rss;
    const t0 = performance.now();
    const s = await b.read([${JSON.stringify(PREFIX)}]);
    const ms = performance.now() - t0;
    const peak = process.resourceUsage().maxRSS * 1024;
    if (s.pairs.size !== ${KEYS}) throw new Error('read ' + s.pairs.size + ' keys');
    await b.close();
    console.log(JSON.stringify({ ms, peakDeltaMb: (peak - before) / 1048576, importMs }));
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`read child failed: ${err}`);
  return JSON.parse(out.trim().split('\n').pop() as string) as { ms: number; peakDeltaMb: number; importMs: number };
}

export async function run(): Promise<BenchRow[]> {
  const etcd = await startEtcd('bench-etcd');
  const writer = new Etcd3({ hosts: etcd.clientUrl });
  const backend = await createEtcdBackend({ nodes: [etcd.clientUrl], connectTimeoutMs: 5000 }, silentLogger());
  try {
    for (let i = 0; i < KEYS; i += 100) {
      const ops = Array.from({ length: 100 }, (_, j) => writer.put(`${PREFIX}/members/m${i + j}`).value(memberValue(i + j)));
      await writer.if(`${PREFIX}/x`, 'Version', '>', -1).then(...ops).commit();
    }

    // Warm reads in this process.
    await backend.read([PREFIX]);
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const s = await backend.read([PREFIX]);
      warm.push(performance.now() - t0);
      if (s.pairs.size !== KEYS) throw new Error(`read ${s.pairs.size} keys`);
    }
    // One read per fresh process, for the memory it takes.
    const fresh: { ms: number; peakDeltaMb: number; importMs: number }[] = [];
    for (let i = 0; i < 5; i++) fresh.push(await readInChild(etcd.clientUrl));

    // put → onEvents, one put at a time.
    const p50s: number[] = [];
    const p99s: number[] = [];
    for (let r = 0; r < 3; r++) {
      const snap = await backend.read(['/service/latency']);
      let waiting: { value: string; resolve: (t: number) => void } | undefined;
      let connected!: () => void;
      const isConnected = new Promise<void>((res) => (connected = res));
      const w = backend.watch(['/service/latency'], snap.revision, {
        onEvents(events) {
          const t = performance.now();
          for (const e of events) if (waiting && e.type === 'put' && e.value === waiting.value) waiting.resolve(t);
        },
        onResync() {},
        onStatus(s) {
          if (s === 'connected') connected();
        },
      });
      await isConnected;
      const lat: number[] = [];
      for (let i = 0; i < 200; i++) {
        const value = `r${r}-v${i}`;
        const seen = new Promise<number>((resolve) => (waiting = { value, resolve }));
        const t0 = performance.now();
        await writer.put('/service/latency/leader').value(value);
        lat.push((await seen) - t0);
      }
      await w.close();
      p50s.push(percentile(lat, 50));
      p99s.push(percentile(lat, 99));
    }

    return [
      { issue: 3, name: `etcd backend: read of a prefix with ${KEYS.toLocaleString('en')} keys (warm)`, value: `${median(warm).toFixed(1)} ms`, runs: 5, target: 'confd re-reads: 235 ms per change' },
      {
        issue: 3,
        name: `etcd backend: read of ${KEYS.toLocaleString('en')} keys in a fresh process`,
        value: `${median(fresh.map((f) => f.ms)).toFixed(1)} ms, peak RSS +${median(fresh.map((f) => f.peakDeltaMb)).toFixed(1)} MB`,
        runs: 5,
      },
      {
        issue: 3,
        name: 'etcd backend: module import (etcd3 + gRPC), fresh process',
        value: `${median(fresh.map((f) => f.importMs)).toFixed(0)} ms (under tsx; compiled JS loads a little faster)`,
        runs: 5,
        target: 'part of cold -onetime ≤ 350 ms',
      },
      { issue: 3, name: 'etcd backend: put → onEvents (200 puts)', value: `p50 ${median(p50s).toFixed(2)} ms, p99 ${median(p99s).toFixed(2)} ms`, runs: 3, target: 'put → file p50 ≤ 5 ms, p99 ≤ 15 ms (whole path)' },
    ];
  } finally {
    await backend.close();
    writer.close();
    await etcd.stop();
  }
}
