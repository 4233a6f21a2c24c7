/**
 * The server-state file HAProxy reads at start-up (`server-state-file` + `load-server-state-from-file
 * global`): a `show servers state` dump taken right before a reload, minus the servers whose address
 * or port changes in the new config (the file's port would override the new one), plus a line for
 * every health-checked server the new config adds or moves: as if its last check had failed, so it starts
 * DOWN and only passing checks make it UP. Without that line HAProxy 2.6 starts a new server UP
 * before any check — a replica added to a write backend would take writes.
 */
import { openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { parseServersState, SERVERS_STATE_COLUMNS, type ActualServer } from '../runtime/serversState.js';
import { serverKey } from '../runtime/names.js';
import type { ConfigServer } from '../config/configServers.js';
import { flagOn, lastArgument, type EffectiveServer } from '../config/serverKeywords.js';

export interface FilteredState {
  /** The file's text: version line, header, kept server lines. */
  readonly text: string;
  readonly kept: readonly ActualServer[];
  /** `backend/server` with why it was left out. */
  readonly dropped: readonly { readonly ref: string; readonly reason: string }[];
  /** `backend/server` of the new servers given a line that starts them DOWN. */
  readonly startingDown: readonly string[];
}

const HEADER = `# ${SERVERS_STATE_COLUMNS.join(' ')}`;

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const isIp = (a: string): boolean => IPV4.test(a) || a.includes(':');

/**
 * Keeps the dump's lines for servers that the new config still has at the same address and port.
 * Servers (or backends) that the new config no longer has are dropped too.
 */
export function filterServersState(dump: string, newConfig: readonly ConfigServer[], added: readonly EffectiveServer[] = []): FilteredState {
  const wanted = new Map<string, ConfigServer>();
  for (const c of newConfig) wanted.set(serverKey(c.backend, c.server), c);
  const kept: ActualServer[] = [];
  const dropped: { ref: string; reason: string }[] = [];
  for (const s of parseServersState(dump).servers) {
    const ref = serverKey(s.backend, s.server);
    const c = wanted.get(ref);
    if (!c) {
      dropped.push({ ref, reason: 'not in the new config' });
      continue;
    }
    const cfgPort = c.port ?? 0;
    if (cfgPort !== s.port) {
      dropped.push({ ref, reason: `port ${s.port} → ${cfgPort}` });
      continue;
    }
    // Name-based servers: HAProxy stores the resolved IP in srv_addr and the name in srv_fqdn.
    const addrNow = isIp(c.addr) ? s.addr : (s.fqdn ?? s.addr);
    if (addrNow.toLowerCase() !== c.addr.toLowerCase()) {
      dropped.push({ ref, reason: `address ${addrNow} → ${c.addr}` });
      continue;
    }
    kept.push(s);
  }
  // Servers that are new, or whose address or port changed, start DOWN (when their checks can decide).
  const { lines, refs } = startingDownLines(parseServersState(dump).servers, added.filter((a) => !kept.some((k) => k.backend === a.backend && k.server === a.server)));
  const text = ['1', HEADER, ...kept.map((s) => s.line), ...lines, ''].join('\n');
  return { text, kept, dropped, startingDown: refs };
}

/**
 * State lines for `config`'s servers (those whose state is not kept: new, or moved), when HAProxy's
 * checks can bring them UP: health-checked (`check`), no agent check, an IP address and a port, in a backend the
 * running worker has (its id is needed). The line reads "last check failed, health 0, checks on";
 * HAProxy 2.6 matches it by backend and server name.
 */
export function startingDownLines(running: readonly ActualServer[], config: readonly EffectiveServer[]): { lines: string[]; refs: string[] } {
  const backendId = new Map<string, number>();
  const nextId = new Map<string, number>();
  for (const s of running) {
    backendId.set(s.backend, s.backendId);
    nextId.set(s.backend, Math.max(nextId.get(s.backend) ?? 1, s.serverId + 1));
  }
  const lines: string[] = [];
  const refs: string[] = [];
  for (const c of config) {
    const ref = serverKey(c.backend, c.server);
    const be = backendId.get(c.backend);
    if (be === undefined || c.port === undefined || !isIp(c.addr)) continue;
    const kw = c.keywords;
    if (!flagOn(kw, 'check') || flagOn(kw, 'agent-check')) continue;
    const weight = Number(lastArgument(kw, 'weight') ?? 1);
    const checkPort = Number(lastArgument(kw, 'port') ?? 0);
    if (!Number.isInteger(weight) || !Number.isInteger(checkPort)) continue;
    const id = nextId.get(c.backend) ?? 1;
    nextId.set(c.backend, id + 1);
    // be_id be_name srv_id srv_name srv_addr op_state(0 stopped) admin uweight iweight since
    // check_status(8 L4CON) check_result(2 failed) check_health(0) check_state(6 configured+enabled)
    // agent_state forced_ids fqdn port srvrecord use_ssl check_port check_addr agent_addr agent_port
    // (agent_port 0: agent-checked servers never get here, and the check port is not the agent's).
    lines.push([be, c.backend, id, c.server, c.addr, 0, 0, weight, weight, 0, 8, 2, 0, 6, 0, 0, 0, '-', c.port, '-', flagOn(kw, 'ssl') ? 1 : 0, checkPort, lastArgument(kw, 'addr') ?? '-', '-', 0].join(' '));
    refs.push(ref);
  }
  return { lines, refs };
}

/** Writes `text` to `path` atomically: temp file in the same directory, fsync, rename, fsync dir. */
export function writeFileAtomic(path: string, text: string): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* best effort */
    }
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* best effort */
    }
    throw e;
  }
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* some filesystems refuse fsync on a directory */
  }
}
