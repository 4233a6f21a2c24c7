/**
 * Reads every key under some prefixes at ONE revision. The ranges go out as read-only
 * transactions: the first one is answered at the current revision R, any further one (etcd allows
 * 128 operations per transaction) is read at R explicitly.
 */
import type { IRequestOp, ITxnResponse } from 'etcd3/lib/rpc.js';
import type { Snapshot } from './backend.js';
import type { EtcdConnection } from './etcdConnection.js';
import { decodeBytes, rangesOfPrefixes, type KeyRange } from './etcdKeyRanges.js';

/** etcd's default --max-txn-ops. */
const MAX_TXN_OPS = 128;

function rangeOp(r: KeyRange, revision: number | undefined): IRequestOp {
  return {
    request_range: {
      key: r.key,
      ...(r.rangeEnd ? { range_end: r.rangeEnd } : {}),
      ...(revision !== undefined ? { revision } : {}),
    },
  };
}

export async function readPrefixes(conn: EtcdConnection, prefixes: readonly string[]): Promise<Snapshot> {
  const ranges = rangesOfPrefixes(prefixes);
  return conn.call(`read of ${prefixes.join(', ') || '(no prefix)'}`, async (node, deadline) => {
    const pairs = new Map<string, string>();
    let revision: number | undefined;
    if (ranges.length === 0) {
      const res = await node.kv.range({ key: Buffer.from('/'), limit: 1, count_only: true }, { deadline });
      return { revision: Number(res.header.revision), pairs };
    }
    for (let i = 0; i < ranges.length; i += MAX_TXN_OPS) {
      const chunk = ranges.slice(i, i + MAX_TXN_OPS);
      const res: ITxnResponse = await node.kv.txn(
        { compare: [], success: chunk.map((r) => rangeOp(r, revision)), failure: [] },
        { deadline },
      );
      if (revision === undefined) revision = Number(res.header.revision);
      for (const op of res.responses) {
        for (const kv of op.response_range?.kvs ?? []) pairs.set(decodeBytes(kv.key), decodeBytes(kv.value));
      }
    }
    return { revision: revision ?? 0, pairs };
  });
}
