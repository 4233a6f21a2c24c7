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
import { parseSwitchoverRequest, type SwitchoverRequestParse } from './switchoverRequest.js';

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
  /** The `failover` key: a pending switchover request, none, or a value that could not be read. */
  readonly switchover: SwitchoverRequestParse;
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

/** The keys below one directory as a tree, built in one pass over the snapshot. */
interface KeyTree {
  value: string | undefined;
  readonly children: Map<string, KeyTree>;
}

function newTree(): KeyTree {
  return { value: undefined, children: new Map() };
}

/** Absolute directory of a relative `dir` under the store's prefix. */
function absoluteDir(store: Store, dir: string): string {
  return joinKeys(store.prefix, dir);
}

function buildTree(store: Store, dir: string): KeyTree {
  const base = absoluteDir(store, dir);
  const start = base === '/' ? '/' : base + '/';
  const root = newTree();
  for (const [k, v] of store.snapshot.pairs) {
    if (!k.startsWith(start)) {
      if (k === base) root.value = v;
      continue;
    }
    let node = root;
    for (const seg of k.slice(start.length).split('/')) {
      if (seg === '') continue;
      let next = node.children.get(seg);
      if (next === undefined) node.children.set(seg, (next = newTree()));
      node = next;
    }
    node.value = v;
  }
  return root;
}

function sortedNames(t: KeyTree): string[] {
  return [...t.children.keys()].sort();
}

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

/** Every key below a tree node, depth-first, as paths relative to it. */
function pathsBelow(t: KeyTree, path: string): string[] {
  const out: string[] = [];
  for (const name of sortedNames(t)) {
    const child = t.children.get(name) as KeyTree;
    const p = `${path}/${name}`;
    if (child.value !== undefined) out.push(p);
    out.push(...pathsBelow(child, p));
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

function clusterFromTree(tree: KeyTree, scope: string, group: number | null, dir: string): ClusterModel {
  const members: Member[] = [];
  const rejected: MemberRejection[] = [];
  const membersTree = tree.children.get('members');
  const membersDir = joinKeys(dir, 'members');
  if (membersTree !== undefined) {
    // `…/members/` (an empty name) or a value on `…/members` itself: no member can be made of it.
    if (membersTree.value !== undefined) rejected.push({ name: '', key: `${membersDir}/`, reason: 'empty member name (a value at the members/ key itself)' });
    for (const name of sortedNames(membersTree)) {
      const node = membersTree.children.get(name) as KeyTree;
      const key = joinKeys(membersDir, name);
      if (node.value !== undefined) {
        const r = parseMember(name, node.value, key);
        if (r.ok) members.push(r.member);
        else rejected.push(r.rejection);
      }
      for (const p of pathsBelow(node, name)) {
        rejected.push({ name: p, key: joinKeys(membersDir, p), reason: `member name ${quote(p)} contains '/'` });
      }
    }
  }
  const value = (name: string): string | undefined => tree.children.get(name)?.value;
  const leaderText = (value('leader') ?? '').trim();
  const leader = leaderText === '' ? null : leaderText;
  const config = parseJsonObject(value('config'));
  const failsafeObj = parseJsonObject(value('failsafe'));
  let failsafe: Record<string, string> | null = null;
  if (failsafeObj !== null) {
    failsafe = {};
    for (const [k, v] of Object.entries(failsafeObj)) if (typeof v === 'string') failsafe[k] = v;
  }
  return {
    scope,
    group,
    id: group === null ? scope : `${scope}_${group}`,
    dir,
    members,
    leader,
    leaderKnown: leader !== null && members.some((m) => m.name === leader),
    failsafe,
    failsafeMode: flag(config?.['failsafe_mode']),
    paused: flag(config?.['pause']),
    sync: parseSync(value('sync')),
    switchover: parseSwitchoverRequest(value('failover')),
    rejected,
  };
}

/**
 * Parses one cluster whose keys live under `dir` (relative to the store's prefix). The scope is the
 * last segment of `dir` (or of the store's prefix when `dir` is '/'); `group` marks a Citus group,
 * whose scope is then the segment before it.
 */
export function parseCluster(store: Store, dir = '/', group: number | null = null): ClusterModel {
  const d = joinKeys(dir);
  const segments = absoluteDir(store, d).split('/').filter((x) => x !== '');
  const scope = (group === null ? segments[segments.length - 1] : segments[segments.length - 2]) ?? '';
  return clusterFromTree(buildTree(store, d), scope, group, d);
}

function looksLikeCluster(t: KeyTree): boolean {
  return MARKERS.some((m) => t.children.has(m));
}

/**
 * Every cluster under `dir` (a namespace such as '/service' seen from prefix '/', or '/' under prefix
 * '/service'), sorted by scope then group. Citus groups (numeric subdirectories) become one model each.
 * Reads the snapshot once.
 */
export function parseClusters(store: Store, dir = '/'): ClusterSet {
  const clusters: ClusterModel[] = [];
  const rejectedScopes: ClusterRejection[] = [];
  const root = buildTree(store, dir);
  for (const scope of sortedNames(root)) {
    const scopeTree = root.children.get(scope) as KeyTree;
    if (scopeTree.children.size === 0) continue; // a plain key, not a directory
    const scopeDir = joinKeys(dir, scope);
    try {
      checkHaproxyName(scope, 'scope');
    } catch (e) {
      rejectedScopes.push({ scope, key: scopeDir, reason: (e as Error).message });
      continue;
    }
    if (looksLikeCluster(scopeTree)) {
      clusters.push(clusterFromTree(scopeTree, scope, null, scopeDir));
      continue;
    }
    const groups = sortedNames(scopeTree)
      .filter((g) => /^\d{1,6}$/.test(g) && looksLikeCluster(scopeTree.children.get(g) as KeyTree))
      .map(Number)
      .sort((a, b) => a - b);
    for (const g of groups) clusters.push(clusterFromTree(scopeTree.children.get(String(g)) as KeyTree, scope, g, joinKeys(scopeDir, String(g))));
  }
  return { clusters, rejectedScopes };
}
