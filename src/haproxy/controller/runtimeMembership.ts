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
 *   Never while a stream still points at it (`show sess`): HAProxy 2.6 counts a stream waiting to
 *   retry a refused connect (`retries`), or one shut down but not freed yet, in none of the figures
 *   `del server` checks, deletes the server, and the worker crashes when that stream wakes up
 *   (seen: SIGSEGV/SIGABRT, every listen gone, right after a kill -9 of a leader whose member key
 *   expired). Such a server waits in MAINT, which no new stream can pick, until they are gone.
 *
 * It needs to know the config text the running worker loaded: noted after each reload haconfd runs,
 * adopted at start-up when the worker started after the file was last written, and forgotten when
 * a reload fails or a worker appears that haconfd did not start and cannot vouch for. Unknown → reload.
 */
import { open } from 'node:fs/promises';
import { extractConfigServers } from '../config/configServers.js';
import type { Logger } from '../../log/logger.js';
import { addServerLineOf, diffMembership } from '../config/membershipDiff.js';
import { serverKey } from '../runtime/names.js';
import type { ActualServerState } from './plan.js';
import type { RuntimeClient } from '../runtime/runtimeClient.js';
import { CommandFailedError, NoSuchServerError } from '../runtime/runtimeErrors.js';
import type { ControllerMetrics } from './controllerMetrics.js';

export type MembershipOutcome =
  | { readonly applied: true; readonly added: readonly string[]; readonly removed: readonly string[]; readonly waiting: readonly string[] }
  | { readonly applied: false; readonly reason: string };

export interface PendingRemoval {
  readonly backend: string;
  readonly server: string;
  /** Its server line when it left the config: it may come back only as it was. */
  readonly text: string;
  readonly since: number;
  attempts: number;
  /** The wait for streams still pointing at it has been logged. */
  streamsLogged?: boolean;
}

type RemovalOutcome = 'deleted' | 'waiting' | 'given-up';

/** A server on its way out, and HAProxy's state of it this pass. */
interface Removal {
  readonly p: PendingRemoval;
  readonly actual: ActualServerState;
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

/** What it knows of the running worker, carried over when the controller restarts with new settings. */
export interface MembershipState {
  /** dest path → the config text the running worker loaded from it. */
  readonly loaded: Map<string, string>;
  /** backend/server → a server removed from the config, waiting for `del server`. */
  readonly pending: Map<string, PendingRemoval>;
  /** Servers HAProxy refused to delete: left in MAINT, not steered, until a reload removes them. */
  readonly givenUp: Set<string>;
}

/**
 * `del server` refusals that pass: "Server still has connections attached to it, cannot remove
 * it.", a queue, or "Only servers in maintenance mode can be deleted." (someone lifted MAINT).
 * Others ("cannot be removed at runtime due to other configuration elements", resolvers) do not.
 */
const TRANSIENT_DEL_REFUSAL = /connection|queue|maintenance/i;

export class RuntimeMembership {
  private readonly loaded: Map<string, string>;
  private readonly pending: Map<string, PendingRemoval>;
  private readonly givenUp: Set<string>;

  constructor(private readonly o: RuntimeMembershipOptions, state?: MembershipState) {
    this.loaded = state?.loaded ?? new Map();
    this.pending = state?.pending ?? new Map();
    this.givenUp = state?.givenUp ?? new Set();
  }

  get state(): MembershipState {
    return { loaded: this.loaded, pending: this.pending, givenUp: this.givenUp };
  }

  /** The config the running worker loaded from `dest` is known. */
  knows(dest: string): boolean {
    return this.loaded.has(dest);
  }

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
    if (this.pending.size === 0 && this.givenUp.size === 0) return;
    for (const s of extractConfigServers(text)) {
      const key = serverKey(s.backend, s.server);
      this.givenUp.delete(key);
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
      // The mtime and the text from one open file: a commit (rename) in between cannot pair an old
      // mtime with new text.
      const fh = await open(dest, 'r');
      let st: Awaited<ReturnType<typeof fh.stat>>;
      let text: string;
      try {
        [st, text] = [await fh.stat(), await fh.readFile('utf8')];
      } finally {
        await fh.close();
      }
      const info = await this.o.client.showInfo();
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
        await client.send(addServerLineOf(s), { backend: s.backend, server: s.server });
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
    let gaveUp = false;
    const removals: Removal[] = [];
    for (const r of diff.removed) {
      const actual = have.get(serverKey(r.backend, r.server));
      if (actual !== undefined) removals.push({ p: { backend: r.backend, server: r.server, text: r.text, since: this.o.now(), attempts: 0 }, actual });
    }
    for (const [{ p }, done] of await this.removeAll(removals)) {
      const key = serverKey(p.backend, p.server);
      if (done === 'deleted') removed.push(key);
      else if (done === 'waiting') this.pending.set(key, p);
      else gaveUp = true;
    }
    // A server HAProxy refused to delete is still in the worker: what it runs is not `next`.
    if (gaveUp) this.loaded.delete(dest);
    else this.loaded.set(dest, next);
    this.o.metrics.membership.inc({ outcome: 'runtime' });
    return { applied: true, added, removed, waiting: this.waiting };
  }

  /**
   * Every pass: retries the removals still waiting (dropped when a reload already removed them),
   * and returns the servers of `actual` the planner may steer: not those waiting for removal, given
   * up, or deleted just now.
   */
  async sweep<T extends ActualServerState>(actual: readonly T[]): Promise<T[]> {
    if (this.pending.size === 0 && this.givenUp.size === 0) return [...actual];
    const have = new Map(actual.map((a) => [serverKey(a.backend, a.server), a] as const));
    for (const key of [...this.givenUp]) if (!have.has(key)) this.givenUp.delete(key);
    for (const key of [...this.pending.keys()]) if (!have.has(key)) this.pending.delete(key);
    const deleted = new Set<string>();
    for (const [{ p }, done] of await this.removeAll([...this.pending].map(([key, p]) => ({ p, actual: have.get(key) as T })))) {
      if (done === 'waiting') continue;
      const key = serverKey(p.backend, p.server);
      this.pending.delete(key);
      if (done === 'deleted') deleted.add(key);
    }
    return actual.filter((a) => {
      const key = serverKey(a.backend, a.server);
      return !this.pending.has(key) && !this.givenUp.has(key) && !deleted.has(key);
    });
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
   * Takes every removal as far as it can go now: each server is cut first (cut()), then one `show
   * sess` read after the last cut decides which of them can be deleted (deleteIfFree()).
   */
  private async removeAll(removals: readonly Removal[]): Promise<[Removal, RemovalOutcome][]> {
    if (removals.length === 0) return [];
    const sessions = await this.sessionsOf();
    const cut: [Removal, RemovalOutcome | 'cut'][] = [];
    for (const r of removals) cut.push([r, await this.cut(r.p, sessions, r.actual)]);
    const streams = cut.some(([, c]) => c === 'cut') ? await this.streamsOf() : undefined;
    const out: [Removal, RemovalOutcome][] = [];
    for (const [r, c] of cut) out.push([r, c === 'cut' ? await this.deleteIfFree(r.p, streams) : c]);
    return out;
  }

  /**
   * DRAIN while it has sessions (MAINT would cut them when the server has `on-marked-down
   * shutdown-sessions`), until they end or the grace runs out; then MAINT (and its sessions shut
   * down after the grace): `cut`, ready for deleteIfFree(). A server already in MAINT stays there
   * (`state drain` would lift it, an operator's MAINT too).
   */
  private async cut(p: PendingRemoval, sessions: ReadonlyMap<string, number>, actual: ActualServerState): Promise<RemovalOutcome | 'cut'> {
    const key = serverKey(p.backend, p.server);
    const target = { backend: p.backend, server: p.server };
    const client = this.o.client;
    const waitedMs = this.o.now() - p.since;
    const open = sessions.get(key);
    const inMaint = actual.admin.maint.length > 0;
    p.attempts++;
    let action = 'maint';
    try {
      if (open === undefined || open > 0) {
        if (waitedMs < this.o.removalGraceMs) {
          if (p.attempts === 1) {
            if (!inMaint) {
              action = 'drain';
              await client.send(`set server ${key} state drain`, target);
              this.o.metrics.commands.inc({ action, kind: KIND, result: 'ok' });
            }
            this.o.log.info({ ...target, sessions: open }, `${key} removed from the config: ${inMaint ? 'in MAINT' : 'drained'}, deleted once its ${open ?? 'unknown number of'} session(s) end (at most ${this.o.removalGraceMs} ms)`);
          }
          return 'waiting';
        }
        this.o.log.warn({ ...target, waitedMs, sessions: open }, `${key}: removed from the config ${waitedMs} ms ago and still has sessions: shutting them down`);
        if (!inMaint) await client.send(`set server ${key} state maint`, target);
        action = 'shutdown-sessions';
        await client.send(`shutdown sessions server ${key}`, target);
        this.o.metrics.commands.inc({ action, kind: KIND, result: 'ok' });
      } else if (!inMaint) {
        await client.send(`set server ${key} state maint`, target);
      }
    } catch (e) {
      return this.failed(p, action, e);
    }
    return 'cut';
  }

  /**
   * `del server`, unless a stream still points at the server (`streams`: read after it was cut,
   * so no new one can; undefined when unreadable, which counts as yes). `deleted` once the server is
   * gone; `given-up` when HAProxy refuses the deletion for another reason than open sessions (the
   * next change reloads, which removes it).
   */
  private async deleteIfFree(p: PendingRemoval, streams: ReadonlyMap<string, number> | undefined): Promise<RemovalOutcome> {
    const key = serverKey(p.backend, p.server);
    const target = { backend: p.backend, server: p.server };
    if (streams === undefined) return 'waiting';
    const pointing = streams.get(key) ?? 0;
    if (pointing > 0) {
      if (p.streamsLogged !== true) {
        p.streamsLogged = true;
        this.o.log.info({ ...target, streams: pointing }, `${key} removed from the config: in MAINT, deleted once the ${pointing} stream(s) still pointing at it are gone (a connection retry, or sessions being shut)`);
      }
      return 'waiting';
    }
    try {
      await this.o.client.send(`del server ${key}`, target);
    } catch (e) {
      return this.failed(p, 'del', e);
    }
    this.o.metrics.commands.inc({ action: 'del', kind: KIND, result: 'ok' });
    this.o.log.info({ ...target, waitedMs: this.o.now() - p.since }, `${key} deleted at runtime (it left the config)`);
    return 'deleted';
  }

  /** A command of a removal failed: gone already, refused for good (`del`), or retried next pass. */
  private failed(p: PendingRemoval, action: string, e: unknown): RemovalOutcome {
    const key = serverKey(p.backend, p.server);
    const target = { backend: p.backend, server: p.server };
    // Gone already (a reload in between): what was wanted.
    if (e instanceof NoSuchServerError) return 'deleted';
    this.o.metrics.commands.inc({ action, kind: KIND, result: 'error' });
    if (action === 'del' && e instanceof CommandFailedError && !TRANSIENT_DEL_REFUSAL.test(e.reply)) {
      // HAProxy will not delete it (e.g. a server others point to): it stays in MAINT, out of the
      // planner's hands, and the config the worker runs is no longer what haconfd recorded, so the
      // next change reloads (which removes it).
      this.o.log.error(target, `${key} removed from the config but HAProxy refuses to delete it: ${e.reply} (it stays in MAINT; the next change reloads)`);
      this.loaded.clear();
      this.givenUp.add(key);
      return 'given-up';
    }
    this.o.log.warn(target, `${key} removed from the config, not deleted yet: ${(e as Error).message} (retried every pass)`);
    return 'waiting';
  }

  /** Streams per backend/server (`show sess`); undefined, with a warning, when it cannot be read. */
  private async streamsOf(): Promise<Map<string, number> | undefined> {
    try {
      return await this.o.client.streamsByServer();
    } catch (e) {
      this.o.log.warn(`removed servers not deleted yet: reading their streams (show sess): ${(e as Error).message} (retried every pass)`);
      return undefined;
    }
  }

  private refused(reason: string): MembershipOutcome {
    this.o.metrics.membership.inc({ outcome: 'reload' });
    return { applied: false, reason };
  }
}
