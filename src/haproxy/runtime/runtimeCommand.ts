/**
 * The server-state changes the controller and the operator commands send, and the exact runtime
 * API line each becomes. Names are validated here, so no value can add a command.
 */
import { assertHaproxyIdentifier } from './names.js';

/**
 * - `maint`: no traffic, checks paused (with `on-marked-down shutdown-sessions`, sessions are cut).
 * - `drain`: no new connections, sessions stay, checks run.
 * - `ready`: leave drain (or maint) — leaving maint makes the server UP at once, see below.
 * - `ready-health-down`: leave maint/drain but start DOWN, so only a passing check makes it UP (at
 *   weight 0 meanwhile, so the instant it is UP it takes none of its backend's queued connections;
 *   then the configured weight again).
 * - `ready-health-up`: leave maint/drain and be UP now (the confirmed leader only).
 * - `health-up`: force the operational state UP now (the confirmed leader only); the checks keep
 *   running and take it DOWN after `fall` failures.
 * - `health-down`: force the operational state DOWN now; the checks keep running and bring it UP
 *   after `rise` passes (with `on-marked-down shutdown-sessions`, HAProxy 2.6 cuts its sessions).
 * - `health-down-cut`: `health-down`, and its sessions cut explicitly (`shutdown sessions server`),
 *   whatever `on-marked-down` says: a demoted leader of a write backend.
 */
export type ServerAction = 'maint' | 'drain' | 'ready' | 'ready-health-down' | 'ready-health-up' | 'health-up' | 'health-down' | 'health-down-cut';

export const SERVER_ACTIONS: readonly ServerAction[] = ['maint', 'drain', 'ready', 'ready-health-down', 'ready-health-up', 'health-up', 'health-down', 'health-down-cut'];

export interface RuntimeCommand {
  readonly backend: string;
  readonly server: string;
  readonly action: ServerAction;
  /** Why (for logs and metrics), e.g. "not the leader", "operator drain". */
  readonly reason: string;
}

/** The runtime API line for `cmd` (several commands joined by `;` are applied in one exchange). */
export function commandLine(cmd: Pick<RuntimeCommand, 'backend' | 'server' | 'action'>): string {
  const ref = `${assertHaproxyIdentifier('backend', cmd.backend)}/${assertHaproxyIdentifier('server', cmd.server)}`;
  switch (cmd.action) {
    case 'maint':
      return `set server ${ref} state maint`;
    case 'drain':
      return `set server ${ref} state drain`;
    case 'ready':
      return `set server ${ref} state ready`;
    case 'ready-health-down':
      // Weight 0 while it leaves MAINT: for that instant the server is UP, and an UP, usable server
      // takes the connections queued on its backend (a burst queued for the leader would go to it).
      return `set server ${ref} weight 0; set server ${ref} state ready; set server ${ref} health down; set server ${ref} weight 100%`;
    case 'ready-health-up':
      return `set server ${ref} state ready; set server ${ref} health up`;
    case 'health-up':
      return `set server ${ref} health up`;
    case 'health-down':
      return `set server ${ref} health down`;
    case 'health-down-cut':
      return `set server ${ref} health down; shutdown sessions server ${ref}`;
  }
}

/**
 * The `add server` line (HAProxy ≥ 2.5): backend/server at `address` (`host:port`, `[v6]:port`)
 * with `keywords` spelled out (a dynamic server inherits nothing from `default-server`). It
 * starts in MAINT, checks off.
 */
export function addServerLine(backend: string, server: string, address: string, keywords: readonly string[] = []): string {
  return [`add server ${assertHaproxyIdentifier('backend', backend)}/${assertHaproxyIdentifier('server', server)} ${address}`, ...keywords].join(' ');
}
