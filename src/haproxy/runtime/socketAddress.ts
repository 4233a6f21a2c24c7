/**
 * Where a runtime socket lives: a unix socket path, or `ipv4@host:port` / `ipv6@[host]:port` /
 * plain `host:port` for a TCP stats socket.
 */
import type { NetConnectOpts } from 'node:net';

export type SocketAddress =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

const TCP_FORM = /^(?:(ipv4|ipv6)@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Parses an address as written in a config file or on the command line. */
export function parseSocketAddress(text: string): SocketAddress {
  const t = text.trim();
  if (t === '') throw new Error('runtime socket address is empty');
  if (t.startsWith('unix@')) return { kind: 'unix', path: t.slice('unix@'.length) };
  if (t.startsWith('/') || t.startsWith('.')) return { kind: 'unix', path: t };
  const m = TCP_FORM.exec(t);
  if (m) {
    const port = Number(m[3]);
    if (port < 1 || port > 65535) throw new Error(`runtime socket address '${text}': port must be 1-65535`);
    const rawHost = m[2] as string;
    const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
    return { kind: 'tcp', host, port };
  }
  if (/^(ipv4|ipv6)@/.test(t)) throw new Error(`runtime socket address '${text}': expected ipv4@host:port`);
  // Anything else is a relative unix socket path.
  return { kind: 'unix', path: t };
}

/** A readable form for messages. */
export function formatSocketAddress(a: SocketAddress): string {
  return a.kind === 'unix' ? a.path : `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

export function connectOptionsOf(a: SocketAddress): NetConnectOpts {
  return a.kind === 'unix' ? { path: a.path } : { host: a.host, port: a.port };
}
