/**
 * The etcd v3 backend (`-backend etcdv3`, alias `etcd`). Loaded with a dynamic import() only when
 * used: it pulls in gRPC (~180 ms of module loading).
 *
 * - read: every prefix at one revision (etcdRead.ts).
 * - watch: one stream, one etcd watch per key range of each distinct prefix, resumed from the last
 *   seen revision after any disconnect, on any endpoint (etcdWatch.ts).
 * - errors: credentials/TLS → BackendConfigError, outages → BackendUnavailableError (etcdErrors.ts).
 */
import type { Logger } from '../log/logger.js';
import { BackendUnavailableError, type Backend, type Snapshot, type Watch, type WatchHandlers } from './backend.js';
import { EtcdConnection, type EtcdConnectionOptions } from './etcdConnection.js';
import { etcdErrorKind } from './etcdErrors.js';
import { readPrefixes } from './etcdRead.js';
import { EtcdWatch } from './etcdWatch.js';

export interface EtcdBackendOptions extends EtcdConnectionOptions {
  /** 'http://h:2379' | 'https://h:2379' | 'h:2379'; the caller applies the default ['127.0.0.1:2379']. */
  nodes: readonly string[];
  /** File paths: -client-cert, -client-key, -client-ca-keys. */
  tls?: { cert?: string; key?: string; ca?: string };
  /** -basic-auth -username -password. */
  auth?: { username: string; password: string };
  /** Bound on connecting (and on each read): e.g. 5000. */
  connectTimeoutMs: number;
}

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
    for (let attempt = 1; ; attempt++) {
      try {
        const snap = await readPrefixes(this.conn, prefixes);
        this.log.debug({ prefixes, revision: snap.revision, keys: snap.pairs.size, ms: Math.round(performance.now() - t0) }, 'etcd read');
        return snap;
      } catch (e) {
        // A multi-transaction read whose revision was compacted between two transactions: again.
        if (etcdErrorKind(e) === 'compacted' && attempt < 3) continue;
        if (e instanceof Error && (e.name === 'BackendConfigError' || e.name === 'BackendUnavailableError')) throw e;
        throw new BackendUnavailableError(`etcd read failed at ${this.conn.urls.join(', ')}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
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
