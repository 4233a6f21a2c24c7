/**
 * The etcd endpoints given with `-node`: 'http://h:2379', 'https://h:2379', 'h:2379', 'h' or
 * '[::1]:2379'. Pure: parses and validates, opens nothing.
 */
import { BackendConfigError } from '../backend.js';

export interface EtcdEndpoint {
  /** As shown to operators: 'http://127.0.0.1:2379'. */
  readonly url: string;
  /** gRPC target without scheme: '127.0.0.1:2379', '[::1]:2379'. */
  readonly target: string;
  readonly secure: boolean;
}

const DEFAULT_PORT = 2379;

/**
 * Parses the node list. A node without a scheme uses https when TLS options are given and http
 * otherwise; an explicit scheme must agree with the others (etcd3 cannot mix them).
 */
export function parseEtcdNodes(nodes: readonly string[], tlsConfigured: boolean): EtcdEndpoint[] {
  if (nodes.length === 0) throw new BackendConfigError('etcd: no -node given');
  const endpoints = nodes.map((n) => parseEtcdNode(n, tlsConfigured));
  const secure = endpoints.filter((e) => e.secure).length;
  if (secure > 0 && secure < endpoints.length) {
    throw new BackendConfigError(
      `etcd: nodes mix http and https (${endpoints.map((e) => e.url).join(', ')}); use one scheme for all`,
    );
  }
  if (tlsConfigured && secure === 0) {
    throw new BackendConfigError(
      `etcd: TLS options (-client-cert/-client-key/-client-ca-keys) given but the nodes use http:// (${endpoints
        .map((e) => e.url)
        .join(', ')}); use https:// or no scheme`,
    );
  }
  const seen = new Set<string>();
  return endpoints.filter((e) => (seen.has(e.target) ? false : (seen.add(e.target), true)));
}

export function parseEtcdNode(node: string, tlsConfigured: boolean): EtcdEndpoint {
  const raw = node.trim();
  const bad = (why: string): BackendConfigError =>
    new BackendConfigError(`etcd: bad -node '${node}': ${why} (expected http://host:port, https://host:port or host:port)`);
  if (raw === '') throw bad('empty');
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(.*)$/.exec(raw);
  let scheme: 'http' | 'https';
  let rest: string;
  if (m) {
    const s = (m[1] as string).toLowerCase();
    if (s !== 'http' && s !== 'https') throw bad(`unsupported scheme '${s}'`);
    scheme = s;
    rest = m[2] as string;
  } else {
    scheme = tlsConfigured ? 'https' : 'http';
    rest = raw;
  }
  rest = rest.replace(/\/+$/, '');
  if (rest.includes('/')) throw bad('a path is not allowed');
  if (rest.includes('@')) throw bad('credentials belong in -username/-password, not in the node');
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw bad('unclosed [ in IPv6 address');
    host = rest.slice(0, close + 1);
    const after = rest.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw bad('expected :port after the IPv6 address');
    portText = after === '' ? undefined : after.slice(1);
  } else {
    const parts = rest.split(':');
    if (parts.length > 2) throw bad('IPv6 addresses need brackets: [::1]:2379');
    host = parts[0] as string;
    portText = parts[1];
  }
  if (host === '' || host === '[]') throw bad('missing host');
  if (!host.startsWith('[') && !/^[A-Za-z0-9._-]+$/.test(host)) throw bad(`invalid host '${host}'`);
  let port = DEFAULT_PORT;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText)) throw bad(`invalid port '${portText}'`);
    port = Number(portText);
    if (port < 1 || port > 65535) throw bad(`port ${port} out of range`);
  }
  const target = `${host}:${port}`;
  return { url: `${scheme}://${target}`, target, secure: scheme === 'https' };
}
