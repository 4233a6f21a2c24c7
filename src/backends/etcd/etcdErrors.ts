/**
 * Sorts what etcd3/gRPC throws into the two kinds the daemon acts on: problems the operator must
 * fix (BackendConfigError: credentials, permissions, TLS) and outages (BackendUnavailableError).
 * Messages name the endpoint and the user, never a password. Pure.
 */
import { BackendConfigError, BackendUnavailableError } from '../backend.js';

export type EtcdErrorKind =
  | 'auth-failed'
  | 'auth-required'
  | 'auth-not-enabled'
  | 'permission-denied'
  | 'invalid-token'
  | 'tls'
  | 'compacted'
  | 'unavailable';

export function etcdErrorKind(err: unknown): EtcdErrorKind {
  const msg = errorText(err);
  if (/authentication failed|invalid user ID or password/i.test(msg)) return 'auth-failed';
  if (/authentication is not enabled/i.test(msg)) return 'auth-not-enabled';
  if (/user name is empty|user name not found/i.test(msg)) return 'auth-required';
  if (/permission denied/i.test(msg)) return 'permission-denied';
  if (/invalid auth token|auth(entication)? token .*(expired|invalid)/i.test(msg)) return 'invalid-token';
  if (/required revision has been compacted/i.test(msg)) return 'compacted';
  if (isTlsFailure(msg)) return 'tls';
  return 'unavailable';
}

/** True for TLS handshake and certificate problems, which retrying does not fix. */
function isTlsFailure(msg: string): boolean {
  return /certificate|self[- ]signed|unable to (verify|get)|SSL|TLS|handshake|wrong version number|packet length too long|alert (bad|unknown|handshake)|ERR_OSSL|DEPTH_ZERO|CERT_|hostname\/IP does not match/i.test(
    msg,
  );
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const details = (err as { details?: unknown }).details;
    return typeof details === 'string' && details !== '' && !err.message.includes(details)
      ? `${err.message}: ${details}`
      : err.message;
  }
  return String(err);
}

/** The last line of a gRPC message, without grpc-js's "14 UNAVAILABLE:" prefix and error class names. */
export function shortReason(err: unknown): string {
  let msg = errorText(err)
    .replace(/^[A-Za-z]*Error:\s*/, '')
    .replace(/^\d+ [A-Z_]+:\s*/, '')
    .replace(/^No connection established\. Last error:\s*/, '')
    .replace(/\.?\s*Resolution note:[\s\S]*$/, '')
    .replace(/\s*\(\d{4}-\d\d-\d\dT[^)]*\)/g, '')
    .replace(/^[A-Za-z]*Error:\s*/, '');
  // OpenSSL's "80DC…:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:../deps/…"
  const ssl = /SSL routines:[^:]*:([^:\n]+)/.exec(msg);
  if (ssl) {
    const what = (ssl[1] as string).trim();
    msg = /alert (bad certificate|certificate required|unknown ca|handshake failure)/.test(what)
      ? `the server rejected the TLS handshake (${what}): check -client-cert/-client-key`
      : what;
  }
  msg = (msg.split('\n')[0] ?? '').trim();
  return msg === '' ? 'unknown error' : msg;
}

export interface ErrorContext {
  /** The endpoint(s) involved, as shown to operators. */
  readonly endpoints: readonly string[];
  readonly username?: string | undefined;
}

/** Turns an etcd/gRPC failure into the Backend error kinds, with a message an operator can act on. */
export function toBackendError(err: unknown, ctx: ErrorContext): BackendConfigError | BackendUnavailableError {
  if (err instanceof BackendConfigError || err instanceof BackendUnavailableError) return err;
  const where = ctx.endpoints.join(', ');
  const reason = shortReason(err);
  switch (etcdErrorKind(err)) {
    case 'auth-failed':
      return new BackendConfigError(
        `etcd authentication failed for user "${ctx.username ?? ''}" at ${where}: wrong username or password`,
      );
    case 'auth-required':
      return new BackendConfigError(
        ctx.username === undefined
          ? `etcd at ${where} requires authentication: give -username and a password (-password or HACONFD_PASSWORD)`
          : `etcd authentication failed for user "${ctx.username}" at ${where}: ${reason}`,
      );
    case 'permission-denied':
      return new BackendConfigError(
        `etcd permission denied${ctx.username !== undefined ? ` for user "${ctx.username}"` : ''} at ${where}: grant the user read access to the prefixes`,
      );
    case 'tls':
      return new BackendConfigError(`TLS connection to etcd at ${where} failed: ${tlsHint(reason)}`);
    case 'auth-not-enabled':
    case 'invalid-token':
    case 'compacted':
    case 'unavailable':
      return new BackendUnavailableError(`etcd unreachable at ${where}: ${plainReason(reason)}`);
  }
}

/** OpenSSL's words for "this port does not speak TLS", which say nothing to an operator. */
function tlsHint(reason: string): string {
  if (/wrong version number|packet length too long|unknown protocol|http request/i.test(reason)) {
    return `the server there does not speak TLS (${reason}): use an http:// endpoint, or enable TLS on etcd's client port`;
  }
  return reason;
}

const CLIENT_PORT_HINT = 'is etcd running there, and is that its client port (2379 by default, not the peer port 2380)?';

/**
 * Why an endpoint failed, in plain words (the errno kept in brackets), never transport internals
 * such as gRPC's "Waiting for LB pick". Unknown reasons pass through as they are.
 */
export function plainReason(reason: string): string {
  if (/ECONNREFUSED/.test(reason)) return 'connection refused (ECONNREFUSED)';
  const errno = /\b(ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|EPIPE)\b/.exec(reason)?.[1];
  if (errno === 'ENOTFOUND' || errno === 'EAI_AGAIN') return `host name not found (${errno})`;
  if (errno === 'EHOSTUNREACH' || errno === 'ENETUNREACH') return `no route to host (${errno})`;
  if (errno === 'ETIMEDOUT' || /no answer (within|in time)|Deadline exceeded|Waiting for LB pick/i.test(reason)) return 'no answer (host down, or a firewall drops the traffic)';
  if (errno !== undefined || /socket hang up|GOAWAY|Protocol error|ERR_HTTP2|HTTP status|RST_STREAM|not a gRPC|content-type/i.test(reason)) {
    return `the connection broke (${errno ?? 'not an etcd gRPC answer'}): ${CLIENT_PORT_HINT}`;
  }
  return reason;
}

/** True when every endpoint refused the connection: nothing listens, and waiting will not change it soon. */
export function everyEndpointRefused(urls: readonly string[], reasons: ReadonlyMap<string, string>): boolean {
  return urls.length > 0 && urls.every((u) => /ECONNREFUSED/.test(reasons.get(u) ?? ''));
}

/** Every endpoint failed within the connect timeout: one message naming all of them and why. */
export function unreachableError(
  what: string,
  urls: readonly string[],
  connectTimeoutMs: number,
  reasons: ReadonlyMap<string, string>,
): BackendUnavailableError {
  if (everyEndpointRefused(urls, reasons)) {
    return new BackendUnavailableError(`etcd unreachable: ${what} failed on every endpoint (${urls.join(', ')}): connection refused (ECONNREFUSED) — ${CLIENT_PORT_HINT}`);
  }
  const detail = [...reasons].map(([u, r]) => `${u}: ${plainReason(r)}`).join('; ');
  return new BackendUnavailableError(
    `etcd unreachable: ${what} failed on every endpoint (${urls.join(', ')}) within ${connectTimeoutMs} ms${detail ? ` — ${detail}` : ''}`,
  );
}

/**
 * Records why an endpoint failed. A bare timeout from a late, starved attempt ("no answer within
 * 1 ms") does not replace a reason that says more (a refused connection, a protocol mismatch).
 */
export function recordFailure(reasons: Map<string, string>, url: string, reason: string): void {
  const previous = reasons.get(url);
  if (previous !== undefined && /^no answer within /.test(reason) && !/^no answer within /.test(previous)) return;
  reasons.set(url, reason);
}
