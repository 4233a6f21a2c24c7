/**
 * Settings of the shipped haproxy.cfg for Patroni clusters: `[template.vars]` merged over the
 * defaults of Patroni's own demo (5000 write, 5001 read, 7000 stats), each value checked so that
 * a var can only ever be a value in the file, never a line of its own. Pure.
 */
import { AddressError, classifyHost, formatHostPort, quote } from './address.js';
import { nearest } from '../config/suggest.js';

export interface ClusterPortOverrides {
  readonly primary_port?: number;
  readonly replica_port?: number;
  readonly read_only_port?: number;
  readonly sync_port?: number;
}

export interface ProxySettings {
  /** Address the cluster listens bind to ('*' = every IPv4 address, '::' = every address). */
  readonly bind_address: string;
  readonly primary_port: number;
  readonly replica_port: number;
  readonly read_only_port: number;
  readonly sync_port: number;
  /** Added per cluster index to every base port when a cluster has no entry in `clusters`. */
  readonly port_stride: number;
  readonly enable_read_only: boolean;
  readonly enable_sync: boolean;
  readonly stats_address: string;
  readonly stats_port: number;
  /** `stats auth <user>:<password>` on the stats page when both are set ('' = no authentication). */
  readonly stats_user: string;
  /** Never logged: `-noop` diffs and check errors show `[redacted]` (a var named *password). */
  readonly stats_password: string;
  /** Concurrent sessions, all listens together; past it HAProxy stops accepting (the kernel queues). */
  readonly maxconn: number;
  /** Accept queue of each listening socket (`backlog` in defaults): connections waiting for accept(). */
  readonly backlog: number;
  readonly server_maxconn: number;
  readonly timeout_connect: string;
  readonly timeout_client: string;
  readonly timeout_server: string;
  readonly timeout_check: string;
  readonly check_inter: string;
  readonly check_fall: number;
  readonly check_rise: number;
  readonly primary_check: string;
  /** Replica check path, with `?lag=<replica_max_lag>` appended when that is set. */
  readonly replica_check: string;
  readonly replica_max_lag: string;
  readonly read_only_check: string;
  readonly sync_check: string;
  readonly runtime_socket: string;
  readonly stats_timeout: string;
  readonly server_state_file: string;
  readonly hard_stop_after: string;
  /** Fewer valid members than this in all clusters together fails the render (the old file stays). */
  readonly min_members: number;
  /** `user` / `group` HAProxy's workers drop to ('' = none: keep the account it was started as). */
  readonly user: string;
  readonly group: string;
  /**
   * `log <target> local0` in global plus `log global` + `option tcplog` ('' = no logging). The
   * default, `auto`, is the syslog socket /dev/log when the host has one, else no logging.
   */
  readonly log_target: string;
  /** `bind` argument of the stats listen, derived from stats_address and stats_port ('*:7000'). */
  readonly stats_bind: string;
  /** Pinned ports per cluster id (scope, or scope_group for Citus). */
  readonly clusters: Readonly<Record<string, ClusterPortOverrides>>;
  /**
   * How long a new connection to a write listen waits for a usable server (default '30s'; '0' = never:
   * closed at once, HAProxy's own behaviour). Needs hold_script.
   */
  readonly hold_timeout: string;
  /**
   * Path of haconfd-hold.lua for `lua-load`; by default the copy beside the template being rendered
   * ('' when that is not known and no path is set: the hold is off).
   */
  readonly hold_script: string;
  /** hold_timeout in milliseconds, 0 when the hold is off (no script, or a zero timeout). */
  readonly hold_timeout_ms: number;
  /** `tcp-request inspect-delay` of a holding listen: hold_timeout + 1 s, so the hold ends first. */
  readonly hold_inspect_delay: string;
}

/** What a render knows beyond the vars. */
export interface SettingsContext {
  /** Directory of the template being rendered (where the shipped haconfd-hold.lua sits beside it). */
  readonly templateDir?: string;
}

/** The Lua file that holds new connections, shipped beside templates/haproxy.cfg.hbs. */
export const HOLD_SCRIPT_NAME = 'haconfd-hold.lua';

export const DEFAULT_PROXY_SETTINGS: ProxySettings = {
  bind_address: '*',
  primary_port: 5000,
  replica_port: 5001,
  read_only_port: 5002,
  sync_port: 5003,
  port_stride: 10,
  enable_read_only: false,
  enable_sync: false,
  stats_address: '127.0.0.1',
  stats_port: 7000,
  stats_user: '',
  stats_password: '',
  maxconn: 4096,
  backlog: 1024,
  server_maxconn: 100,
  timeout_connect: '4s',
  timeout_client: '30m',
  timeout_server: '30m',
  timeout_check: '5s',
  check_inter: '3s',
  check_fall: 3,
  check_rise: 2,
  primary_check: '/primary',
  replica_check: '/replica',
  replica_max_lag: '',
  read_only_check: '/read-only',
  sync_check: '/sync',
  runtime_socket: '/run/haproxy/admin.sock',
  stats_timeout: '2m',
  server_state_file: '/var/lib/haproxy/server-state',
  hard_stop_after: '30m',
  min_members: 1,
  user: '',
  group: '',
  log_target: 'auto',
  stats_bind: '127.0.0.1:7000',
  clusters: {},
  hold_timeout: '30s',
  hold_script: '',
  hold_timeout_ms: 0,
  hold_inspect_delay: '',
};

/** Thrown for a bad var; names it. */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

type Kind = 'port' | 'count' | 'bool' | 'duration' | 'path' | 'checkPath' | 'bindAddress' | 'size' | 'account' | 'logTarget' | 'statsUser' | 'secret';

const KINDS: Record<Exclude<keyof ProxySettings, 'clusters' | 'stats_bind' | 'hold_timeout_ms' | 'hold_inspect_delay'>, Kind> = {
  bind_address: 'bindAddress',
  primary_port: 'port',
  replica_port: 'port',
  read_only_port: 'port',
  sync_port: 'port',
  port_stride: 'count',
  enable_read_only: 'bool',
  enable_sync: 'bool',
  stats_address: 'bindAddress',
  stats_port: 'port',
  stats_user: 'statsUser',
  stats_password: 'secret',
  maxconn: 'count',
  backlog: 'count',
  server_maxconn: 'count',
  timeout_connect: 'duration',
  timeout_client: 'duration',
  timeout_server: 'duration',
  timeout_check: 'duration',
  check_inter: 'duration',
  check_fall: 'count',
  check_rise: 'count',
  primary_check: 'checkPath',
  replica_check: 'checkPath',
  replica_max_lag: 'size',
  read_only_check: 'checkPath',
  sync_check: 'checkPath',
  runtime_socket: 'path',
  stats_timeout: 'duration',
  server_state_file: 'path',
  hard_stop_after: 'duration',
  min_members: 'count',
  user: 'account',
  group: 'account',
  log_target: 'logTarget',
  hold_timeout: 'duration',
  hold_script: 'path',
};

const MS_PER_UNIT: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An HAProxy time ('30s', '500ms', '2m', bare = ms) in whole milliseconds. */
export function durationMs(v: string): number {
  const m = /^(\d+)(us|ms|s|m|h|d)?$/.exec(v);
  if (!m) throw new SettingsError(`not an HAProxy time: ${quote(v)}`);
  return Math.ceil(Number(m[1]) * (MS_PER_UNIT[m[2] ?? 'ms'] as number));
}

function checkValue(name: string, kind: Kind, v: unknown): unknown {
  const fail = (what: string): never => {
    throw new SettingsError(`vars.${name} must be ${what}, got ${quote(typeof v === 'string' ? v : JSON.stringify(v) ?? String(v))}`);
  };
  switch (kind) {
    case 'port': {
      const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) fail('a port 1-65535');
      return n;
    }
    case 'count': {
      const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 10_000_000) fail('a non-negative integer');
      return n;
    }
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      return fail('true or false');
    case 'duration':
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return `${v}ms`;
      if (typeof v !== 'string' || !/^\d{1,9}(us|ms|s|m|h|d)?$/.test(v)) fail('an HAProxy time such as 3s, 500ms, 30m');
      return v;
    case 'path':
      if (typeof v !== 'string' || !/^\/[A-Za-z0-9_.\/@+-]{0,200}$/.test(v)) fail('an absolute path of A-Z a-z 0-9 _ . / @ + -');
      return v;
    case 'checkPath':
      if (typeof v !== 'string' || !/^\/[A-Za-z0-9_.\/=&%-]{0,200}(\?[A-Za-z0-9_.\/=&%-]{0,200})?$/.test(v)) fail('an HTTP path such as /replica');
      return v;
    case 'size':
      if (v === '' || v === undefined || v === null) return '';
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return String(v);
      if (typeof v !== 'string' || !/^\d{1,15}(B|kB|KB|MB|GB|TB)?$/i.test(v)) fail('a size such as 10MB or 1048576');
      return v;
    case 'account':
      if (v === '') return '';
      if (typeof v !== 'string' || !/^[A-Za-z_][A-Za-z0-9_-]{0,31}$/.test(v)) fail('a user or group name');
      return v;
    case 'statsUser':
      if (v === '') return '';
      if (typeof v !== 'string' || !/^[A-Za-z0-9_.@-]{1,64}$/.test(v)) fail('a user name of A-Z a-z 0-9 _ . @ -');
      return v;
    case 'secret':
      // The value is never quoted back: it may be the password itself, misplaced.
      if (v === '') return '';
      if (typeof v !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(v) || /[#"'\\]/.test(v)) {
        throw new SettingsError(`vars.${name} must be 1-128 printable characters without spaces, quotes, # or \\ (value not shown)`);
      }
      return v;
    case 'logTarget':
      if (v === '') return '';
      if (v === 'auto') return 'auto';
      if (typeof v !== 'string' || !/^(\/[A-Za-z0-9_.\/-]{1,200}|(udp@|tcp@)?[0-9.]{7,15}:\d{1,5}|(udp6@|tcp6@)?\[[0-9A-Fa-f:.]+\]:\d{1,5}|stdout|stderr)$/.test(v)) {
        fail('a log target such as /dev/log, 127.0.0.1:514 or stdout');
      }
      return v === 'stdout' || v === 'stderr' ? `${v} format raw` : v;
    case 'bindAddress': {
      if (v === '*' || v === '') return '*';
      if (typeof v !== 'string') return fail("an IP address or '*'");
      try {
        const kind = classifyHost(v);
        if (kind === 'dns') throw new AddressError('a name');
      } catch {
        fail("an IP address or '*'");
      }
      return v;
    }
  }
}

/** Every var the shipped haproxy.cfg knows (`clusters` is the table of pinned ports). */
export const KNOWN_PROXY_VARS: readonly string[] = [...Object.keys(KINDS), 'clusters'];

/**
 * Throws SettingsError for the first var that is not a setting of the shipped haproxy.cfg, naming
 * the nearest known one: a misspelt var would otherwise fall back to its default without a word.
 */
export function checkKnownProxyVars(vars: Readonly<Record<string, unknown>>): void {
  for (const name of Object.keys(vars).sort()) {
    if (KNOWN_PROXY_VARS.includes(name)) continue;
    const guess = nearest(name, KNOWN_PROXY_VARS);
    throw new SettingsError(
      `vars.${name} is not a setting of this template${guess ? ` (did you mean ${guess}?)` : ''}; ` +
        `its settings are listed in README "The shipped haproxy.cfg" (a var of your own: drop strict=true from patroniSettings)`,
    );
  }
}

/** What resolveProxySettings needs to know about the host (read at the edge, by the helper). */
export interface ProxyHost {
  /** The syslog socket /dev/log exists (log_target = "auto" uses it). */
  readonly syslogSocket: boolean;
}

/** `[template.vars]` over the defaults, validated; throws SettingsError naming the first bad var. */
export function resolveProxySettings(
  vars: Readonly<Record<string, unknown>>,
  host: ProxyHost = { syslogSocket: false },
  context: SettingsContext = {},
): ProxySettings {
  const out: Record<string, unknown> = { ...DEFAULT_PROXY_SETTINGS };
  for (const [name, kind] of Object.entries(KINDS) as [keyof typeof KINDS, Kind][]) {
    const v = vars[name];
    if (v !== undefined) out[name] = checkValue(name, kind, v);
  }
  const clusters: Record<string, ClusterPortOverrides> = {};
  const rawClusters = vars['clusters'];
  if (rawClusters !== undefined) {
    if (rawClusters === null || typeof rawClusters !== 'object' || Array.isArray(rawClusters)) {
      throw new SettingsError('vars.clusters must be a table of cluster ids, e.g. [template.vars.clusters.demo]');
    }
    for (const [id, o] of Object.entries(rawClusters as Record<string, unknown>)) {
      if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new SettingsError(`vars.clusters.${id} must be a table`);
      const entry: Record<string, number> = {};
      for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
        if (k !== 'primary_port' && k !== 'replica_port' && k !== 'read_only_port' && k !== 'sync_port') {
          throw new SettingsError(`vars.clusters.${id}.${k}: unknown setting (primary_port, replica_port, read_only_port, sync_port)`);
        }
        entry[k] = checkValue(`clusters.${id}.${k}`, 'port', v) as number;
      }
      clusters[id] = entry;
    }
  }
  out['clusters'] = clusters;
  const s = out as unknown as ProxySettings;
  if (s.replica_max_lag !== '') {
    (out as Record<string, unknown>)['replica_check'] = `${s.replica_check}${s.replica_check.includes('?') ? '&' : '?'}lag=${s.replica_max_lag}`;
  }
  out['stats_bind'] = bindAddress(s.stats_address, s.stats_port);
  if (s.log_target === 'auto') out['log_target'] = host.syslogSocket ? '/dev/log' : '';
  if ((s.stats_user === '') !== (s.stats_password === '')) {
    throw new SettingsError(
      s.stats_user === '' ? 'vars.stats_password is set without vars.stats_user: set both for `stats auth`, or neither' : 'vars.stats_user is set without vars.stats_password: set both for `stats auth`, or neither',
    );
  }
  Object.assign(out, holdSettings(s, context));
  return out as unknown as ProxySettings;
}

/** The hold's derived settings: on when there is a script and a non-zero timeout. */
function holdSettings(s: ProxySettings, context: SettingsContext): Pick<ProxySettings, 'hold_script' | 'hold_timeout_ms' | 'hold_inspect_delay'> {
  const script = s.hold_script !== '' ? s.hold_script : context.templateDir !== undefined ? `${context.templateDir.replace(/\/+$/, '')}/${HOLD_SCRIPT_NAME}` : '';
  const ms = durationMs(s.hold_timeout);
  if (script === '' || ms === 0) return { hold_script: '', hold_timeout_ms: 0, hold_inspect_delay: '' };
  if (ms > 3_600_000) throw new SettingsError(`vars.hold_timeout must be at most 1h, got ${quote(s.hold_timeout)}`);
  checkValue('hold_script', 'path', script);
  return { hold_script: script, hold_timeout_ms: ms, hold_inspect_delay: `${ms + 1000}ms` };
}

export interface ClusterPorts {
  readonly primary: number;
  readonly replica: number;
  readonly read_only: number;
  readonly sync: number;
}

/**
 * Ports of the cluster at position `index` (clusters sorted by id): pinned ones from
 * `vars.clusters.<id>`, otherwise base + index × port_stride.
 */
export function clusterPorts(s: ProxySettings, id: string, index: number): ClusterPorts {
  const pinned = s.clusters[id] ?? {};
  const port = (base: number, v: number | undefined, what: string): number => {
    const p = v ?? base + index * s.port_stride;
    if (p < 1 || p > 65535) throw new SettingsError(`cluster ${id}: ${what} port ${p} (base ${base} + ${index} × port_stride ${s.port_stride}) is outside 1-65535`);
    return p;
  };
  return {
    primary: port(s.primary_port, pinned.primary_port, 'primary'),
    replica: port(s.replica_port, pinned.replica_port, 'replica'),
    read_only: port(s.read_only_port, pinned.read_only_port, 'read-only'),
    sync: port(s.sync_port, pinned.sync_port, 'sync'),
  };
}

/** `bind` argument for an address and port ('*:5000', '[::]:5000', '10.0.0.1:5000'). */
export function bindAddress(address: string, port: number): string {
  if (address === '*') return `*:${port}`;
  return formatHostPort(address, classifyHost(address), port);
}

/** Throws SettingsError when two listens would bind the same port (haproxy -c cannot see that). */
export function checkPortConflicts(uses: readonly { readonly port: number; readonly what: string }[]): void {
  const seen = new Map<number, string>();
  for (const u of uses) {
    const other = seen.get(u.port);
    if (other !== undefined) throw new SettingsError(`port ${u.port} is used twice: ${other} and ${u.what}; pin ports with [template.vars.clusters.<id>] or change port_stride`);
    seen.set(u.port, u.what);
  }
}

/** The listens the shipped haproxy.cfg has per cluster. */
export type ListenKind = 'primary' | 'replicas' | 'read_only' | 'sync';

export interface ListenNames {
  readonly primary: string;
  readonly replicas: string;
  readonly read_only: string;
  readonly sync: string;
}

/**
 * Proxy names of a cluster's listens in the shipped haproxy.cfg (`demo_primary`, `demo_replicas`,
 * `demo_read_only`, `demo_sync`): the one place the naming lives, for the template and the controller.
 */
export function listenNames(clusterId: string): ListenNames {
  return { primary: `${clusterId}_primary`, replicas: `${clusterId}_replicas`, read_only: `${clusterId}_read_only`, sync: `${clusterId}_sync` };
}

/** The reverse of listenNames: which cluster and kind a proxy name belongs to, or undefined. */
export function parseListenName(proxy: string): { readonly clusterId: string; readonly kind: ListenKind } | undefined {
  const m = /^(.+)_(primary|replicas|read_only|sync)$/.exec(proxy);
  return m ? { clusterId: m[1] as string, kind: m[2] as ListenKind } : undefined;
}
