/**
 * The tables of haconfd.toml besides the top-level flag keys, each with its one list of keys:
 * an unknown key (or table) is a configuration error naming it and the nearest valid one, in every
 * mode alike (-onetime, the daemon, SIGHUP, `haconfd haproxy …`).
 *
 *   [haproxy]      where HAProxy's runtime socket and haconfd's state live (operator commands, controller)
 *   [controller]   the HAProxy controller; what each value means is checked by
 *                  src/haproxy/controller/controllerConfig.ts (bounds, socket address, patterns)
 */
import { ConfigError } from './config.js';
import { nearest } from './suggest.js';

export const HAPROXY_KEYS = ['socket', 'admin_socket', 'state_dir'] as const;

export const CONTROLLER_KEYS = [
  'enabled', 'socket', 'namespace', 'scopes', 'interval', 'confirm_timeout', 'confirm_poll_interval', 'confirm_request_timeout',
  'api_verify_tls', 'socket_timeout', 'overrides_file', 'dcs_down_release', 'write_backends', 'read_backends',
  'read_backends_with_leader', 'runtime_membership', 'removal_grace', 'hold_on_switchover', 'switchover_hold_from', 'switchover_hold_max', 'reload_hold_wait',
] as const;

export type ControllerKey = (typeof CONTROLLER_KEYS)[number];

/** `[haproxy]`, typed. */
export type HaproxyTable = {
  readonly socket?: string;
  readonly admin_socket?: string;
  readonly state_dir?: string;
};

/** `[controller]` as written: known keys only; their values are checked by the controller's settings. */
export type ControllerTable = { readonly [K in ControllerKey]?: unknown };

/** Every table the config file may have, typed. */
export interface ConfigTables {
  /** `[haproxy]` ({} when absent). */
  readonly haproxy: HaproxyTable;
  /** `[controller]`, undefined when absent. */
  readonly controller: ControllerTable | undefined;
}

export const TABLE_NAMES = ['haproxy', 'controller'] as const;

export const NO_TABLES: ConfigTables = { haproxy: {}, controller: undefined };

/** Throws ConfigError for a key not in `keys`, naming the nearest one. */
export function checkKeys(where: string, table: Readonly<Record<string, unknown>>, keys: readonly string[]): void {
  for (const k of Object.keys(table)) {
    if (!keys.includes(k)) {
      const guess = nearest(k, keys);
      throw new ConfigError(`${where}unknown key "${k}"${guess ? ` (did you mean "${guess}"?)` : ''}`);
    }
  }
}

function asTable(path: string, name: string, raw: unknown): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${path}: ${name} must be a table ([${name}])`);
  return { ...(raw as Record<string, unknown>) };
}

/** The file's `[haproxy]` and `[controller]` tables (raw TOML values), checked and typed. */
export function parseTables(path: string, raw: Readonly<Record<string, unknown>>): ConfigTables {
  let haproxy: HaproxyTable = {};
  let controller: ControllerTable | undefined;
  if (raw['haproxy'] !== undefined) {
    const t = asTable(path, 'haproxy', raw['haproxy']);
    checkKeys(`${path}: [haproxy] `, t, HAPROXY_KEYS);
    for (const k of HAPROXY_KEYS) {
      const v = t[k];
      if (v !== undefined && (typeof v !== 'string' || v.trim() === '')) {
        throw new ConfigError(`${path}: [haproxy] ${k} must be a non-empty string, got ${JSON.stringify(v)}`);
      }
    }
    haproxy = t as HaproxyTable;
  }
  if (raw['controller'] !== undefined) {
    const t = asTable(path, 'controller', raw['controller']);
    checkKeys(`${path}: [controller] `, t, CONTROLLER_KEYS);
    controller = t as ControllerTable;
  }
  return { haproxy, controller };
}
