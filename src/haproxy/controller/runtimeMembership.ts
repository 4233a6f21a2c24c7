/**
 * Membership changes without a reload. When a newly committed haproxy.cfg differs from the one the
 * running worker loaded only by servers added or removed (membershipDiff.ts), they are applied
 * through the runtime API instead of reloading:
 *
 * - added: `add server b/s addr kw…` with every keyword spelled out (it starts in MAINT with checks
 *   off), then `enable health` (and `enable agent`); the controller's next pass gives it its role.
 * - removed: without sessions, MAINT and `del server` at once. With sessions, DRAIN (no new
 *   connections; MAINT would cut them under `on-marked-down shutdown-sessions`) until they end —
 *   checked every pass — or `removal_grace` runs out, then their sessions are shut down and it is
 *   deleted. The planner leaves servers waiting for removal alone.
 *
 * It needs to know the config text the running worker loaded: noted after each reload haconfd runs,
 * adopted at start-up when the worker started after the file was last written, and forgotten when
 * a reload fails or a worker appears that haconfd did not start and cannot vouch for. Unknown → reload.
 */
import { readFile, stat } from 'node:fs/promises';
import { extractConfigServers } from '../configServers.js';
import type { Logger } from '../../log/logger.js';
import { addServerLine, diffMembership } from '../membershipDiff.js';
import { serverKey } from '../names.js';
import type { ActualServerState } from '../plan.js';
import type { RuntimeClient } from '../runtimeClient.js';
import type { ControllerMetrics } from './controllerMetrics.js';

export type MembershipOutcome =
  | { readonly applied: true; readonly added: readonly string[]; readonly removed: readonly string[]; readonly waiting: readonly string[] }
  | { readonly applied: false; readonly reason: string };

interface PendingRemoval {
  readonly backend: string;
  readonly server: string;
  /** Its server line when it left the config: it may come back only as it was. */
  readonly text: string;
  readonly since: number;
  attempts: number;
}

export interface RuntimeMembershipOptions {
  readonly client: RuntimeClient;
  readonly log: Logger;
  readonly metrics: ControllerMetrics;
  /** How long a removed server keeps its sessions before they are shut down so it can be deleted. */
  readonly removalGraceMs: number;
  readonly now: () => number;
}

const KIND = 'membership';

export class RuntimeMembership {
  /** dest path → the config text the running worker loaded from it. */
  private readonly loaded = new Map<string, string>();
  private readonly pending = new Map<string, PendingRemoval>();

  constructor(private readonly o: RuntimeMembershipOptions) {}

  noteLoaded(dest: string, text: string): void {
    this.loaded.set(dest, text);
    this.willLoad(text);
  }

  /**
   * A reload to `text` is starting: a server waiting for removal that `text` lists again will be a
   * regular server of the new worker, so its removal is dropped (the passes during and after the
   * reload must not delete it).
   */
  willLoad(text: string): void {
    if (this.pending.size === 0) return;
    for (const s of extractConfigServers(text)) {
      const key = serverKey(s.backend, s.server);
      if (this.pending.delete(key)) this.o.log.info({ backend: s.backend, server: s.server }, `${key} is in the config being loaded again: its removal is dropped`);
    }
  }

  forget(dest: string): void {
    this.loaded.delete(dest);
  }

  /** Servers waiting for `del server` (backend/server). */
  get waiting(): readonly string[] {
    return [...this.pending.keys()];
  }

  /**
   * Takes `dest` as the running config when the worker started after the file was last written
   * (`Start_time_sec` of `show info`, whole seconds: a write in the same second is not trusted).
   * Otherwise forgets it. Never throws.
   */
  async adopt(dest: string): Promise<boolean> {
    try {
      const [st, text, info] = await Promise.all([stat(dest), readFile(dest, 'utf8'), this.o.client.showInfo()]);
      const started = Number(info['Start_time_sec']);
      if (Number.isFinite(started) && started > 0 && st.mtimeMs < started * 1000) {
        this.loaded.set(dest, text);
        this.o.log.debug({ dest }, 'the running HAProxy worker started after the config was written: membership changes can go through the runtime API');
        return true;
      }
    } catch {
      // No file or no socket yet: unknown, so the first change reloads.
    }
    this.loaded.delete(dest);
    return false;
  }

  /** Re-adopts every known config (a worker haconfd did not start appeared). */
  async readopt(): Promise<void> {
    for (const dest of [...this.loaded.keys()]) await this.adopt(dest);
  }

  /**
   * Applies `next` (just committed to `dest`) to the running worker if only servers were added or
   * removed. On `applied: false` the caller reloads; servers already added stay harmlessly in MAINT
   * until the reload (the new config has them too).
   */
  async apply(dest: string, next: string): Promise<MembershipOutcome> {
    const loaded = this.loaded.get(dest);
    if (loaded === undefined) return this.refused('the config the running HAProxy loaded is not known (first change since start-up, or after a failed or outside reload)');
    const diff = diffMembership(loaded, next);
    if (diff.kind === 'reload') return this.refused(diff.reason);
    if (diff.kind === 'same') {
      this.loaded.set(dest, next);
      this.o.metrics.membership.inc({ outcome: 'runtime' });
      return { applied: true, added: [], removed: [], waiting: this.waiting };
    }
    const client = this.o.client;
    let actual: ActualServerState[];
    try {
      actual = await client.showServersState();
    } catch (e) {
      return this.refused(`reading the servers: ${(e as Error).message}`);
    }
    const have = new Map(actual.map((a) => [serverKey(a.backend, a.server), a] as const));
    const added: string[] = [];
    for (const s of diff.added) {
      const key = serverKey(s.backend, s.server);
      if (have.has(key)) {
        // Removed earlier and still waiting for its connections to end: it is back.
        const p = this.pending.get(key);
        if (p !== undefined) {
          this.pending.delete(key);
          if (p.text !== s.text) {
            // The running server has the old address or keywords: only a reload gives it the new line.
            return this.refused(`${key} came back with a different server line before its removal completed (${JSON.stringify(s.text)})`);
          }
          this.o.log.info({ backend: s.backend, server: s.server }, `${key} is back before its removal completed: kept`);
          continue;
        }
        return this.refused(`${key} already exists in the running HAProxy`);
      }
      try {
        await client.send(addServerLine(s), { backend: s.backend, server: s.server });
        if (s.health) await client.send(`enable health ${key}`, { backend: s.backend, server: s.server });
        if (s.agent) await client.send(`enable agent ${key}`, { backend: s.backend, server: s.server });
        this.o.metrics.commands.inc({ action: 'add', kind: KIND, result: 'ok' });
      } catch (e) {
        this.o.metrics.commands.inc({ action: 'add', kind: KIND, result: 'error' });
        return this.refused(`add server ${key}: ${(e as Error).message}`);
      }
      added.push(key);
      this.o.log.info({ backend: s.backend, server: s.server, address: s.address }, `${key} added at runtime (in MAINT until the controller gives it its role)`);
    }
    const removed: string[] = [];
    const sessions = diff.removed.length > 0 ? await this.sessionsOf() : new Map<string, number>();
    for (const r of diff.removed) {
      const key = serverKey(r.backend, r.server);
      if (!have.has(key)) continue;
      const p: PendingRemoval = { backend: r.backend, server: r.server, text: r.text, since: this.o.now(), attempts: 0 };
      if (await this.remove(p, sessions)) removed.push(key);
      else this.pending.set(key, p);
    }
    this.loaded.set(dest, next);
    this.o.metrics.membership.inc({ outcome: 'runtime' });
    return { applied: true, added, removed, waiting: this.waiting };
  }

  /** The servers the planner may steer (those waiting for removal are left alone). */
  steerable<T extends ActualServerState>(actual: readonly T[]): T[] {
    return this.pending.size === 0 ? [...actual] : actual.filter((a) => !this.pending.has(serverKey(a.backend, a.server)));
  }

  /** Every pass: retries the removals still waiting (dropped when a reload already removed them). */
  async sweep(actual: readonly ActualServerState[]): Promise<void> {
    if (this.pending.size === 0) return;
    const have = new Set(actual.map((a) => serverKey(a.backend, a.server)));
    for (const key of [...this.pending.keys()]) if (!have.has(key)) this.pending.delete(key);
    if (this.pending.size === 0) return;
    const sessions = await this.sessionsOf();
    for (const [key, p] of [...this.pending]) if (await this.remove(p, sessions)) this.pending.delete(key);
  }

  /** Current sessions per backend/server (`show stat`); empty when it cannot be read. */
  private async sessionsOf(): Promise<Map<string, number>> {
    try {
      return new Map((await this.o.client.showServerStats()).map((s) => [serverKey(s.backend, s.server), s.sessions] as const));
    } catch {
      return new Map();
    }
  }

  /**
   * DRAIN while it has sessions (MAINT would cut them when the server has `on-marked-down
   * shutdown-sessions`), until they end or the grace runs out; then MAINT and `del server`.
   * True once the server is gone.
   */
  private async remove(p: PendingRemoval, sessions: ReadonlyMap<string, number>): Promise<boolean> {
    const key = serverKey(p.backend, p.server);
    const target = { backend: p.backend, server: p.server };
    const client = this.o.client;
    const waitedMs = this.o.now() - p.since;
    const open = sessions.get(key);
    p.attempts++;
    try {
      if (open === undefined || open > 0) {
        if (waitedMs < this.o.removalGraceMs) {
          if (p.attempts === 1) {
            await client.send(`set server ${key} state drain`, target);
            this.o.metrics.commands.inc({ action: 'drain', kind: KIND, result: 'ok' });
            this.o.log.info({ ...target, sessions: open }, `${key} removed from the config: drained, deleted once its ${open ?? 'unknown number of'} session(s) end (at most ${this.o.removalGraceMs} ms)`);
          }
          return false;
        }
        this.o.log.warn({ ...target, waitedMs, sessions: open }, `${key}: removed from the config ${waitedMs} ms ago and still has sessions: shutting them down`);
        await client.send(`set server ${key} state maint`, target);
        await client.send(`shutdown sessions server ${key}`, target);
        this.o.metrics.commands.inc({ action: 'shutdown-sessions', kind: KIND, result: 'ok' });
      } else {
        await client.send(`set server ${key} state maint`, target);
      }
      await client.send(`del server ${key}`, target);
    } catch (e) {
      this.o.metrics.commands.inc({ action: 'del', kind: KIND, result: 'error' });
      this.o.log.warn(target, `${key} removed from the config, not deleted yet: ${(e as Error).message} (retried every pass)`);
      return false;
    }
    this.o.metrics.commands.inc({ action: 'del', kind: KIND, result: 'ok' });
    this.o.log.info({ ...target, waitedMs }, `${key} deleted at runtime (it left the config)`);
    return true;
  }

  private refused(reason: string): MembershipOutcome {
    this.o.metrics.membership.inc({ outcome: 'reload' });
    return { applied: false, reason };
  }
}
