/**
 * The ensemble's servers from -node: "host:port", repeatable, each possibly confd's
 * comma-separated "h1:2181,h2:2181"; a chroot suffix ("h:2181/app") is refused, a missing port is
 * 2181. Pure.
 */
import { BackendConfigError } from '../backend.js';

export interface ZkServer {
  readonly host: string;
  readonly port: number;
  /** "host:port" as logged. */
  readonly label: string;
}

export const DEFAULT_ZK_PORT = 2181;

export function parseZkServers(nodes: readonly string[]): ZkServer[] {
  const out: ZkServer[] = [];
  for (const raw of nodes.flatMap((n) => n.split(','))) {
    const item = raw.trim().replace(/^['"]|['"]$/g, '');
    if (item === '') continue;
    const noScheme = item.replace(/^(zk|zookeeper|tcp):\/\//i, '');
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(noScheme)) {
      throw new BackendConfigError(`-node ${item}: ZooKeeper servers are given as host:port (no http:// or https://)`);
    }
    if (noScheme.includes('/')) throw new BackendConfigError(`-node ${item}: a chroot path is not supported; put it in -prefix instead`);
    const m = /^(?:\[([^\]]+)\]|([^:\s]+))(?::([^:]*))?$/.exec(noScheme);
    if (!m) throw new BackendConfigError(`-node ${item}: expected host:port`);
    const host = (m[1] ?? m[2]) as string;
    const portText = m[3];
    const port = portText === undefined ? DEFAULT_ZK_PORT : /^\d+$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) throw new BackendConfigError(`-node ${item}: port must be a number from 1 to 65535, got "${portText ?? ''}"`);
    const label = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (!out.some((s) => s.label === label)) out.push({ host, port, label });
  }
  if (out.length === 0) throw new BackendConfigError('-node: no ZooKeeper server given');
  return out;
}
