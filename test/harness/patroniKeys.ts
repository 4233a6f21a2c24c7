/**
 * Patroni's DCS keys as plain data, for tests that render from a snapshot without a real cluster.
 * Values are the JSON strings Patroni 3.0.2 writes (see docs/reference: member value).
 */
import type { Snapshot } from '../../src/backends/backend.js';

export interface MemberSpec {
  name: string;
  host?: string;
  port?: number;
  apiHost?: string;
  apiPort?: number;
  role?: string;
  state?: string;
  tags?: Record<string, unknown>;
}

/** The JSON Patroni writes into members/<name>. IPv6 hosts are bracketed in the URLs. */
export function memberValue(m: MemberSpec): string {
  const host = m.host ?? '127.0.0.1';
  const h = host.includes(':') ? `[${host}]` : host;
  const apiHost = m.apiHost ?? host;
  const ah = apiHost.includes(':') ? `[${apiHost}]` : apiHost;
  const v: Record<string, unknown> = {
    conn_url: `postgres://${h}:${m.port ?? 5432}/postgres`,
    api_url: `http://${ah}:${m.apiPort ?? 8008}/patroni`,
    state: m.state ?? 'running',
    role: m.role ?? 'replica',
    version: '3.0.2',
    xlog_location: 67108864,
    timeline: 1,
  };
  if (m.tags) v['tags'] = m.tags;
  return JSON.stringify(v);
}

/** Keys of one healthy cluster: config, initialize, status, leader and members. */
export function clusterPairs(namespace: string, scope: string, members: readonly MemberSpec[], leader?: string | null): [string, string][] {
  const base = `${namespace.replace(/\/+$/, '')}/${scope}`;
  const pairs: [string, string][] = [
    [`${base}/config`, JSON.stringify({ ttl: 30, loop_wait: 10, retry_timeout: 10, maximum_lag_on_failover: 1048576 })],
    [`${base}/initialize`, '7311463447636212005'],
    [`${base}/status`, JSON.stringify({ optime: 67108864 })],
  ];
  const leaderName = leader === undefined ? members.find((m) => m.role === 'master' || m.role === 'primary')?.name : leader;
  if (leaderName !== undefined && leaderName !== null) pairs.push([`${base}/leader`, leaderName]);
  for (const m of members) pairs.push([`${base}/members/${m.name}`, memberValue(m)]);
  return pairs;
}

/** Three members on 127.0.0.1: name1 master, the others replicas; distinct ports from `basePort`. */
export function threeMembers(prefix = 'pg', basePort = 15432, baseApiPort = 18008): MemberSpec[] {
  return [0, 1, 2].map((i) => ({
    name: `${prefix}${i + 1}`,
    port: basePort + i,
    apiPort: baseApiPort + i,
    role: i === 0 ? 'master' : 'replica',
  }));
}

export function snapshotOf(pairs: Iterable<[string, string]>, revision = 1): Snapshot {
  return { revision, pairs: new Map(pairs) };
}
