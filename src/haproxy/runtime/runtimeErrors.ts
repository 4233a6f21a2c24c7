/** Typed failures of the HAProxy runtime API, each with a message an operator can act on. */

export class RuntimeError extends Error {
  override readonly name: string = 'RuntimeError';
  constructor(
    message: string,
    /** The command sent (or the socket address for connection failures). */
    readonly command?: string,
  ) {
    super(message);
  }
}

/** Which of HAProxy's sockets: the runtime API (`stats socket` in global) or the master CLI (`-S`). */
export type SocketKind = 'runtime' | 'master';

function missingSocketMessage(address: string, code: string, socket: SocketKind): string {
  if (socket === 'master') {
    // The master CLI exists only in master-worker mode, and only with -S: no config line creates it.
    const how = `HAProxy must run in master-worker mode with this master socket: haproxy -W -S ${address} (Debian's haproxy.service: -Ws -S /run/haproxy-master.sock)`;
    return code === 'ENOENT'
      ? `HAProxy master socket ${address} does not exist. ${how}`
      : `HAProxy master socket ${address} refused the connection (${code}): is HAProxy running? ${how}`;
  }
  return code === 'ENOENT'
    ? `HAProxy runtime socket ${address} does not exist (is HAProxy running, and is 'stats socket ${address} mode 600 level admin' in its global section?)`
    : `HAProxy runtime socket ${address} refused the connection (${code}): is HAProxy running?`;
}

export class SocketMissingError extends RuntimeError {
  override readonly name = 'SocketMissingError';
  constructor(readonly address: string, readonly code: string, readonly socket: SocketKind = 'runtime') {
    super(missingSocketMessage(address, code, socket));
  }
}

export class SocketTimeoutError extends RuntimeError {
  override readonly name = 'SocketTimeoutError';
  constructor(readonly address: string, readonly timeoutMs: number, command: string) {
    super(`HAProxy runtime socket ${address} did not answer '${command}' within ${timeoutMs} ms`, command);
  }
}

export class PermissionDeniedError extends RuntimeError {
  override readonly name = 'PermissionDeniedError';
  constructor(readonly address: string, command: string) {
    super(
      `HAProxy refused '${command}' on ${address}: Permission denied. ` +
        `The stats socket needs 'level admin' (e.g. 'stats socket ${address} mode 600 level admin')`,
      command,
    );
  }
}

export class NoSuchBackendError extends RuntimeError {
  override readonly name = 'NoSuchBackendError';
  constructor(readonly backend: string, command: string) {
    super(`HAProxy has no backend '${backend}' (command '${command}')`, command);
  }
}

export class NoSuchServerError extends RuntimeError {
  override readonly name = 'NoSuchServerError';
  constructor(readonly backend: string, readonly server: string, command: string) {
    super(`HAProxy backend '${backend}' has no server '${server}' (command '${command}')`, command);
  }
}

/** HAProxy answered with an error we have no dedicated type for; `reply` quotes it. */
export class CommandFailedError extends RuntimeError {
  override readonly name = 'CommandFailedError';
  constructor(readonly reply: string, command: string) {
    super(`HAProxy rejected '${command}': ${reply}`, command);
  }
}

/** A name that is not a valid HAProxy identifier (and so could inject syntax). */
export class InvalidNameError extends RuntimeError {
  override readonly name = 'InvalidNameError';
  constructor(readonly what: string, readonly value: string) {
    super(
      `invalid ${what} name ${JSON.stringify(value)}: only letters, digits and '-', '_', '.', ':' are allowed`,
    );
  }
}
