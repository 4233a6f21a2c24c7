/**
 * One read of Patroni's namespace from the configured backend, for the operator commands: connect,
 * read the prefix once, parse every cluster, close. (The daemon keeps a snapshot instead.)
 */
import { createBackend } from '../backends/createBackend.js';
import type { Logger } from '../log/logger.js';
import { parseClusters, type ClusterModel } from '../patroni/cluster.js';
import { Store } from '../store/store.js';
import type { DcsSettings } from './haproxyDefaults.js';

export interface ClusterRead {
  readonly clusters: readonly ClusterModel[];
  readonly revision: number;
  readonly keys: number;
}

export async function readClusters(dcs: DcsSettings, log: Logger): Promise<ClusterRead> {
  // One read: the http2 one-shot reader, no gRPC stack to load.
  const backend = await createBackend(dcs.config, log, { oneShot: true });
  try {
    const snapshot = await backend.read([dcs.prefix]);
    const set = parseClusters(new Store(snapshot, dcs.prefix), '/');
    return { clusters: set.clusters, revision: snapshot.revision, keys: snapshot.pairs.size };
  } finally {
    await backend.close().catch(() => undefined);
  }
}

/** Where the roles come from, for messages: "etcdv3 http://127.0.0.1:2379 /service". */
export function describeDcs(dcs: DcsSettings): string {
  const c = dcs.config;
  const where = c.backend === 'etcdv3' || c.backend === 'zookeeper' ? c.nodes.join(',') : c.backend === 'file' ? c.files.join(',') : 'environment';
  return `${c.backend} ${where} ${dcs.prefix}`;
}
