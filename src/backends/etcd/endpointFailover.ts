/**
 * The one failover loop over etcd endpoints, shared by the long-lived connection (etcdConnection.ts)
 * and the one-shot reader (etcdOneShot.ts): try the endpoints in order, each with a share of the
 * connect timeout so that one silent endpoint cannot use it all up; after a round that failed
 * everywhere pause (doubling, 50 ms → 500 ms) and go round again until the budget is spent, then
 * fail naming every endpoint and why — at once when every endpoint refused the connection. Loads
 * nothing of the etcd3 package.
 */
import type { Logger } from '../../log/logger.js';
import { Backoff } from '../../retry/backoff.js';
import { BackendUnavailableError } from '../backend.js';
import { everyEndpointRefused, recordFailure, shortReason, unreachableError } from './etcdErrors.js';

export interface EndpointFailover<N, T> {
  /** What is being done, for messages ("read", "watch" …). */
  readonly what: string;
  /** The endpoints in the order to try them (asked again before every round). */
  readonly order: () => readonly N[];
  readonly urlOf: (node: N) => string;
  /** Every endpoint's URL, for the final message. */
  readonly urls: readonly string[];
  /** The whole budget (the connect timeout). */
  readonly budgetMs: number;
  readonly isClosed: () => boolean;
  readonly log: Logger;
  /** One attempt on one endpoint; `deadline` is when its share ends, `shareMs` how long that share is. */
  readonly attempt: (node: N, deadline: number, shareMs: number) => Promise<T>;
  /**
   * What a failed attempt means: an error to throw at once (credentials, TLS, a compacted
   * revision), or undefined to go on with the next endpoint.
   */
  readonly failed: (node: N, err: unknown) => Error | undefined;
}

/** Runs `f.attempt` on one endpoint after another until one succeeds or the budget is spent. */
export async function onAnyEndpoint<N, T>(f: EndpointFailover<N, T>): Promise<T> {
  if (f.isClosed()) throw new BackendUnavailableError('etcd backend is closed');
  const end = Date.now() + f.budgetMs;
  const share = Math.max(1000, Math.floor(f.budgetMs / Math.max(1, f.urls.length)));
  const reasons = new Map<string, string>();
  const pause = new Backoff(50, 500);
  for (;;) {
    for (const node of f.order()) {
      const left = end - Date.now();
      if (left <= 0) break;
      const shareMs = Math.min(left, share);
      try {
        return await f.attempt(node, Date.now() + shareMs, shareMs);
      } catch (e) {
        if (f.isClosed()) throw new BackendUnavailableError('etcd backend is closed');
        const fatal = f.failed(node, e);
        if (fatal !== undefined) throw fatal;
        const url = f.urlOf(node);
        recordFailure(reasons, url, shortReason(e));
        f.log.debug({ endpoint: url, what: f.what, reason: reasons.get(url) }, 'etcd call failed');
      }
    }
    const left = end - Date.now();
    // Every endpoint refused at once: nothing listens there, so waiting out the budget only delays the answer.
    if (left <= 0 || everyEndpointRefused(f.urls, reasons)) throw unreachableError(f.what, f.urls, f.budgetMs, reasons);
    await new Promise((r) => setTimeout(r, Math.min(pause.next(), left)));
  }
}
