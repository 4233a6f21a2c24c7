/**
 * `haconfd haproxy …` — operator commands against HAProxy's runtime socket.
 *
 *   haconfd haproxy status --socket PATH [--json]
 *   haconfd haproxy drain|maint|ready <backend>/<server>|<server> --socket PATH [--json]
 *                   [--state-dir DIR] [--leader] [--reason TEXT]
 *
 * PATH is a unix socket path or ipv4@host:port. A bare <server> applies to every backend that has a
 * server of that name (a Patroni member name). drain/maint are recorded in <state-dir>/
 * haproxy-overrides.json so they survive reloads and the controller never lifts them; ready removes
 * the record. `ready` never makes a server UP before its checks (`state ready; health down`) unless
 * --leader says it is the confirmed leader.
 *
 * Exit: 0 ok, 1 runtime failure, 2 usage error.
 */
import { RuntimeClient } from '../haproxy/runtimeClient.js';
import { RuntimeError } from '../haproxy/runtimeErrors.js';
import { parseSocketAddress } from '../haproxy/socketAddress.js';
import { assertHaproxyIdentifier, parseServerRef, type ServerRef } from '../haproxy/names.js';
import { actionFor, type WantedState } from '../haproxy/plan.js';
import { commandLine, type RuntimeCommand, type ServerAction } from '../haproxy/runtimeCommand.js';
import { stateNameOf, type ActualServer } from '../haproxy/serversState.js';
import type { ServerStat } from '../haproxy/statCsv.js';
import {
  DEFAULT_STATE_DIR,
  OverridesFileError,
  loadOverrides,
  overridesPath,
  saveOverrides,
  withOverride,
  withoutOverride,
} from '../haproxy/overrides.js';
import type { OperatorOverride } from '../haproxy/plan.js';

export interface HaproxyCommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Defaults the caller may supply from the config file (the socket in haconfd.toml, the state dir). */
export interface HaproxyCommandDefaults {
  socket?: string;
  stateDir?: string;
}

const USAGE = `usage:
  haconfd haproxy status --socket PATH [--json] [--state-dir DIR]
  haconfd haproxy drain|maint|ready <backend>/<server>|<server> --socket PATH [--json]
                  [--state-dir DIR] [--leader] [--reason TEXT]

  PATH       unix socket path or ipv4@host:port of an admin-level stats socket
  --state-dir where operator overrides are kept (default ${DEFAULT_STATE_DIR})
  --leader   (ready) the server is the confirmed leader: make it UP now
`;

class UsageError extends Error {}

interface Options {
  socket: string | undefined;
  json: boolean;
  stateDir: string;
  leader: boolean;
  reason: string | undefined;
  positional: string[];
}

const VALUE_FLAGS = new Set(['socket', 'state-dir', 'reason']);
const BOOL_FLAGS = new Set(['json', 'leader', 'help']);

function parseOptions(argv: readonly string[], defaults: HaproxyCommandDefaults): Options & { help: boolean } {
  const values: Record<string, string> = {};
  const bools = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    const m = /^--?([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) {
      positional.push(a);
      continue;
    }
    const name = m[1] as string;
    if (VALUE_FLAGS.has(name)) {
      const v = m[2] ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`--${name} needs a value`);
      values[name] = v;
    } else if (BOOL_FLAGS.has(name)) {
      if (m[2] !== undefined) throw new UsageError(`--${name} takes no value`);
      bools.add(name);
    } else {
      throw new UsageError(`unknown option ${a}`);
    }
  }
  return {
    socket: values['socket'] ?? defaults.socket,
    json: bools.has('json'),
    stateDir: values['state-dir'] ?? defaults.stateDir ?? DEFAULT_STATE_DIR,
    leader: bools.has('leader'),
    reason: values['reason'],
    help: bools.has('help'),
    positional,
  };
}

export async function runHaproxyCommand(
  argv: readonly string[],
  io: HaproxyCommandIo,
  defaults: HaproxyCommandDefaults = {},
): Promise<number> {
  let opts: ReturnType<typeof parseOptions>;
  let verb: string | undefined;
  try {
    opts = parseOptions(argv, defaults);
    if (opts.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    verb = opts.positional[0];
    if (verb === undefined) throw new UsageError('missing subcommand (status, drain, maint or ready)');
    if (!['status', 'drain', 'maint', 'ready'].includes(verb)) throw new UsageError(`unknown subcommand "${verb}"`);
    if (!opts.socket) throw new UsageError('--socket PATH is required (a unix socket path or ipv4@host:port)');
    if (verb === 'status' && opts.positional.length > 1) throw new UsageError(`unexpected argument "${opts.positional[1]}"`);
    if (verb !== 'status' && opts.positional.length !== 2) throw new UsageError(`${verb} needs exactly one <backend>/<server> or <server>`);
    if (opts.leader && verb !== 'ready') throw new UsageError('--leader only applies to ready');
    try {
      parseSocketAddress(opts.socket);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof RuntimeError) {
      io.stderr.write(`haconfd haproxy: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  try {
    const client = new RuntimeClient(opts.socket as string);
    if (verb === 'status') return await status(client, opts, io);
    return await setState(client, verb as 'drain' | 'maint' | 'ready', opts, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`haconfd haproxy: ${e.message}\n`);
      return 2;
    }
    if (e instanceof RuntimeError || e instanceof OverridesFileError || e instanceof Error) {
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

export function formatTable(rows: readonly StatusRow[]): string {
  const head = ['BACKEND', 'SERVER', 'ADDRESS', 'STATE', 'CHECK', 'SESSIONS'];
  const body = rows.map((r) => [r.backend, r.server, r.address, r.override ? `${r.state} (operator ${r.override})` : r.state, r.check || '-', String(r.sessions)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  return `${[line(head), ...body.map(line)].join('\n')}\n`;
}

async function status(client: RuntimeClient, opts: Options, io: HaproxyCommandIo): Promise<number> {
  const [state, stats] = await Promise.all([client.showServersState(), client.showServerStats()]);
  const overrides = loadOverridesQuietly(opts.stateDir);
  const rows = statusRows(state, stats, overrides);
  io.stdout.write(opts.json ? `${JSON.stringify(rows, null, 2)}\n` : formatTable(rows));
  return 0;
}

function loadOverridesQuietly(stateDir: string): OperatorOverride[] {
  try {
    return loadOverrides(overridesPath(stateDir));
  } catch {
    return [];
  }
}

/** `<backend>/<server>` → that server; `<server>` → every backend having it. */
function resolveTargets(arg: string, state: readonly ActualServer[]): ServerRef[] {
  if (arg.includes('/')) {
    const ref = parseServerRef(arg);
    return [ref];
  }
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
}

async function setState(client: RuntimeClient, verb: 'drain' | 'maint' | 'ready', opts: Options, io: HaproxyCommandIo): Promise<number> {
  const arg = opts.positional[1] as string;
  // Validate names before anything touches the socket.
  let targets: ServerRef[] | undefined;
  try {
    if (arg.includes('/')) targets = [parseServerRef(arg)];
    else assertHaproxyIdentifier('server', arg);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const path = overridesPath(opts.stateDir);
  let overrides = loadOverrides(path); // a broken file is an error, never silently replaced
  const all = await client.showServersState(targets?.length === 1 ? targets[0]?.backend : undefined);
  targets ??= resolveTargets(arg, all);
  const wanted: WantedState = verb === 'ready' ? (opts.leader ? 'up' : 'ready') : verb;
  const changes: Change[] = [];
  for (const t of targets) {
    const before = all.find((s) => s.backend === t.backend && s.server === t.server);
    if (!before) {
      // Let HAProxy name the problem (no such server) with a harmless read.
      await client.showServersState(t.backend);
      throw new RuntimeError(`HAProxy backend '${t.backend}' has no server '${t.server}'`);
    }
    const action = actionFor(wanted, before) ?? null;
    let command: string | null = null;
    if (action) {
      const cmd: RuntimeCommand = { backend: t.backend, server: t.server, action, reason: `operator ${verb}` };
      command = commandLine(cmd);
      await client.apply(cmd);
    }
    const after = (await client.showServersState(t.backend)).find((s) => s.server === t.server);
    changes.push({ backend: t.backend, server: t.server, before: stateNameOf(before), action, command, after: after ? stateNameOf(after) : '?' });
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
      io.stdout.write(
        c.action
          ? `${c.backend}/${c.server}: ${c.before.toUpperCase()} → ${c.after.toUpperCase()} (${c.command})\n`
          : `${c.backend}/${c.server}: already ${c.after.toUpperCase()}\n`,
      );
    }
  }
  return 0;
}
