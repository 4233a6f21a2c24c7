/**
 * How HAProxy is reloaded. Three strategies, chosen by config: the master socket of `haproxy -W`,
 * `systemctl reload <unit>`, or a plain shell command (classic `-sf` reload). Each one confirms that a
 * new worker is up, or throws ReloadFailedError quoting HAProxy where it can.
 */
import type { Logger } from '../../log/logger.js';

export interface ReloadOutcome {
  /** Worker PID before and after (undefined when it could not be read). */
  readonly oldPid: number | undefined;
  readonly newPid: number | undefined;
  /** True when a new worker was seen answering; false when only the command's exit status says so. */
  readonly confirmed: boolean;
}

export interface ReloadStrategy {
  /** `master-socket`, `systemd` or `command`, for logs and metrics. */
  readonly kind: 'master-socket' | 'systemd' | 'command';
  /** A readable description, e.g. `master socket /run/haproxy-master.sock`. */
  readonly description: string;
  reload(log: Logger): Promise<ReloadOutcome>;
}

export class ReloadFailedError extends Error {
  override readonly name = 'ReloadFailedError';
  constructor(
    message: string,
    readonly strategy: ReloadStrategy['kind'],
    /** HAProxy's own words (e.g. `[ALERT] … parsing [file:12] …`), when they could be obtained. */
    readonly haproxyMessage?: string,
  ) {
    super(haproxyMessage ? `${message}\n${haproxyMessage}` : message);
  }
}

export type ReloadConfig =
  | { readonly kind: 'master-socket'; readonly masterSocket: string; readonly configFile?: string; readonly haproxyBinary?: string; readonly timeoutMs?: number }
  | { readonly kind: 'systemd'; readonly unit: string; readonly masterSocket?: string; readonly adminSocket?: string; readonly timeoutMs?: number }
  | { readonly kind: 'command'; readonly command: string; readonly adminSocket?: string; readonly timeoutMs?: number };

export const DEFAULT_RELOAD_TIMEOUT_MS = 10_000;
