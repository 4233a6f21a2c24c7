/**
 * confd's store functions as Handlebars helpers: get, getv, gets, getvs, exists, ls, lsdir.
 * Keys are relative to the resource's prefix.
 */
import type { Store } from '../store/store.js';
import { renderDataOf } from './renderData.js';
import type { HandlebarsEnv } from './engine.js';
import { helperCall } from './helpers/arguments.js';

type StoreQuery = (store: Store, key: string, rest: readonly unknown[]) => unknown;

const QUERIES: Record<string, StoreQuery> = {
  get: (s, k) => s.get(k),
  getv: (s, k, [fallback]) => s.getv(k, fallback === undefined ? undefined : String(fallback)),
  gets: (s, k) => s.gets(k),
  getvs: (s, k) => s.getvs(k),
  exists: (s, k) => s.exists(k),
  ls: (s, k) => s.ls(k),
  lsdir: (s, k) => s.lsdir(k),
};

export function registerStoreHelpers(hb: HandlebarsEnv): void {
  for (const [name, query] of Object.entries(QUERIES)) {
    hb.registerHelper(name, (...args: unknown[]) => {
      const { params, options } = helperCall(name, args);
      const [key, ...rest] = params;
      if (typeof key !== 'string') {
        throw new Error(`${name}: expected a key string, got ${key === undefined ? 'nothing' : JSON.stringify(key)}`);
      }
      return query(renderDataOf(options).store, key, rest);
    });
  }
}
