/**
 * The Patroni cluster model: every scope under a namespace, its members, the leader key (the truth
 * about who is primary), failsafe, pause and sync state. Built from a Store; pure.
 *
 *   /<namespace>/<scope>/leader | members/<name> | config | sync | failsafe | status …
 *   /<namespace>/<scope>/<group>/…      (Citus: one subtree per group, 0 = coordinator)
 */
import type { Store } from '../store/store.js';
import { joinKeys } from '../store/keys.js';
import { checkHaproxyName, quote } from './address.js';
import { parseMember, type Member, type MemberRejection } from './member.js';

export interface SyncState {
  readonly leader: string | null;
  /** Names of the synchronous standbys (Patroni writes one name or a comma-separated list). */
  readonly standbys: readonly string[];
  readonly quorum: number | null;
}

export interface ClusterModel {
  readonly scope: string;
  /** Citus group number, null for a plain cluster. */
  readonly group: number | null;
  /** `scope`, or `scope_group` for a Citus group: unique, safe as an HAProxy proxy name part. */
  readonly id: string;
  /** The cluster's directory, relative to the store's prefix ('/demo'). */
  readonly dir: string;
  /** Valid members, sorted by name. */
  readonly members: readonly Member[];
  /** The name in the leader key, or null when there is no leader key (or it is empty). */
  readonly leader: string | null;
  /** True when `leader` names one of `members`. */
  readonly leaderKnown: boolean;
  /** `failsafe` key: member name → api_url, null when absent or not an object. */
  readonly failsafe: Readonly<Record<string, string>> | null;
  /** config.failsafe_mode */
  readonly failsafeMode: boolean;
  /** config.pause (maintenance mode) */
  readonly paused: boolean;
  readonly sync: SyncState | null;
  /** Members left out, with the reason. */
  readonly rejected: readonly MemberRejection[];
}

export interface ClusterRejection {
  readonly scope: string;
  readonly key: string;
  readonly reason: string;
}

export interface ClusterSet {
  readonly clusters: readonly ClusterModel[];
  /** Scopes left out entirely (a name unusable in the config). */
  readonly rejectedScopes: readonly ClusterRejection[];
}

const MARKERS = ['leader', 'members', 'config', 'initialize', 'status', 'failover', 'sync', 'failsafe'];

function parseJsonObject(text: string | undefined): Record<string, unknown> | null {
  if (text === undefined) return null;
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function flag(v: unknown): boolean {
  return v === true || v === 'true' || v === 'on';
}

/** Every key below `dir` (relative), depth-first, for reporting nested member keys. */
function keysBelow(store: Store, dir: string): string[] {
  const out: string[] = [];
  for (const child of store.ls(dir)) {
    const k = joinKeys(dir, child);
    if (store.exists(k)) out.push(k);
    if (store.lsdir(dir).includes(child)) out.push(...keysBelow(store, k));
  }
  return out;
}

function parseSync(text: string | undefined): SyncState | null {
  const o = parseJsonObject(text);
  if (o === null) return null;
  const standbyRaw = o['sync_standby'];
  const standbys = typeof standbyRaw === 'string' ? standbyRaw.split(',').map((s) => s.trim()).filter((s) => s !== '') : [];
  const quorum = typeof o['quorum'] === 'number' ? o['quorum'] : null;
  return { leader: typeof o['leader'] === 'string' ? o['leader'] : null, standbys, quorum };
}

/**
 * Parses one cluster whose keys live under `dir` (relative to the store's prefix). The scope is the
 * last segment of `dir` (or of the store's prefix when `dir` is '/').
 */
export function parseCluster(store: Store, dir = '/', group: number | null = null): ClusterModel {
  const d = joinKeys(dir);
  const segments = joinKeys(store.prefix, d).split('/').filter((x) => x !== '');
  const scope = (group === null ? segments[segments.length - 1] : segments[segments.length - 2]) ?? '';
  const membersDir = joinKeys(d, 'members');
  const members: Member[] = [];
  const rejected: MemberRejection[] = [];
  const dirs = new Set(store.lsdir(membersDir));
  for (const name of store.ls(membersDir)) {
    const key = joinKeys(membersDir, name);
    if (store.exists(key)) {
      const r = parseMember(name, store.getv(key), key);
      if (r.ok) members.push(r.member);
      else rejected.push(r.rejection);
    }
    if (dirs.has(name)) {
      for (const k of keysBelow(store, key)) {
        const nested = k.slice(membersDir.length + 1);
        rejected.push({ name: nested, key: k, reason: `member name ${quote(nested)} contains '/'` });
      }
    }
  }
  members.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const leaderKey = joinKeys(d, 'leader');
  const leaderText = store.exists(leaderKey) ? store.getv(leaderKey).trim() : '';
  const leader = leaderText === '' ? null : leaderText;
  const config = parseJsonObject(store.exists(joinKeys(d, 'config')) ? store.getv(joinKeys(d, 'config')) : undefined);
  const failsafeObj = parseJsonObject(store.exists(joinKeys(d, 'failsafe')) ? store.getv(joinKeys(d, 'failsafe')) : undefined);
  let failsafe: Record<string, string> | null = null;
  if (failsafeObj !== null) {
    failsafe = {};
    for (const [k, v] of Object.entries(failsafeObj)) if (typeof v === 'string') failsafe[k] = v;
  }
  return {
    scope,
    group,
    id: group === null ? scope : `${scope}_${group}`,
    dir: d,
    members,
    leader,
    leaderKnown: leader !== null && members.some((m) => m.name === leader),
    failsafe,
    failsafeMode: flag(config?.['failsafe_mode']),
    paused: flag(config?.['pause']),
    sync: parseSync(store.exists(joinKeys(d, 'sync')) ? store.getv(joinKeys(d, 'sync')) : undefined),
    rejected,
  };
}

function looksLikeCluster(store: Store, dir: string): boolean {
  const children = store.ls(dir);
  return MARKERS.some((m) => children.includes(m));
}

/**
 * Every cluster under `dir` (a namespace such as '/service' seen from prefix '/', or '/' under prefix
 * '/service'), sorted by scope then group. Citus groups (numeric subdirectories) become one model each.
 */
export function parseClusters(store: Store, dir = '/'): ClusterSet {
  const clusters: ClusterModel[] = [];
  const rejectedScopes: ClusterRejection[] = [];
  for (const scope of store.lsdir(dir)) {
    const scopeDir = joinKeys(dir, scope);
    try {
      checkHaproxyName(scope, 'scope');
    } catch (e) {
      rejectedScopes.push({ scope, key: scopeDir, reason: (e as Error).message });
      continue;
    }
    if (looksLikeCluster(store, scopeDir)) {
      clusters.push(parseCluster(store, scopeDir));
      continue;
    }
    const groups = store
      .lsdir(scopeDir)
      .filter((g) => /^\d{1,6}$/.test(g) && looksLikeCluster(store, joinKeys(scopeDir, g)))
      .map(Number)
      .sort((a, b) => a - b);
    for (const g of groups) clusters.push(parseCluster(store, joinKeys(scopeDir, String(g)), g));
  }
  return { clusters, rejectedScopes };
}
