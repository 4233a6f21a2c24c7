/**
 * Reload through the master CLI of `haproxy -W -S <socket>`: send `reload` and watch `show proc`.
 * HAProxy 2.6 prints nothing for `reload`: success is the worker PID changing; failure is the
 * master's `[failed: N]` counter going up (the old worker keeps serving).
 */
import type { Logger } from '../../log/logger.js';
import { MasterClient } from './masterClient.js';
import { checkConfigFile } from './configCheck.js';
import { DEFAULT_RELOAD_TIMEOUT_MS, ReloadFailedError, type ReloadOutcome, type ReloadStrategy } from './reloadStrategy.js';

export interface MasterSocketReloadOptions {
  readonly masterSocket: string;
  /** When given, a rejected reload is explained by running `haproxy -c -f configFile`. */
  readonly configFile?: string;
  readonly haproxyBinary?: string;
  readonly timeoutMs?: number;
}

export function masterSocketReload(opts: MasterSocketReloadOptions): ReloadStrategy {
  const master = new MasterClient(opts.masterSocket, { timeoutMs: 2000 });
  const timeoutMs = opts.timeoutMs ?? DEFAULT_RELOAD_TIMEOUT_MS;
  return {
    kind: 'master-socket',
    description: `master socket ${opts.masterSocket}`,
    async reload(log: Logger): Promise<ReloadOutcome> {
      const before = await master.showProc();
      const oldPid = before.workers[0]?.pid;
      const failedBefore = before.failedReloads;
      const reply = (await master.reload()).trim();
      // 2.7+ answers "Success=0|1"; 2.6 says nothing.
      if (/Success=0/.test(reply)) throw await rejected(`HAProxy rejected the reload (${opts.masterSocket})`, reply);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await new Promise((r) => setTimeout(r, 10));
        let now;
        try {
          now = await master.showProc();
        } catch {
          // The master re-executes itself during a reload; its socket is briefly gone.
          now = undefined;
        }
        if (now) {
          if (now.failedReloads > failedBefore) {
            throw await rejected(
              `HAProxy rejected the reload (master ${opts.masterSocket}: failed reloads ${failedBefore} → ${now.failedReloads}); the old worker${oldPid ? ` ${oldPid}` : ''} keeps serving`,
            );
          }
          const w = now.workers[0];
          if (w && w.pid !== oldPid) {
            // The new worker is listed; make sure it answers.
            const answered = await master.workerPid().catch(() => undefined);
            if (answered === w.pid) {
              log.debug({ oldPid, newPid: w.pid }, 'haproxy reload confirmed');
              return { oldPid, newPid: w.pid, confirmed: true };
            }
          }
        }
        if (Date.now() >= deadline) {
          throw new ReloadFailedError(`no new HAProxy worker within ${timeoutMs} ms after 'reload' on ${opts.masterSocket}`, 'master-socket');
        }
      }
    },
  };

  async function rejected(message: string, extra?: string): Promise<ReloadFailedError> {
    let quoted = extra;
    if (opts.configFile) {
      const check = await checkConfigFile(opts.configFile, opts.haproxyBinary).catch(() => undefined);
      if (check && !check.valid) quoted = check.output;
      else if (check) quoted = `${extra ? `${extra}\n` : ''}'haproxy -c -f ${opts.configFile}' passes, so the new worker failed at start-up (a port in use?): see HAProxy's log`;
    }
    return new ReloadFailedError(message, 'master-socket', quoted);
  }
}
