/**
 * HAProxy identifiers (backend, server names) as they may reach a runtime command: letters, digits,
 * '-', '_', '.', ':' only — the characters HAProxy itself accepts in proxy and server names. Anything
 * else (';', spaces, '/', newlines, '\') could change the meaning of a command line, so it is refused.
 */
import { InvalidNameError } from './runtimeErrors.js';

const IDENTIFIER = /^[A-Za-z0-9_.:-]+$/;
const MAX_LENGTH = 256;

export function isHaproxyIdentifier(value: string): boolean {
  return value.length > 0 && value.length <= MAX_LENGTH && IDENTIFIER.test(value);
}

/** Returns `value` when it is a valid identifier, else throws InvalidNameError naming `what`. */
export function assertHaproxyIdentifier(what: 'backend' | 'server' | 'proxy', value: string): string {
  if (!isHaproxyIdentifier(value)) throw new InvalidNameError(what, value);
  return value;
}

export interface ServerRef {
  readonly backend: string;
  readonly server: string;
}

/** Parses and validates `backend/server`. */
export function parseServerRef(text: string): ServerRef {
  const slash = text.indexOf('/');
  if (slash <= 0 || slash !== text.lastIndexOf('/') || slash === text.length - 1) {
    throw new InvalidNameError('server', text);
  }
  return {
    backend: assertHaproxyIdentifier('backend', text.slice(0, slash)),
    server: assertHaproxyIdentifier('server', text.slice(slash + 1)),
  };
}

/** `backend/server`: how a server is named in runtime commands, and the key it is indexed by. */
export function serverKey(backend: string, server: string): string {
  return `${backend}/${server}`;
}
