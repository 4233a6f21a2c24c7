/**
 * The failover between etcd endpoints: calls go to the endpoint that last worked and move on to
 * the next one when it fails, within the connect timeout; failures are sorted into configuration
 * errors and outages (etcdErrors.ts).
 */
import type { Logger } from '../../log/logger.js';
import { BackendConfigError, BackendUnavailableError } from '../backend.js';
import { etcdErrorKind, toBackendError } from './etcdErrors.js';
import { onAnyEndpoint } from './endpointFailover.js';
import type { EtcdEndpoint } from './etcdNodes.js';
import { EtcdNode } from './etcdNode.js';
import { resolveEtcdOptions, type EtcdOptions } from './etcdOptions.js';

export type EtcdConnectionOptions = EtcdOptions;

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
    const { credentials, endpoints, auth, connectTimeoutMs } = resolveEtcdOptions(opts);
    this.endpoints = endpoints;
    this.username = auth?.username;
    this.connectTimeoutMs = connectTimeoutMs;
    this.nodes = this.endpoints.map((e) => new EtcdNode(e, credentials, auth, this.connectTimeoutMs));
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
    const once = (node: EtcdNode, deadline: number, late: () => Error): Promise<T> => timeoutAfter(fn(node, deadline), deadline - Date.now() + 50, late);
    return onAnyEndpoint({
      what,
      order: () => this.order(),
      urlOf: (node) => node.endpoint.url,
      urls: this.urls,
      budgetMs: this.connectTimeoutMs,
      isClosed: () => this.closed,
      log: this.log,
      attempt: async (node, deadline, shareMs) => {
        let r: T;
        try {
          r = await once(node, deadline, () => Object.assign(new Error(`no answer within ${shareMs} ms`), { code: 4 }));
        } catch (e) {
          if (this.closed) throw e;
          const kind = etcdErrorKind(e);
          const retrySame = kind === 'invalid-token' || kind === 'auth-not-enabled' || (kind === 'auth-required' && node.authDropped);
          if (!retrySame) throw e;
          // Retry the same endpoint once with a fresh token / without auth.
          this.absorbFailure(node, e);
          r = await once(node, deadline, () => Object.assign(new Error('no answer in time'), { code: 4 }));
        }
        this.markGood(node);
        return r;
      },
      failed: (node, e) => {
        const be = this.absorbFailure(node, e);
        if (be instanceof BackendConfigError) return be;
        if (etcdErrorKind(e) === 'compacted') return e as Error;
        this.markBad(node);
        return undefined;
      },
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const n of this.nodes) n.close();
  }
}
