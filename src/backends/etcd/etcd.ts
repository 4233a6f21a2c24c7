/**
 * The etcd v3 backend (`-backend etcdv3`, alias `etcd`). Loaded with a dynamic import() only when
 * used: it pulls in gRPC (~180 ms of module loading).
 *
 * - read: every prefix at one revision (etcdRead.ts).
 * - watch: one stream, one etcd watch over a range spanning the distinct prefixes, resumed from the
 *   last seen revision after any disconnect, on any endpoint (etcdWatch.ts).
 * - errors: credentials/TLS → BackendConfigError, outages → BackendUnavailableError (etcdErrors.ts).
 */
import type { Logger } from '../../log/logger.js';
import { BackendUnavailableError, type Backend, type Snapshot, type Watch, type WatchHandlers } from '../backend.js';
import { EtcdConnection } from './etcdConnection.js';
import type { EtcdOptions } from './etcdOptions.js';
import { readPrefixes, readRetryingCompaction } from './etcdRead.js';
import { EtcdWatch } from './etcdWatch.js';

export type EtcdBackendOptions = EtcdOptions;

export class EtcdBackend implements Backend {
  readonly name = 'etcdv3';
  private readonly watches = new Set<EtcdWatch>();

  constructor(
    private readonly conn: EtcdConnection,
    private readonly log: Logger,
  ) {}

  /** The endpoints, as given (normalised). */
  get endpoints(): string[] {
    return this.conn.urls;
  }

  async read(prefixes: readonly string[]): Promise<Snapshot> {
    const t0 = performance.now();
    const snap = await readRetryingCompaction(this.conn.urls, () => readPrefixes(this.conn, prefixes));
    this.log.debug({ prefixes, revision: snap.revision, keys: snap.pairs.size, ms: Math.round(performance.now() - t0) }, 'etcd read');
    return snap;
  }

  watch(prefixes: readonly string[], afterRevision: number, handlers: WatchHandlers): EtcdWatch & Watch {
    if (this.conn.isClosed()) throw new BackendUnavailableError('etcd backend is closed');
    const w = new EtcdWatch(this.conn, prefixes, afterRevision, handlers, this.log, (x) => this.watches.delete(x));
    this.watches.add(w);
    return w;
  }

  async close(): Promise<void> {
    await Promise.all([...this.watches].map((w) => w.close()));
    this.conn.close();
  }
}

/**
 * Validates the options (nodes, TLS files) and builds the backend. Connects lazily: an unreachable
 * etcd shows up in read() (BackendUnavailableError naming the endpoints) and in the watch status.
 */
export async function createEtcdBackend(opts: EtcdBackendOptions, log: Logger): Promise<EtcdBackend> {
  const conn = new EtcdConnection(opts, log);
  log.debug({ endpoints: conn.urls, username: opts.auth?.username, tls: opts.tls !== undefined }, 'etcd backend configured');
  return new EtcdBackend(conn, log);
}
