/**
 * Helper cost: a helper-heavy template (json, urlHost/urlPort, base, toUpper, replace, index/split)
 * over 10,000 member keys, through the real engine. Median of 5 renders after a warm-up.
 */
import { performance } from 'node:perf_hooks';
import { createTemplateEngine } from '../../src/template/engine.js';
import { registerStandardHelpers } from '../../src/template/helpers/index.js';
import { registerStoreHelpers } from '../../src/template/storeHelpers.js';
import { LookupCache } from '../../src/template/lookups.js';
import { Store } from '../../src/store/store.js';
import { silentLogger } from '../../src/log/logger.js';
import { median, type BenchRow } from './table.js';

const MEMBERS = 10_000;
const RUNS = 5;

const TEMPLATE = `backend pg
{{#each (gets "/members/*")}}{{#with (json value)}}  server {{replace (toUpper (base ../key)) "-" "_"}} {{urlHost conn_url}}:{{urlPort conn_url}} check port {{index (split (urlPort api_url) ":") 0}}{{#if (contains role "replica")}} backup{{/if}}
{{/with}}{{/each}}`;

export async function run(): Promise<BenchRow[]> {
  const pairs = new Map<string, string>();
  for (let i = 0; i < MEMBERS; i++) {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    pairs.set(`/service/demo/members/pg-${i}`, JSON.stringify({ conn_url: `postgres://${ip}:5432/postgres`, api_url: `http://${ip}:8008/patroni`, role: i === 0 ? 'master' : 'replica' }));
  }
  const store = new Store({ revision: 1, pairs }, '/service/demo');
  const engine = createTemplateEngine([registerStoreHelpers, registerStandardHelpers]);
  const tpl = engine.compile('bench', TEMPLATE);
  const data = () => ({ store, vars: {}, resource: 'bench', warnings: [], log: silentLogger(), lookups: new LookupCache() });
  const first = tpl.render(data());
  const lines = first.split('\n').filter((l) => l.includes(' server ')).length;
  if (lines !== MEMBERS) throw new Error(`rendered ${lines} server lines, expected ${MEMBERS}`);
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    tpl.render(data());
    times.push(performance.now() - t0);
  }
  return [{ issue: 2, name: `helper-heavy render, ${MEMBERS} members (json, url*, base, replace …)`, value: `${median(times).toFixed(1)} ms`, runs: RUNS }];
}
