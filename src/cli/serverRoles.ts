/**
 * Which Patroni member (and role) an HAProxy server is, for `haconfd haproxy status` and `ready`.
 * Pure.
 *
 * A backend belongs to a cluster when its name is one of the cluster's backend patterns
 * (`{cluster}_primary`, `{cluster}_replicas` …; the cluster id is the scope, or scope_group for a
 * Citus group). A server is the member of that cluster with the same name. A backend that matches
 * no pattern still finds its member when exactly one cluster has a member of that name.
 */
import type { ClusterModel } from '../patroni/cluster.js';
import type { MemberRole } from '../patroni/member.js';
import { backendNameOf, type BackendPatterns } from '../haproxy/controller/clusterMapping.js';

export interface ServerRole {
  /** Cluster id (scope, or scope_group). */
  readonly cluster: string;
  readonly role: MemberRole;
  /** True when the cluster's leader key names this member. */
  readonly leader: boolean;
  /** Patroni's state ('running', 'starting', 'stopped' …). */
  readonly memberState: string;
}

/** The optional sync listen of the shipped haproxy.cfg.hbs: a read backend too, for the roles shown. */
const SYNC_PATTERN = '{cluster}_sync';

function matches(pattern: string, clusterId: string, backend: string): boolean {
  return backendNameOf(pattern, clusterId) === backend;
}

/** The cluster whose patterns name this backend. */
export function clusterOfBackend(backend: string, clusters: readonly ClusterModel[], patterns: BackendPatterns): ClusterModel | undefined {
  const all = [...patterns.writeBackends, ...patterns.readBackends, ...patterns.readBackendsWithLeader, SYNC_PATTERN];
  return clusters.find((c) => all.some((p) => matches(p, c.id, backend)));
}

/** The cluster for which this backend is a write backend (`{cluster}_primary`), if any. */
export function writeClusterOf(backend: string, clusters: readonly ClusterModel[], patterns: BackendPatterns): ClusterModel | undefined {
  return clusters.find((c) => patterns.writeBackends.some((p) => matches(p, c.id, backend)));
}

/** The member behind `backend/server`, or undefined when it is no known member. */
export function roleOfServer(backend: string, server: string, clusters: readonly ClusterModel[], patterns: BackendPatterns): ServerRole | undefined {
  let cluster = clusterOfBackend(backend, clusters, patterns);
  if (cluster === undefined) {
    const having = clusters.filter((c) => c.members.some((m) => m.name === server));
    if (having.length === 1) cluster = having[0];
  }
  const member = cluster?.members.find((m) => m.name === server);
  if (cluster === undefined || member === undefined) return undefined;
  return { cluster: cluster.id, role: member.role, leader: cluster.leader === member.name, memberState: member.state };
}

/** True when the leader key of the backend's cluster names `server` and `backend` is a write backend. */
export function isLeaderOnWriteBackend(backend: string, server: string, clusters: readonly ClusterModel[], patterns: BackendPatterns): boolean {
  const c = writeClusterOf(backend, clusters, patterns);
  return c !== undefined && c.leaderKnown && c.leader === server;
}

/** Warnings worth a line: a leader key naming no member, members left out as invalid. */
export function clusterWarnings(clusters: readonly ClusterModel[]): string[] {
  const out: string[] = [];
  for (const c of clusters) {
    if (c.leader !== null && !c.leaderKnown) out.push(`cluster ${c.id}: leader key names '${c.leader}', which is not a member`);
    for (const r of c.rejected) out.push(`cluster ${c.id}: member ${r.name} left out: ${r.reason}`);
  }
  return out;
}
