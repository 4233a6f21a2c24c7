/**
 * Template helpers over the Patroni model:
 *
 *   {{#each (patroniMembers "/demo")}} {{name}} {{address}} {{apiPort}} {{role}} {{isLeader}} {{/each}}
 *   {{#with (patroniCluster "/")}} … {{/with}}                      (store prefix = one scope)
 *   {{#each (patroniClusters "/" min_members=1)}} {{id}} {{ports.primary}} {{#each members}}…{{/each}} {{/each}}
 *   {{#with (patroniSettings) as |s|}} {{s.stats_port}} {{/with}}   (vars over the shipped defaults)
 *
 * Directories are relative to the resource's prefix. Members that fail validation are left out and
 * each one becomes a render warning (code 'member_rejected') with the reason.
 */
import { statSync } from 'node:fs';
import type { HelperOptions } from 'handlebars';
import type { HandlebarsEnv } from '../engine.js';
import { helperCall, type HelperCall } from './arguments.js';
import { renderDataOf, type RenderData } from '../renderData.js';
import { parseCluster, parseClusters, type ClusterModel, type ClusterSet } from '../../patroni/cluster.js';
import type { Member, MemberRole, MemberTags } from '../../patroni/member.js';
import {
  bindAddress,
  checkPortConflicts,
  clusterPorts,
  listenNames,
  resolveProxySettings,
  checkKnownProxyVars,
  type ListenNames,
  type ClusterPorts,
  type ProxySettings,
} from '../../patroni/proxySettings.js';

export interface MemberView {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** `host:port` for a `server` line (`[::1]:5432` for IPv6). */
  readonly address: string;
  readonly apiHost: string;
  readonly apiPort: number;
  readonly apiScheme: 'http' | 'https';
  readonly apiUrl: string;
  /** True when the REST API is https (use `check-ssl`). */
  readonly apiTls: boolean;
  /** The API host formatted for HAProxy's `addr` keyword when it differs from `host`, else ''. */
  readonly checkAddr: string;
  readonly role: MemberRole;
  readonly rawRole: string;
  readonly state: string;
  readonly isRunning: boolean;
  /** Named by the leader key (the truth; `role` may lag). */
  readonly isLeader: boolean;
  readonly isReplica: boolean;
  readonly noloadbalance: boolean;
  readonly nofailover: boolean;
  readonly nosync: boolean;
  readonly tags: MemberTags;
  readonly version: string;
  readonly timeline: number | undefined;
}

export interface ClusterView {
  readonly scope: string;
  readonly group: number | null;
  readonly id: string;
  /** Position among the clusters rendered (sorted by id), 0-based. */
  readonly index: number;
  readonly members: readonly MemberView[];
  readonly leader: string | null;
  readonly leaderKnown: boolean;
  readonly leaderMember: MemberView | null;
  readonly failsafeMode: boolean;
  readonly paused: boolean;
  readonly syncStandbys: readonly string[];
  /** Ports from the settings (pinned, or base + index × port_stride). */
  readonly ports: ClusterPorts;
  /** Proxy names of the cluster's listens ('demo_primary', 'demo_replicas', …). */
  readonly listens: ListenNames;
  /** `bind` arguments for each listen ('*:5000'). */
  readonly binds: { readonly primary: string; readonly replica: string; readonly read_only: string; readonly sync: string };
}

function memberView(m: Member, leader: string | null): MemberView {
  const checkAddr = m.apiHost === m.host ? '' : m.apiHostKind === 'ipv6' ? `[${m.apiHost}]` : m.apiHost;
  return {
    name: m.name,
    host: m.host,
    port: m.port,
    address: m.address,
    apiHost: m.apiHost,
    apiPort: m.apiPort,
    apiScheme: m.apiScheme,
    apiUrl: m.apiUrl,
    apiTls: m.apiScheme === 'https',
    checkAddr,
    role: m.role,
    rawRole: m.rawRole,
    state: m.state,
    isRunning: m.state === 'running',
    isLeader: leader !== null && m.name === leader,
    isReplica: m.role === 'replica',
    noloadbalance: m.tags.noloadbalance,
    nofailover: m.tags.nofailover,
    nosync: m.tags.nosync,
    tags: m.tags,
    version: m.version,
    timeline: m.timeline,
  };
}

/** Per-render caches: parsed models, and which warnings were already pushed. */
const parsedSets = new WeakMap<RenderData, Map<string, ClusterSet>>();
const parsedClusters = new WeakMap<RenderData, Map<string, ClusterModel>>();
const reported = new WeakMap<RenderData, Set<string>>();

function warn(rd: RenderData, code: string, message: string, detail: Record<string, unknown>): void {
  let seen = reported.get(rd);
  if (seen === undefined) reported.set(rd, (seen = new Set()));
  const id = `${code}\u0000${message}`;
  if (seen.has(id)) return;
  seen.add(id);
  rd.warnings.push({ code, message, detail });
}

function reportCluster(rd: RenderData, c: ClusterModel): void {
  for (const r of c.rejected) {
    warn(rd, 'member_rejected', `cluster ${c.id}: member ${JSON.stringify(r.name)} left out: ${r.reason}`, {
      cluster: c.id,
      member: r.name,
      key: r.key,
      reason: r.reason,
    });
  }
  if (c.leader !== null && !c.leaderKnown) {
    warn(rd, 'leader_unknown', `cluster ${c.id}: the leader key names ${JSON.stringify(c.leader.slice(0, 80))}, which is not a valid member`, {
      cluster: c.id,
      leader: c.leader.slice(0, 200),
    });
  }
}

function loadCluster(rd: RenderData, dir: string): ClusterModel {
  let cache = parsedClusters.get(rd);
  if (cache === undefined) parsedClusters.set(rd, (cache = new Map()));
  let c = cache.get(dir);
  if (c === undefined) {
    c = parseCluster(rd.store, dir);
    cache.set(dir, c);
  }
  reportCluster(rd, c);
  return c;
}

function loadClusters(rd: RenderData, dir: string): ClusterSet {
  let cache = parsedSets.get(rd);
  if (cache === undefined) parsedSets.set(rd, (cache = new Map()));
  let set = cache.get(dir);
  if (set === undefined) {
    set = parseClusters(rd.store, dir);
    cache.set(dir, set);
  }
  for (const r of set.rejectedScopes) {
    warn(rd, 'cluster_rejected', `cluster ${JSON.stringify(r.scope)} left out: ${r.reason}`, { scope: r.scope, key: r.key, reason: r.reason });
  }
  for (const c of set.clusters) reportCluster(rd, c);
  return set;
}

function clusterView(c: ClusterModel, index: number, s: ProxySettings): ClusterView {
  const members = c.members.map((m) => memberView(m, c.leader));
  const ports = clusterPorts(s, c.id, index);
  return {
    scope: c.scope,
    group: c.group,
    id: c.id,
    index,
    members,
    leader: c.leader,
    leaderKnown: c.leaderKnown,
    leaderMember: members.find((m) => m.isLeader) ?? null,
    failsafeMode: c.failsafeMode,
    paused: c.paused,
    syncStandbys: c.sync?.standbys ?? [],
    ports,
    listens: listenNames(c.id),
    binds: {
      primary: bindAddress(s.bind_address, ports.primary),
      replica: bindAddress(s.bind_address, ports.replica),
      read_only: bindAddress(s.bind_address, ports.read_only),
      sync: bindAddress(s.bind_address, ports.sync),
    },
  };
}

/** Splits Handlebars' trailing options object off the arguments. */
function split(helper: string, args: unknown[], max: number): HelperCall {
  const call = helperCall(helper, args);
  const { params } = call;
  if (params.length > max) throw new Error(`${helper}: expected at most ${max} argument(s), got ${params.length}`);
  for (const p of params) if (typeof p !== 'string') throw new Error(`${helper}: the directory must be a string, got ${JSON.stringify(p)}`);
  return call;
}

function minMembersOf(helper: string, options: HelperOptions): number {
  const raw: unknown = (options.hash as Record<string, unknown> | undefined)?.['min_members'];
  if (raw === undefined) return 0;
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new Error(`${helper}: min_members must be a non-negative integer`);
  return n;
}

/** The host's syslog socket, for `log_target = "auto"` (read at render time: the file is for this host). */
function syslogSocketExists(): boolean {
  try {
    return statSync('/dev/log').isSocket();
  } catch {
    return false;
  }
}

export function registerPatroniHelpers(hb: HandlebarsEnv): void {
  hb.registerHelper('patroniSettings', (...args: unknown[]) => {
    const { options } = split('patroniSettings', args, 0);
    const vars = renderDataOf(options).vars;
    // strict=true (the shipped haproxy.cfg): every var must be one of its settings.
    const strict: unknown = (options.hash as Record<string, unknown> | undefined)?.['strict'];
    if (strict !== undefined && typeof strict !== 'boolean') throw new Error('patroniSettings: strict must be true or false');
    if (strict === true) checkKnownProxyVars(vars);
    return resolveProxySettings(vars, { syslogSocket: syslogSocketExists() });
  });

  hb.registerHelper('patroniMembers', (...args: unknown[]) => {
    const { params, options } = split('patroniMembers', args, 1);
    const rd = renderDataOf(options);
    // Accept the scope dir ("/demo") or its members dir ("/demo/members").
    let dir = (params[0] as string | undefined) ?? '/';
    dir = dir.replace(/\/members\/?$/, '') || '/';
    const c = loadCluster(rd, dir);
    return c.members.map((m) => memberView(m, c.leader));
  });

  hb.registerHelper('patroniCluster', (...args: unknown[]) => {
    const { params, options } = split('patroniCluster', args, 1);
    const rd = renderDataOf(options);
    const c = loadCluster(rd, (params[0] as string | undefined) ?? '/');
    const s = resolveProxySettings(rd.vars);
    const min = minMembersOf('patroniCluster', options);
    if (c.members.length < min) {
      throw new Error(`patroniCluster: ${c.members.length} valid member(s) in ${c.id}, min_members is ${min}; not rendering`);
    }
    return clusterView(c, 0, s);
  });

  hb.registerHelper('patroniClusters', (...args: unknown[]) => {
    const { params, options } = split('patroniClusters', args, 1);
    const rd = renderDataOf(options);
    const set = loadClusters(rd, (params[0] as string | undefined) ?? '/');
    const s = resolveProxySettings(rd.vars);
    const min = minMembersOf('patroniClusters', options);
    const total = set.clusters.reduce((n, c) => n + c.members.length, 0);
    if (total < min) {
      throw new Error(`patroniClusters: ${total} valid member(s) in ${set.clusters.length} cluster(s), min_members is ${min}; not rendering`);
    }
    const views = set.clusters.map((c, i) => clusterView(c, i, s));
    const uses: { port: number; what: string }[] = [{ port: s.stats_port, what: 'stats' }];
    for (const v of views) {
      uses.push({ port: v.ports.primary, what: `${v.id} primary` }, { port: v.ports.replica, what: `${v.id} replica` });
      if (s.enable_read_only) uses.push({ port: v.ports.read_only, what: `${v.id} read-only` });
      if (s.enable_sync) uses.push({ port: v.ports.sync, what: `${v.id} sync` });
    }
    checkPortConflicts(uses);
    return views;
  });
}

