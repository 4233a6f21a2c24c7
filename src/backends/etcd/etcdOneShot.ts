/**
 * A read-only etcd v3 backend for `-onetime`: the same one-revision read as the etcd3-based backend
 * (etcdRead.ts's transactions, etcdWire.ts's bytes, the same endpoint failover and error wording),
 * sent as plain gRPC unary calls over node:http2 (grpcUnary.ts). It loads no gRPC stack: importing
 * the etcd3 package (@grpc/grpc-js, protobufjs, proto-loader) costs ~250 ms and ~27 MB, more than a
 * whole cold run of 10,000 keys should take. It cannot watch; the daemon uses etcd.ts.
 */
import http2 from 'node:http2';
import type { Logger } from '../../log/logger.js';
import { BackendConfigError, type Backend, type Snapshot, type Watch } from '../backend.js';
import { decodeAuthenticateToken, encodeAuthenticateRequest } from './etcdAuthWire.js';
import type { Credentials, EtcdAuth } from './etcdCredentials.js';
import { etcdErrorKind, toBackendError } from './etcdErrors.js';
import { onAnyEndpoint } from './endpointFailover.js';
import type { KeyRange } from './etcdKeyRanges.js';
import type { EtcdEndpoint } from './etcdNodes.js';
import { resolveEtcdOptions, type EtcdOptions } from './etcdOptions.js';
import { readDescription, readRanges, readRangesOf, readRetryingCompaction } from './etcdRead.js';
import { unaryCall } from './grpcUnary.js';

export type EtcdOneShotOptions = EtcdOptions;

/** Flow-control window: a 10,000-key prefix is ~1.5 MB; the 64 KB default costs round trips. */
const WINDOW = 16 * 1024 * 1024;

export class EtcdOneShotBackend implements Backend {
  readonly name = 'etcdv3';
  private readonly sessions = new Set<http2.ClientHttp2Session>();
  private closed = false;
  /** False once a server said authentication is not enabled (as etcd's Go client, carry on without). */
  private useAuth: boolean;
  private warnedAuthDisabled = false;

  constructor(
    readonly endpoints: readonly EtcdEndpoint[],
    private readonly credentials: Credentials | undefined,
    private readonly auth: EtcdAuth | undefined,
    readonly connectTimeoutMs: number,
    private readonly log: Logger,
  ) {
    this.useAuth = auth !== undefined;
  }

  get urls(): string[] {
    return this.endpoints.map((e) => e.url);
  }

  async read(prefixes: readonly string[]): Promise<Snapshot> {
    const t0 = performance.now();
    const ranges = readRangesOf(prefixes);
    const snap = await readRetryingCompaction(this.urls, () => this.readOnAnyEndpoint(readDescription(prefixes), ranges));
    this.log.debug({ prefixes, revision: snap.revision, keys: snap.pairs.size, ms: Math.round(performance.now() - t0) }, 'etcd read (one-shot)');
    return snap;
  }

  /**
   * Tries one endpoint after another (rounds, with a short pause) until one answers or
   * `connectTimeoutMs` has passed; each attempt gets a share of the budget so that one silent
   * endpoint cannot use it all up. Same policy as EtcdConnection.call.
   */
  private readOnAnyEndpoint(what: string, ranges: readonly KeyRange[]): Promise<Snapshot> {
    return onAnyEndpoint({
      what,
      order: () => this.endpoints,
      urlOf: (endpoint) => endpoint.url,
      urls: this.urls,
      budgetMs: this.connectTimeoutMs,
      isClosed: () => this.closed,
      log: this.log,
      attempt: (endpoint, deadline) => this.readFrom(endpoint, ranges, deadline),
      failed: (endpoint, e) => {
        const kind = etcdErrorKind(e);
        if (kind === 'compacted') return e as Error;
        if (kind === 'auth-required' && this.auth !== undefined && !this.useAuth) {
          // Auth was switched on since a server said it was off: log in again.
          this.useAuth = true;
          return undefined;
        }
        const be = toBackendError(e, { endpoints: [endpoint.url], username: this.auth?.username });
        return be instanceof BackendConfigError ? be : undefined;
      },
    });
  }

  /** Connect, log in if configured, read; the session is closed afterwards whatever happened. */
  private async readFrom(endpoint: EtcdEndpoint, ranges: readonly KeyRange[], deadline: number): Promise<Snapshot> {
    const session = await this.connect(endpoint, deadline);
    try {
      const metadata: Record<string, string> = {};
      if (this.useAuth && this.auth) {
        try {
          const res = await unaryCall(session, '/etcdserverpb.Auth/Authenticate', encodeAuthenticateRequest(this.auth.username, this.auth.password), {}, deadline);
          metadata['token'] = decodeAuthenticateToken(res);
        } catch (e) {
          if (etcdErrorKind(e) !== 'auth-not-enabled') throw e;
          this.useAuth = false;
          if (!this.warnedAuthDisabled) {
            this.warnedAuthDisabled = true;
            this.log.warn({ endpoint: endpoint.url }, 'etcd: authentication is not enabled on the server; continuing without credentials');
          }
        }
      }
      return await readRanges((req) => unaryCall(session, '/etcdserverpb.KV/Txn', req, metadata, deadline), ranges);
    } finally {
      this.drop(session);
    }
  }

  private connect(endpoint: EtcdEndpoint, deadline: number): Promise<http2.ClientHttp2Session> {
    const tls: http2.SecureClientSessionOptions = {};
    if (endpoint.secure && this.credentials) {
      // A null root certificate means the system's trusted roots (loadCredentials' convention).
      if (this.credentials.rootCertificate) tls.ca = this.credentials.rootCertificate;
      if (this.credentials.certChain) tls.cert = this.credentials.certChain;
      if (this.credentials.privateKey) tls.key = this.credentials.privateKey;
    }
    // node:http2 leaves the TLS server name unset for IP addresses (RFC 6066) and checks the
    // certificate against the host either way.
    const session = http2.connect(endpoint.url, {
      ...tls,
      settings: { enablePush: false, initialWindowSize: WINDOW },
      // Response data is consumed as it arrives; allow a large prefix to be in flight at once.
      maxSessionMemory: 64,
    });
    this.sessions.add(session);
    return new Promise((resolve, reject) => {
      const ms = Math.max(1, deadline - Date.now());
      let settled = false;
      const fail = (e: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.drop(session);
        reject(e);
      };
      const onClose = (): void => fail(new Error('connection closed before it was established'));
      const timer = setTimeout(() => fail(new Error(`no connection within ${ms} ms`)), ms);
      // Stays attached: an error after the connection is up reaches the streams, which report it.
      session.on('error', fail);
      session.once('close', onClose);
      session.once('connect', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        session.removeListener('close', onClose);
        try {
          session.setLocalWindowSize(WINDOW);
        } catch {
          // Only a throughput setting.
        }
        resolve(session);
      });
    });
  }

  private drop(session: http2.ClientHttp2Session): void {
    this.sessions.delete(session);
    if (!session.destroyed) session.destroy();
  }

  watch(): Watch {
    throw new Error('the one-shot etcd reader cannot watch: the daemon uses createEtcdBackend (etcd.ts)');
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of [...this.sessions]) this.drop(s);
  }
}

/**
 * Validates the options (nodes, TLS files, user) exactly as createEtcdBackend does and builds the
 * one-shot backend. Connects on read().
 */
export async function createEtcdOneShotBackend(opts: EtcdOneShotOptions, log: Logger): Promise<EtcdOneShotBackend> {
  const { credentials, endpoints, auth, connectTimeoutMs } = resolveEtcdOptions(opts);
  log.debug({ endpoints: endpoints.map((e) => e.url), username: auth?.username, tls: credentials !== undefined }, 'etcd one-shot reader configured');
  return new EtcdOneShotBackend(endpoints, credentials, auth, connectTimeoutMs, log);
}
