/**
 * A watch on some prefixes over one etcd Watch stream, with its own resume logic (etcd3's Watcher
 * resumes from the header revision of the last response, which skips events when a catching-up
 * watcher is cut off between two batches).
 *
 * The prefixes share one etcd watch over a range spanning them (watchRangeOfPrefixes), so events
 * arrive in revision order across prefixes; keys outside the prefixes are filtered out. The watch
 * keeps the revision to resume from: the last event's revision + 1. After any disconnect
 * the stream is reopened — on the next endpoint — from that revision, so nothing is lost and nothing
 * is delivered twice. If that revision was compacted, the watch is re-created at the current
 * revision and only then onResync('compacted') is called, so a re-read made in response sees every
 * later change either in its result or as an event.
 */
import type { IWatchResponse, IEvent } from 'etcd3/lib/rpc.js';
import type { Logger } from '../../log/logger.js';
import { BackendConfigError, type ChangeEvent, type Watch, type WatchHandlers } from '../backend.js';
import type { EtcdConnection } from './etcdConnection.js';
import type { EtcdNode, WatchStream } from './etcdNode.js';
import { shortReason } from './etcdErrors.js';
import { Backoff } from '../../retry/backoff.js';
import { isUnderPrefix } from '../../store/keys.js';
import { decodeBytes, watchRangeOfPrefixes, type WatchRange } from './etcdKeyRanges.js';

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 1_000;
/**
 * Credentials/TLS problems are retried too (the operator may fix them), but slowly — except the
 * first retry: after an etcd restart a stale token shows up as "permission denied" once, and the
 * node has already dropped it.
 */
const CONFIG_RETRY_FIRST_MS = 100;
const CONFIG_RETRY_MIN_MS = 2_000;
const CONFIG_RETRY_MAX_MS = 30_000;

interface RangeState {
  readonly range: WatchRange;
  /** Revision to (re)start from; 0 = "now". */
  next: number;
  /** watch_id on the current stream, while created or being created; undefined before that. */
  id: number | undefined;
  created: boolean;
  /** Re-created after a compaction; onResync is due once it is created. */
  resyncDue: boolean;
}

function toChangeEvent(ev: IEvent): ChangeEvent {
  const key = decodeBytes(ev.kv.key);
  const revision = Number(ev.kv.mod_revision);
  return String(ev.type).toUpperCase() === 'DELETE' ? { type: 'delete', key, revision } : { type: 'put', key, value: decodeBytes(ev.kv.value), revision };
}

export class EtcdWatch implements Watch {
  /** The one range watched; undefined when there is no prefix to watch. */
  private readonly state: RangeState | undefined;
  private stream: WatchStream | undefined;
  private node: EtcdNode | undefined;
  private generation = 0;
  private nextId = 1;
  private closed = false;
  private connected = false;
  private everConnected = false;
  private lastReported: string | undefined;
  private readonly retry = new Backoff(RETRY_MIN_MS, RETRY_MAX_MS);
  private readonly configRetry = new Backoff(CONFIG_RETRY_FIRST_MS, CONFIG_RETRY_MAX_MS, CONFIG_RETRY_MIN_MS);
  private timer: NodeJS.Timeout | undefined;
  /** Fails an attempt that is not connected within the connect timeout (a silent endpoint). */
  private watchdog: NodeJS.Timeout | undefined;
  private reconnects = 0;

  constructor(
    private readonly conn: EtcdConnection,
    prefixes: readonly string[],
    afterRevision: number,
    private readonly handlers: WatchHandlers,
    private readonly log: Logger,
    private readonly onClosed: (w: EtcdWatch) => void = () => undefined,
  ) {
    const start = afterRevision > 0 ? afterRevision + 1 : 0;
    const range = watchRangeOfPrefixes(prefixes);
    this.state = range ? { range, next: start, id: undefined, created: false, resyncDue: false } : undefined;
    if (this.state !== undefined) void this.open();
    // Nothing to watch: nothing to be disconnected from either.
    else queueMicrotask(() => this.closed || this.safely(() => this.handlers.onStatus?.('connected')));
  }

  /** The endpoint the stream is on (for tests and logs). */
  get endpoint(): string | undefined {
    return this.connected ? this.node?.endpoint.url : undefined;
  }

  /** How many times the stream was reopened after a failure. */
  get reconnectCount(): number {
    return this.reconnects;
  }

  private async open(): Promise<void> {
    const r = this.state;
    if (r === undefined) return;
    const gen = ++this.generation;
    const node = this.conn.order()[0];
    if (node === undefined || this.closed) return;
    this.node = node;
    // Bounds the whole attempt, logging in included: a silent endpoint is left after the timeout.
    this.clearWatchdog();
    const limit = this.conn.connectTimeoutMs;
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      if (!this.connected) this.fail(gen, node, Object.assign(new Error(`no answer within ${limit} ms`), { code: 4 }));
    }, limit);
    let stream: WatchStream;
    try {
      stream = await node.openWatchStream();
    } catch (e) {
      this.fail(gen, node, e);
      return;
    }
    if (this.closed || gen !== this.generation) {
      stream.on('error', () => undefined); // the CANCELLED status that cancel() brings
      stream.cancel();
      return;
    }
    this.stream = stream;
    this.log.trace({ endpoint: node.endpoint.url }, 'etcd watch: stream open');
    stream.on('data', (res: IWatchResponse) => {
      if (gen === this.generation) this.onResponse(gen, node, res);
    });
    stream.on('error', (err: Error) => this.fail(gen, node, err));
    stream.on('end', () => this.fail(gen, node, new Error('watch stream ended by the server')));
    this.create(stream, r);
  }

  private create(stream: WatchStream, r: RangeState): void {
    const id = this.nextId++;
    r.id = id;
    r.created = false;
    stream.write({
      create_request: {
        key: r.range.key,
        range_end: r.range.rangeEnd,
        ...(r.next > 0 ? { start_revision: r.next } : {}),
        watch_id: id,
      },
    });
  }

  private onResponse(gen: number, node: EtcdNode, res: IWatchResponse): void {
    const s = this.state;
    if (s === undefined) return;
    const r = s.id !== undefined && s.id === Number(res.watch_id) ? s : undefined;
    if (r === undefined) {
      // etcd 3.4 refuses a create (e.g. "permission denied" for a token it no longer knows after a
      // restart) with watch_id -1 rather than ours: it belongs to the create still pending.
      if (res.created && res.canceled && s.id !== undefined && !s.created) {
        this.fail(gen, node, new Error(res.cancel_reason || 'watch refused by the server'));
      }
      return; // otherwise: a watch we cancelled
    }
    if (Number(res.compact_revision) > 0) {
      this.onCompacted(r, Number(res.compact_revision));
      return;
    }
    if (res.canceled) {
      this.fail(gen, node, new Error(res.cancel_reason || 'watch cancelled by the server'));
      return;
    }
    if (res.created) {
      r.created = true;
      if (r.next === 0) r.next = Number(res.header.revision) + 1;
      if (r.resyncDue) {
        r.resyncDue = false;
        this.log.warn({ revision: r.next - 1 }, 'etcd watch: revision compacted, asking for a full re-read');
        this.safely(() => this.handlers.onResync('compacted'));
      }
      if (!this.connected) this.onConnected(node, r);
      return;
    }
    // Only events move the resume point. (Progress notifications could too, but some etcd releases
    // sent them ahead of pending events; a resume from an older revision costs at most a re-read.)
    if (!r.created || res.events.length === 0) return;
    const all = res.events.map(toChangeEvent);
    r.next = (all[all.length - 1] as ChangeEvent).revision + 1;
    const events = all.filter((e) => r.range.prefixes.some((p) => isUnderPrefix(e.key, p)));
    const last = events[events.length - 1];
    if (last !== undefined) this.safely(() => this.handlers.onEvents(events, last.revision));
  }

  private onCompacted(r: RangeState, compactRevision: number): void {
    this.log.info({ prefixes: r.range.prefixes, from: r.next, compactRevision }, 'etcd watch: resume revision was compacted');
    r.id = undefined;
    r.next = 0;
    r.resyncDue = true;
    if (this.stream) this.create(this.stream, r);
  }

  private clearWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private onConnected(node: EtcdNode, r: RangeState): void {
    this.clearWatchdog();
    this.connected = true;
    this.retry.reset();
    this.configRetry.reset();
    this.lastReported = undefined;
    this.conn.markGood(node);
    // `resume` stays a list, as logged when the watch could hold several ranges.
    this.log.info({ endpoint: node.endpoint.url, resume: [r.next] }, this.everConnected ? 'etcd watch: reconnected' : 'etcd watch: connected');
    this.everConnected = true;
    this.safely(() => this.handlers.onStatus?.('connected'));
  }

  private fail(gen: number, node: EtcdNode, err: unknown): void {
    if (this.closed || gen !== this.generation) return;
    this.generation++;
    this.clearWatchdog();
    const stream = this.stream;
    this.stream = undefined;
    if (this.state !== undefined) {
      this.state.id = undefined;
      this.state.created = false;
    }
    try {
      stream?.cancel();
    } catch {
      /* already gone */
    }
    const be = this.conn.absorbFailure(node, err);
    this.conn.markBad(node);
    const wasConnected = this.connected;
    this.connected = false;
    // One report per outage; a credentials/TLS problem again whenever its message changes.
    const report = be instanceof BackendConfigError ? be.message : be.name;
    if (wasConnected || report !== this.lastReported) {
      this.lastReported = report;
      this.log.warn({ endpoint: node.endpoint.url, reason: shortReason(err) }, `etcd watch: disconnected: ${be.message}`);
      this.safely(() => this.handlers.onStatus?.('disconnected', be));
    }
    this.log.debug({ endpoint: node.endpoint.url, reason: shortReason(err) }, 'etcd watch: attempt failed');
    const delay = be instanceof BackendConfigError ? this.configRetry.next() : wasConnected ? 0 : this.retry.next();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.reconnects++;
      void this.open();
    }, delay);
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error({ err: e }, 'etcd watch: handler threw');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.clearWatchdog();
    const stream = this.stream;
    this.stream = undefined;
    try {
      stream?.cancel();
    } catch {
      /* already gone */
    }
    this.onClosed(this);
  }
}
