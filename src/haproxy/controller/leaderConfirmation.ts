/**
 * Confirming a new leader through its Patroni REST API before it is made UP in the write backends:
 * `GET <api_url>` (Patroni's /patroni) must report role primary (or master, ≤ 3.x) and state
 * running. Polled fast (every ~25 ms), each request with its own short timeout, the whole attempt
 * bounded; a hanging API never confirms anything, and a newer leader cancels the older attempt.
 *
 *   probePatroni(url, opts)       → {role, state}          one GET, throws on any failure
 *   confirmLeader(url, opts)      → confirmed | timed-out | cancelled (overlapping polls)
 *   LeaderConfirmations           per-cluster tracking: start, cancel, settle → callback
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface PatroniStatus {
  readonly role: string;
  readonly state: string;
}

export interface ProbeOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** https: verify the certificate (default true). */
  readonly verifyTls?: boolean;
}

const MAX_BODY = 256 * 1024;

/** One `GET url`; resolves with the role and state Patroni reports, rejects on anything else. */
export function probePatroni(url: string, opts: ProbeOptions): Promise<PatroniStatus> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new Error(`invalid REST API URL ${JSON.stringify(url)}`));
      return;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      reject(new Error(`REST API URL ${url}: scheme must be http or https`));
      return;
    }
    if (opts.signal?.aborted) {
      reject(new Error('cancelled'));
      return;
    }
    let settled = false;
    const finish = (err: Error | undefined, v?: PatroniStatus): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(v as PatroniStatus);
    };
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) finish(new Error(`GET ${url}: reply larger than ${MAX_BODY} bytes`));
        else chunks.push(c);
      });
      res.on('error', (e) => finish(e));
      res.on('end', () => {
        if (res.statusCode !== 200 && res.statusCode !== 503) {
          finish(new Error(`GET ${url}: HTTP ${res.statusCode ?? '?'}`));
          return;
        }
        let data: unknown;
        try {
          data = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          finish(new Error(`GET ${url}: reply is not JSON`));
          return;
        }
        const o = data !== null && typeof data === 'object' ? (data as Record<string, unknown>) : {};
        const role = o['role'];
        const state = o['state'];
        if (typeof role !== 'string' || typeof state !== 'string') finish(new Error(`GET ${url}: reply has no role/state`));
        else finish(undefined, { role, state });
      });
    };
    const options = {
      method: 'GET',
      agent: false as const,
      headers: { accept: 'application/json', connection: 'close' },
      ...(u.protocol === 'https:' ? { rejectUnauthorized: opts.verifyTls !== false } : {}),
    };
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, options, onResponse);
    const timer = setTimeout(() => finish(new Error(`GET ${url}: no reply within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    const onAbort = (): void => finish(new Error('cancelled'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (e) => finish(e));
    req.end();
  });
}

/** Patroni reports a Postgres that is primary and running (`master` and `primary` are one). */
export function isPrimaryRunning(s: PatroniStatus): boolean {
  return (s.role === 'primary' || s.role === 'master') && s.state === 'running';
}

export interface ConfirmOptions {
  /** Give up after this long (the caller then hands the decision to HAProxy's checks). */
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly requestTimeoutMs: number;
  readonly signal?: AbortSignal;
  readonly verifyTls?: boolean;
  /** Requests allowed to wait at once (default 4). */
  readonly maxInFlight?: number;
}

export interface ConfirmOutcome {
  readonly outcome: 'confirmed' | 'timed-out' | 'cancelled';
  readonly attempts: number;
  readonly elapsedMs: number;
  /** The last thing the API said (or the last error when it said nothing since), for logs. */
  readonly last: string;
}

/**
 * Polls `url` until it reports a running primary, the bound passes, or `signal` cancels it. A new
 * request starts every `pollMs` even while earlier ones are still waiting (at most `maxInFlight`):
 * a request stuck on a busy or half-dead API (Patroni's REST API can stall while Postgres is being
 * promoted) never delays the one that would answer.
 */
export function confirmLeader(url: string, opts: ConfirmOptions): Promise<ConfirmOutcome> {
  return new Promise((resolve) => {
    const started = Date.now();
    const deadline = started + opts.timeoutMs;
    const maxInFlight = opts.maxInFlight ?? 4;
    const inner = new AbortController();
    let attempts = 0;
    let inFlight = 0;
    let answer: string | undefined;
    let error = 'no reply yet';
    let settled = false;
    const finish = (outcome: ConfirmOutcome['outcome']): void => {
      if (settled) return;
      settled = true;
      clearInterval(ticker);
      clearTimeout(bound);
      opts.signal?.removeEventListener('abort', onCancel);
      inner.abort();
      resolve({ outcome, attempts, elapsedMs: Date.now() - started, last: answer ?? error });
    };
    const launch = (): void => {
      if (settled) return;
      const remaining = deadline - Date.now();
      if (remaining < 5) return finish('timed-out');
      if (inFlight >= maxInFlight) return;
      inFlight++;
      attempts++;
      const timeoutMs = Math.min(opts.requestTimeoutMs, remaining);
      probePatroni(url, { timeoutMs, signal: inner.signal, ...(opts.verifyTls !== undefined ? { verifyTls: opts.verifyTls } : {}) }).then(
        (st) => {
          inFlight--;
          if (settled) return;
          answer = `role ${st.role}, state ${st.state}`;
          if (isPrimaryRunning(st)) finish('confirmed');
        },
        (e: unknown) => {
          inFlight--;
          if (settled) return;
          error = (e as Error).message;
          // The latest answer says more than a request cut short by the bound.
          if (timeoutMs === opts.requestTimeoutMs) answer = undefined;
        },
      );
    };
    const onCancel = (): void => finish('cancelled');
    if (opts.signal?.aborted) {
      resolve({ outcome: 'cancelled', attempts: 0, elapsedMs: 0, last: error });
      return;
    }
    opts.signal?.addEventListener('abort', onCancel, { once: true });
    const ticker = setInterval(launch, opts.pollMs);
    const bound = setTimeout(() => finish('timed-out'), opts.timeoutMs);
    launch();
  });
}

// ---------------------------------------------------------------------------------------------

export type ConfirmationStatus = 'pending' | 'confirmed' | 'timed-out';

export interface ConfirmationState {
  readonly leader: string;
  readonly status: ConfirmationStatus;
  /** Date.now() when this leader was first seen. */
  readonly since: number;
  /** Why it is what it is (for logs). */
  readonly detail: string;
}

export interface ConfirmationSettled {
  readonly cluster: string;
  readonly leader: string;
  readonly status: 'confirmed' | 'timed-out';
  readonly detail: string;
  readonly elapsedMs: number;
  readonly attempts: number;
}

interface Entry {
  leader: string;
  since: number;
  status: ConfirmationStatus;
  detail: string;
  apiUrl: string | undefined;
  abort: AbortController | undefined;
  deadlineTimer: NodeJS.Timeout | undefined;
}

export interface LeaderConfirmationsOptions {
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly requestTimeoutMs: number;
  readonly verifyTls?: boolean;
  /** Called when a confirmation settles (not when cancelled). */
  readonly onSettled: (s: ConfirmationSettled) => void;
  readonly now?: () => number;
}

/**
 * One confirmation per cluster. `track(cluster, leader, apiUrl)` is called on every reconcile with
 * what the DCS says now: a new leader cancels the old attempt and starts a new one; a leader
 * without a known REST API stays pending until its member key appears or the bound passes.
 */
export class LeaderConfirmations {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly opts: LeaderConfirmationsOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Current state for `cluster` (after starting/cancelling as needed); undefined when no leader. */
  track(cluster: string, leader: string | undefined, apiUrl: string | undefined): ConfirmationState | undefined {
    let e = this.entries.get(cluster);
    if (e !== undefined && e.leader !== leader) {
      this.cancelEntry(e);
      this.entries.delete(cluster);
      e = undefined;
    }
    if (leader === undefined) return undefined;
    if (e === undefined) {
      e = { leader, since: this.now(), status: 'pending', detail: 'awaiting confirmation', apiUrl: undefined, abort: undefined, deadlineTimer: undefined };
      this.entries.set(cluster, e);
      const entry = e;
      entry.deadlineTimer = setTimeout(() => this.expire(cluster, entry), this.opts.timeoutMs);
      entry.deadlineTimer.unref?.();
    }
    if (e.status === 'pending' && e.abort === undefined) {
      if (apiUrl !== undefined) this.start(cluster, e, apiUrl);
      else if (this.now() - e.since >= this.opts.timeoutMs) this.expire(cluster, e);
      else e.detail = 'leader has no member key (no REST API to ask) yet';
    }
    return { leader: e.leader, status: e.status, since: e.since, detail: e.detail };
  }

  /** Forget clusters that are gone. */
  retain(clusters: ReadonlySet<string>): void {
    for (const [c, e] of this.entries) {
      if (!clusters.has(c)) {
        this.cancelEntry(e);
        this.entries.delete(c);
      }
    }
  }

  cancelAll(): void {
    for (const e of this.entries.values()) this.cancelEntry(e);
    this.entries.clear();
  }

  private cancelEntry(e: Entry): void {
    e.abort?.abort();
    clearTimeout(e.deadlineTimer);
  }

  private expire(cluster: string, e: Entry): void {
    if (this.entries.get(cluster) !== e || e.status !== 'pending') return;
    e.abort?.abort();
    e.status = 'timed-out';
    if (e.apiUrl === undefined) e.detail = 'leader has no member key (no REST API to ask)';
    this.opts.onSettled({ cluster, leader: e.leader, status: 'timed-out', detail: e.detail, elapsedMs: this.now() - e.since, attempts: 0 });
  }

  private start(cluster: string, e: Entry, apiUrl: string): void {
    const abort = new AbortController();
    e.abort = abort;
    e.apiUrl = apiUrl;
    e.detail = `asking ${apiUrl}`;
    const remaining = Math.max(1, e.since + this.opts.timeoutMs - this.now());
    void confirmLeader(apiUrl, {
      timeoutMs: remaining,
      pollMs: this.opts.pollMs,
      requestTimeoutMs: this.opts.requestTimeoutMs,
      signal: abort.signal,
      ...(this.opts.verifyTls !== undefined ? { verifyTls: this.opts.verifyTls } : {}),
    }).then((r) => {
      if (r.outcome === 'cancelled' || this.entries.get(cluster) !== e || e.status !== 'pending') return;
      clearTimeout(e.deadlineTimer);
      e.status = r.outcome;
      e.detail = r.outcome === 'confirmed' ? `${apiUrl}: ${r.last}` : `${apiUrl} did not confirm within ${this.opts.timeoutMs} ms (last: ${r.last})`;
      this.opts.onSettled({ cluster, leader: e.leader, status: r.outcome, detail: e.detail, elapsedMs: this.now() - e.since, attempts: r.attempts });
    });
  }
}
