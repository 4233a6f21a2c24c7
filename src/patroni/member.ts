/**
 * One Patroni member, parsed from the value of `members/<name>` and validated so that every field
 * that may reach a config file is data, never syntax. Pure.
 */
import { AddressError, checkHaproxyName, classifyHost, formatHostPort, parsePort, parseUrl, quote, rejectUnspecified, type HostKind } from './address.js';
import { redactText } from '../log/redact.js';

/** Patroni's roles; `master` (≤ 3.x) and `primary` (4.0+) are one: 'primary'. */
export type MemberRole = 'primary' | 'replica' | 'standby_leader' | 'demoted' | 'uninitialized' | 'promoted' | 'unknown';

export interface MemberTags {
  readonly noloadbalance: boolean;
  readonly nofailover: boolean;
  readonly nosync: boolean;
  readonly nostream: boolean;
  /** Every other tag (clonefrom, replicatefrom, failover_priority, custom keys …) as Patroni wrote it. */
  readonly custom: Readonly<Record<string, string | number | boolean>>;
}

export interface Member {
  /** The member's name (last segment of its key); safe as an HAProxy server name. */
  readonly name: string;
  /** Postgres host from conn_url (IPv6 without brackets). */
  readonly host: string;
  readonly hostKind: HostKind;
  /** Postgres port from conn_url (5432 when the URL has none). */
  readonly port: number;
  /** `host:port` as HAProxy reads a server address (`[::1]:5432` for IPv6). */
  readonly address: string;
  readonly apiScheme: 'http' | 'https';
  readonly apiHost: string;
  readonly apiHostKind: HostKind;
  readonly apiPort: number;
  /** The api_url as written (validated). */
  readonly apiUrl: string;
  readonly role: MemberRole;
  /** The role exactly as written ('master', 'primary' …). */
  readonly rawRole: string;
  /** 'running', 'starting', 'stopped', 'creating replica' … ('unknown' when absent). */
  readonly state: string;
  readonly tags: MemberTags;
  readonly version: string;
  readonly timeline: number | undefined;
  /** xlog_location (the WAL position Patroni last reported). */
  readonly lsn: number | undefined;
  readonly replicationState: string | undefined;
  readonly pendingRestart: boolean;
  /** True when written in the pre-JSON form (a plain postgres:// URL). */
  readonly legacy: boolean;
}

export interface MemberRejection {
  /** The key's last segment(s), as found. */
  readonly name: string;
  /** Key relative to the store's prefix. */
  readonly key: string;
  readonly reason: string;
}

export type MemberParse = { readonly ok: true; readonly member: Member } | { readonly ok: false; readonly rejection: MemberRejection };

const KNOWN_ROLES: Readonly<Record<string, MemberRole>> = {
  master: 'primary',
  primary: 'primary',
  replica: 'replica',
  standby_leader: 'standby_leader',
  demoted: 'demoted',
  uninitialized: 'uninitialized',
  promoted: 'promoted',
};

export function normalizeRole(raw: string): MemberRole {
  return KNOWN_ROLES[raw] ?? 'unknown';
}

const TRUE_TEXT = new Set(['true', 'on', 'yes', '1', 'y', 't']);

/** Patroni's parse_bool: true, 1, and 'true'/'on'/'yes'/'1' are true. */
function truthy(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return TRUE_TEXT.has(v.trim().toLowerCase());
  return false;
}

function parseTags(raw: unknown): MemberTags {
  const custom: Record<string, string | number | boolean> = {};
  let noloadbalance = false;
  let nofailover = false;
  let nosync = false;
  let nostream = false;
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      if (k === 'noloadbalance') noloadbalance = truthy(v);
      else if (k === 'nofailover') nofailover = truthy(v);
      else if (k === 'nosync') nosync = truthy(v);
      else if (k === 'nostream') nostream = truthy(v);
      else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') custom[k] = v;
    }
  }
  return { noloadbalance, nofailover, nosync, nostream, custom };
}

function optionalNumber(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function optionalString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * Old Patroni/Governor values: `postgres://user:pw@host:port/db?application_name=<api_url>`.
 * Returns the JSON shape Patroni itself turns them into (Member.from_node).
 */
function legacyValue(value: string): Record<string, unknown> {
  const q = value.indexOf('?');
  const connUrl = q < 0 ? value : value.slice(0, q);
  const apiUrl = q < 0 ? undefined : new URLSearchParams(value.slice(q + 1)).get('application_name') ?? undefined;
  return { conn_url: connUrl, api_url: apiUrl };
}

/** Parses one member value. `key` is the member's key (for the report); `name` its last segment. */
export function parseMember(name: string, value: string, key = `members/${name}`): MemberParse {
  const reject = (reason: string): MemberParse => ({ ok: false, rejection: { name, key, reason } });
  try {
    checkHaproxyName(name, 'member name');
  } catch (e) {
    return reject((e as Error).message);
  }
  let data: Record<string, unknown>;
  let legacy = false;
  const trimmed = value.trim();
  if (trimmed.startsWith('postgres')) {
    data = legacyValue(trimmed);
    legacy = true;
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (e) {
      return reject(`value is not JSON (${(e as Error).message}): ${quote(redactText(value))}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return reject(`value is not a JSON object: ${quote(redactText(value))}`);
    data = parsed as Record<string, unknown>;
  }

  let host: string;
  let hostKind: HostKind;
  let port: number;
  try {
    const connUrl = data['conn_url'];
    const connKwargs = data['conn_kwargs'];
    if (typeof connUrl === 'string' && connUrl !== '') {
      const u = parseUrl(connUrl);
      if (u.scheme !== 'postgres' && u.scheme !== 'postgresql') throw new AddressError(`conn_url scheme ${quote(u.scheme)} is not postgres://`);
      host = u.host;
      hostKind = u.hostKind;
      port = u.port ?? 5432;
    } else if (connKwargs !== null && typeof connKwargs === 'object' && typeof (connKwargs as Record<string, unknown>)['host'] === 'string') {
      // Patroni may write conn_kwargs instead of conn_url (Citus workers).
      const kw = connKwargs as Record<string, unknown>;
      host = kw['host'] as string;
      hostKind = classifyHost(host);
      const p = kw['port'];
      port = p === undefined ? 5432 : parsePort(String(p));
    } else {
      return reject(connUrl === undefined ? 'conn_url is missing' : `conn_url is not a non-empty string: ${quote(redactText(JSON.stringify(connUrl)))}`);
    }
    rejectUnspecified(host, hostKind);
  } catch (e) {
    return reject(`conn_url: ${(e as Error).message}`);
  }

  const apiUrl = data['api_url'];
  if (typeof apiUrl !== 'string' || apiUrl === '') {
    return reject(apiUrl === undefined || apiUrl === null ? 'api_url is missing' : `api_url is not a non-empty string: ${quote(redactText(JSON.stringify(apiUrl)))}`);
  }
  let api;
  try {
    api = parseUrl(apiUrl);
    if (api.scheme !== 'http' && api.scheme !== 'https') throw new AddressError(`scheme ${quote(api.scheme)} is not http or https`);
    rejectUnspecified(api.host, api.hostKind);
  } catch (e) {
    return reject(`api_url: ${(e as Error).message}`);
  }

  const rawRole = optionalString(data['role']) ?? '';
  const member: Member = {
    name,
    host,
    hostKind,
    port,
    address: formatHostPort(host, hostKind, port),
    apiScheme: api.scheme as 'http' | 'https',
    apiHost: api.host,
    apiHostKind: api.hostKind,
    apiPort: api.port ?? (api.scheme === 'https' ? 443 : 80),
    apiUrl,
    role: normalizeRole(rawRole),
    rawRole,
    state: optionalString(data['state']) ?? 'unknown',
    tags: parseTags(data['tags']),
    version: optionalString(data['version']) ?? '',
    timeline: optionalNumber(data['timeline']),
    lsn: optionalNumber(data['xlog_location']),
    replicationState: optionalString(data['replication_state']),
    pendingRestart: truthy(data['pending_restart']),
    legacy,
  };
  return { ok: true, member };
}
