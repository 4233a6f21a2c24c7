/**
 * `haconfd haproxy …` — operator commands against HAProxy's runtime socket.
 *
 *   haconfd haproxy status [--socket PATH] [--json] [backend flags]
 *   haconfd haproxy drain|maint|ready <backend>/<server>|<server> [--socket PATH] [--json]
 *                   [--state-dir DIR] [--leader] [--reason TEXT] [backend flags]
 *
 * PATH is a unix socket path or ipv4@host:port; it defaults to the one in haconfd.toml
 * (haproxyDefaults.ts). A bare <server> applies to every backend that has a server of that name (a
 * Patroni member name). drain/maint are recorded in the overrides file so they survive reloads and
 * the controller never lifts them; ready removes the record. `ready` never makes a server UP before
 * its checks (`state ready; health down`) unless it is the confirmed leader: --leader (the operator's
 * word), or — with a backend configured — on a write backend, the leader key names it and its REST API
 * confirms a running primary, decided by the controller's planner (controller/planner.ts) with the same
 * confirmation (leaderConfirmation.ts). A leader whose API does not confirm is refused (exit 1,
 * nothing changed) with the reason.
 *
 * With a backend configured, `status` reads Patroni's keys once and shows each server's role and
 * member state; an unreachable DCS prints a warning and `?` (the HAProxy part still counts: exit 0).
 *
 * Exit: 0 ok, 1 runtime failure, 2 usage or configuration error.
 */
import { RuntimeClient } from '../haproxy/runtime/runtimeClient.js';
import { RuntimeError } from '../haproxy/runtime/runtimeErrors.js';
import { parseSocketAddress } from '../haproxy/runtime/socketAddress.js';
import { assertHaproxyIdentifier, parseServerRef, type ServerRef } from '../haproxy/runtime/names.js';
import { actionFor, type LeaderConfirmation, type WantedState } from '../haproxy/controller/plan.js';
import { planServerStates } from '../haproxy/controller/planner.js';
import { confirmLeader } from '../haproxy/controller/leaderConfirmation.js';
import { CONTROLLER_DEFAULTS } from '../haproxy/controller/controllerConfig.js';
import { commandLine, type RuntimeCommand, type ServerAction } from '../haproxy/runtime/runtimeCommand.js';
import { stateNameOf, type ActualServer } from '../haproxy/runtime/serversState.js';
import type { ServerStat } from '../haproxy/runtime/statCsv.js';
import { DEFAULT_STATE_DIR, loadOverrides, saveOverrides, withOverride, withoutOverride } from '../haproxy/controller/overrides.js';
import type { OperatorOverride } from '../haproxy/controller/plan.js';
import { ConfigError } from '../config/loadConfig.js';
import { createLogger, type Logger } from '../log/logger.js';
import type { ClusterModel } from '../patroni/cluster.js';
import { flagDef } from '../config/flagSpec.js';
import { parseArgs, UsageError, type FlagSet, type ParsedFlags } from '../config/flags.js';
import { resolveHaproxySettings, type BackendPatterns, type DcsSettings, type HaproxyCommandDefaults, type HaproxySettings } from './haproxyDefaults.js';
import { clusterWarnings, roleOfServer, writeClusterOf } from './serverRoles.js';
import { describeDcs, readClusters } from './clusterReader.js';

export type { HaproxyCommandDefaults } from './haproxyDefaults.js';

export interface HaproxyCommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const USAGE = `usage:
  haconfd haproxy status [--socket PATH] [--json] [--state-dir DIR] [backend flags]
  haconfd haproxy drain|maint|ready <backend>/<server>|<server> [--socket PATH] [--json]
                  [--state-dir DIR] [--leader] [--reason TEXT] [backend flags]

  --socket PATH   unix socket path or ipv4@host:port of an admin-level stats socket
                  (default: [haproxy] socket in haconfd.toml)
  --state-dir DIR where operator overrides are kept (default: [haproxy] state_dir, else ${DEFAULT_STATE_DIR})
  --json          machine-readable output
  --leader        (ready) the server is the confirmed leader: make it UP now
  --reason TEXT   (drain, maint) recorded with the override
  --namespace NS  Patroni's namespace (default: [controller] namespace, else /service)
  --no-roles      do not read Patroni's roles from the backend

  backend flags (as for haconfd itself): -backend, -node (repeatable), -scheme, -file, -prefix,
  -confdir, -config-file, -client-cert, -client-key, -client-ca-keys, -basic-auth, -username,
  -password, -connect-timeout, -log-level. With a backend configured, status shows each server's
  Patroni role, and ready on a write backend makes the leader-key holder UP at once once its
  REST API confirms a running primary (as the controller does); unconfirmed, ready refuses (exit 1).

  exit: 0 ok, 1 runtime failure, 2 usage or configuration error
`;

interface Options {
  socket: string | undefined;
  json: boolean;
  stateDir: string | undefined;
  namespace: string | undefined;
  leader: boolean;
  reason: string | undefined;
  noRoles: boolean;
  help: boolean;
  positional: string[];
  /** Backend flags (flagSpec names), for loadConfig. */
  backendFlags: ParsedFlags;
}

const VALUE_FLAGS = new Set(['socket', 'state-dir', 'reason', 'namespace']);
const BOOL_FLAGS = new Set(['json', 'leader', 'help', 'no-roles']);
/** haconfd's own flags accepted after the subcommand (they select the config file and backend). */
const BACKEND_FLAGS = new Set([
  'backend', 'node', 'scheme', 'file', 'prefix', 'confdir', 'config-file', 'client-cert', 'client-key', 'client-ca-keys',
  'basic-auth', 'username', 'password', 'connect-timeout', 'log-level', 'log-format',
]);

const OPTIONS: FlagSet = {
  kindOf: (name) => (VALUE_FLAGS.has(name) ? 'string' : BOOL_FLAGS.has(name) ? 'switch' : BACKEND_FLAGS.has(name) ? flagDef(name)?.kind : undefined),
  names: [...VALUE_FLAGS, ...BOOL_FLAGS, ...BACKEND_FLAGS],
  subcommand: true,
};

function parseOptions(argv: readonly string[]): Options {
  const { flags, rest } = parseArgs(argv, OPTIONS);
  const value = (name: string): string | undefined => flags.get(name) as string | undefined;
  const backendFlags: ParsedFlags = new Map([...flags].filter(([name]) => BACKEND_FLAGS.has(name)));
  return {
    socket: value('socket'),
    json: flags.has('json'),
    stateDir: value('state-dir'),
    namespace: value('namespace'),
    leader: flags.has('leader'),
    reason: value('reason'),
    noRoles: flags.has('no-roles'),
    help: flags.has('help'),
    positional: rest,
    backendFlags,
  };
}

type Verb = 'status' | 'drain' | 'maint' | 'ready';

interface Run {
  readonly verb: Verb;
  readonly opts: Options;
  readonly settings: HaproxySettings;
  readonly socket: string;
  readonly io: HaproxyCommandIo;
}

function noSocketMessage(settings: HaproxySettings): string {
  const file = settings.configFile ?? 'haconfd.toml (none found; -confdir DIR or -config-file FILE)';
  return `no HAProxy runtime socket: give --socket PATH (a unix socket path or ipv4@host:port), or set socket = "/run/haproxy/admin.sock" in the [haproxy] table of ${file}`;
}

export async function runHaproxyCommand(argv: readonly string[], io: HaproxyCommandIo, defaults: HaproxyCommandDefaults = {}): Promise<number> {
  let run: Run;
  try {
    const opts = parseOptions(argv);
    if (opts.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    const verb = opts.positional[0];
    if (verb === undefined) throw new UsageError('missing subcommand (status, drain, maint or ready)');
    if (!['status', 'drain', 'maint', 'ready'].includes(verb)) throw new UsageError(`unknown subcommand "${verb}"`);
    if (verb === 'status' && opts.positional.length > 1) throw new UsageError(`unexpected argument "${opts.positional[1]}"`);
    if (verb !== 'status' && opts.positional.length !== 2) throw new UsageError(`${verb} needs exactly one <backend>/<server> or <server>`);
    if (opts.leader && verb !== 'ready') throw new UsageError('--leader only applies to ready');
    const settings = resolveHaproxySettings({
      flags: opts.backendFlags,
      env: defaults.env ?? process.env,
      socket: opts.socket,
      stateDir: opts.stateDir,
      namespace: opts.namespace,
      noRoles: opts.noRoles,
      defaults,
    });
    if (settings.socket === undefined) throw new UsageError(noSocketMessage(settings));
    try {
      parseSocketAddress(settings.socket);
    } catch (e) {
      throw new UsageError(`${settings.socketSource === '--socket' ? '' : `socket from ${settings.socketSource}: `}${(e as Error).message}`);
    }
    run = { verb: verb as Verb, opts, settings, socket: settings.socket, io };
  } catch (e) {
    if (e instanceof UsageError || e instanceof RuntimeError) {
      io.stderr.write(`haconfd haproxy: ${e.message}\n${USAGE}`);
      return 2;
    }
    if (e instanceof ConfigError) {
      io.stderr.write(`haconfd haproxy: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const { opts } = run;
  try {
    const client = new RuntimeClient(run.socket);
    if (run.verb === 'status') return await status(client, run);
    return await setState(client, run);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`haconfd haproxy: ${e.message}\n`);
      return 2;
    }
    if (e instanceof Error) {
      if (opts.json) io.stdout.write(`${JSON.stringify({ ok: false, error: e.message, kind: e.name })}\n`);
      io.stderr.write(`haconfd haproxy: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

export interface StatusRow {
  backend: string;
  server: string;
  address: string;
  state: string;
  check: string;
  sessions: number;
  override?: 'drain' | 'maint';
  /** With a backend configured: the member's role, null when the server is no member, '?' when the DCS could not be read. */
  role?: string | null;
  /** True when the cluster's leader key names this member. */
  leader?: boolean;
  /** Patroni's member state ('running' …), null when no member, '?' when unknown. */
  memberState?: string | null;
  /** Cluster id (scope, or scope_group), null when no member. */
  cluster?: string | null;
}

/** Joins `show servers state` and `show stat` into one row per server. Pure. */
export function statusRows(state: readonly ActualServer[], stats: readonly ServerStat[], overrides: readonly OperatorOverride[]): StatusRow[] {
  const statBy = new Map<string, ServerStat>(stats.map((s) => [`${s.backend}/${s.server}`, s]));
  const ovBy = new Map<string, 'drain' | 'maint'>(overrides.map((o) => [`${o.backend}/${o.server}`, o.state]));
  return state.map((s) => {
    const ref = `${s.backend}/${s.server}`;
    const st = statBy.get(ref);
    const check = st ? [st.status, st.checkStatus].filter((x) => x !== '').join(' ') : '';
    const ov = ovBy.get(ref);
    return {
      backend: s.backend,
      server: s.server,
      address: s.addr.includes(':') ? `[${s.addr}]:${s.port}` : `${s.addr}:${s.port}`,
      state: stateNameOf(s).toUpperCase(),
      check,
      sessions: st?.sessions ?? 0,
      ...(ov ? { override: ov } : {}),
    };
  });
}

/**
 * Adds the Patroni columns. `clusters` undefined means the DCS could not be read: every role is '?'.
 * Pure.
 */
export function withRoles(rows: readonly StatusRow[], clusters: readonly ClusterModel[] | undefined, patterns: BackendPatterns): StatusRow[] {
  return rows.map((r) => {
    if (clusters === undefined) return { ...r, role: '?', leader: false, memberState: '?', cluster: null };
    const m = roleOfServer(r.backend, r.server, clusters, patterns);
    if (m === undefined) return { ...r, role: null, leader: false, memberState: null, cluster: null };
    return { ...r, role: m.role, leader: m.leader, memberState: m.memberState, cluster: m.cluster };
  });
}

function roleCell(r: StatusRow): string {
  if (r.role === null || r.role === undefined) return '-';
  return r.leader ? `${r.role} (leader)` : r.role;
}

/** The status table; ROLE and MEMBER STATE columns when `roles` (a backend is configured). */
export function formatTable(rows: readonly StatusRow[], opts: { roles?: boolean } = {}): string {
  const head = ['BACKEND', 'SERVER', 'ADDRESS', 'STATE', 'CHECK', 'SESSIONS'];
  if (opts.roles) head.push('ROLE', 'MEMBER STATE');
  const body = rows.map((r) => {
    const cells = [r.backend, r.server, r.address, r.override ? `${r.state} (operator ${r.override})` : r.state, r.check || '-', String(r.sessions)];
    if (opts.roles) cells.push(roleCell(r), r.memberState ?? '-');
    return cells;
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  return `${[line(head), ...body.map(line)].join('\n')}\n`;
}

function commandLogger(dcs: DcsSettings, io: HaproxyCommandIo): Logger {
  return createLogger({ level: dcs.logLevelGiven ? dcs.config.logLevel : 'error', format: dcs.config.logFormat, destination: io.stderr });
}

/** Reads the clusters; a failure is a warning line and undefined (the HAProxy part still works). */
async function clustersOrWarn(run: Run): Promise<readonly ClusterModel[] | undefined> {
  const dcs = run.settings.dcs;
  if (dcs === undefined) return undefined;
  try {
    const read = await readClusters(dcs, commandLogger(dcs, run.io));
    if (read.clusters.length === 0) run.io.stderr.write(`haconfd haproxy: warning: no Patroni cluster under ${describeDcs(dcs)}\n`);
    for (const w of clusterWarnings(read.clusters)) run.io.stderr.write(`haconfd haproxy: warning: ${w}\n`);
    return read.clusters;
  } catch (e) {
    run.io.stderr.write(`haconfd haproxy: warning: cannot read Patroni roles from ${describeDcs(dcs)}: ${(e as Error).message}\n`);
    return undefined;
  }
}

async function status(client: RuntimeClient, run: Run): Promise<number> {
  // HAProxy first: when it fails there is nothing to show, and no reason to wait for the DCS.
  const [state, stats] = await Promise.all([client.showServersState(), client.showServerStats()]);
  const clusters = await clustersOrWarn(run);
  const overrides = loadOverridesQuietly(run.settings.overridesFile);
  let rows = statusRows(state, stats, overrides);
  const roles = run.settings.dcs !== undefined;
  if (roles) rows = withRoles(rows, clusters, run.settings.patterns);
  run.io.stdout.write(run.opts.json ? `${JSON.stringify(rows, null, 2)}\n` : formatTable(rows, { roles }));
  return 0;
}

function loadOverridesQuietly(path: string): OperatorOverride[] {
  try {
    return loadOverrides(path);
  } catch {
    return [];
  }
}

/** A bare `<server>` → every backend having it (`<backend>/<server>` is resolved by the caller). */
function resolveTargets(arg: string, state: readonly ActualServer[]): ServerRef[] {
  const server = assertHaproxyIdentifier('server', arg);
  const refs = state.filter((s) => s.server === server).map((s) => ({ backend: s.backend, server: s.server }));
  if (refs.length === 0) throw new RuntimeError(`no backend has a server named '${server}'`);
  return refs;
}

interface Change {
  backend: string;
  server: string;
  before: string;
  action: ServerAction | null;
  command: string | null;
  after: string;
  /** (ready) made UP at once as the confirmed leader; why. */
  leader?: string;
}

/** Refused: `ready` would make a leader UP that its REST API does not confirm. */
export class NotConfirmedError extends Error {
  override readonly name = 'NotConfirmedError';
}

/**
 * The confirmation of the leader of every cluster whose write backend is a target, through its
 * REST API (GET /patroni), exactly as the controller does before it makes a leader UP.
 */
async function confirmLeaders(run: Run, targets: readonly ServerRef[], clusters: readonly ClusterModel[]): Promise<Map<string, { status: LeaderConfirmation; detail: string }>> {
  const out = new Map<string, { status: LeaderConfirmation; detail: string }>();
  for (const t of targets) {
    const c = writeClusterOf(t.backend, clusters, run.settings.patterns);
    if (c === undefined || c.leader !== t.server || out.has(c.id)) continue;
    const member = c.members.find((m) => m.name === c.leader);
    if (!c.leaderKnown || member?.apiUrl === undefined) {
      out.set(c.id, { status: 'timed-out', detail: `leader key of ${c.id} names ${t.server}, which has no member key (no REST API to ask)` });
      continue;
    }
    const r = await confirmLeader(member.apiUrl, {
      timeoutMs: CONTROLLER_DEFAULTS.confirmTimeoutMs,
      pollMs: CONTROLLER_DEFAULTS.confirmPollMs,
      requestTimeoutMs: CONTROLLER_DEFAULTS.confirmRequestTimeoutMs,
    });
    out.set(c.id, r.outcome === 'confirmed'
      ? { status: 'confirmed', detail: `leader key of ${c.id} names ${t.server}, ${member.apiUrl} confirms a running primary` }
      : { status: 'timed-out', detail: `leader key of ${c.id} names ${t.server}, but ${member.apiUrl} did not confirm a running primary within ${CONTROLLER_DEFAULTS.confirmTimeoutMs} ms (last: ${r.last})` });
  }
  return out;
}

/**
 * Per target of `ready`: what the controller's planner would make of it with the override lifted
 * (the one routing decision): UP at once only as the confirmed leader of a write backend; a leader
 * its REST API does not confirm is refused (NotConfirmedError, nothing changed); anything else goes
 * back to its checks (`state ready; health down` out of maint), the controller's rules doing the rest.
 */
async function readyWanted(run: Run, targets: readonly ServerRef[], all: readonly ActualServer[], overrides: readonly OperatorOverride[], clusters: readonly ClusterModel[] | undefined): Promise<Map<string, { wanted: WantedState; why?: string }>> {
  const out = new Map<string, { wanted: WantedState; why?: string }>();
  for (const t of targets) out.set(`${t.backend}/${t.server}`, run.opts.leader ? { wanted: 'up', why: '--leader' } : { wanted: 'ready' });
  if (run.opts.leader || clusters === undefined) return out;
  const confirmed = await confirmLeaders(run, targets, clusters);
  const lifted = overrides.filter((o) => !targets.some((t) => t.backend === o.backend && t.server === o.server));
  const plan = planServerStates(clusters, all, lifted, {
    patterns: run.settings.patterns,
    dcsReachable: true,
    confirmations: new Map([...confirmed].map(([id, c]) => [id, c.status] as const)),
    routed: new Map(),
    reloadHold: false,
  });
  for (const t of targets) {
    const c = writeClusterOf(t.backend, clusters, run.settings.patterns);
    const conf = c === undefined ? undefined : confirmed.get(c.id);
    if (conf === undefined) continue;
    // The planner routes the confirmed leader (health up, out of maint or drain), or has nothing to do: it is UP.
    const planned = plan.commands.find((p) => p.backend === t.backend && p.server === t.server);
    const routes = planned === undefined || planned.action === 'health-up' || planned.action === 'ready-health-up' || planned.action === 'ready';
    if (conf.status === 'confirmed' && routes) out.set(`${t.backend}/${t.server}`, { wanted: 'up', why: conf.detail });
    else if (conf.status !== 'confirmed') {
      throw new NotConfirmedError(`${t.backend}/${t.server} not made ready: ${conf.detail}. Nothing changed; run it again once Patroni reports it running, hand it to its checks with --no-roles, or force it UP with --leader`);
    }
  }
  return out;
}

async function setState(client: RuntimeClient, run: Run): Promise<number> {
  const verb = run.verb as 'drain' | 'maint' | 'ready';
  const { opts, io } = run;
  const arg = opts.positional[1] as string;
  // Validate names before anything touches the socket.
  let targets: ServerRef[] | undefined;
  try {
    if (arg.includes('/')) targets = [parseServerRef(arg)];
    else assertHaproxyIdentifier('server', arg);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const path = run.settings.overridesFile;
  let overrides = loadOverrides(path); // a broken file is an error, never silently replaced
  const needRoles = verb === 'ready' && !opts.leader && run.settings.dcs !== undefined;
  const all = await client.showServersState(targets?.length === 1 ? targets[0]?.backend : undefined);
  const clusters = needRoles ? await clustersOrWarn(run) : undefined;
  targets ??= resolveTargets(arg, all);
  const wantedOf = verb === 'ready' ? await readyWanted(run, targets, all, overrides, clusters) : undefined;
  const changes: Change[] = [];
  for (const t of targets) {
    const before = all.find((s) => s.backend === t.backend && s.server === t.server);
    if (!before) {
      // Let HAProxy name the problem (no such server) with a harmless read.
      await client.showServersState(t.backend);
      throw new RuntimeError(`HAProxy backend '${t.backend}' has no server '${t.server}'`);
    }
    const { wanted, why } = wantedOf?.get(`${t.backend}/${t.server}`) ?? { wanted: verb === 'ready' ? 'ready' : verb, why: undefined };
    const action = actionFor(wanted, before) ?? null;
    let command: string | null = null;
    if (action) {
      const cmd: RuntimeCommand = { backend: t.backend, server: t.server, action, reason: `operator ${verb}` };
      command = commandLine(cmd);
      await client.apply(cmd);
    }
    const after = (await client.showServersState(t.backend)).find((s) => s.server === t.server);
    changes.push({
      backend: t.backend,
      server: t.server,
      before: stateNameOf(before),
      action,
      command,
      after: after ? stateNameOf(after) : '?',
      ...(wanted === 'up' && why !== undefined ? { leader: why } : {}),
    });
    if (verb === 'ready') overrides = withoutOverride(overrides, t.backend, t.server);
    else {
      overrides = withOverride(overrides, {
        backend: t.backend,
        server: t.server,
        state: verb,
        since: new Date().toISOString(),
        ...(opts.reason ? { reason: opts.reason } : {}),
      });
    }
  }
  saveOverrides(path, overrides);
  if (opts.json) {
    io.stdout.write(`${JSON.stringify({ ok: true, verb, changes, overridesFile: path }, null, 2)}\n`);
  } else {
    for (const c of changes) {
      const note = c.leader !== undefined ? ` — confirmed leader: ${c.leader}` : '';
      io.stdout.write(
        c.action
          ? `${c.backend}/${c.server}: ${c.before.toUpperCase()} → ${c.after.toUpperCase()} (${c.command})${note}\n`
          : `${c.backend}/${c.server}: already ${c.after.toUpperCase()}${note}\n`,
      );
    }
  }
  return 0;
}
