/**
 * One etcd endpoint's gRPC channel(s) and auth token: etcd3's ConnectionPool holding that single
 * host, with etcd3's own retry and circuit-breaker policies switched off (failover is
 * EtcdConnection's job). TLS files are read in etcdCredentials.ts.
 */
import type * as grpc from '@grpc/grpc-js';
import { ConnectionPool } from 'etcd3/lib/connection-pool.js';
import type { IDuplexStream, IWatchRequest, IWatchResponse } from 'etcd3/lib/rpc.js';
import type { IOptions } from 'etcd3/lib/options.js';
import type { Credentials, EtcdAuth } from './etcdCredentials.js';
import type { EtcdEndpoint } from './etcdNodes.js';

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

/** One endpoint's gRPC channel(s) and token. Rebuilt after a token went stale. */
export class EtcdNode {
  private pool: ConnectionPool;
  private useAuth: boolean;

  constructor(
    readonly endpoint: EtcdEndpoint,
    private readonly credentials: Credentials | undefined,
    private readonly auth: EtcdAuth | undefined,
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
