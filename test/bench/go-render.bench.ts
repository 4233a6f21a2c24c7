/**
 * Issue 11: the 10,000-member render through the Go text/template engine against the Handlebars
 * engine on the same data and the same output, parse cached (TemplateCache), render only.
 * Two shapes: plain values (`server NAME IP:5432`) and Patroni member JSON (host and API port
 * cut out of conn_url / api_url, as Patroni's confd haproxy.tmpl does). Each sample is the mean of a
 * batch of renders (the plain render takes a few ms: one GC pause would decide a single sample);
 * the two engines alternate which goes first. Medians of 15 samples after 3 warm-ups.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../../src/log/logger.js';
import { Store } from '../../src/store/store.js';
import { createDefaultEngine } from '../../src/template/helperSet.js';
import { renderTemplate } from '../../src/template/renderTemplate.js';
import { TemplateCache } from '../../src/template/templateCache.js';
import { tempDir } from '../harness/process.js';
import { median, type BenchRow } from './table.js';

const MEMBERS = 10_000;
const RUNS = 15;
const WARMUP = 3;

const SHAPES = {
  plain: {
    go: '{{range gets "/members/*"}}server {{base .Key}} {{.Value}}:5432 check\n{{end}}',
    hbs: '{{#each (gets "/members/*")}}server {{base key}} {{value}}:5432 check\n{{/each}}',
    value: (i: number) => ip(i),
    batch: 10,
  },
  patroni: {
    go:
      '{{range gets "/members/*"}}{{$data := json .Value}}' +
      'server {{base .Key}} {{index (split (index (split $data.conn_url "/") 2) "@") 0}} check port {{index (split (index (split $data.api_url "/") 2) ":") 1}}\n{{end}}',
    hbs:
      '{{#each (gets "/members/*")}}{{#with (json value)}}' +
      'server {{base ../key}} {{index (split (index (split conn_url "/") 2) "@") 0}} check port {{index (split (index (split api_url "/") 2) ":") 1}}\n{{/with}}{{/each}}',
    value: (i: number) => JSON.stringify({ conn_url: `postgres://${ip(i)}:5432/postgres`, api_url: `http://${ip(i)}:8008/patroni`, state: 'running', role: 'replica' }),
    batch: 2,
  },
} as const;

function ip(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

/** Mean time of `batch` renders, each over a fresh store (as each render after a change gets). */
async function timeRenders(templates: TemplateCache, path: string, store: () => Store, batch: number): Promise<{ ms: number; content: string }> {
  const compiled = templates.load(path);
  let content = '';
  const t0 = performance.now();
  for (let b = 0; b < batch; b++) {
    content = (await renderTemplate(compiled, { store: store(), vars: {}, resource: 'bench', log: silentLogger(), lookups: templates.lookups })).content;
  }
  return { ms: (performance.now() - t0) / batch, content };
}

export async function run(): Promise<BenchRow[]> {
  const dir = tempDir('bench-go');
  const rows: BenchRow[] = [];
  try {
    mkdirSync(join(dir, 'templates'));
    for (const [shape, spec] of Object.entries(SHAPES)) {
      const pairs = new Map<string, string>();
      for (let i = 0; i < MEMBERS; i++) pairs.set(`/service/demo/members/m${i}`, spec.value(i));
      const goPath = join(dir, 'templates', `${shape}.tmpl`);
      const hbsPath = join(dir, 'templates', `${shape}.hbs`);
      writeFileSync(goPath, spec.go);
      writeFileSync(hbsPath, spec.hbs);
      const templates = new TemplateCache(createDefaultEngine());
      const goMs: number[] = [];
      const hbsMs: number[] = [];
      for (let r = 0; r < WARMUP + RUNS; r++) {
        const store = (): Store => new Store({ revision: r, pairs }, '/service/demo');
        let g: { ms: number; content: string };
        let h: { ms: number; content: string };
        if (r % 2 === 0) {
          g = await timeRenders(templates, goPath, store, spec.batch);
          h = await timeRenders(templates, hbsPath, store, spec.batch);
        } else {
          h = await timeRenders(templates, hbsPath, store, spec.batch);
          g = await timeRenders(templates, goPath, store, spec.batch);
        }
        if (g.content !== h.content) throw new Error(`${shape}: the Go and Handlebars outputs differ`);
        if (r >= WARMUP) {
          goMs.push(g.ms);
          hbsMs.push(h.ms);
        }
      }
      const ratio = median(goMs) / median(hbsMs);
      rows.push(
        { issue: 11, name: `10,000 members (${shape}): Go engine render`, value: `${median(goMs).toFixed(1)} ms`, runs: RUNS },
        { issue: 11, name: `10,000 members (${shape}): Handlebars render`, value: `${median(hbsMs).toFixed(1)} ms`, runs: RUNS },
        { issue: 11, name: `10,000 members (${shape}): Go / Handlebars`, value: `${ratio.toFixed(2)}×`, target: '≤ 1.2×', runs: RUNS },
      );
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
