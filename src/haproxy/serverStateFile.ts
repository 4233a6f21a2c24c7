/**
 * The server-state file HAProxy reads at start-up (`server-state-file` + `load-server-state-from-file
 * global`): a `show servers state` dump taken right before a reload, minus the servers whose address
 * or port changes in the new config (the file's port would override the new one).
 */
import { openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { parseServersState, SERVERS_STATE_COLUMNS, type ActualServer } from './serversState.js';
import { serverKey } from './names.js';
import type { ConfigServer } from './configServers.js';

export interface FilteredState {
  /** The file's text: version line, header, kept server lines. */
  readonly text: string;
  readonly kept: readonly ActualServer[];
  /** `backend/server` with why it was left out. */
  readonly dropped: readonly { readonly ref: string; readonly reason: string }[];
}

const HEADER = `# ${SERVERS_STATE_COLUMNS.join(' ')}`;

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const isIp = (a: string): boolean => IPV4.test(a) || a.includes(':');

/**
 * Keeps the dump's lines for servers that the new config still has at the same address and port.
 * Servers (or backends) that the new config no longer has are dropped too.
 */
export function filterServersState(dump: string, newConfig: readonly ConfigServer[]): FilteredState {
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
  const text = ['1', HEADER, ...kept.map((s) => s.line), ''].join('\n');
  return { text, kept, dropped };
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
