/**
 * A TCP proxy on 127.0.0.1 in front of one address, that a test can cut (listener closed, every
 * connection destroyed: the client sees its peer vanish) and restore on the same port. Used to cut a
 * single program off from etcd while everything else keeps its own access.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  /** Connections proxied so far. */
  readonly connections: () => number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let count = 0;
  let server: Server | undefined;
  const listen = (p: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const s = createServer((client) => {
        count++;
        const upstream = connect(target.port, target.host);
        sockets.add(client);
        sockets.add(upstream);
        const end = (): void => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', end).on('close', end);
        upstream.on('error', end).on('close', end);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      s.once('error', reject);
      s.listen(p, '127.0.0.1', () => {
        server = s;
        resolve((s.address() as { port: number }).port);
      });
    });
  const close = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const x of sockets) x.destroy();
    sockets.clear();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  };
  const bound = await listen(port);
  return {
    port: bound,
    url: `http://127.0.0.1:${bound}`,
    connections: () => count,
    cut: close,
    restore: async () => {
      if (server === undefined) await listen(bound);
    },
    stop: close,
  };
}
