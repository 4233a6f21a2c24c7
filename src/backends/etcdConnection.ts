/**
 * One gRPC connection per etcd endpoint (etcd3's ConnectionPool holding a single host, with its own
 * retry and circuit-breaker policies switched off), and the failover between them: calls go to the
 * endpoint that last worked and move on to the next one when it fails.
 */
import { readFileSync } from 'node:fs';
import type * as grpc from '@grpc/grpc-js';
import { ConnectionPool } from 'etcd3/lib/connection-pool.js';
import type { IDuplexStream, IWatchRequest, IWatchResponse } from 'etcd3/lib/rpc.js';
import type { IOptions } from 'etcd3/lib/options.js';
import type { Logger } from '../log/logger.js';
import { BackendConfigError, BackendUnavailableError } from './backend.js';
import { etcdErrorKind, shortReason, toBackendError } from './etcdErrors.js';
import { parseEtcdNodes, type EtcdEndpoint } from './etcdNodes.js';

export interface EtcdConnectionOptions {
  nodes: readonly string[];
  /** File paths (-client-cert, -client-key, -client-ca-keys). */
  tls?: { cert?: string; key?: string; ca?: string };
  auth?: { username: string; password: string };
  connectTimeoutMs: number;
}

export type WatchStream = IDuplexStream<IWatchRequest, IWatchResponse>;

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/** A policy that just calls through: failover and retries are ours, not etcd3's. */
const passThrough = {
  execute: <T>(fn: (ctx: { signal: AbortSignal }) => T) => Promise.resolve().then(() => fn({ signal: new AbortController().signal })),
} as unknown as Policy;

const GRPC_OPTIONS = {
  // Values up to etcd's limits and 10,000-key prefixes exceed gRPC's 4 MB default.
  'grpc.max_receive_message_length': -1,
  // Notice a dead peer on a silent network within ~15 s (etcd allows pings every 5 s).
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  // Come back quickly after an etcd restart (gRPC's default backoff grows to 2 minutes).
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
};

interface Credentials {
  rootCertificate: Buffer;
  privateKey?: Buffer;
  certChain?: Buffer;
}

function readTlsFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
    throw new BackendConfigError(`etcd: cannot read ${flag} file ${path}: ${code}`);
  }
}

function loadCredentials(tls: EtcdConnectionOptions['tls']): Credentials | undefined {
  if (!tls || (tls.cert === undefined && tls.key === undefined && tls.ca === undefined)) return undefined;
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new BackendConfigError('etcd: -client-cert and -client-key must be given together');
  }
  const creds: Credentials = {
    // null: the system's trusted roots (grpc.credentials.createSsl accepts it).
    rootCertificate: tls.ca !== undefined ? readTlsFile('-client-ca-keys', tls.ca) : (null as unknown as Buffer),
  };
  if (tls.cert !== undefined && tls.key !== undefined) {
    creds.certChain = readTlsFile('-client-cert', tls.cert);
    creds.privateKey = readTlsFile('-client-key', tls.key);
  }
  return creds;
}

/** One endpoint's gRPC channel(s) and token. Rebuilt after a token went stale. */
export class EtcdNode {
  private pool: ConnectionPool;
  private useAuth: boolean;

  constructor(
    readonly endpoint: EtcdEndpoint,
    private readonly credentials: Credentials | undefined,
    private readonly auth: EtcdConnectionOptions['auth'],
    private readonly connectTimeoutMs: number,
  ) {
    this.useAuth = auth !== undefined;
    this.pool = this.build();
  }

  private build(): ConnectionPool {
    const opts: IOptions = {
      hosts: [this.endpoint.url],
      grpcOptions: GRPC_OPTIONS,
      faultHandling: { host: () => passThrough, global: passThrough },
    };
    if (this.credentials) opts.credentials = this.credentials;
    if (this.useAuth && this.auth) {
      const timeout = this.connectTimeoutMs;
      opts.auth = {
        username: this.auth.username,
        password: this.auth.password,
        callOptions: () => ({ deadline: Date.now() + timeout }),
      };
    }
    return new ConnectionPool(opts);
  }

  /** Credentials are configured but not sent (the server said auth is disabled). */
  get authDropped(): boolean {
    return this.auth !== undefined && !this.useAuth;
  }

  /** Drops the channel and the cached token; the next call connects and authenticates afresh. */
  reset(opts: { withoutAuth?: boolean } = {}): void {
    // Credentials dropped because the server had auth disabled are taken up again on the next
    // reset: auth may have been enabled since.
    this.useAuth = this.auth !== undefined && !opts.withoutAuth;
    this.pool.close();
    this.pool = this.build();
  }

  /**
   * A unary KV call with raw protobuf bytes in and out (see etcdWire.ts): etcd3's generic decoder
   * costs more than the read itself on large prefixes.
   */
  rawKvCall(method: 'Txn' | 'Range', request: Buffer, deadline: number): Promise<Buffer> {
    return this.pool.withConnection('KV', ({ client, metadata }) => {
      return new Promise<Buffer>((resolve, reject) => {
        const identity = (b: Buffer): Buffer => b;
        client.makeUnaryRequest(`/etcdserverpb.KV/${method}`, identity, identity, request, metadata, { deadline }, (err, value) => {
          if (err) reject(err);
          else resolve(value ?? Buffer.alloc(0));
        });
      });
    });
  }

  /**
   * Opens a Watch stream on this endpoint. `hasleader` makes etcd end the stream when this member
   * loses its leader (a partitioned member would otherwise stay silent forever).
   */
  openWatchStream(): Promise<WatchStream> {
    return this.pool.withConnection('Watch', ({ client, metadata }) => {
      const md = metadata.clone();
      md.set('hasleader', 'true');
      const c = client as unknown as { watch(md: grpc.Metadata, opts: grpc.CallOptions): WatchStream };
      return c.watch(md, {});
    });
  }

  close(): void {
    this.pool.close();
  }
}

export function timeoutAfter<T>(p: Promise<T>, ms: number, what: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(what()), Math.max(0, ms));
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** All endpoints, the one that last worked first. */
export class EtcdConnection {
  readonly endpoints: readonly EtcdEndpoint[];
  readonly nodes: readonly EtcdNode[];
  readonly username: string | undefined;
  readonly connectTimeoutMs: number;
  private preferred = 0;
  private closed = false;
  private warnedAuthDisabled = false;

  constructor(
    opts: EtcdConnectionOptions,
    private readonly log: Logger,
  ) {
    const creds = loadCredentials(opts.tls);
    this.endpoints = parseEtcdNodes(opts.nodes, creds !== undefined);
    if (opts.auth !== undefined && opts.auth.username === '') {
      throw new BackendConfigError('etcd: -basic-auth needs -username');
    }
    this.username = opts.auth?.username;
    this.connectTimeoutMs = opts.connectTimeoutMs > 0 ? opts.connectTimeoutMs : 5000;
    this.nodes = this.endpoints.map((e) => new EtcdNode(e, creds, opts.auth, this.connectTimeoutMs));
  }

  get urls(): string[] {
    return this.endpoints.map((e) => e.url);
  }

  isClosed(): boolean {
    return this.closed;
  }

  /** The endpoints in the order to try them: the one that last worked first. */
  order(): EtcdNode[] {
    const n = this.nodes.length;
    return Array.from({ length: n }, (_, i) => this.nodes[(this.preferred + i) % n] as EtcdNode);
  }

  markGood(node: EtcdNode): void {
    const i = this.nodes.indexOf(node);
    if (i >= 0) this.preferred = i;
  }

  /** Moves past `node` so that the next attempt starts with another endpoint. */
  markBad(node: EtcdNode): void {
    const i = this.nodes.indexOf(node);
    if (i === this.preferred) this.preferred = (i + 1) % this.nodes.length;
  }

  /**
   * Handles what a failed call says about the node: refreshes stale tokens, drops auth when the
   * server has none. Returns the error as a Backend error.
   */
  absorbFailure(node: EtcdNode, err: unknown): BackendConfigError | BackendUnavailableError {
    const kind = etcdErrorKind(err);
    // A token the server no longer knows (etcd restarted, token expired) may also show up as
    // "permission denied" on a watch: log in afresh before the next attempt.
    if (kind === 'invalid-token' || ((kind === 'permission-denied' || kind === 'auth-required') && this.username !== undefined)) node.reset();
    if (kind === 'auth-not-enabled') {
      if (!this.warnedAuthDisabled) {
        this.warnedAuthDisabled = true;
        this.log.warn({ endpoint: node.endpoint.url }, 'etcd: authentication is not enabled on the server; continuing without credentials');
      }
      node.reset({ withoutAuth: true });
    }
    return toBackendError(err, { endpoints: [node.endpoint.url], username: this.username });
  }

  /**
   * Runs `fn` on one endpoint after another until one succeeds or `connectTimeoutMs` has passed.
   * Each attempt gets a share of the budget so that one silent endpoint cannot use it all up.
   * Credentials and TLS failures end the attempts at once (BackendConfigError); an outage ends in
   * BackendUnavailableError naming every endpoint.
   */
  async call<T>(what: string, fn: (node: EtcdNode, deadline: number) => Promise<T>): Promise<T> {
    if (this.closed) throw new BackendUnavailableError('etcd backend is closed');
    const start = Date.now();
    const end = start + this.connectTimeoutMs;
    const share = Math.max(1000, Math.floor(this.connectTimeoutMs / this.nodes.length));
    const reasons = new Map<string, string>();
    let pause = 50;
    for (;;) {
      for (const node of this.order()) {
        const left = end - Date.now();
        if (left <= 0) break;
        const attemptEnd = Date.now() + Math.min(left, share);
        try {
          const r = await timeoutAfter(fn(node, attemptEnd), attemptEnd - Date.now() + 50, () =>
            Object.assign(new Error(`no answer within ${Math.min(left, share)} ms`), { code: 4 }),
          );
          this.markGood(node);
          return r;
        } catch (e) {
          if (this.closed) throw new BackendUnavailableError('etcd backend is closed');
          const kind = etcdErrorKind(e);
          const retrySame = kind === 'invalid-token' || kind === 'auth-not-enabled' || (kind === 'auth-required' && node.authDropped);
          const be = this.absorbFailure(node, e);
          if (be instanceof BackendConfigError && !retrySame) throw be;
          if (retrySame) {
            // Retry the same endpoint once with a fresh token / without auth.
            try {
              const r = await timeoutAfter(fn(node, attemptEnd), attemptEnd - Date.now() + 50, () =>
                Object.assign(new Error('no answer in time'), { code: 4 }),
              );
              this.markGood(node);
              return r;
            } catch (e2) {
              const be2 = this.absorbFailure(node, e2);
              if (be2 instanceof BackendConfigError) throw be2;
              reasons.set(node.endpoint.url, shortReason(e2));
            }
          } else {
            reasons.set(node.endpoint.url, shortReason(e));
          }
          if (kind === 'compacted') throw e;
          this.log.debug({ endpoint: node.endpoint.url, what, reason: reasons.get(node.endpoint.url) }, 'etcd call failed');
          this.markBad(node);
        }
      }
      const left = end - Date.now();
      if (left <= 0) {
        const detail = [...reasons].map(([u, r]) => `${u}: ${r}`).join('; ');
        throw new BackendUnavailableError(
          `etcd unreachable: ${what} failed on every endpoint (${this.urls.join(', ')}) within ${this.connectTimeoutMs} ms${detail ? ` — ${detail}` : ''}`,
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(pause, left)));
      pause = Math.min(pause * 2, 500);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const n of this.nodes) n.close();
  }
}
