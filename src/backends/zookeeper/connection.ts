/**
 * The connection to the ensemble: at most one live session, opened on the servers in turn (the
 * next one after a failure), with a persistent recursive watch on every wanted prefix registered
 * before the session is handed out — so a read made on it misses no later change.
 */
import type { Logger } from '../../log/logger.js';
import { BackendConfigError } from '../backend.js';
import { ERR, type WatcherEvent } from './protocol.js';
import { ZkCodeError, ZkConnectionError, unreachable } from './errors.js';
import type { ZkServer } from './nodes.js';
import { ZkSession } from './session.js';

export interface ZkConnectionOptions {
  readonly servers: readonly ZkServer[];
  readonly connectTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  /** Register persistent watches (false for a one-shot read). */
  readonly watch: boolean;
}

export interface ZkConnectionEvents {
  onNotification(session: ZkSession, event: WatcherEvent, seq: number): void;
  onSessionLost(session: ZkSession, error: ZkConnectionError): void;
  onSessionOpened(session: ZkSession): void;
}

export class ZkConnection {
  private session: ZkSession | undefined;
  private connecting: Promise<ZkSession> | undefined;
  private next = 0;
  private closed = false;
  private readonly wanted = new Set<string>();
  /** Prefixes watched on the current session. */
  private readonly watched = new Set<string>();
  lastProblem: string | undefined;

  constructor(
    private readonly opts: ZkConnectionOptions,
    private readonly events: ZkConnectionEvents,
    private readonly log: Logger,
  ) {}

  get labels(): string[] {
    return this.opts.servers.map((s) => s.label);
  }

  current(): ZkSession | undefined {
    return this.session?.endedBecause === undefined ? this.session : undefined;
  }

  /** A live session with every wanted prefix watched; connects (all servers in turn) if needed. */
  async ensure(): Promise<ZkSession> {
    if (this.closed) throw new ZkConnectionError('the ZooKeeper backend is closed');
    const live = this.current();
    if (live) {
      await this.registerMissing(live);
      return live;
    }
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** Adds prefixes to watch (on this session and every later one). */
  async want(prefixes: readonly string[]): Promise<void> {
    if (!this.opts.watch) return;
    for (const p of prefixes) this.wanted.add(p);
    const live = this.current();
    if (live) await this.registerMissing(live);
  }

  private async connect(): Promise<ZkSession> {
    const servers = this.opts.servers;
    for (let i = 0; i < servers.length; i++) {
      const server = servers[(this.next + i) % servers.length] as ZkServer;
      let s: ZkSession;
      try {
        s = await ZkSession.open(server, {
          connectTimeoutMs: this.opts.connectTimeoutMs,
          sessionTimeoutMs: this.opts.sessionTimeoutMs,
          onNotification: (ev, seq) => this.events.onNotification(s, ev, seq),
          onLost: (err) => this.lost(s, err),
        });
      } catch (e) {
        this.lastProblem = (e as Error).message;
        this.log.debug({ server: server.label, reason: this.lastProblem }, 'zookeeper: connect failed');
        continue;
      }
      if (this.closed) {
        s.abandon();
        throw new ZkConnectionError('the ZooKeeper backend is closed');
      }
      this.next = (this.next + i) % servers.length;
      this.session = s;
      this.watched.clear();
      try {
        await this.registerMissing(s);
      } catch (e) {
        this.lastProblem = (e as Error).message;
        this.session = undefined;
        s.abandon();
        if (e instanceof BackendConfigError) throw e;
        continue;
      }
      this.lastProblem = undefined;
      this.log.debug({ server: server.label, sessionId: s.sessionId.toString(16), timeoutMs: s.timeoutMs }, 'zookeeper: session opened');
      this.events.onSessionOpened(s);
      return s;
    }
    this.next = (this.next + 1) % servers.length;
    throw unreachable(this.labels, this.lastProblem);
  }

  private async registerMissing(s: ZkSession): Promise<void> {
    const missing = [...this.wanted].filter((p) => !this.watched.has(p));
    if (missing.length === 0) return;
    try {
      await Promise.all(missing.map((p) => s.addRecursiveWatch(p)));
    } catch (e) {
      if (e instanceof ZkCodeError && e.code === ERR.unimplemented) {
        throw new BackendConfigError(`ZooKeeper at ${s.server.label} has no persistent watches: -watch needs ZooKeeper 3.6 or later (use -interval instead)`);
      }
      throw e;
    }
    if (this.session === s) for (const p of missing) this.watched.add(p);
  }

  private lost(s: ZkSession, err: ZkConnectionError): void {
    if (this.session !== s) return;
    this.session = undefined;
    this.watched.clear();
    this.lastProblem = err.message;
    this.next = (this.next + 1) % this.opts.servers.length;
    this.events.onSessionLost(s, err);
  }

  async close(): Promise<void> {
    this.closed = true;
    const s = this.session;
    this.session = undefined;
    await s?.close();
  }
}
