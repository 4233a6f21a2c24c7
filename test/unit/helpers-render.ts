/** Test support for helpers-*.test.ts: a real Handlebars env with every helper, rendered with real render data. */
import Handlebars from 'handlebars';
import { Store } from '../../src/store/store.js';
import { silentLogger } from '../../src/log/logger.js';
import { LookupCache } from '../../src/template/lookups.js';
import type { RenderData } from '../../src/template/renderData.js';
import { registerStandardHelpers } from '../../src/template/helpers/index.js';
import { registerStoreHelpers } from '../../src/template/storeHelpers.js';

const hb = Handlebars.create();
registerStandardHelpers(hb);
registerStoreHelpers(hb);

export interface RenderSetup {
  readonly pairs?: ReadonlyArray<readonly [string, string]>;
  readonly prefix?: string;
  readonly context?: Record<string, unknown>;
  readonly lookups?: LookupCache;
}

export function renderDataFor(setup: RenderSetup = {}): RenderData {
  const store = new Store({ revision: 1, pairs: new Map(setup.pairs ?? []) }, setup.prefix ?? '/');
  return { store, vars: {}, resource: 'test', warnings: [], log: silentLogger(), lookups: setup.lookups ?? new LookupCache() };
}

/** Renders `source` once with the given data. */
export function renderWithData(source: string, data: RenderData, context: Record<string, unknown> = {}): string {
  const fn = hb.compile(source, { noEscape: true, strict: false });
  return fn(context, { data: { haconfd: data } });
}

export function render(source: string, setup: RenderSetup = {}): string {
  return renderWithData(source, renderDataFor(setup), setup.context ?? {});
}

/** The error message a render throws (fails the test if it does not throw). */
export function renderError(source: string, setup: RenderSetup = {}): string {
  try {
    render(source, setup);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  throw new Error(`expected ${JSON.stringify(source)} to fail, but it rendered`);
}
