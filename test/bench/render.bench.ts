/**
 * Issue 2: a resource over 10,000 keys — cold `-onetime` (process wall time, peak RSS) and the
 * warm in-process render + stage + compare, medians of 5.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../harness/process.js';
import { measureProcess } from './measure.js';
import { median, type BenchRow } from './table.js';
import { syncResource } from '../../src/resource/syncResource.js';
import { parseTemplateResource } from '../../src/resource/templateResource.js';
import { createDefaultEngine } from '../../src/template/helperSet.js';
import { TemplateCache } from '../../src/template/templateCache.js';
import { silentLogger } from '../../src/log/logger.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const RUNS = 5;
const KEYS = 10_000;

export async function run(): Promise<BenchRow[]> {
  const dir = tempDir('bench-render');
  try {
    const confdir = join(dir, 'etc');
    mkdirSync(join(confdir, 'conf.d'), { recursive: true });
    mkdirSync(join(confdir, 'templates'));
    const members: Record<string, string> = {};
    for (let i = 0; i < KEYS; i++) members[`m${i}`] = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const data = join(dir, 'data.json');
    writeFileSync(data, JSON.stringify({ service: { demo: { members } } }));
    writeFileSync(join(confdir, 'templates', 'members.hbs'), '{{#each (gets "/members/*")}}server {{base key}} {{value}}:5432 check\n{{/each}}');
    const toml = `[template]\nsrc = "members.hbs"\ndest = "${join(dir, 'out.cfg')}"\nprefix = "/service/demo"\nkeys = ["/members"]\n`;
    writeFileSync(join(confdir, 'conf.d', 'members.toml'), toml);

    const wall: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      rmSync(join(dir, 'out.cfg'), { force: true });
      const m = await measureProcess(process.execPath, [CLI, '-onetime', '-backend', 'file', '-file', data, '-confdir', confdir]);
      if (m.code !== 0) throw new Error(`onetime failed: ${m.stderr}`);
      wall.push(m.wallMs);
      rss.push(m.peakRssMb);
    }

    // Warm: the pipeline alone, in process (template compiled once, as the daemon does).
    const resource = parseTemplateResource(join(confdir, 'conf.d', 'members.toml'), toml, { templatesDir: join(confdir, 'templates'), cwd: dir });
    const pairs = new Map<string, string>();
    for (const [k, v] of Object.entries(members)) pairs.set(`/service/demo/members/${k}`, v);
    const templates = new TemplateCache(createDefaultEngine());
    const warm: number[] = [];
    for (let i = 0; i < RUNS + 1; i++) {
      pairs.set('/service/demo/members/m0', `10.9.9.${i}`);
      const t0 = process.hrtime.bigint();
      await syncResource(resource, { revision: i + 1, pairs: new Map(pairs) }, templates, { noop: false, syncOnly: false, keepStageFile: false, log: silentLogger() });
      if (i > 0) warm.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return [
      { issue: 2, name: 'cold -onetime, 10,000 keys (file backend): wall', value: `${median(wall).toFixed(0)} ms`, target: '< 300 ms', runs: RUNS },
      { issue: 2, name: 'cold -onetime, 10,000 keys (file backend): peak RSS', value: `${median(rss).toFixed(0)} MB`, target: '< 150 MB', runs: RUNS },
      { issue: 2, name: 'warm render→stage→compare→commit, 10,000 keys', value: `${median(warm).toFixed(1)} ms`, runs: RUNS },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
