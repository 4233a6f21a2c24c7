/** Records what a Backend watch delivers (events, resyncs, status changes), for assertions. */
import type { ChangeEvent, WatchHandlers } from '../../src/backends/backend.js';

export class WatchRecorder implements WatchHandlers {
  readonly events: ChangeEvent[] = [];
  readonly batches: { events: readonly ChangeEvent[]; revision: number }[] = [];
  readonly resyncs: string[] = [];
  readonly statuses: { status: 'connected' | 'disconnected'; error?: Error }[] = [];

  onEvents(events: readonly ChangeEvent[], revision: number): void {
    this.batches.push({ events, revision });
    this.events.push(...events);
  }

  onResync(reason: string): void {
    this.resyncs.push(reason);
  }

  onStatus(status: 'connected' | 'disconnected', error?: Error): void {
    this.statuses.push(error ? { status, error } : { status });
  }

  count(status: 'connected' | 'disconnected'): number {
    return this.statuses.filter((s) => s.status === status).length;
  }

  /** Last put value per key (deleted keys absent), as a watch consumer would hold them. */
  state(initial: ReadonlyMap<string, string> = new Map()): Map<string, string> {
    const m = new Map(initial);
    for (const e of this.events) {
      if (e.type === 'put') m.set(e.key, e.value);
      else m.delete(e.key);
    }
    return m;
  }

  /** Events as 'put k=v' / 'del k' strings, for readable deepEqual diffs. */
  lines(): string[] {
    return this.events.map((e) => (e.type === 'put' ? `put ${e.key}=${e.value}` : `del ${e.key}`));
  }

  /** Throws unless revisions never go backwards within the recorded stream. */
  assertRevisionOrder(): void {
    let last = 0;
    for (const e of this.events) {
      if (e.revision < last) throw new Error(`event revision ${e.revision} after ${last}`);
      last = e.revision;
    }
  }
}
