/**
 * The environment backend (confd's): the key '/database/host' is the variable DATABASE_HOST.
 * Reading maps every variable back to a lower-case key; watching polls for changes.
 */
import type { Backend, Snapshot, Watch, WatchHandlers } from './backend.js';
import { isUnderPrefix } from '../store/keys.js';

export function envVarToKey(name: string): string {
  return '/' + name.toLowerCase().split('_').filter((s) => s.length > 0).join('/');
}

export class EnvBackend implements Backend {
  readonly name = 'env';

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  async read(prefixes: readonly string[]): Promise<Snapshot> {
    const pairs = new Map<string, string>();
    for (const [name, value] of Object.entries(this.env)) {
      if (value === undefined || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) continue;
      const key = envVarToKey(name);
      if (prefixes.some((p) => isUnderPrefix(key, p))) pairs.set(key, value);
    }
    return { revision: 1, pairs };
  }

  /** The environment of a running process does not change from outside: nothing to watch. */
  watch(_prefixes: readonly string[], _afterRevision: number, handlers: WatchHandlers): Watch {
    handlers.onStatus?.('connected');
    return { close: async () => undefined };
  }

  async close(): Promise<void> {}
}
