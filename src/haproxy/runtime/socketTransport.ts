/**
 * One exchange with an HAProxy CLI socket (stats or master): connect, write one line, end, read to
 * EOF. HAProxy closes after answering in non-interactive mode; some 2.6 replies lack the trailing
 * blank line, so EOF — not a blank line — ends the reply.
 */
import { createConnection } from 'node:net';
import { connectOptionsOf, formatSocketAddress, type SocketAddress } from './socketAddress.js';
import { RuntimeError, SocketMissingError, SocketTimeoutError, type SocketKind } from './runtimeErrors.js';

export const DEFAULT_SOCKET_TIMEOUT_MS = 5000;

/**
 * Sends `line` (no newline inside) and resolves with everything HAProxy wrote back. `socket` says
 * which of HAProxy's sockets this is, so a failure names how that one is configured.
 */
export function exchange(address: SocketAddress, line: string, timeoutMs = DEFAULT_SOCKET_TIMEOUT_MS, socket: SocketKind = 'runtime'): Promise<string> {
  if (/[\r\n]/.test(line)) return Promise.reject(new RuntimeError('a runtime command must be one line', line));
  const where = formatSocketAddress(address);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const sock = createConnection(connectOptionsOf(address));
    const finish = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const timer = setTimeout(() => finish(new SocketTimeoutError(where, timeoutMs, line)), timeoutMs);
    sock.on('connect', () => sock.end(`${line}\n`));
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('end', () => finish(undefined));
    sock.on('close', () => finish(undefined));
    sock.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? '';
      if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTSOCK') finish(new SocketMissingError(where, code, socket));
      else if (code === 'EACCES') finish(new RuntimeError(`no permission to open HAProxy ${socket} socket ${where} (EACCES): run as the socket's owner or group`, line));
      else finish(new RuntimeError(`HAProxy ${socket} socket ${where}: ${e.message}`, line));
    });
  });
}
