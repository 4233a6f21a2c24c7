/**
 * The one small interface every value source implements (confd's GetValues + WatchPrefix).
 * Keys are absolute paths ("/service/demo/leader"); values are strings (bytes decoded as UTF-8,
 * invalid sequences replaced, never thrown on).
 */

import type { ChangeEvent, Snapshot } from '../store/snapshot.js';

export type { ChangeEvent, Snapshot };

export interface WatchHandlers {
  /** Events in revision order; `revision` is the revision of the last event in the batch. */
  onEvents(events: readonly ChangeEvent[], revision: number): void;
  /** The watch cannot be resumed from where it was (compaction, file changed, …): re-read everything. */
  onResync(reason: string): void;
  /** Connection state changes, for health reporting and metrics. */
  onStatus?(status: 'connected' | 'disconnected', error?: Error): void;
}

export interface Watch {
  close(): Promise<void>;
}

export interface Backend {
  /** "etcdv3", "zookeeper", "file" or "env". */
  readonly name: string;
  /** Reads every key under every prefix at a single revision. Prefixes match whole path segments. */
  read(prefixes: readonly string[]): Promise<Snapshot>;
  /**
   * Watches the prefixes for changes after `afterRevision`. A backend that cannot stream events
   * calls onResync when its data changes. Resumes by itself after disconnects.
   */
  watch(prefixes: readonly string[], afterRevision: number, handlers: WatchHandlers): Watch;
  close(): Promise<void>;
}

/** Raised for problems the operator must fix (bad credentials, TLS) as opposed to outages. */
export class BackendConfigError extends Error {
  override readonly name = 'BackendConfigError';
}

/** Raised when the backend cannot be reached; retrying may help. */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
}
