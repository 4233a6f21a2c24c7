/**
 * The `[controller]` table of haconfd.toml, validated into a typed ControllerConfig. Pure.
 *
 *   [controller]
 *   socket = "/run/haproxy/admin.sock"     # admin-level stats socket (or ipv4@host:port); required
 *   namespace = "/service"                 # Patroni's namespace (every scope under it is a cluster)
 *   scopes = []                            # only these cluster ids (scope, or scope_group); [] = all
 *   interval = "1s"                        # level-triggered safety tick
 *   confirm_timeout = "5s"                 # bound on confirming a new leader through its REST API
 *   confirm_poll_interval = "25ms"
 *   confirm_request_timeout = "1s"         # per GET /patroni
 *   api_verify_tls = true                  # https REST APIs: verify the certificate
 *   socket_timeout = "2s"
 *   overrides_file = "/var/lib/haconfd/haproxy-overrides.json"
 *   dcs_down_release = "30s"               # DCS unreachable this long → our MAINT/DRAIN go back to the checks ("0s" = never)
 *   write_backends = ["{cluster}_primary"]
 *   read_backends = ["{cluster}_replicas"]
 *   read_backends_with_leader = ["{cluster}_read_only"]
 *   runtime_membership = true              # members added/removed through add/del server, no reload
 *   removal_grace = "30s"                  # a removed server's sessions are shut after this, so it can be deleted
 *   hold_on_switchover = true              # hold new write connections during a planned switchover until the key moves
 *   switchover_hold_from = "request"       # hold from the failover key, or "shutdown" (the leader's Postgres stopping)
 *   switchover_hold_max = "30s"            # a switchover still pending after this long is no longer held
 *   reload_hold_wait = "30s"               # a reload waits this long for held write connections to be routed ("0s" = not at all)
 */
import { parseDuration } from '../../config/duration.js';
import { nearest } from '../../config/suggest.js';
import { CONTROLLER_KEYS, type ConfigTables } from '../../config/tables.js';
import { parseSocketAddress } from '../runtime/socketAddress.js';
import { overridesPath } from './overrides.js';
import { normalizeKey } from '../../store/keys.js';
import type { HoldFrom } from './switchoverHold.js';

export interface ControllerConfig {
  readonly socket: string;
  readonly namespace: string;
  readonly scopes: readonly string[];
  readonly intervalMs: number;
  readonly confirmTimeoutMs: number;
  readonly confirmPollMs: number;
  readonly confirmRequestTimeoutMs: number;
  readonly apiVerifyTls: boolean;
  readonly socketTimeoutMs: number;
  readonly overridesFile: string;
  /** 0 = never hand our MAINT/DRAIN back to the checks while the DCS is down. */
  readonly dcsDownReleaseMs: number;
  /** Backend name patterns; `{cluster}` is the cluster id (scope, or scope_group for Citus). */
  readonly writeBackends: readonly string[];
  readonly readBackends: readonly string[];
  readonly readBackendsWithLeader: readonly string[];
  /** Apply a haproxy.cfg that only adds/removes servers through the runtime API instead of reloading. */
  readonly runtimeMembership: boolean;
  readonly removalGraceMs: number;
  /** Hold new connections to the write listens while a planned switchover is under way (haconfd-hold.lua). */
  readonly holdOnSwitchover: boolean;
  /** When a switchover's hold starts: the leader's Postgres shutting down, or the failover key. */
  readonly switchoverHoldFrom: HoldFrom;
  readonly switchoverHoldMaxMs: number;
  /** A reload of haconfd's waits at most this long for the connections held in write listens to be routed. */
  readonly reloadHoldWaitMs: number;
}

export class ControllerConfigError extends Error {
  override readonly name = 'ControllerConfigError';
  constructor(detail: string) {
    super(`[controller] ${detail}`);
  }
}

export const CONTROLLER_DEFAULTS = {
  namespace: '/service',
  intervalMs: 1000,
  confirmTimeoutMs: 5000,
  confirmPollMs: 25,
  confirmRequestTimeoutMs: 1000,
  socketTimeoutMs: 2000,
  dcsDownReleaseMs: 30_000,
  writeBackends: ['{cluster}_primary'],
  readBackends: ['{cluster}_replicas'],
  readBackendsWithLeader: ['{cluster}_read_only'],
  removalGraceMs: 30_000,
  switchoverHoldMaxMs: 30_000,
  reloadHoldWaitMs: 30_000,
} as const;

const PATTERN = /^[A-Za-z0-9_.:-]*(\{cluster\}[A-Za-z0-9_.:-]*)?$/;

function str(t: Readonly<Record<string, unknown>>, k: string): string | undefined {
  const v = t[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw new ControllerConfigError(`${k} must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function duration(t: Readonly<Record<string, unknown>>, k: string, dflt: number, min: number, max: number): number {
  const v = t[k];
  if (v === undefined) return dflt;
  let ms: number;
  try {
    ms = parseDuration(v, k);
  } catch (e) {
    throw new ControllerConfigError((e as Error).message);
  }
  if (ms < min || ms > max) throw new ControllerConfigError(`${k} must be between ${min} ms and ${max} ms, got ${ms} ms`);
  return ms;
}

function patterns(t: Readonly<Record<string, unknown>>, k: string, dflt: readonly string[]): readonly string[] {
  const v = t[k];
  if (v === undefined) return dflt;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ControllerConfigError(`${k} must be a list of strings`);
  for (const p of v as string[]) {
    if (p === '' || !PATTERN.test(p)) {
      throw new ControllerConfigError(`${k}: ${JSON.stringify(p)} is not a backend name pattern (letters, digits, '-', '_', '.', ':' and one {cluster})`);
    }
  }
  return v as string[];
}

/** True when the table asks for the controller (present and not `enabled = false`). */
export function controllerEnabled(table: Readonly<Record<string, unknown>> | undefined): boolean {
  return table !== undefined && table['enabled'] !== false;
}

/**
 * Validates the `[controller]` table. `haproxyTable` (the `[haproxy]` table) supplies a default
 * socket (`socket`, then `admin_socket`) and state dir (`state_dir`) so the operator commands and
 * the controller agree.
 */
export function parseControllerConfig(
  table: Readonly<Record<string, unknown>>,
  haproxyTable: Readonly<Record<string, unknown>> = {},
): ControllerConfig {
  for (const k of Object.keys(table)) {
    if (!(CONTROLLER_KEYS as readonly string[]).includes(k)) {
      const guess = nearest(k, CONTROLLER_KEYS);
      throw new ControllerConfigError(`unknown key "${k}"${guess ? ` (did you mean "${guess}"?)` : ''}`);
    }
  }
  if (table['enabled'] !== undefined && typeof table['enabled'] !== 'boolean') throw new ControllerConfigError('enabled must be true or false');
  const fromHaproxy = (k: string): string | undefined => (typeof haproxyTable[k] === 'string' && haproxyTable[k] !== '' ? (haproxyTable[k] as string) : undefined);
  // The same order as `haconfd haproxy …` (src/cli/haproxyDefaults.ts).
  const fallbackSocket = fromHaproxy('socket') ?? fromHaproxy('admin_socket');
  const socket = str(table, 'socket') ?? fallbackSocket;
  if (socket === undefined) throw new ControllerConfigError('socket is required: the admin-level stats socket of HAProxy (e.g. "/run/haproxy/admin.sock")');
  try {
    parseSocketAddress(socket);
  } catch (e) {
    throw new ControllerConfigError(`socket: ${(e as Error).message}`);
  }
  const namespace = normalizeKey(str(table, 'namespace') ?? CONTROLLER_DEFAULTS.namespace);
  const scopesRaw = table['scopes'];
  if (scopesRaw !== undefined && (!Array.isArray(scopesRaw) || scopesRaw.some((s) => typeof s !== 'string' || s === ''))) {
    throw new ControllerConfigError('scopes must be a list of cluster names');
  }
  const verify = table['api_verify_tls'];
  if (verify !== undefined && typeof verify !== 'boolean') throw new ControllerConfigError('api_verify_tls must be true or false');
  const runtimeMembership = table['runtime_membership'];
  if (runtimeMembership !== undefined && typeof runtimeMembership !== 'boolean') throw new ControllerConfigError('runtime_membership must be true or false');
  const holdOnSwitchover = table['hold_on_switchover'];
  if (holdOnSwitchover !== undefined && typeof holdOnSwitchover !== 'boolean') throw new ControllerConfigError('hold_on_switchover must be true or false');
  const holdFrom = table['switchover_hold_from'];
  if (holdFrom !== undefined && holdFrom !== 'shutdown' && holdFrom !== 'request') {
    throw new ControllerConfigError(`switchover_hold_from must be "shutdown" or "request"${typeof holdFrom === 'string' ? ` (got "${holdFrom}"${nearestHoldFrom(holdFrom)})` : ''}`);
  }
  const stateDir = typeof haproxyTable['state_dir'] === 'string' && haproxyTable['state_dir'] !== '' ? haproxyTable['state_dir'] : undefined;
  const confirmPollMs = duration(table, 'confirm_poll_interval', CONTROLLER_DEFAULTS.confirmPollMs, 5, 5000);
  const confirmTimeoutMs = duration(table, 'confirm_timeout', CONTROLLER_DEFAULTS.confirmTimeoutMs, 100, 300_000);
  if (confirmPollMs >= confirmTimeoutMs) throw new ControllerConfigError('confirm_poll_interval must be shorter than confirm_timeout');
  return {
    socket,
    namespace,
    scopes: (scopesRaw as string[] | undefined) ?? [],
    intervalMs: duration(table, 'interval', CONTROLLER_DEFAULTS.intervalMs, 100, 3_600_000),
    confirmTimeoutMs,
    confirmPollMs,
    confirmRequestTimeoutMs: duration(table, 'confirm_request_timeout', CONTROLLER_DEFAULTS.confirmRequestTimeoutMs, 10, 60_000),
    apiVerifyTls: verify === undefined ? true : verify,
    socketTimeoutMs: duration(table, 'socket_timeout', CONTROLLER_DEFAULTS.socketTimeoutMs, 50, 60_000),
    overridesFile: str(table, 'overrides_file') ?? overridesPath(stateDir),
    dcsDownReleaseMs: duration(table, 'dcs_down_release', CONTROLLER_DEFAULTS.dcsDownReleaseMs, 0, 86_400_000),
    writeBackends: patterns(table, 'write_backends', CONTROLLER_DEFAULTS.writeBackends),
    readBackends: patterns(table, 'read_backends', CONTROLLER_DEFAULTS.readBackends),
    readBackendsWithLeader: patterns(table, 'read_backends_with_leader', CONTROLLER_DEFAULTS.readBackendsWithLeader),
    runtimeMembership: runtimeMembership === undefined ? true : runtimeMembership,
    removalGraceMs: duration(table, 'removal_grace', CONTROLLER_DEFAULTS.removalGraceMs, 0, 86_400_000),
    holdOnSwitchover: holdOnSwitchover === undefined ? true : holdOnSwitchover,
    switchoverHoldFrom: holdFrom ?? 'request',
    switchoverHoldMaxMs: duration(table, 'switchover_hold_max', CONTROLLER_DEFAULTS.switchoverHoldMaxMs, 1000, 3_600_000),
    reloadHoldWaitMs: duration(table, 'reload_hold_wait', CONTROLLER_DEFAULTS.reloadHoldWaitMs, 0, 3_600_000),
  };
}

function nearestHoldFrom(v: string): string {
  const n = nearest(v, ['shutdown', 'request']);
  return n === undefined ? '' : `; did you mean "${n}"?`;
}

/**
 * The controller's settings from the config's tables: undefined when `[controller]` is absent or
 * `enabled = false`. Throws ControllerConfigError for a bad table.
 */
export function controllerSettingsOf(tables: ConfigTables): ControllerConfig | undefined {
  return controllerEnabled(tables.controller) ? parseControllerConfig(tables.controller as Readonly<Record<string, unknown>>, tables.haproxy) : undefined;
}
