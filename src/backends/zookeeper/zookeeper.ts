/**
 * The ZooKeeper backend (`-backend zookeeper`), confd's key mapping (tree.ts) over a kept copy of
 * the watched trees:
 *
 * - read: one pipelined read of every znode under the prefixes (read.ts) on a session that already
 *   holds a persistent recursive watch on each prefix; watch events that arrive during the read are
 *   merged into its result, newest observation of each path winning.
 * - watch: each event is applied to the kept tree (a created or changed znode is fetched, in
 *   order, on the same session) and turned into key puts/deletes — including a directory that
 *   becomes a key when its last child goes, and the reverse. An ephemeral znode removed because
 *   its owner's session expired is an ordinary NodeDeleted: a key deletion like any other.
 * - sessions: a lost connection is a lost session (never resumed): the kept tree is dropped, the
 *   watch reports 'disconnected', a new session is opened on the next server with backoff, and
 *   'connected' makes the daemon re-read. Revisions are local arrival numbers, not zxids.
 */
import type { Logger } from '../../log/logger.js';
import {
  BackendConfigError,
  BackendUnavailableError,
  type Backend,
  type ChangeEvent,
  type Snapshot,
  type Watch,
  type WatchHandlers,
} from '../backend.js';
import { distinctPrefixes } from '../../store/keys.js';
import { ZkConnection } from './connection.js';
import { ZkCodeError, ZkConnectionError } from './errors.js';
import { JuteDecodeError } from './jute.js';
import { parseZkServers } from './nodes.js';
import { ERR, EVENT, OP, bodies, decodeGetData, type WatcherEvent } from './protocol.js';
import { readTrees, type TreeRead } from './read.js';
import type { ZkSession } from './session.js';
import { ZnodeTree, type Observation } from './tree.js';

export interface ZookeeperBackendOptions {
  /** -node values: host:port, repeatable, or comma-separated. */
  readonly nodes: readonly string[];
  readonly connectTimeoutMs: number;
  /** Session timeout asked of the server (default 10 s; the server clamps it to 2–20 ticks). */
  readonly sessionTimeoutMs?: number;
  /** Reads only, no watch (-onetime, -interval and the operator commands). */
  readonly oneShot?: boolean;
}

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 2_000;
/** Events kept for a watch not started yet; past this it starts with a full re-read. */
const BACKLOG_MAX = 100_000;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The znodes to walk for some keys: as confd, every "/*" is dropped ("/members/*" walks /members). */
export function znodePrefixes(prefixes: readonly string[]): string[] {
  return distinctPrefixes(prefixes.map((p) => p.split('/*').join('')));
}

export class ZookeeperBackend implements Backend {
  readonly name = 'zookeeper';
  private readonly conn: ZkConnection;
  private tree: ZnodeTree | undefined;
  private treeSession: ZkSession | undefined;
  private readonly activeReads = new Set<Observation[]>();
  private readonly handlers = new Set<WatchHandlers>();
  private backlog: ChangeEvent[] = [];
  private backlogOverflow = false;
  private outbox: ChangeEvent[] = [];
  private flushScheduled = false;
  private disconnected = false;
  private lastReported: string | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private retryMs = RECONNECT_MIN_MS;
  private closed = false;
  private readonly warnedData = new Set<string>();

  constructor(
    private readonly opts: ZookeeperBackendOptions,
    private readonly log: Logger,
  ) {
    this.conn = new ZkConnection(
      {
        servers: parseZkServers(opts.nodes),
        connectTimeoutMs: opts.connectTimeoutMs,
        sessionTimeoutMs: opts.sessionTimeoutMs ?? 10_000,
        watch: opts.oneShot !== true,
      },
      {
        onNotification: (s, ev, seq) => this.onNotification(s, ev, seq),
        onSessionLost: (s, err) => this.onSessionLost(s, err),
        onSessionOpened: (s) => this.onSessionOpened(s),
      },
      log,
    );
  }

  /** The servers, as host:port. */
  get servers(): string[] {
    return this.conn.labels;
  }

  // ---- values ----

  /** A znode's bytes as its value: UTF-8; invalid sequences replaced (and said once per znode). */
  private decode(path: string, data: Buffer): string {
    const text = data.toString('utf8');
    if (!text.includes('\uFFFD')) return text;
    try {
      strictUtf8.decode(data);
    } catch {
      if (!this.warnedData.has(path)) {
        this.warnedData.add(path);
        this.log.warn({ znode: path, bytes: data.length }, `znode ${path}: data is not valid UTF-8; invalid bytes are replaced by U+FFFD`);
      }
    }
    return text;
  }

  // ---- read ----

  async read(prefixes: readonly string[]): Promise<Snapshot> {
    const t0 = performance.now();
    const ps = znodePrefixes(prefixes);
    let session: ZkSession;
    try {
      await this.conn.want(ps);
      session = await this.conn.ensure();
    } catch (e) {
      throw this.plain(e, 'connect');
    }
    const log: Observation[] = [];
    this.activeReads.add(log);
    const result = await new Promise<TreeRead>((resolve, reject) => {
      readTrees(session, ps, (p, d) => this.decode(p, d), (err, res) => {
        this.activeReads.delete(log);
        if (err || !res) return reject(this.plain(err, 'read'));
        resolve(res);
      });
    });
    // Built from the read's replies and the events that arrived while it ran (all before its end).
    const tree = new ZnodeTree(ps);
    for (const o of result.observations) tree.apply(o);
    for (const o of log) tree.apply(o);
    if (this.opts.oneShot !== true && this.conn.current() === session) {
      this.tree = tree;
      this.treeSession = session;
    }
    const pairs = new Map([...tree.keys()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
    this.log.debug({ prefixes: ps, znodes: tree.znodeCount, keys: pairs.size, ms: Math.round(performance.now() - t0) }, 'zookeeper read');
    return { revision: result.completedSeq, pairs };
  }

  /** Any failure → an error in plain words naming the ensemble. */
  private plain(e: unknown, during: 'connect' | 'read'): Error {
    if (e instanceof BackendUnavailableError || e instanceof BackendConfigError) return e;
    if (e instanceof ZkCodeError && e.code === ERR.noAuth) {
      return new BackendConfigError(`ZooKeeper refused to let haconfd read ${e.path}: permission denied by the znode ACL`);
    }
    if (e instanceof ZkConnectionError) {
      return new BackendUnavailableError(during === 'read' ? `ZooKeeper connection lost during the read: ${e.message}` : `cannot use ZooKeeper: ${e.message}`);
    }
    if (e instanceof JuteDecodeError) return new BackendUnavailableError(`ZooKeeper sent a reply haconfd could not read: ${e.message}`);
    return new BackendUnavailableError(`ZooKeeper ${during} failed: ${e instanceof Error ? e.message : String(e)}`);
  }

  // ---- watch events → kept tree → key changes ----

  private onNotification(s: ZkSession, ev: WatcherEvent, seq: number): void {
    switch (ev.type) {
      case EVENT.nodeDeleted:
        this.observe(s, { path: ev.path, value: undefined, seq });
        return;
      case EVENT.nodeCreated:
      case EVENT.nodeDataChanged:
        // Fetched on the same session: the reply's place in the stream orders it.
        s.send(OP.getData, ev.path, bodies.path(ev.path), (err, replySeq, r) => {
          if (err) {
            if (err instanceof ZkCodeError && err.code === ERR.noNode) this.observe(s, { path: ev.path, value: undefined, seq: replySeq });
            return; // session lost: the re-read after the reconnect covers it
          }
          try {
            const { data } = decodeGetData(r as NonNullable<typeof r>);
            this.observe(s, { path: ev.path, value: this.decode(ev.path, data), seq: replySeq });
          } catch (e) {
            this.log.warn({ znode: ev.path, err: (e as Error).message }, 'zookeeper: could not read a changed znode; re-reading everything');
            this.resyncAll('unreadable reply');
          }
        });
        return;
      default:
        return; // session state notices and watch-removed notices carry no change
    }
  }

  private observe(s: ZkSession, o: Observation): void {
    for (const log of this.activeReads) log.push(o);
    if (this.tree === undefined || this.treeSession !== s) return;
    const events = this.tree.apply(o);
    if (events.length > 0) this.emit(events);
  }

  private emit(events: readonly ChangeEvent[]): void {
    if (this.handlers.size === 0) {
      if (this.backlog.length + events.length > BACKLOG_MAX) this.backlogOverflow = true;
      else this.backlog.push(...events);
      return;
    }
    this.outbox.push(...events);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // After the current turn: a read that completed in this turn is applied by the daemon first.
    setImmediate(() => {
      this.flushScheduled = false;
      const batch = this.outbox;
      this.outbox = [];
      const last = batch[batch.length - 1];
      if (last === undefined) return;
      for (const h of this.handlers) this.safely(() => h.onEvents(batch, last.revision));
    });
  }

  private resyncAll(reason: string): void {
    for (const h of this.handlers) this.safely(() => h.onResync(reason));
  }

  // ---- sessions ----

  private onSessionLost(_s: ZkSession, err: ZkConnectionError): void {
    this.tree = undefined;
    this.treeSession = undefined;
    this.log.warn({ reason: err.message }, 'zookeeper: session lost; opening a new one');
    this.reportDown(new BackendUnavailableError(`ZooKeeper connection lost: ${err.message}`));
    if (this.handlers.size > 0) this.scheduleReconnect();
  }

  private onSessionOpened(s: ZkSession): void {
    this.retryMs = RECONNECT_MIN_MS;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    if (!this.disconnected) return;
    this.disconnected = false;
    this.lastReported = undefined;
    this.log.info({ server: s.server.label }, 'zookeeper: new session opened');
    for (const h of this.handlers) this.safely(() => h.onStatus?.('connected'));
  }

  private reportDown(error: Error): void {
    if (this.disconnected && this.lastReported === error.message) return;
    this.disconnected = true;
    this.lastReported = error.message;
    for (const h of this.handlers) this.safely(() => h.onStatus?.('disconnected', error));
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer || this.handlers.size === 0) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.conn.ensure().catch((e: unknown) => {
        if (this.closed) return;
        this.reportDown(this.plain(e, 'connect'));
        this.scheduleReconnect();
      });
    }, delay);
  }

  watch(prefixes: readonly string[], afterRevision: number, handlers: WatchHandlers): Watch {
    if (this.closed) throw new BackendUnavailableError('the ZooKeeper backend is closed');
    if (this.opts.oneShot === true) throw new BackendConfigError('this ZooKeeper backend was opened for one read only');
    const ps = znodePrefixes(prefixes);
    this.handlers.add(handlers);
    const tree = this.tree;
    const current = this.conn.current();
    const resumable = tree !== undefined && current !== undefined && this.treeSession === current && ps.every((p) => tree.covers(p)) && !this.backlogOverflow;
    const pending = this.backlog.filter((e) => e.revision > afterRevision);
    this.backlog = [];
    this.backlogOverflow = false;
    if (resumable) {
      setImmediate(() => {
        if (!this.handlers.has(handlers)) return;
        this.safely(() => handlers.onStatus?.('connected'));
        const last = pending[pending.length - 1];
        if (last !== undefined) this.safely(() => handlers.onEvents(pending, last.revision));
      });
    } else {
      void (async () => {
        try {
          await this.conn.want(ps);
          await this.conn.ensure();
          if (!this.handlers.has(handlers)) return;
          this.safely(() => handlers.onStatus?.('connected'));
          this.safely(() => handlers.onResync('watch started'));
        } catch (e) {
          if (!this.handlers.has(handlers)) return;
          this.reportDown(this.plain(e, 'connect'));
          this.scheduleReconnect();
        }
      })();
    }
    return {
      close: async () => {
        this.handlers.delete(handlers);
      },
    };
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error({ err: e }, 'zookeeper watch: handler threw');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    await this.conn.close();
  }
}

/** Validates -node and builds the backend; connects lazily (the first read). */
export function createZookeeperBackend(opts: ZookeeperBackendOptions, log: Logger): ZookeeperBackend {
  const b = new ZookeeperBackend(opts, log);
  log.debug({ servers: b.servers, oneShot: opts.oneShot === true }, 'zookeeper backend configured');
  return b;
}
