/**
 * `[template.haproxy]`: reload HAProxy keeping its runtime state (server-state file dumped right
 * before the reload, new worker confirmed after it) instead of a bare reload_cmd.
 *
 *   [template.haproxy]
 *   reload = "master-socket"            # or "systemd" or "command"
 *   master_socket = "/run/haproxy-master.sock"
 *   admin_socket = "/run/haproxy/admin.sock"
 *   state_file = "/var/lib/haproxy/server-state"
 */
import { nearest } from '../config/suggest.js';

export type HaproxyReloadKind = 'master-socket' | 'systemd' | 'command';

export interface HaproxyReloadSettings {
  readonly reload: HaproxyReloadKind;
  readonly masterSocket: string | undefined;
  readonly adminSocket: string | undefined;
  readonly stateFile: string | undefined;
  readonly unit: string;
  readonly command: string | undefined;
  readonly haproxyBinary: string | undefined;
}

const KEYS = ['reload', 'master_socket', 'admin_socket', 'state_file', 'unit', 'command', 'haproxy_binary'] as const;

function str(t: Record<string, unknown>, k: string): string | undefined {
  const v = t[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new Error(`[template.haproxy] ${k} must be a non-empty string`);
  return v;
}

export function parseHaproxyReloadSettings(t: Record<string, unknown>, reloadCmd: string | undefined): HaproxyReloadSettings {
  for (const k of Object.keys(t)) {
    if (!(KEYS as readonly string[]).includes(k)) {
      const guess = nearest(k, KEYS);
      throw new Error(`unknown key "${k}" in [template.haproxy]${guess ? ` (did you mean "${guess}"?)` : ''}`);
    }
  }
  const reload = str(t, 'reload');
  if (reload !== 'master-socket' && reload !== 'systemd' && reload !== 'command') {
    throw new Error(`[template.haproxy] reload must be "master-socket", "systemd" or "command"${reload ? `, got "${reload}"` : ''}`);
  }
  const masterSocket = str(t, 'master_socket');
  const command = str(t, 'command') ?? (reload === 'command' ? reloadCmd : undefined);
  if (reload === 'master-socket' && masterSocket === undefined) throw new Error('[template.haproxy] reload = "master-socket" needs master_socket');
  if (reload === 'command' && command === undefined) throw new Error('[template.haproxy] reload = "command" needs command (or reload_cmd)');
  if (reload !== 'command' && reloadCmd !== undefined) {
    throw new Error(`reload_cmd and [template.haproxy] reload = "${reload}" both reload HAProxy: keep one`);
  }
  const stateFile = str(t, 'state_file');
  const adminSocket = str(t, 'admin_socket');
  if (stateFile !== undefined && adminSocket === undefined) throw new Error('[template.haproxy] state_file needs admin_socket (the state is read from it)');
  return {
    reload,
    masterSocket,
    adminSocket,
    stateFile,
    unit: str(t, 'unit') ?? 'haproxy',
    command,
    haproxyBinary: str(t, 'haproxy_binary'),
  };
}
