/**
 * Reads every key under some prefixes at ONE revision. The ranges go out as read-only
 * transactions: the first one is answered at the current revision R, any further one (etcd allows
 * 128 operations per transaction) is read at R explicitly.
 */
import { BackendUnavailableError, type Snapshot } from '../backend.js';
import type { EtcdConnection } from './etcdConnection.js';
import { etcdErrorKind } from './etcdErrors.js';
import { rangesOfPrefixes, type KeyRange } from './etcdKeyRanges.js';
import { decodeReadTxnText, encodeReadTxn } from './etcdWire.js';

/** etcd's default --max-txn-ops. */
const MAX_TXN_OPS = 128;

/** Sends one encoded TxnRequest, resolves with the encoded TxnResponse. */
export type RawTxn = (request: Buffer) => Promise<Buffer>;

/** The key ranges a read of `prefixes` asks for. */
export function readRangesOf(prefixes: readonly string[]): KeyRange[] {
  // With no prefix at all, one range that matches nothing still tells the revision.
  return prefixes.length > 0 ? rangesOfPrefixes(prefixes) : [{ key: Buffer.from([0]), prefix: '' }];
}

/** What a read is called in messages: "read of /a, /b". */
export function readDescription(prefixes: readonly string[]): string {
  return `read of ${prefixes.join(', ') || '(no prefix)'}`;
}

/** Reads `ranges` with as many transactions as needed, all at the revision of the first. */
export async function readRanges(txn: RawTxn, ranges: readonly KeyRange[]): Promise<Snapshot> {
  const pairs = new Map<string, string>();
  let revision: number | undefined;
  for (let i = 0; i < ranges.length; i += MAX_TXN_OPS) {
    const chunk = ranges.slice(i, i + MAX_TXN_OPS).map((r) => ({ key: r.key, rangeEnd: r.rangeEnd, revision }));
    const res = await txn(encodeReadTxn(chunk));
    const decoded = decodeReadTxnText(res, (k, v) => pairs.set(k, v));
    if (revision === undefined) revision = decoded.revision;
  }
  return { revision: revision ?? 0, pairs };
}

export async function readPrefixes(conn: EtcdConnection, prefixes: readonly string[]): Promise<Snapshot> {
  const ranges = readRangesOf(prefixes);
  return conn.call(readDescription(prefixes), (node, deadline) => readRanges((req) => node.rawKvCall('Txn', req, deadline), ranges));
}

/**
 * Runs `read` again (up to three attempts in all) when its revision was compacted between two of
 * its transactions. Backend errors pass through; anything else becomes BackendUnavailableError
 * naming `urls`.
 */
export async function readRetryingCompaction(urls: readonly string[], read: () => Promise<Snapshot>): Promise<Snapshot> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (e) {
      if (etcdErrorKind(e) === 'compacted' && attempt < 3) continue;
      // BackendConfigError and BackendUnavailableError (told by name) pass through as they are.
      if (e instanceof Error && (e.name === 'BackendConfigError' || e.name === 'BackendUnavailableError')) throw e;
      throw new BackendUnavailableError(`etcd read failed at ${urls.join(', ')}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
