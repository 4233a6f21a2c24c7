/**
 * What `haconfd haproxy …` takes from haconfd.toml and the backend flags: the runtime socket, where
 * operator overrides live, and — when a backend is configured — how to read Patroni's keys.
 *
 *   socket         --socket > [haproxy] socket > [haproxy] admin_socket > [controller] socket > caller default
 *   overrides file --state-dir > [controller] overrides_file > [haproxy] state_dir > caller default
 *                  > /var/lib/haconfd  (file: <state-dir>/haproxy-overrides.json)
 *   namespace      --namespace > [controller] namespace > "/service", absolute (-prefix does not apply, as for the daemon's [controller])
 *
 * A backend counts as configured when -backend, -node or -file is given (or HACONFD_BACKEND,
 * HACONFD_NODE, HACONFD_FILE), when the config file sets backend / nodes / files, or when it has an
 * enabled [controller] table (the daemon reads the DCS for it). --no-roles turns the DCS off.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/config.js';
import { ConfigError, loadConfig, parseConfigFile } from '../config/loadConfig.js';
import type { ParsedFlags } from '../config/flags.js';
import { DEFAULT_STATE_DIR, overridesPath } from '../haproxy/controller/overrides.js';
import { normalizeKey } from '../store/keys.js';
import { CONTROLLER_DEFAULTS, controllerEnabled } from '../haproxy/controller/controllerConfig.js';
import type { BackendPatterns } from '../haproxy/controller/clusterMapping.js';

/** Defaults the caller may supply (e.g. from its own config); the config file wins over them. */
export interface HaproxyCommandDefaults {
  socket?: string;
  stateDir?: string;
  /** Environment for HACONFD_*; process.env when absent. */
  env?: NodeJS.ProcessEnv;
}

export type { BackendPatterns };

/** The controller's default backend names (serverRoles.ts adds the shipped template's optional sync listen). */
export const DEFAULT_PATTERNS: BackendPatterns = {
  writeBackends: CONTROLLER_DEFAULTS.writeBackends,
  readBackends: CONTROLLER_DEFAULTS.readBackends,
  readBackendsWithLeader: CONTROLLER_DEFAULTS.readBackendsWithLeader,
};

export interface DcsSettings {
  readonly config: Config;
  /** Absolute key prefix of Patroni's namespace (absolute; -prefix does not apply). */
  readonly prefix: string;
  /** True when -log-level was given (otherwise the command logs errors only). */
  readonly logLevelGiven: boolean;
}

export interface HaproxySettings {
  readonly socket: string | undefined;
  /** Where the socket default came from, for messages. */
  readonly socketSource: string | undefined;
  readonly overridesFile: string;
  readonly patterns: BackendPatterns;
  /** undefined when no backend is configured (no role columns). */
  readonly dcs: DcsSettings | undefined;
  /** The config file that was read, if any. */
  readonly configFile: string | undefined;
}

export interface HaproxySettingsInput {
  /** Backend flags given after the subcommand (flagSpec names). */
  readonly flags: ParsedFlags;
  readonly env: NodeJS.ProcessEnv;
  readonly socket?: string | undefined;
  readonly stateDir?: string | undefined;
  readonly namespace?: string | undefined;
  readonly noRoles: boolean;
  readonly defaults: HaproxyCommandDefaults;
}

const DCS_FLAGS = ['backend', 'node', 'file'];

type Table = Readonly<Record<string, unknown>>;

function tableString(table: Table | undefined, key: string, where: string): string | undefined {
  const v = table?.[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw new ConfigError(`${where} ${key} must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function tablePatterns(table: Table | undefined, key: string, where: string): string[] | undefined {
  const v = table?.[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ConfigError(`${where} ${key} must be a list of strings`);
  return v as string[];
}

function fileSetsBackend(path: string): boolean {
  const { layer } = parseConfigFile(path, readFileSync(path, 'utf8'));
  return DCS_FLAGS.some((f) => layer.values.has(f));
}

/** Loads haconfd.toml (via -confdir / -config-file / HACONFD_*) and resolves the command's settings. */
export function resolveHaproxySettings(input: HaproxySettingsInput): HaproxySettings {
  const config = loadConfig({ flags: input.flags, env: input.env });
  const where = config.configFile ?? 'config file';
  const haproxy: Table = config.tables.haproxy;
  const controller: Table | undefined = config.tables.controller;
  const controllerOn = controllerEnabled(controller);

  let socket = input.socket;
  let socketSource: string | undefined = input.socket !== undefined ? '--socket' : undefined;
  const candidates: [Table | undefined, string, string][] = [
    [haproxy, 'socket', '[haproxy]'],
    [haproxy, 'admin_socket', '[haproxy]'],
    [controller, 'socket', '[controller]'],
  ];
  for (const [table, key, name] of candidates) {
    const v = tableString(table, key, `${where}: ${name}`);
    if (socket === undefined && v !== undefined) {
      socket = v;
      socketSource = `${name} ${key} in ${where}`;
    }
  }
  if (socket === undefined && input.defaults.socket !== undefined) {
    socket = input.defaults.socket;
    socketSource = 'default';
  }

  const controllerOverrides = tableString(controller, 'overrides_file', `${where}: [controller]`);
  const stateDirFromFile = tableString(haproxy, 'state_dir', `${where}: [haproxy]`);
  const overridesFile =
    input.stateDir !== undefined
      ? overridesPath(input.stateDir)
      : (controllerOverrides ?? overridesPath(stateDirFromFile ?? input.defaults.stateDir ?? DEFAULT_STATE_DIR));

  const patterns: BackendPatterns = {
    writeBackends: tablePatterns(controller, 'write_backends', `${where}: [controller]`) ?? DEFAULT_PATTERNS.writeBackends,
    readBackends: tablePatterns(controller, 'read_backends', `${where}: [controller]`) ?? DEFAULT_PATTERNS.readBackends,
    readBackendsWithLeader: tablePatterns(controller, 'read_backends_with_leader', `${where}: [controller]`) ?? DEFAULT_PATTERNS.readBackendsWithLeader,
  };

  const envSets = ['HACONFD_BACKEND', 'HACONFD_NODE', 'HACONFD_FILE'].some((k) => (input.env[k] ?? '') !== '');
  const configured =
    !input.noRoles &&
    (DCS_FLAGS.some((f) => input.flags.has(f)) || envSets || controllerOn || (config.configFile !== undefined && fileSetsBackend(config.configFile)));
  const namespace = input.namespace ?? tableString(controller, 'namespace', `${where}: [controller]`) ?? CONTROLLER_DEFAULTS.namespace;

  return {
    socket,
    socketSource,
    overridesFile,
    patterns,
    dcs: configured ? { config, prefix: normalizeKey(namespace), logLevelGiven: input.flags.has('log-level') || (input.env['HACONFD_LOG_LEVEL'] ?? '') !== '' } : undefined,
    configFile: config.configFile,
  };
}
