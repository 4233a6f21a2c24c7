/**
 * Addresses read from Patroni's member keys: URL parsing for `conn_url` / `api_url` and the checks
 * that make a host, a port or a name safe to write into a config file. Pure functions.
 */
import { redactUrl } from '../log/redact.js';
import { isIPv4, isIPv6 } from 'node:net';

export type HostKind = 'ipv4' | 'ipv6' | 'dns';

export interface ParsedUrl {
  readonly scheme: string;
  /** Without brackets for IPv6. */
  readonly host: string;
  readonly hostKind: HostKind;
  /** Explicit port, or undefined when the URL has none. */
  readonly port: number | undefined;
  /** Path + query ('' when none). */
  readonly rest: string;
  /** Query parameters (decoded). */
  readonly query: ReadonlyMap<string, string>;
}

/** Thrown by the parsers; `message` is the reason shown to the operator. */
export class AddressError extends Error {
  override readonly name = 'AddressError';
}

const DNS_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/** Classifies a host as an IPv4/IPv6 address or a DNS name; throws AddressError otherwise. */
export function classifyHost(host: string): HostKind {
  if (host.length === 0) throw new AddressError('empty host');
  if (isIPv4(host)) return 'ipv4';
  if (/^[0-9A-Fa-f:.]+$/.test(host) && host.includes(':')) {
    if (isIPv6(host)) return 'ipv6';
    throw new AddressError(`invalid IPv6 address ${quote(host)}`);
  }
  if (host.length > 253) throw new AddressError(`host name longer than 253 characters`);
  const labels = host.split('.');
  if (labels.every((l) => DNS_LABEL.test(l))) {
    // All-numeric dotted names are IPv4 look-alikes that isIPv4 rejected (e.g. 300.1.1.1).
    if (labels.every((l) => /^\d+$/.test(l))) throw new AddressError(`invalid IPv4 address ${quote(host)}`);
    return 'dns';
  }
  throw new AddressError(`host ${quote(host)} is neither an IP address nor a DNS name`);
}

/**
 * The unspecified address (0.0.0.0, ::) cannot be connected to: HAProxy reads a server at 0.0.0.0
 * as "the client's destination address". Throws AddressError naming it.
 */
export function rejectUnspecified(host: string, kind: HostKind): void {
  const unspecified =
    (kind === 'ipv4' && host === '0.0.0.0') ||
    (kind === 'ipv6' && host.replace(/(^|:)0\.0\.0\.0$/, '$1').split(':').every((g) => /^0*$/.test(g)));
  if (unspecified) {
    throw new AddressError(`host ${quote(host)} is the unspecified address (HAProxy would connect to each client's own destination address); Patroni's connect_address must name this member`);
  }
}

/** A TCP port 1–65535 from its text; throws AddressError naming the value otherwise. */
export function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new AddressError(`port ${quote(text)} is not a number 1-65535`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw new AddressError(`port ${n} is outside 1-65535`);
  return n;
}

/**
 * Parses `scheme://[userinfo@]host[:port][/path][?query]`. Whitespace, control characters and `#`
 * anywhere make the URL invalid: Patroni never writes them, and they are how values turn into syntax.
 */
export function parseUrl(url: string): ParsedUrl {
  // eslint-disable-next-line no-control-regex
  const bad = /[\s\x00-\x1f\x7f#]/.exec(url);
  if (bad !== null) throw new AddressError(`URL ${quote(redactUrl(url))} contains ${describeChar(bad[0])}`);
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?]*)(.*)$/.exec(url);
  if (m === null) throw new AddressError(`${quote(redactUrl(url))} is not a URL (scheme://host:port/…)`);
  const scheme = (m[1] as string).toLowerCase();
  let authority = m[2] as string;
  const rest = m[3] as string;
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) throw new AddressError(`unclosed '[' in ${quote(redactUrl(url))}`);
    host = authority.slice(1, close);
    const after = authority.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) throw new AddressError(`unexpected ${quote(after)} after the IPv6 address in ${quote(redactUrl(url))}`);
      portText = after.slice(1);
    }
    if (!isIPv6(host) || !/^[0-9A-Fa-f:.]+$/.test(host)) throw new AddressError(`invalid IPv6 address ${quote(host)}`);
  } else {
    const colon = authority.indexOf(':');
    if (colon >= 0) {
      host = authority.slice(0, colon);
      portText = authority.slice(colon + 1);
    } else host = authority;
  }
  const hostKind = classifyHost(host);
  const port = portText === undefined || portText === '' ? undefined : parsePort(portText);
  const query = new Map<string, string>();
  const qi = rest.indexOf('?');
  if (qi >= 0) {
    for (const [k, v] of new URLSearchParams(rest.slice(qi + 1))) query.set(k, v);
  }
  return { scheme, host, hostKind, port, rest, query };
}

/** Characters HAProxy accepts in proxy and server names. */
const HAPROXY_NAME = /^[A-Za-z0-9_.:-]{1,200}$/;

/** Throws AddressError unless `name` is usable as an HAProxy server or proxy name. */
export function checkHaproxyName(name: string, what = 'name'): string {
  if (HAPROXY_NAME.test(name)) return name;
  if (name.length === 0) throw new AddressError(`empty ${what}`);
  if (name.length > 200) throw new AddressError(`${what} longer than 200 characters`);
  const bad = /[^A-Za-z0-9_.:-]/.exec(name);
  throw new AddressError(`${what} ${quote(name)} contains ${describeChar(bad?.[0] ?? '?')} (allowed: A-Z a-z 0-9 _ . : -)`);
}

/** `host:port` as HAProxy reads a server address (IPv6 in brackets). */
export function formatHostPort(host: string, kind: HostKind, port: number): string {
  return kind === 'ipv6' ? `[${host}]:${port}` : `${host}:${port}`;
}

function describeChar(c: string): string {
  if (c === '\n') return 'a newline';
  if (c === '\r') return 'a carriage return';
  if (c === '\t') return 'a tab';
  if (c === ' ') return 'a space';
  if (c === '#') return "'#'";
  if (c === '/') return "'/'";
  const code = c.charCodeAt(0);
  if (code < 0x20 || code === 0x7f) return `control character 0x${code.toString(16).padStart(2, '0')}`;
  return `'${c}'`;
}

/** JSON-quotes a value for a message, shortened, so newlines show as \n. */
export function quote(v: string): string {
  return JSON.stringify(v.length > 80 ? v.slice(0, 77) + '...' : v);
}
