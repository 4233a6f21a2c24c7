/**
 * Issue 6: what keeping the keepalived pair in sync costs — validate + render both files in-process,
 * and `keepalived -t -e -f` on the result (inside a network namespace that has the interface), medians.
 * The failover times are measured by test/integration/keepalived-failover.test.ts (diagnostics).
 */
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runKeepalivedCommand } from '../../src/cli/keepalivedCommand.js';
import { renderKeepalivedFiles } from '../../src/keepalived/renderFiles.js';
import { createNetwork } from '../harness/netns.js';
import { removeDir, tempDir } from '../harness/process.js';
import { median, type BenchRow } from './table.js';

const RUNS = 200;
const CHECK_RUNS = 7;

export async function run(): Promise<BenchRow[]> {
  const vars = { interface: 'eth0', vips: ['10.0.0.10/24', '10.0.0.11/24'], priority: 101, peer_priority: 100, unicast_src_ip: '10.0.0.1', unicast_peers: ['10.0.0.2'], auth_pass: 'secret' };
  renderKeepalivedFiles(vars);
  const render: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    renderKeepalivedFiles(vars);
    render.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const rows: BenchRow[] = [
    { issue: 6, name: 'keepalived: validate + render keepalived.conf and chk_haproxy.sh (the CLI path: engine built, templates compiled each time)', value: `${median(render).toFixed(2)} ms`, runs: RUNS },
  ];
  const net = createNetwork('hb', ['a']);
  const dir = tempDir('bench-ka');
  try {
    const sink = new PassThrough();
    sink.resume();
    const code = await runKeepalivedCommand(['render', '--vip', '10.0.0.10/24', '--interface', 'eth0', '--priority', '101', '-dest', dir], { stdout: sink, stderr: sink });
    if (code !== 0) throw new Error(`render exited ${code}`);
    const ns = net.hosts['a']!.ns;
    const check: number[] = [];
    for (let i = 0; i < CHECK_RUNS; i++) {
      const t = process.hrtime.bigint();
      net.exec(ns, 'keepalived', ['-t', '-e', '-f', join(dir, 'keepalived.conf')]);
      check.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    rows.push({ issue: 6, name: 'keepalived: check_cmd `keepalived -t -e -f` on the generated config', value: `${median(check).toFixed(1)} ms`, runs: CHECK_RUNS });
  } finally {
    await net.destroy();
    removeDir(dir);
  }
  return rows;
}
