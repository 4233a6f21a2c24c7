/**
 * flags > environment (HACONFD_*) > config file > defaults → one validated Config.
 * (confd lets the config file override the command line; haconfd does not.)
 */
import { readFileSync, existsSync } from 'node:fs';
import toml from 'toml';
import { CONFD_ONLY_FLAGS, FLAGS, confdOnlyTomlKey, envName, flagDef, type FlagDef } from './flagSpec.js';
import { parseBool, parseIntFlag, UsageError, type FlagValue, type ParsedFlags } from './flags.js';
import { nearest } from './suggest.js';
import { LOG_LEVELS, defaultLogFormat, type LogFormat, type LogLevel } from '../log/logger.js';
import { registerSecret } from '../log/redact.js';
import { ConfigError, DEFAULTS, type BackendName, type Config, type Mode } from './config.js';
import { defaultPaths, resolveConfigLocation } from './defaultPaths.js';
import { goGlobToRegExp } from './goGlob.js';
import { NO_TABLES, TABLE_NAMES, parseTables, type ConfigTables } from './tables.js';
import { normalizeKey } from '../store/keys.js';


/** Names the config file may use besides the flag names (confd's spellings). */
const FILE_ALIASES: Record<string, string> = {
  nodes: 'node',
  files: 'file',
  client_cakeys: 'client-ca-keys',
  client_cert: 'client-cert',
  client_key: 'client-key',
};


interface Layer {
  readonly source: string;
  readonly values: Map<string, FlagValue>;
}

function fromEnv(env: NodeJS.ProcessEnv): Layer {
  const values = new Map<string, FlagValue>();
  for (const def of FLAGS) {
    if (def.flagOnly && def.name !== 'config-file') continue;
    const raw = env[envName(def.name)];
    if (raw === undefined || raw === '') continue;
    values.set(def.name, coerce(def, raw, `environment ${envName(def.name)}`));
  }
  return { source: 'environment', values };
}

/** confd's own environment variables for the TLS files (confd's config.go processEnv). */
const CONFD_ENV: Record<string, string> = {
  CONFD_CLIENT_CAKEYS: 'client-ca-keys',
  CONFD_CLIENT_CERT: 'client-cert',
  CONFD_CLIENT_KEY: 'client-key',
};

function fromConfdEnv(env: NodeJS.ProcessEnv): Layer {
  const values = new Map<string, FlagValue>();
  for (const [name, flag] of Object.entries(CONFD_ENV)) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') values.set(flag, raw);
  }
  return { source: 'confd environment', values };
}

function coerce(def: FlagDef, raw: unknown, where: string): FlagValue {
  const bad = (why: string): never => {
    throw new ConfigError(`${where}: ${why}`);
  };
  switch (def.kind) {
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string') {
        try {
          return parseBool(def.name, raw);
        } catch (e) {
          return bad((e as Error).message);
        }
      }
      return bad('expected true or false');
    case 'int':
      if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
      if (typeof raw === 'string') {
        try {
          return parseIntFlag(def.name, raw);
        } catch (e) {
          return bad((e as Error).message);
        }
      }
      return bad('expected a whole number');
    case 'list':
      if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return raw as string[];
      if (typeof raw === 'string') return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      return bad('expected a list of strings');
    case 'string':
      if (typeof raw === 'string') return raw;
      return bad('expected a string');
  }
}

/** Parses the TOML config file into a layer (the flag keys) plus its typed tables. */
export function parseConfigFile(path: string, text: string): { layer: Layer; tables: ConfigTables } {
  let doc: Record<string, unknown>;
  try {
    doc = toml.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`${path}: ${describeTomlError(e)}`);
  }
  const values = new Map<string, FlagValue>();
  const rawTables: Record<string, unknown> = {};
  const known = FLAGS.filter((f) => !f.flagOnly).map((f) => f.name);
  for (const [rawKey, raw] of Object.entries(doc)) {
    if ((TABLE_NAMES as readonly string[]).includes(rawKey)) {
      rawTables[rawKey] = raw;
      continue;
    }
    const confdOnly = confdOnlyTomlKey(rawKey);
    if (confdOnly !== undefined) {
      if (typeof raw !== (confdOnly.kind === 'bool' ? 'boolean' : 'string')) throw new ConfigError(`${path}: key "${rawKey}": expected ${confdOnly.kind === 'bool' ? 'true or false' : 'a string'}`);
      values.set(confdOnly.name, raw as FlagValue);
      continue;
    }
    const key = FILE_ALIASES[rawKey] ?? rawKey.replace(/_/g, '-');
    const def = flagDef(key);
    if (def === undefined || def.flagOnly) {
      const guess = nearest(rawKey, [...known, ...Object.keys(FILE_ALIASES), ...TABLE_NAMES]);
      throw new ConfigError(`${path}: unknown key "${rawKey}"${guess ? ` (did you mean "${guess}"?)` : ''}`);
    }
    values.set(key, coerce(def, raw, `${path}: key "${rawKey}"`));
  }
  return { layer: { source: path, values }, tables: parseTables(path, rawTables) };
}

/** "line 3, column 1: Expected … but … found" from the toml package's error. */
export function describeTomlError(e: unknown): string {
  const err = e as { message?: string; line?: number; column?: number; location?: { start?: { line?: number; column?: number } } };
  const line = err.line ?? err.location?.start?.line;
  const col = err.column ?? err.location?.start?.column;
  const where = line !== undefined ? `line ${line}${col !== undefined ? `, column ${col}` : ''}: ` : '';
  return `invalid TOML: ${where}${err.message ?? String(e)}`;
}

export interface LoadConfigInput {
  readonly flags: ParsedFlags;
  readonly env: NodeJS.ProcessEnv;
  readonly readFile?: (path: string) => string;
  /** File-system existence check for the config file and the default paths (tests pass their own). */
  readonly exists?: (path: string) => boolean;
}

export function loadConfig(input: LoadConfigInput): Config {
  const read = input.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const flagLayer: Layer = { source: 'flags', values: input.flags };
  const envLayer = fromEnv(input.env);

  // The config file's own location can only come from flags, env, or the defaults (confd's
  // /etc/confd and /etc/confd/confd.toml; haconfd's /etc/haconfd when it exists): defaultPaths.ts.
  const location = resolveConfigLocation({
    confdir: str(flagLayer, envLayer, 'confdir'),
    configFile: str(flagLayer, envLayer, 'config-file'),
    paths: defaultPaths(input.env),
    exists: input.exists ?? existsSync,
  });
  const configPath = location.configFile;
  let fileLayer: Layer = { source: configPath ?? 'no config file', values: new Map() };
  let tables: ConfigTables = NO_TABLES;
  let configFile: string | undefined;
  if (configPath !== undefined && (input.exists ?? existsSync)(configPath)) {
    let text: string;
    try {
      text = read(configPath);
    } catch (e) {
      throw new ConfigError(`cannot read config file ${configPath}: ${(e as Error).message}`);
    }
    ({ layer: fileLayer, tables } = parseConfigFile(configPath, text));
    configFile = configPath;
  } else if (configPath !== undefined && location.explicit) {
    throw new ConfigError(`config file ${configPath} does not exist`);
  }
  // confd's CONFD_CLIENT_CAKEYS / _CERT / _KEY: used when nothing above sets the key (config.go processEnv).
  const confdEnvLayer = fromConfdEnv(input.env);
  const layers = [flagLayer, envLayer, fileLayer, confdEnvLayer];
  const pick = (name: string): FlagValue | undefined => {
    for (const l of layers) {
      const v = l.values.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const pickStr = (n: string): string | undefined => {
    const v = pick(n);
    return typeof v === 'string' ? v : undefined;
  };
  const pickBool = (n: string): boolean => pick(n) === true;
  const pickInt = (n: string): number | undefined => {
    const v = pick(n);
    return typeof v === 'number' ? v : undefined;
  };
  const pickList = (n: string): string[] | undefined => {
    const v = pick(n);
    return Array.isArray(v) ? v : undefined;
  };

  for (const f of CONFD_ONLY_FLAGS) {
    const v = pick(f.name);
    if (v !== undefined && v !== '' && v !== false) throw new ConfigError(`-${f.name} (confd's ${f.tomlKey}) is not supported by haconfd: ${f.why}`);
  }

  const interval = pickInt('interval');
  if (interval !== undefined && interval < 1) throw new ConfigError(`-interval must be at least 1 second, got ${interval}`);
  const mode: Mode = pickBool('onetime') ? 'onetime' : pickBool('watch') ? 'watch' : 'interval';

  const backendGiven = pickStr('backend');
  const backendRaw = backendGiven ?? DEFAULTS.backend;
  const backend = normalizeBackend(backendRaw);

  const scheme = pickStr('scheme');
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') throw new ConfigError(`-scheme must be http or https, got "${scheme}"`);
  // confd's -backend etcd (its default backend) with no -node takes ETCDCTL_PEERS (comma-separated).
  const nodesGiven = pickList('node') ?? (backendGiven === undefined || backendGiven === 'etcd' ? etcdctlPeers(input.env) : undefined);
  // ZooKeeper servers are host:port (no scheme); confd's comma-separated list is split by the backend.
  const nodes =
    backend === 'zookeeper'
      ? (nodesGiven ?? DEFAULTS.zookeeperNodes)
      : (nodesGiven ?? DEFAULTS.nodes).map((n) => (scheme && !/^[a-z]+:\/\//i.test(n) ? `${scheme}://${n}` : n));

  const logLevel = parseLogLevel(pickStr('log-level') ?? DEFAULTS.logLevel);
  const logFormatRaw = pickStr('log-format') ?? defaultLogFormat();
  if (logFormatRaw !== 'json' && logFormatRaw !== 'text') throw new ConfigError(`-log-format must be json or text, got "${logFormatRaw}"`);

  const username = pickStr('username');
  const password = pickStr('password');
  // Never shown again, wherever it would appear (log lines, errors, /readyz).
  registerSecret(password);
  const basicAuth = pickBool('basic-auth') || (username !== undefined && password !== undefined);
  if (pickBool('basic-auth') && (username === undefined || password === undefined)) {
    throw new ConfigError('-basic-auth needs -username and -password (or HACONFD_USERNAME / HACONFD_PASSWORD)');
  }

  const connectTimeoutMs = pickInt('connect-timeout') ?? DEFAULTS.connectTimeoutMs;
  if (connectTimeoutMs < 1) throw new ConfigError('-connect-timeout must be positive');
  const minReloadIntervalMs = pickInt('min-reload-interval') ?? DEFAULTS.minReloadIntervalMs;
  if (minReloadIntervalMs < 0) throw new ConfigError('-min-reload-interval must not be negative');

  const files = pickList('file') ?? [];
  const fileFilter = pickStr('filter') ?? '*';
  try {
    goGlobToRegExp(fileFilter);
  } catch (e) {
    throw new ConfigError(`-filter: ${(e as Error).message}`);
  }
  if (backend === 'file' && files.length === 0) throw new ConfigError('-backend file needs at least one -file');

  const tls: { cert?: string; key?: string; ca?: string } = {};
  const cert = pickStr('client-cert');
  const key = pickStr('client-key');
  const ca = pickStr('client-ca-keys');
  if (cert !== undefined) tls.cert = cert;
  if (key !== undefined) tls.key = key;
  if (ca !== undefined) tls.ca = ca;
  if ((cert === undefined) !== (key === undefined)) throw new ConfigError('-client-cert and -client-key go together');

  return {
    mode,
    intervalSeconds: interval ?? DEFAULTS.intervalSeconds,
    intervalGiven: interval !== undefined,
    noop: pickBool('noop'),
    syncOnly: pickBool('sync-only'),
    keepStageFile: pickBool('keep-stage-file'),
    prefix: globalPrefix(pickStr('prefix')),
    confdir: pickStr('confdir') ?? location.confdir,
    configFile,
    backend,
    nodes,
    files,
    fileFilter,
    tls,
    auth: basicAuth && username !== undefined && password !== undefined ? { username, password } : undefined,
    connectTimeoutMs,
    listen: parseListen(pickStr('listen')),
    minReloadIntervalMs,
    logLevel,
    logFormat: logFormatRaw as LogFormat,
    tables,
  };
}

/**
 * A -log-level as confd (logrus) reads it, too: any case, `warning` for warn, `panic` for the
 * most severe (haconfd's fatal). Measured: confd 0.17 accepts warning, WARN, Debug, panic, trace.
 */
export function parseLogLevel(raw: string): LogLevel {
  const lower = raw.toLowerCase();
  const level = lower === 'warning' ? 'warn' : lower === 'panic' ? 'fatal' : lower;
  if (!LOG_LEVELS.includes(level as LogLevel)) throw new ConfigError(`-log-level must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
  return level as LogLevel;
}

function etcdctlPeers(env: NodeJS.ProcessEnv): string[] | undefined {
  const peers = (env['ETCDCTL_PEERS'] ?? '').split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  return peers.length > 0 ? peers : undefined;
}

/** confd: an empty -prefix is no prefix; any other value (even "/") replaces every resource's `prefix`. */
function globalPrefix(raw: string | undefined): string | undefined {
  return raw === undefined || raw === '' ? undefined : normalizeKey(raw);
}

function str(a: Layer, b: Layer, name: string): string | undefined {
  const v = a.values.get(name) ?? b.values.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function normalizeBackend(raw: string): BackendName {
  switch (raw) {
    case 'etcd':
    case 'etcdv3':
      return 'etcdv3';
    case 'zookeeper':
      return 'zookeeper';
    case 'file':
      return 'file';
    case 'env':
      return 'env';
    default:
      throw new ConfigError(`unsupported backend "${raw}": haconfd supports etcdv3 (alias etcd), zookeeper, file and env`);
  }
}

export function parseListen(raw: string | undefined): { host: string; port: number } | undefined {
  if (raw === undefined || raw === '') return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(raw);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new ConfigError(`-listen must be HOST:PORT, got "${raw}"`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

export { ConfigError, UsageError };
