/**
 * urlHost / urlPort: the host and port of a connection URL or address, IPv6-aware.
 * `postgres://u:p@[::1]:5432/db` → `::1` / `5432`; `db1:5432` → `db1` / `5432`; `db1` → `db1` / ``.
 */
import type { HandlebarsEnv } from '../engine.js';
import { expectArity, helperCall, stringArg } from './arguments.js';

export interface HostPort {
  readonly host: string;
  /** Decimal port text, '' when the input has none. */
  readonly port: string;
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** Splits a URL or `[user@]host[:port]` into host and port; throws (naming the input) when malformed. */
export function splitHostPort(input: string): HostPort {
  const rest = input.replace(SCHEME, '');
  const end = rest.search(/[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  let host: string;
  let port: string;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) throw new Error(`missing "]" after an IPv6 address in ${JSON.stringify(input)}`);
    host = hostPort.slice(1, close);
    const after = hostPort.slice(close + 1);
    if (after === '') port = '';
    else if (after.startsWith(':')) port = after.slice(1);
    else throw new Error(`unexpected ${JSON.stringify(after)} after "]" in ${JSON.stringify(input)}`);
  } else {
    const colons = hostPort.split(':').length - 1;
    if (colons === 1) {
      const i = hostPort.indexOf(':');
      host = hostPort.slice(0, i);
      port = hostPort.slice(i + 1);
    } else {
      // No colon, or a bare IPv6 address (several colons, no brackets): all host, no port.
      host = hostPort;
      port = '';
    }
  }
  if (port !== '' && !(/^[0-9]{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    throw new Error(`invalid port ${JSON.stringify(port)} in ${JSON.stringify(input)}`);
  }
  return { host, port };
}

function parse(helper: string, input: string): HostPort {
  try {
    return splitHostPort(input);
  } catch (e) {
    throw new Error(`${helper}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function registerUrlHelpers(hb: HandlebarsEnv): void {
  hb.registerHelper('urlHost', (...args: unknown[]) => {
    const c = helperCall('urlHost', args);
    expectArity(c, 1, 1, 'url');
    return parse('urlHost', stringArg(c, 0, 'the URL')).host;
  });
  hb.registerHelper('urlPort', (...args: unknown[]) => {
    const c = helperCall('urlPort', args);
    expectArity(c, 1, 2, 'url [default-port]');
    const { port } = parse('urlPort', stringArg(c, 0, 'the URL'));
    if (port === '' && c.params.length === 2) return stringArg(c, 1, 'the default port');
    return port;
  });
}
