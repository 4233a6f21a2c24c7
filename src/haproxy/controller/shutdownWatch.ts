/**
 * Sees a leader's Postgres begin to shut down, within a millisecond or two, while a planned
 * switchover is pending. Patroni keeps the old primary writable through its pre-shutdown CHECKPOINT
 * (often a second or more), then stops it in fast mode; holding new connections from the failover key
 * on would make every client wait through that checkpoint too. So the hold starts when Postgres stops.
 *
 * How: one TCP connection to the member's Postgres address (its conn_url), which sends nothing.
 * Postgres forks a backend for it that waits for a startup packet; a fast or immediate shutdown
 * signals every backend, which closes the connection at once. Postgres logs nothing for a connection
 * that sent no byte. The connection is replaced every `renewMs` (a new one first), well inside
 * `authentication_timeout` (60 s by default), after which Postgres would close it on its own.
 *
 * Seen as stopping: the connection closed by the server, or refused, or not connected within
 * `connectTimeoutMs` (Postgres unreachable from here cannot be watched: holding at once is the safe
 * side, as `switchover_hold_from = "request"` does). A false sighting costs only an earlier hold.
 */
import { connect, type Socket } from 'node:net';

export interface WatchTarget {
  readonly cluster: string;
  readonly leader: string;
  readonly host: string;
  readonly port: number;
}

export interface ShutdownSeen {
  readonly cluster: string;
  readonly leader: string;
  /** What was seen: 'closed by the server', 'connection refused', … */
  readonly how: string;
  readonly at: number;
}

export interface ShutdownWatchOptions {
  readonly connectTimeoutMs: number;
  readonly renewMs: number;
  readonly onSeen: (s: ShutdownSeen) => void;
  readonly now: () => number;
}

export const SHUTDOWN_WATCH_DEFAULTS = { connectTimeoutMs: 1000, renewMs: 10_000 } as const;

function keyOf(t: WatchTarget): string {
  return `${t.cluster}\u0000${t.leader}\u0000${t.host}\u0000${t.port}`;
}

function describeError(e: NodeJS.ErrnoException): string {
  if (e.code === 'ECONNREFUSED') return 'connection refused';
  if (e.code === 'ECONNRESET') return 'connection reset';
  return e.code ?? e.message;
}

/** One target: the watching connection, and its replacement while that is connecting. */
class Watch {
  private current: Socket | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private ended = false;
  seen: ShutdownSeen | undefined;
  /** Connections established so far (the first and every replacement). */
  established = 0;

  constructor(
    readonly target: WatchTarget,
    private readonly o: ShutdownWatchOptions,
  ) {
    this.open();
  }

  private open(): void {
    if (this.ended || this.seen !== undefined) return;
    const s = connect({ host: this.target.host, port: this.target.port, noDelay: true });
    const timer = setTimeout(() => {
      s.destroy();
      this.see(`not connected within ${this.o.connectTimeoutMs} ms`);
    }, this.o.connectTimeoutMs);
    let connected = false;
    s.on('connect', () => {
      clearTimeout(timer);
      connected = true;
      if (this.ended || this.seen !== undefined) {
        s.destroy();
        return;
      }
      this.established += 1;
      const old = this.current;
      this.current = s;
      old?.destroy();
      this.renewTimer = setTimeout(() => this.open(), this.o.renewMs);
    });
    // A reply is not expected (Postgres waits for the startup packet); data is ignored.
    s.on('data', () => undefined);
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (!connected) this.see(describeError(e));
    });
    s.on('close', () => {
      clearTimeout(timer);
      // Closed by us (replaced, or the watch ended) is no sighting.
      if (connected && this.current === s && !this.ended) this.see('closed by the server');
    });
  }

  private see(how: string): void {
    if (this.ended || this.seen !== undefined) return;
    this.seen = { cluster: this.target.cluster, leader: this.target.leader, how, at: this.o.now() };
    this.stopConnections();
    this.o.onSeen(this.seen);
  }

  private stopConnections(): void {
    clearTimeout(this.renewTimer);
    const c = this.current;
    this.current = undefined;
    c?.destroy();
  }

  end(): void {
    this.ended = true;
    this.stopConnections();
  }
}

/** The watches a pass wants: opened when first wanted, ended when no longer wanted. */
export class ShutdownWatches {
  private readonly watches = new Map<string, Watch>();

  constructor(private readonly o: ShutdownWatchOptions) {}

  want(targets: readonly WatchTarget[]): void {
    const keep = new Set(targets.map(keyOf));
    for (const [k, w] of this.watches) {
      if (keep.has(k)) continue;
      w.end();
      this.watches.delete(k);
    }
    for (const t of targets) {
      const k = keyOf(t);
      if (!this.watches.has(k)) this.watches.set(k, new Watch(t, this.o));
    }
  }

  /** Per cluster: its leader seen stopping (while that target is still wanted). */
  seen(): ReadonlyMap<string, ShutdownSeen> {
    const out = new Map<string, ShutdownSeen>();
    for (const w of this.watches.values()) if (w.seen !== undefined) out.set(w.target.cluster, w.seen);
    return out;
  }

  /** Connections established so far for a cluster's watch (the first and every replacement). */
  established(cluster: string): number {
    let n = 0;
    for (const w of this.watches.values()) if (w.target.cluster === cluster) n += w.established;
    return n;
  }

  endAll(): void {
    this.want([]);
  }
}
