/**
 * chk_haproxy.sh as typed data: how the script proves HAProxy serves (never `killall -0`),
 * and the optional, bounded restart attempt. Pure.
 */
import { isIP } from 'node:net';
import { PLAIN_PATH, type SpecError, type ValidationResult } from './spec.js';

export type ProbeKind = 'http' | 'tcp' | 'master';

export interface ChkHaproxySpec {
  readonly probe: ProbeKind;
  /** http: the stats page (or any URL HAProxy itself answers). */
  readonly statsUrl: string;
  /** tcp: host and ports that must accept a connection. */
  readonly tcpHost: string;
  readonly tcpPorts: readonly number[];
  /** master: "unix:/path", "/path", "ipv4@host:port" or "host:port" of HAProxy's master CLI. */
  readonly masterSocket: string;
  /** Seconds each probe may take. */
  readonly probeTimeout: number;
  /** keepalived's vrrp_script timeout (chk_timeout): the script's whole run must fit in it. */
  readonly keepalivedTimeout: number;
  /** Command for the one restart attempt; undefined → no restart. */
  readonly restartCmd: string | undefined;
  /** Seconds the restart command may take (then it is killed). */
  readonly restartTimeout: number;
  /** At most one restart attempt per this many seconds. */
  readonly restartInterval: number;
  /** Where the time of the last restart attempt is kept. */
  readonly restartStampFile: string;
}

export const PROBE_KINDS: readonly ProbeKind[] = ['http', 'tcp', 'master'];

const HOST = /^[A-Za-z0-9.-]{1,253}$/;

/** Where the master CLI listens: a unix socket path or a TCP host:port. */
export type MasterAddress = { readonly kind: 'unix'; readonly path: string } | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

export function parseMasterAddress(text: string): MasterAddress | undefined {
  const t = text.replace(/^(unix:|unix@)/, '');
  if (t.startsWith('/')) return PLAIN_PATH.test(t) ? { kind: 'unix', path: t } : undefined;
  const m = /^(?:ipv4@|tcp:)?([A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { kind: 'tcp', host: m[1] as string, port };
}

function hostOk(h: string): boolean {
  return isIP(h) !== 0 || HOST.test(h);
}

/** The longest the script can run: probe, restart, probe again. */
export function worstCaseSeconds(spec: ChkHaproxySpec): number {
  const probes = spec.probe === 'tcp' ? Math.max(1, spec.tcpPorts.length) : 1;
  const once = probes * spec.probeTimeout;
  return spec.restartCmd === undefined ? once : 2 * once + spec.restartTimeout;
}

export function validateChkSpec(spec: ChkHaproxySpec): ValidationResult {
  const errors: SpecError[] = [];
  if (!PROBE_KINDS.includes(spec.probe)) {
    errors.push({ field: 'probe', message: `must be one of ${PROBE_KINDS.join(', ')} (got ${JSON.stringify(spec.probe)}); killall -0/pidof are not offered: they say nothing about serving` });
  }
  if (spec.probe === 'http') {
    let url: URL | undefined;
    try {
      url = new URL(spec.statsUrl);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || /[\s'"`\\]/.test(spec.statsUrl)) {
      errors.push({ field: 'stats_url', message: `"${spec.statsUrl}" is not an http(s) URL without quotes or spaces (e.g. http://127.0.0.1:7000/)` });
    }
  }
  if (spec.probe === 'tcp') {
    if (!hostOk(spec.tcpHost)) errors.push({ field: 'tcp_host', message: `"${spec.tcpHost}" is not an IP address or host name` });
    if (spec.tcpPorts.length === 0) errors.push({ field: 'tcp_ports', message: 'is empty: name the ports HAProxy listens on (e.g. [5000, 5001])' });
    for (const p of spec.tcpPorts) {
      if (!Number.isInteger(p) || p < 1 || p > 65535) errors.push({ field: 'tcp_ports', message: `${p} is not a port (1–65535)` });
    }
  }
  if (spec.probe === 'master') {
    const a = parseMasterAddress(spec.masterSocket);
    if (a === undefined || (a.kind === 'tcp' && !hostOk(a.host))) {
      errors.push({ field: 'master_socket', message: `"${spec.masterSocket}" is not a unix socket path or host:port` });
    }
  }
  if (!Number.isInteger(spec.probeTimeout) || spec.probeTimeout < 1 || spec.probeTimeout > 60) {
    errors.push({ field: 'probe_timeout', message: `must be 1–60 seconds (got ${spec.probeTimeout})` });
  }
  if (!Number.isInteger(spec.keepalivedTimeout) || spec.keepalivedTimeout < 1) {
    errors.push({ field: 'chk_timeout', message: `must be a whole number of at least 1 (got ${spec.keepalivedTimeout})` });
  }
  if (spec.restartCmd !== undefined) {
    if (spec.restartCmd.trim() === '' || /[\n\r\0]/.test(spec.restartCmd)) {
      errors.push({ field: 'restart_cmd', message: 'must be one non-empty line' });
    }
    if (!Number.isInteger(spec.restartTimeout) || spec.restartTimeout < 1 || spec.restartTimeout > 300) {
      errors.push({ field: 'restart_timeout', message: `must be 1–300 seconds (got ${spec.restartTimeout})` });
    }
    if (!Number.isInteger(spec.restartInterval) || spec.restartInterval < 1) {
      errors.push({ field: 'restart_interval', message: `must be a whole number of seconds (got ${spec.restartInterval})` });
    }
    if (!PLAIN_PATH.test(spec.restartStampFile)) {
      errors.push({ field: 'restart_stamp_file', message: `"${spec.restartStampFile}" must be a plain absolute path` });
    }
  }
  if (errors.length === 0 && worstCaseSeconds(spec) > spec.keepalivedTimeout) {
    errors.push({
      field: 'chk_timeout',
      message: `${spec.keepalivedTimeout} s is shorter than the script's worst case (${worstCaseSeconds(spec)} s: probe${spec.restartCmd ? ' + restart + probe' : ''}); keepalived would kill it and count a failure`,
    });
  }
  return { ok: errors.length === 0, errors };
}
