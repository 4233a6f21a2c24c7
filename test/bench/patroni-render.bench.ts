/**
 * Issue 4: the shipped haproxy.cfg.hbs rendered for 200 clusters × 5 members (one file, 400 listens,
 * 2,000 server lines each in two listens), and the same file through `haproxy -c`.
 * Time: median of 5 runs after a warm-up. Peak RSS: the render in a fresh Node process (maxRSS, and
 * its growth over the same process before rendering), `haproxy -c` measured by /usr/bin/time.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createTemplateEngine } from '../../src/template/engine.js';
import { renderTemplate } from '../../src/template/renderTemplate.js';
import { registerPatroniHelpers } from '../../src/template/helpers/patroni.js';
import { Store } from '../../src/store/store.js';
import { clusterPairs, snapshotOf, type MemberSpec } from '../harness/patroniKeys.js';
import { removeDir, requireBinary, tempDir } from '../harness/process.js';
import { median, type BenchRow } from './table.js';

const CLUSTERS = 200;
const MEMBERS = 5;
const RUNS = 5;
const here = fileURLToPath(import.meta.url);
const TEMPLATE = join(here, '../../../templates/haproxy.cfg.hbs');

function benchPairs(): [string, string][] {
  const pairs: [string, string][] = [];
  for (let c = 0; c < CLUSTERS; c++) {
    const members: MemberSpec[] = [];
    for (let m = 0; m < MEMBERS; m++) {
      members.push({ name: `pg${c}-${m}`, host: `10.${c >> 8}.${c & 255}.${m + 10}`, port: 5432, apiPort: 8008, role: m === 0 ? 'master' : 'replica' });
    }
    pairs.push(...clusterPairs('/service', `cluster${String(c).padStart(3, '0')}`, members));
  }
  return pairs;
}

async function renderOnce(dir: string): Promise<{ content: string; ms: number }> {
  const compiled = createTemplateEngine([registerPatroniHelpers]).compile('haproxy.cfg.hbs', readFileSync(TEMPLATE, 'utf8'));
  const store = new Store(snapshotOf(benchPairs()), '/service');
  const input = { store, vars: { runtime_socket: join(dir, 'admin.sock'), server_state_file: join(dir, 'state') }, resource: 'haproxy', log: pino({ level: 'silent' }) };
  const t0 = performance.now();
  const { content } = await renderTemplate(compiled, input);
  return { content, ms: performance.now() - t0 };
}

function sh(cmd: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd}: ${stderr || err.message}`)) : resolve({ stdout, stderr }))),
  );
}

/** Child mode: one render in a fresh process; prints RSS before and peak after (KB). */
async function child(dir: string): Promise<void> {
  const before = process.memoryUsage().rss / 1024;
  const { ms } = await renderOnce(dir);
  console.log(JSON.stringify({ beforeKb: Math.round(before), maxRssKb: process.resourceUsage().maxRSS, ms }));
}

export async function run(): Promise<BenchRow[]> {
  requireBinary('haproxy', 'haproxy');
  requireBinary('/usr/bin/time', 'time');
  const dir = tempDir('bench-patroni');
  try {
    // In-process render time (warm engine).
    const first = await renderOnce(dir);
    const servers = first.content.split('\n').filter((l) => l.trimStart().startsWith('server ')).length;
    if (servers !== CLUSTERS * MEMBERS * 2) throw new Error(`rendered ${servers} server lines, expected ${CLUSTERS * MEMBERS * 2}`);
    const renderMs: number[] = [];
    for (let r = 0; r < RUNS; r++) renderMs.push((await renderOnce(dir)).ms);

    // Peak RSS of a render in a fresh process.
    const rss: number[] = [];
    const growth: number[] = [];
    for (let r = 0; r < 3; r++) {
      const { stdout } = await sh(process.execPath, ['--import', 'tsx', here, '--child', dir]);
      const o = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { beforeKb: number; maxRssKb: number };
      rss.push(o.maxRssKb / 1024);
      growth.push((o.maxRssKb - o.beforeKb) / 1024);
    }

    // haproxy -c on the rendered file.
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, first.content);
    const checkMs: number[] = [];
    const checkRss: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const { stderr } = await sh('/usr/bin/time', ['-f', 'TIME %e %M', 'haproxy', '-c', '-f', file]);
      const m = /TIME ([\d.]+) (\d+)/.exec(stderr);
      if (!m) throw new Error(`no /usr/bin/time output: ${stderr}`);
      checkMs.push(Number(m[1]) * 1000);
      checkRss.push(Number(m[2]) / 1024);
    }
    const size = (first.content.length / 1024).toFixed(0);
    return [
      {
        issue: 4,
        name: `render shipped haproxy.cfg, ${CLUSTERS} clusters × ${MEMBERS} members (${size} KiB, ${servers} server lines)`,
        value: `${median(renderMs).toFixed(1)} ms; peak RSS ${median(rss).toFixed(0)} MiB (Node process, +${median(growth).toFixed(0)} MiB for the render)`,
        runs: RUNS,
      },
      {
        issue: 4,
        name: `haproxy -c on that file (${CLUSTERS * 2} listens)`,
        value: `${median(checkMs).toFixed(0)} ms; peak RSS ${median(checkRss).toFixed(0)} MiB`,
        runs: RUNS,
      },
    ];
  } finally {
    removeDir(dir);
  }
}

if (process.argv[2] === '--child' && process.argv[3] !== undefined) await child(process.argv[3]);
