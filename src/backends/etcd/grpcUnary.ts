/**
 * gRPC unary calls over node:http2, framed by hand: a request is one length-prefixed message
 * (1 byte "compressed" flag, 4 bytes big-endian length, the protobuf bytes) POSTed with
 * `content-type: application/grpc` and `te: trailers`; the answer is one such message followed by
 * the `grpc-status` / `grpc-message` trailers (or a trailers-only response carrying just those).
 * No compression, no streaming, no retries: enough for a one-shot read, without loading a gRPC stack.
 */
import http2 from 'node:http2';

/** gRPC status codes by number, for messages ("14 UNAVAILABLE: …", as @grpc/grpc-js writes them). */
const STATUS_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
] as const;

export const GRPC_UNAVAILABLE = 14;
export const GRPC_DEADLINE_EXCEEDED = 4;

/** A call that ended with a non-zero grpc-status (or no usable answer). */
export class GrpcStatusError extends Error {
  override readonly name = 'GrpcStatusError';
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${code} ${STATUS_NAMES[code] ?? 'UNKNOWN'}: ${details}`);
  }
}

/** One message as gRPC frames it on the wire. */
export function frameMessage(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(0, 0);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** The messages of a response body; throws on a truncated frame or a compressed message. */
export function unframeMessages(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < body.length) {
    if (pos + 5 > body.length) throw new GrpcStatusError(13, 'truncated gRPC message header');
    const compressed = body.readUInt8(pos);
    const len = body.readUInt32BE(pos + 1);
    if (compressed !== 0) throw new GrpcStatusError(13, 'compressed gRPC message (none was asked for)');
    if (pos + 5 + len > body.length) throw new GrpcStatusError(13, 'truncated gRPC message');
    out.push(body.subarray(pos + 5, pos + 5 + len));
    pos += 5 + len;
  }
  return out;
}

/** grpc-message is percent-encoded. */
function decodeGrpcMessage(raw: unknown): string {
  const s = Array.isArray(raw) ? String(raw[0]) : typeof raw === 'string' ? raw : '';
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function header(h: http2.IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Calls `path` ('/etcdserverpb.KV/Txn') on an open session with one request message; resolves with
 * the response message. Rejects with GrpcStatusError for a non-zero grpc-status, an HTTP error or
 * a missing status; with the stream's error for a broken connection; with DEADLINE_EXCEEDED at
 * `deadline` (the stream is cancelled then).
 */
export function unaryCall(
  session: http2.ClientHttp2Session,
  path: string,
  request: Buffer,
  metadata: Readonly<Record<string, string>>,
  deadline: number,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const left = Math.max(1, deadline - Date.now());
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': `${left}m`,
        'user-agent': 'haconfd-oneshot',
        ...metadata,
      });
    } catch (e) {
      reject(e);
      return;
    }
    const chunks: Buffer[] = [];
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    let failed: Error | undefined;
    const timer = setTimeout(() => {
      failed = new GrpcStatusError(GRPC_DEADLINE_EXCEEDED, `no answer within ${left} ms`);
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }, left);
    stream.on('response', (h) => (responseHeaders = h));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('error', (e: Error) => (failed ??= e));
    stream.on('close', () => {
      clearTimeout(timer);
      if (failed) return reject(failed);
      const httpStatus = Number(header(responseHeaders, ':status') ?? 0);
      // A trailers-only response carries grpc-status in the headers.
      const statusText = header(trailers ?? {}, 'grpc-status') ?? header(responseHeaders, 'grpc-status');
      if (statusText === undefined) {
        const why =
          httpStatus === 0
            ? 'the connection closed without an HTTP/2 response (an https endpoint given as http://?)'
            : httpStatus !== 200
              ? `HTTP status ${httpStatus}, not a gRPC answer`
              : `stream closed without grpc-status (code ${stream.rstCode ?? '?'})`;
        return reject(new GrpcStatusError(GRPC_UNAVAILABLE, why));
      }
      const status = Number(statusText);
      if (status !== 0) {
        const msg = decodeGrpcMessage((trailers ?? {})['grpc-message'] ?? responseHeaders['grpc-message']);
        return reject(new GrpcStatusError(status, msg));
      }
      try {
        const messages = unframeMessages(Buffer.concat(chunks));
        if (messages.length !== 1) throw new GrpcStatusError(13, `expected one response message, got ${messages.length}`);
        resolve(messages[0] as Buffer);
      } catch (e) {
        reject(e);
      }
    });
    stream.end(frameMessage(request));
  });
}
