/** gRPC message framing (grpcUnary.ts) and etcd's Authenticate bytes (etcdAuthWire.ts). Pure. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameMessage, GrpcStatusError, unframeMessages } from '../../src/backends/etcd/grpcUnary.js';
import { decodeAuthenticateToken, encodeAuthenticateRequest } from '../../src/backends/etcd/etcdAuthWire.js';
import { errorText, etcdErrorKind, shortReason } from '../../src/backends/etcd/etcdErrors.js';

test('frameMessage: flag 0, big-endian length, body; unframeMessages reverses it', () => {
  const body = Buffer.from('hello');
  const f = frameMessage(body);
  assert.deepEqual([...f.subarray(0, 5)], [0, 0, 0, 0, 5]);
  assert.deepEqual(unframeMessages(f), [body]);
  const big = Buffer.alloc(70_000, 7);
  const two = Buffer.concat([frameMessage(big), frameMessage(Buffer.alloc(0))]);
  const out = unframeMessages(two);
  assert.equal(out.length, 2);
  assert.equal(out[0]!.length, 70_000);
  assert.equal(out[1]!.length, 0);
  assert.deepEqual(unframeMessages(Buffer.alloc(0)), []);
});

test('unframeMessages rejects truncated and compressed frames', () => {
  assert.throws(() => unframeMessages(Buffer.from([0, 0, 0])), /truncated gRPC message header/);
  assert.throws(() => unframeMessages(Buffer.from([0, 0, 0, 0, 9, 1, 2])), /truncated gRPC message/);
  assert.throws(() => unframeMessages(Buffer.from([1, 0, 0, 0, 1, 1])), /compressed/);
});

test('GrpcStatusError reads like grpc-js errors, so etcdErrors classifies it the same way', () => {
  const auth = new GrpcStatusError(3, 'etcdserver: authentication failed, invalid user ID or password');
  assert.equal(auth.message, '3 INVALID_ARGUMENT: etcdserver: authentication failed, invalid user ID or password');
  assert.equal(etcdErrorKind(auth), 'auth-failed');
  assert.equal(errorText(auth), auth.message);
  assert.equal(shortReason(auth), 'etcdserver: authentication failed, invalid user ID or password');
  assert.equal(etcdErrorKind(new GrpcStatusError(16, 'etcdserver: invalid auth token')), 'invalid-token');
  assert.equal(etcdErrorKind(new GrpcStatusError(9, 'etcdserver: authentication is not enabled')), 'auth-not-enabled');
  assert.equal(etcdErrorKind(new GrpcStatusError(14, 'etcdserver: no leader')), 'unavailable');
  assert.equal(etcdErrorKind(new GrpcStatusError(11, 'etcdserver: mvcc: required revision has been compacted')), 'compacted');
  assert.match(new GrpcStatusError(99, 'x').message, /^99 UNKNOWN: x$/);
});

test('AuthenticateRequest bytes; token decoded from a response with a header', () => {
  assert.deepEqual([...encodeAuthenticateRequest('ab', 'c')], [0x0a, 2, 0x61, 0x62, 0x12, 1, 0x63]);
  const long = 'p'.repeat(200);
  const req = encodeAuthenticateRequest('u', long);
  assert.deepEqual([...req.subarray(3, 6)], [0x12, 200 & 0x7f | 0x80, 1]);
  // ResponseHeader { cluster_id = 7, revision = 3 }, token = "tok.en"
  const header = Buffer.from([0x08, 7, 0x18, 3]);
  const res = Buffer.concat([Buffer.from([0x0a, header.length]), header, Buffer.from([0x12, 6]), Buffer.from('tok.en')]);
  assert.equal(decodeAuthenticateToken(res), 'tok.en');
  assert.equal(decodeAuthenticateToken(Buffer.alloc(0)), '');
  assert.throws(() => decodeAuthenticateToken(Buffer.from([0x12, 9, 0x61])), /truncated/);
});
