/**
 * Reads every key under some prefixes at ONE revision. The ranges go out as read-only
 * transactions: the first one is answered at the current revision R, any further one (etcd allows
 * 128 operations per transaction) is read at R explicitly.
 */
import type { Snapshot } from './backend.js';
import type { EtcdConnection } from './etcdConnection.js';
import { decodeBytes, rangesOfPrefixes } from './etcdKeyRanges.js';
import { decodeReadTxn, encodeReadTxn } from './etcdWire.js';

/** etcd's default --max-txn-ops. */
const MAX_TXN_OPS = 128;

export async function readPrefixes(conn: EtcdConnection, prefixes: readonly string[]): Promise<Snapshot> {
  // With no prefix at all, one range that matches nothing still tells the revision.
  const ranges = prefixes.length > 0 ? rangesOfPrefixes(prefixes) : [{ key: Buffer.from([0]), prefix: '' }];
  return conn.call(`read of ${prefixes.join(', ') || '(no prefix)'}`, async (node, deadline) => {
    const pairs = new Map<string, string>();
    let revision: number | undefined;
    for (let i = 0; i < ranges.length; i += MAX_TXN_OPS) {
      const chunk = ranges.slice(i, i + MAX_TXN_OPS).map((r) => ({ key: r.key, rangeEnd: r.rangeEnd, revision }));
      const res = await node.rawKvCall('Txn', encodeReadTxn(chunk), deadline);
      const decoded = decodeReadTxn(res, (k, v) => pairs.set(decodeBytes(k), decodeBytes(v)));
      if (revision === undefined) revision = decoded.revision;
    }
    return { revision: revision ?? 0, pairs };
  });
}
