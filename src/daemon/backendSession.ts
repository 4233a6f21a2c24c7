/**
 * The daemon's connection to its backend as one explicit state: the connection and its watch,
 * whether the backend is reachable (and why not), whether the watch stream is up, and the run of
 * failed reads. The daemon asks it what to do on each transition; /readyz and the controller's
 * "is the DCS reachable" read it.
 *
 *   link   down(error) ──read ok / watch connected──► up ──read failed / watch lost──► down(error)
 *   watch  up ──disconnected──► lost{readSince: false} ──full read──► lost{readSince: true}
 *             ◄──connected (re-read once unless readSince)──
 */
import type { Backend, Watch } from '../backends/backend.js';

type Link = { readonly up: true } | { readonly up: false; readonly error: string | undefined };

/** The watch stream was lost: has a full read succeeded since (then the reconnect needs none)? */
interface WatchLost {
  readSince: boolean;
}

export class BackendSession {
  /** The connection, once made. */
  backend: Backend | undefined;
  /** The watch on it (watch mode). */
  watch: Watch | undefined;
  private link: Link = { up: false, error: undefined };
  /** Undefined while the watch stream is up (or no watch was started). */
  private lost: WatchLost | undefined;
  /** Consecutive failed reads, and the latest one's error. */
  private failedReads = 0;
  private lastReadFailure: Error | undefined;

  /** Called on every change of reachability (the backend_up gauge). */
  constructor(private readonly onReachable: (up: boolean) => void = () => undefined) {}

  get reachable(): boolean {
    return this.link.up;
  }

  /** Why the backend is not reachable (the latest error), if it said. */
  get error(): string | undefined {
    return this.link.up ? undefined : this.link.error;
  }

  get watchUp(): boolean {
    return this.lost === undefined;
  }

  get lastReadError(): Error | undefined {
    return this.lastReadFailure;
  }

  /** Why the daemon is not ready on the backend's account, if it is not. */
  notReadyReason(watching: boolean): string | undefined {
    const why = this.error ? `: ${this.error}` : '';
    if (!this.link.up) return `backend not reachable${why}`;
    if (watching && !this.watchUp) return `backend watch not connected${why}`;
    return undefined;
  }

  private setLink(link: Link): void {
    this.link = link;
    this.onReachable(link.up);
  }

  /** Not connected yet (start-up), or the connection attempt failed. */
  down(error?: string): void {
    this.setLink({ up: false, error });
  }

  connectFailed(err: Error): void {
    this.setLink({ up: false, error: err.message });
  }

  readSucceeded(): void {
    this.setLink({ up: true });
    this.lastReadFailure = undefined;
    this.failedReads = 0;
  }

  /** Returns how many reads in a row have failed now. */
  readFailed(err: Error): number {
    this.lastReadFailure = err;
    this.setLink({ up: false, error: err.message });
    return ++this.failedReads;
  }

  /** A full read succeeded (a resync): a watch reconnect then needs no read of its own. */
  fullRead(): void {
    if (this.lost) this.lost.readSince = true;
  }

  /** The watch stream went down. True when it was up until now (the start of an outage). */
  watchDisconnected(error: Error | undefined): boolean {
    this.setLink({ up: false, error: error?.message });
    if (this.lost !== undefined) return false;
    this.lost = { readSince: false };
    return true;
  }

  /**
   * The watch stream is up. `reconnected` when it ends an outage; `readSince` when a full read
   * already happened during it.
   */
  watchConnected(): { readonly reconnected: boolean; readonly readSince: boolean } {
    this.setLink({ up: true });
    const lost = this.lost;
    this.lost = undefined;
    return { reconnected: lost !== undefined, readSince: lost?.readSince ?? false };
  }
}
