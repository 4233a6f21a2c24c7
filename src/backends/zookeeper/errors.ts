/**
 * ZooKeeper failures in plain words: socket errors, refused handshakes and error codes become
 * BackendUnavailableError (an outage: retried) or BackendConfigError (the operator must fix it),
 * with messages naming the server and never a client-library internal.
 */
import { BackendUnavailableError } from '../backend.js';
import { describeCode } from './protocol.js';

/** A request the server answered with an error code. */
export class ZkCodeError extends Error {
  override readonly name = 'ZkCodeError';
  constructor(
    readonly code: number,
    readonly path: string,
  ) {
    super(`${path}: ${describeCode(code)}`);
  }
}

/** The connection to one server failed or ended; `message` is already in plain words. */
export class ZkConnectionError extends Error {
  override readonly name = 'ZkConnectionError';
  /** Ended because a reply was larger than haconfd accepts. */
  tooLarge = false;
}

/** A socket error → plain words. */
export function describeSocketError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (is ZooKeeper running there?)';
    case 'ECONNRESET':
      return 'connection reset by the server';
    case 'EPIPE':
      return 'connection closed by the server';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ETIMEDOUT':
      return 'connection timed out';
    default:
      return e instanceof Error ? e.message : String(e);
  }
}

/** The error read() throws when no server of the ensemble could be used. */
export function unreachable(servers: readonly string[], lastProblem: string | undefined): BackendUnavailableError {
  const list = servers.join(',');
  return new BackendUnavailableError(`cannot use ZooKeeper at ${list}${lastProblem ? `: ${lastProblem}` : ''}`);
}
