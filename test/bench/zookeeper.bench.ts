/**
 * Issue 12 benchmarks against a private ZooKeeper (Debian's zookeeperd 3.8), the CLI run as a real
 * process, a one-line-per-member template:
 *   1. ZooKeeper setData → destination renamed (-watch, no check command): p50/p99 over 200 updates,
 *      100 members rendered; t0 right before the write is sent, t1 when inotify reports the
 *      destination and it holds the new value; 50 ms between updates; an update not in the file
 *      within 2 s counts as lost;
 *   2. cold -onetime of 10,000 znodes: wall time (median of 5) and peak RSS;
 *   and, when a confd binary is at HACONFD_CONFD or /tmp/confd-build/bin/confd, the same two for
 *   confd's zookeeper backend (same ZooKeeper, same tree, the equivalent Go template).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, watch as fsWatch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ZkSession } from '../../src/backends/zookeeper/session.js';
import { CLI } from '../harness/cli.js';
import { sleep, startProcess, waitFor, type RunningProcess } from '../harness/process.js';
import { putZnode, startZookeeper, type ZookeeperInstance } from '../harness/zookeeper.js';
import { makeWorkspace, startDaemon, type Workspace } from '../integration/daemon-fixture.js';
import { median, percentile, type BenchRow } from './table.js';

const RUNS = Number(process.env['HACONFD_BENCH_RUNS'] ?? 3);
const CONFD = process.env['HACONFD_CONFD'] ?? '/tmp/confd-build/bin/confd';
const fmt = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));

async function loadMembers(c: ZkSession, prefix: string, n: number): Promise<void> {
  await putZnode(c, `${prefix}/members/m00000`, 'start');
  const ops: Promise<void>[] = [];
  for (let i = 1; i < n; i++) {
    ops.push(c.create(`${prefix}/members/m${String(i).padStart(5, '0')}`, `{"conn_url":"postgres://10.0.${i >> 8}.${i & 255}:5432/postgres","role":"replica"}`));
    if (ops.length >= 2000) await Promise.all(ops.splice(0));
  }
  await Promise.all(ops);
}

/** setData → file latencies, the renderer already started by `start` (it must write ws.path('m.conf')). */
async function putToFile(c: ZkSession, ws: Workspace, prefix: string, lines: number, updates: number, who: string): Promise<{ samples: number[]; missed: number }> {
  const dest = ws.path('m.conf');
  await waitFor('first render', () => ws.lines('m.conf').length === lines, 60_000, 20);
  // confd arms its watches only after its first render: a change made before that is never seen.
  await sleep(1000);
  let expect = '';
  let resolveHit: (() => void) | undefined;
  const check = (): void => {
    if (!resolveHit) return;
    let text = '';
    try {
      text = readFileSync(dest, 'utf8');
    } catch {
      return;
    }
    if (text.startsWith(expect)) {
      const r = resolveHit;
      resolveHit = undefined;
      r();
    }
  };
  const watcher = fsWatch(ws.out, (_ev, name) => {
    if (name === 'm.conf') check();
  });
  const samples: number[] = [];
  let missed = 0;
  try {
    for (let i = 0; i < updates; i++) {
      const value = `v${i}-${Date.now()}`;
      expect = `m00000 ${value}\n`;
      const hit = new Promise<void>((r) => (resolveHit = r));
      const t0 = performance.now();
      await c.setData(`${prefix}/members/m00000`, value);
      check();
      const ok = await Promise.race([hit.then(() => true), sleep(2000).then(() => false)]);
      if (ok) samples.push(performance.now() - t0);
      else missed++;
      if (missed > updates / 2) throw new Error(`${who}: ${missed} updates never reached ${dest}`);
      // confd re-arms its one-shot watches after each render; a change made before that is lost.
      await sleep(50);
    }
  } finally {
    watcher.close();
  }
  return { samples, missed };
}

/** A confd confdir rendering the same lines as MEMBER_TEMPLATE. */
function confdWorkspace(ws: Workspace, prefix: string): string {
  const dir = join(ws.dir, 'confd');
  mkdirSync(join(dir, 'conf.d'), { recursive: true });
  mkdirSync(join(dir, 'templates'), { recursive: true });
  writeFileSync(join(dir, 'templates', 'm.tmpl'), '{{range gets "/members/*"}}{{base .Key}} {{.Value}}\n{{end}}');
  writeFileSync(join(dir, 'conf.d', 'm.toml'), `[template]\nsrc = "m.tmpl"\ndest = ${JSON.stringify(ws.path('m.conf'))}\nprefix = ${JSON.stringify(prefix)}\nkeys = ["/members"]\n`);
  return dir;
}

async function timed(cmd: string, args: string[], cwd: string): Promise<{ ms: number; rssMb: number }> {
  const t0 = performance.now();
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn('/usr/bin/time', ['-v', cmd, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('exit', (c) => resolve({ code: c, stderr: err }));
  });
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`${cmd} exited ${String(code)}: ${stderr.slice(-1500)}`);
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  return { ms, rssMb: m ? Number(m[1]) / 1024 : NaN };
}

async function cold(zk: ZookeeperInstance, prefix: string, confd: boolean): Promise<{ ms: number; rssMb: number }> {
  const ws = makeWorkspace('bench-zk-cold');
  const ms: number[] = [];
  const rss: number[] = [];
  try {
    ws.writeResource('m.toml', { dest: ws.path('m.conf'), prefix });
    const confdDir = confd ? confdWorkspace(ws, prefix) : '';
    for (let r = 0; r < Math.max(RUNS, 5); r++) {
      const t = confd
        ? await timed(CONFD, ['-onetime', '-confdir', confdDir, '-backend', 'zookeeper', '-node', zk.node, '-log-level', 'error'], ws.dir)
        : await timed(process.execPath, [CLI, '-onetime', '-confdir', ws.confdir, '-log-level', 'warn', '-backend', 'zookeeper', '-node', zk.node], ws.dir);
      ms.push(t.ms);
      rss.push(t.rssMb);
      if (ws.lines('m.conf').length !== 10_000) throw new Error(`cold render (${confd ? 'confd' : 'haconfd'}) did not write 10,000 lines`);
      writeFileSync(ws.path('m.conf'), '');
    }
  } finally {
    ws.cleanup();
  }
  return { ms: median(ms), rssMb: median(rss) };
}

async function latency(zk: ZookeeperInstance, c: ZkSession, prefix: string, confd: boolean): Promise<{ p50: number; p99: number; missed: number }> {
  let missed = 0;
  const p50s: number[] = [];
  const p99s: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const ws = makeWorkspace('bench-zk-lat');
    let proc: RunningProcess | undefined;
    let stop: (() => Promise<unknown>) | undefined;
    try {
      ws.writeResource('m.toml', { dest: ws.path('m.conf'), prefix });
      if (confd) {
        proc = startProcess(CONFD, ['-watch', '-confdir', confdWorkspace(ws, prefix), '-backend', 'zookeeper', '-node', zk.node, '-log-level', 'error'], { logFile: join(ws.dir, 'confd.log') });
        stop = () => (proc as RunningProcess).stop();
      } else {
        const d = startDaemon(ws, ['-watch', '-backend', 'zookeeper', '-node', zk.node, '-log-level', 'warn']);
        stop = () => d.stop();
      }
      const { samples: s, missed: m } = await putToFile(c, ws, prefix, 100, 200, confd ? 'confd' : 'haconfd');
      missed += m;
      p50s.push(percentile(s, 50));
      p99s.push(percentile(s, 99));
    } finally {
      await stop?.();
      ws.cleanup();
    }
  }
  return { p50: median(p50s), p99: median(p99s), missed };
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const zk = await startZookeeper({ tickTimeMs: 2000 });
  const c = await zk.client();
  const withConfd = existsSync(CONFD);
  try {
    await loadMembers(c, '/bench/lat', 100);
    await loadMembers(c, '/bench/cold', 10_000);
    const lat = await latency(zk, c, '/bench/lat', false);
    const confdLat = withConfd ? await latency(zk, c, '/bench/lat', true) : undefined;
    rows.push({
      issue: 12,
      name: 'ZooKeeper setData → file renamed (200 updates, 100 members)',
      value: `p50 ${fmt(lat.p50)} ms, p99 ${fmt(lat.p99)} ms, ${lat.missed} lost${confdLat ? `; confd p50 ${fmt(confdLat.p50)} ms, p99 ${fmt(confdLat.p99)} ms, ${confdLat.missed} of ${200 * RUNS} updates never rendered` : ' (confd not found)'}`,
      target: 'p50 ≤ 10 ms',
      runs: RUNS,
    });
    const coldH = await cold(zk, '/bench/cold', false);
    const coldC = withConfd ? await cold(zk, '/bench/cold', true) : undefined;
    rows.push({
      issue: 12,
      name: 'cold -onetime, 10,000 znodes from ZooKeeper',
      value: `${coldH.ms.toFixed(0)} ms wall, ${coldH.rssMb.toFixed(0)} MB peak RSS${coldC ? `; confd ${coldC.ms.toFixed(0)} ms, ${coldC.rssMb.toFixed(0)} MB` : ' (confd not found)'}`,
      target: '≤ 1 s',
      runs: Math.max(RUNS, 5),
    });
  } finally {
    await c.close();
    await zk.stop();
  }
  return rows;
}
