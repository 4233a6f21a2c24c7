/**
 * The I/O half of switchover holds (the plan is switchoverHold.ts): reads `haconfd holds` from the
 * worker, sends the hold/release requests the plan asks for, mirrors the counters as metrics, and
 * logs a hold starting and ending. It keeps the shutdown watches the plan wants (shutdownWatch.ts);
 * a leader seen shutting down is held at once, without waiting for the next pass. HAProxy without
 * haconfd-hold.lua (a template of one's own) is noted once and asked again every
 * UNSUPPORTED_RECHECK_MS: holds are an addition, never a need.
 */
import type { Logger } from '../../log/logger.js';
import type { ClusterModel } from '../../patroni/cluster.js';
import { HOLDS_LINE, holdReleaseLine, holdReplyError, holdRequestLine, isUnknownHoldCommand, parseHolds, stillHeld, type HoldStatus } from '../runtime/holdCommands.js';
import type { RuntimeClient } from '../runtime/runtimeClient.js';
import type { ControllerConfig } from './controllerConfig.js';
import type { ControllerMetrics } from './controllerMetrics.js';
import { SHUTDOWN_WATCH_DEFAULTS, ShutdownWatches, type ShutdownSeen } from './shutdownWatch.js';
import { planHolds, releaseAll, trackPending, trackStopping, watchTargets, type HoldCommand } from './switchoverHold.js';

export const UNSUPPORTED_RECHECK_MS = 30_000;

/** Lifetime of one request: a few passes, so a stopped haconfd's hold ends on its own soon. */
export function holdLeaseMs(intervalMs: number): number {
  return Math.max(2000, 3 * intervalMs);
}

export class HoldSteering {
  private unsupportedAt: number | undefined;
  private pendingSince: ReadonlyMap<string, number> = new Map();
  private stopping: ReadonlyMap<string, ShutdownSeen> = new Map();
  private readonly malformedSeen = new Map<string, string>();
  private readonly watches: ShutdownWatches;
  /** The write listens of each cluster, as of the last pass (for a hold sent between passes). */
  private writeBackends: ReadonlyMap<string, readonly string[]> = new Map();
  private closed = false;

  constructor(
    private readonly client: RuntimeClient,
    private readonly config: ControllerConfig,
    private readonly metrics: ControllerMetrics,
    private readonly log: Logger,
    private readonly now: () => number,
    /** Asks for a pass (a leader was seen shutting down). */
    private readonly wake: () => void = () => undefined,
  ) {
    this.watches = new ShutdownWatches({ ...SHUTDOWN_WATCH_DEFAULTS, now, onSeen: (s) => void this.onShutdown(s) });
  }

  /** One pass: the holds the clusters want on their write listens. Throws only on a socket failure. */
  async steer(clusters: readonly ClusterModel[], writeBackends: ReadonlyMap<string, readonly string[]>): Promise<void> {
    this.reportMalformed(clusters);
    this.writeBackends = writeBackends;
    const actual = await this.read();
    if (actual === undefined) {
      this.watches.endAll();
      return;
    }
    const now = this.now();
    const enabled = this.config.holdOnSwitchover;
    const from = this.config.switchoverHoldFrom;
    this.watches.want(this.closed ? [] : watchTargets(clusters, { enabled, from, now }));
    this.pendingSince = trackPending(this.pendingSince, clusters, now);
    this.stopping = trackStopping(this.stopping, this.watches.seen(), clusters, now);
    const commands = planHolds(clusters, writeBackends, actual, {
      enabled,
      now,
      leaseMs: holdLeaseMs(this.config.intervalMs),
      pendingSince: this.pendingSince,
      maxMs: this.config.switchoverHoldMaxMs,
      from,
      stopping: this.stopping,
    });
    await this.send(commands, actual);
  }

  /** Ends every request found (haconfd stopping, the DCS unreachable past the release bound). */
  async releaseAll(reason: string): Promise<number> {
    this.watches.endAll();
    const actual = await this.read();
    if (actual === undefined) return 0;
    const commands = releaseAll(actual, reason);
    await this.send(commands, actual);
    return commands.length;
  }

  /** Connections the worker's write listens hold right now (0 without haconfd-hold.lua). Throws on a socket failure. */
  async heldNow(): Promise<number> {
    const holds = await this.read();
    return holds === undefined ? 0 : holds.reduce((n, h) => n + stillHeld(h), 0);
  }

  /** Ends the shutdown watches for good (the controller stopping). */
  close(): void {
    this.closed = true;
    this.watches.endAll();
  }

  /**
   * A watched leader began shutting down: its cluster's write listens are held now (the next pass,
   * asked for at once, plans the same). Never throws.
   */
  private async onShutdown(s: ShutdownSeen): Promise<void> {
    this.metrics.shutdownsSeen.inc({ cluster: s.cluster });
    const listens = this.writeBackends.get(s.cluster) ?? [];
    this.log.info({ cluster: s.cluster, leader: s.leader, how: s.how, listens }, `${s.leader}'s Postgres is shutting down (${s.how}): holding new connections to ${listens.join(', ') || 'no write listen'} until the new leader is routed`);
    try {
      for (const listen of listens) {
        const c: HoldCommand = { listen, cluster: s.cluster, action: 'hold', ms: holdLeaseMs(this.config.intervalMs), reason: `${s.leader}'s Postgres is shutting down` };
        if (await this.request(c)) this.metrics.holdRequests.inc({ listen, action: 'hold' });
      }
    } catch (e) {
      this.log.warn({ cluster: s.cluster }, `holding ${s.cluster}'s write listens failed (${(e as Error).message}); the next pass tries again`);
    }
    this.wake();
  }

  /** `haconfd holds`, or undefined when HAProxy has no such command (noted, asked again later). */
  private async read(): Promise<HoldStatus[] | undefined> {
    if (this.unsupportedAt !== undefined && this.now() - this.unsupportedAt < UNSUPPORTED_RECHECK_MS) return undefined;
    let text: string;
    try {
      text = (await this.client.send(HOLDS_LINE)).body;
    } catch (e) {
      if (!isUnknownHoldCommand((e as Error).message)) throw e;
      text = (e as Error).message;
    }
    if (isUnknownHoldCommand(text)) {
      if (this.unsupportedAt === undefined) {
        this.log.info(
          this.config.holdOnSwitchover
            ? "HAProxy has no 'haconfd holds' command (haconfd-hold.lua not loaded): new connections are not held around a switchover; the shipped haproxy.cfg.hbs loads it"
            : "HAProxy has no 'haconfd holds' command (haconfd-hold.lua not loaded)",
        );
      }
      this.unsupportedAt = this.now();
      return undefined;
    }
    if (this.unsupportedAt !== undefined) this.log.info("HAProxy answers 'haconfd holds' now: switchover holds are on");
    this.unsupportedAt = undefined;
    const holds = parseHolds(text);
    for (const h of holds) {
      for (const [outcome, n] of [['held', h.held], ['released', h.released], ['timed_out', h.timedOut], ['abandoned', h.abandoned]] as const) {
        this.metrics.heldConnections.set({ listen: h.listen, outcome }, n);
      }
      this.metrics.holdWait.set({ listen: h.listen }, h.waitMs / 1000);
    }
    return holds;
  }

  private async send(commands: readonly HoldCommand[], actual: readonly HoldStatus[]): Promise<void> {
    const before = new Map(actual.map((h) => [h.listen, h.requestedMs] as const));
    for (const c of commands) {
      if (!(await this.request(c))) continue;
      const fresh = c.action === 'release' || (before.get(c.listen) ?? 0) === 0;
      if (fresh) this.metrics.holdRequests.inc({ listen: c.listen, action: c.action });
      const msg = c.action === 'hold' ? `${c.listen}: new connections held: ${c.reason}` : `${c.listen}: hold released: ${c.reason}`;
      if (fresh) this.log.info({ listen: c.listen, cluster: c.cluster, action: c.action }, msg);
      else this.log.debug({ listen: c.listen, cluster: c.cluster, action: c.action }, msg);
    }
  }

  /** Sends one hold or release request; false (and a warning) when the worker refused it. */
  private async request(c: HoldCommand): Promise<boolean> {
    const line = c.action === 'hold' ? holdRequestLine(c.listen, c.ms ?? holdLeaseMs(this.config.intervalMs)) : holdReleaseLine(c.listen);
    const error = holdReplyError((await this.client.send(line)).body);
    if (error !== undefined) this.log.warn({ listen: c.listen, cluster: c.cluster }, `${line}: ${error}`);
    return error === undefined;
  }

  /** A failover key that cannot be read changes nothing; it is logged once per value. */
  private reportMalformed(clusters: readonly ClusterModel[]): void {
    for (const m of clusters) {
      if (m.switchover.kind !== 'malformed') {
        this.malformedSeen.delete(m.id);
        continue;
      }
      if (this.malformedSeen.get(m.id) === m.switchover.reason) continue;
      this.malformedSeen.set(m.id, m.switchover.reason);
      this.log.warn({ cluster: m.id }, `the failover key of ${m.id} cannot be read (${m.switchover.reason}): ignored, nothing held`);
    }
  }
}
