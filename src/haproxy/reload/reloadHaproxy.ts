/**
 * The reload step of a resource whose destination is haproxy.cfg: keep runtime state across the
 * reload, reload with the configured strategy, and confirm the new worker.
 *
 *   1. dump `show servers state` into the server-state file (atomically), leaving out servers whose
 *      address or port changes in the new config;
 *   2. reload (master socket / systemd / command);
 *   3. confirm a new worker is up — or throw ReloadFailedError (the old process keeps serving).
 */
import type { Logger } from '../../log/logger.js';
import { RuntimeClient } from '../runtime/runtimeClient.js';
import { extractConfigServers, type ConfigServer } from '../config/configServers.js';
import { effectiveServers } from '../config/serverKeywords.js';
import { filterServersState, writeFileAtomic } from './serverStateFile.js';
import { parseServersState } from '../runtime/serversState.js';
import { masterSocketReload } from './masterSocketReload.js';
import { commandReload, systemdReload } from './commandReload.js';
import type { ReloadConfig, ReloadStrategy } from './reloadStrategy.js';

export interface ReloadInput {
  /** `server-state-file` path; when undefined no state is saved. */
  readonly stateFile?: string;
  /** Admin socket of the running HAProxy (unix path or ipv4@host:port), for the state dump. */
  readonly adminSocket?: string;
  /** The new config's text (its servers decide what state is kept) … */
  readonly newConfigText?: string;
  /** … or its servers, already extracted. */
  readonly newServers?: readonly ConfigServer[];
}

export interface ReloadResult {
  readonly strategy: ReloadStrategy['kind'];
  readonly oldPid: number | undefined;
  readonly newPid: number | undefined;
  readonly confirmed: boolean;
  readonly durationMs: number;
  /** Servers written to the state file, and the ones left out (with the reason). */
  readonly savedServers: number;
  readonly droppedServers: readonly { readonly ref: string; readonly reason: string }[];
  /** Why no state was saved, when none was. */
  readonly stateSkipped?: string;
}

export function createReloadStrategy(cfg: ReloadConfig): ReloadStrategy {
  switch (cfg.kind) {
    case 'master-socket':
      return masterSocketReload(cfg);
    case 'systemd':
      return systemdReload(cfg);
    case 'command':
      return commandReload(cfg);
  }
}

interface SavedState {
  saved: number;
  dropped: { ref: string; reason: string }[];
  skipped?: string;
}

/** Step 1 alone (exported for tests and for the controller). */
export async function saveServerState(input: ReloadInput, log: Logger): Promise<SavedState> {
  if (!input.stateFile) return { saved: 0, dropped: [], skipped: 'no server-state file configured' };
  if (!input.adminSocket) return { saved: 0, dropped: [], skipped: 'no admin socket configured' };
  const servers = input.newServers ?? (input.newConfigText !== undefined ? extractConfigServers(input.newConfigText) : undefined);
  let dump: string;
  try {
    dump = await new RuntimeClient(input.adminSocket, { timeoutMs: 2000 }).dumpServersState();
  } catch (e) {
    const why = `could not read 'show servers state' from ${input.adminSocket}: ${(e as Error).message}`;
    log.warn({ stateFile: input.stateFile }, why);
    // A stale file is worse than none: HAProxy would restore old states.
    writeFileAtomic(input.stateFile, '1\n');
    return { saved: 0, dropped: [], skipped: why };
  }
  if (servers === undefined) {
    writeFileAtomic(input.stateFile, dump.endsWith('\n') ? dump : `${dump}\n`);
    return { saved: parseServersState(dump).servers.length, dropped: [] };
  }
  const f = filterServersState(dump, servers, input.newConfigText !== undefined ? effectiveServers(input.newConfigText) : []);
  writeFileAtomic(input.stateFile, f.text);
  if (f.dropped.length > 0) log.info({ dropped: f.dropped }, 'server state not kept for servers that change');
  if (f.startingDown.length > 0) log.info({ servers: f.startingDown }, 'new health-checked servers start DOWN: only passing checks make them UP');
  return { saved: f.kept.length, dropped: [...f.dropped] };
}

export async function reloadHaproxy(strategy: ReloadStrategy, input: ReloadInput, log: Logger): Promise<ReloadResult> {
  const t0 = performance.now();
  const state = await saveServerState(input, log);
  const outcome = await strategy.reload(log);
  const durationMs = performance.now() - t0;
  log.info(
    { strategy: strategy.kind, oldPid: outcome.oldPid, newPid: outcome.newPid, confirmed: outcome.confirmed, durationMs: Math.round(durationMs), savedServers: state.saved },
    'haproxy reloaded',
  );
  return {
    strategy: strategy.kind,
    oldPid: outcome.oldPid,
    newPid: outcome.newPid,
    confirmed: outcome.confirmed,
    durationMs,
    savedServers: state.saved,
    droppedServers: state.dropped,
    ...(state.skipped ? { stateSkipped: state.skipped } : {}),
  };
}
