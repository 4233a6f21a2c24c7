import { test } from 'node:test';
import assert from 'node:assert/strict';
import { etcdErrorKind, plainReason, shortReason, toBackendError, unreachableError } from '../../src/backends/etcd/etcdErrors.js';
import { BackendConfigError, BackendUnavailableError } from '../../src/backends/backend.js';

const ctx = { endpoints: ['http://127.0.0.1:2379'], username: 'root' };

test('authentication failure → BackendConfigError naming the user, not the password', () => {
  const e = toBackendError(new Error('EtcdAuthenticationFailedError: 3 INVALID_ARGUMENT: etcdserver: authentication failed, invalid user ID or password'), ctx);
  assert.ok(e instanceof BackendConfigError);
  assert.match(e.message, /authentication failed for user "root" at http:\/\/127\.0\.0\.1:2379/);
});

test('auth required, permission denied, TLS → BackendConfigError', () => {
  assert.ok(toBackendError(new Error('etcdserver: user name is empty'), { endpoints: ['x'] }) instanceof BackendConfigError);
  assert.match(toBackendError(new Error('etcdserver: user name is empty'), { endpoints: ['x'] }).message, /requires authentication/);
  assert.ok(toBackendError(new Error('etcdserver: permission denied'), ctx) instanceof BackendConfigError);
  const tls = toBackendError(
    new Error('14 UNAVAILABLE: No connection established. Last error: Error: unable to verify the first certificate. Resolution note: '),
    ctx,
  );
  assert.ok(tls instanceof BackendConfigError);
  assert.equal(tls.message, 'TLS connection to etcd at http://127.0.0.1:2379 failed: unable to verify the first certificate');
});

test('outages → BackendUnavailableError; stale tokens and compaction recognised', () => {
  const e = toBackendError(new Error('14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1 (2026-11-23T20:25:50.286Z). Resolution note: x'), ctx);
  assert.ok(e instanceof BackendUnavailableError);
  assert.equal(e.message, 'etcd unreachable at http://127.0.0.1:2379: connection refused (ECONNREFUSED)');
  assert.equal(etcdErrorKind(new Error('etcdserver: invalid auth token')), 'invalid-token');
  assert.equal(etcdErrorKind(new Error('etcdserver: mvcc: required revision has been compacted')), 'compacted');
  assert.equal(etcdErrorKind(new Error('etcdserver: authentication is not enabled')), 'auth-not-enabled');
  assert.equal(etcdErrorKind('weird'), 'unavailable');
});

test('OpenSSL alerts become a readable reason', () => {
  const r = shortReason(new Error('No connection established. Last error: 80DC2ACC397F0000:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 42\n (2026-11-23T20:25:47.477Z). Resolution note: '));
  assert.equal(r, 'the server rejected the TLS handshake (sslv3 alert bad certificate): check -client-cert/-client-key');
});

test('plainReason: what went wrong in plain words, never gRPC internals', () => {
  assert.equal(plainReason('connect ECONNREFUSED 127.0.0.1:1'), 'connection refused (ECONNREFUSED)');
  assert.equal(plainReason('Deadline exceeded after 0.000s,Waiting for LB pick'), 'no answer (host down, or a firewall drops the traffic)');
  assert.equal(plainReason('getaddrinfo ENOTFOUND etcd1'), 'host name not found (ENOTFOUND)');
  assert.equal(plainReason('connect EHOSTUNREACH 10.0.0.9:2379'), 'no route to host (EHOSTUNREACH)');
  assert.match(plainReason('read ECONNRESET'), /^the connection broke \(ECONNRESET\): is etcd running there, and is that its client port \(2379 by default, not the peer port 2380\)\?$/);
  for (const r of ['Deadline exceeded after 0.000s,Waiting for LB pick', 'connect ECONNREFUSED 127.0.0.1:1']) {
    assert.doesNotMatch(toBackendError(new Error(`14 UNAVAILABLE: ${r}`), ctx).message, /LB pick|UNAVAILABLE|Deadline/);
  }
});

test('unreachableError: every endpoint refused → says so and what to check, without a timeout', () => {
  const refused = unreachableError('read of /', ['http://a:1', 'http://b:2'], 5000, new Map([['http://a:1', 'connect ECONNREFUSED a:1'], ['http://b:2', 'connect ECONNREFUSED b:2']]));
  assert.equal(refused.message, 'etcd unreachable: read of / failed on every endpoint (http://a:1, http://b:2): connection refused (ECONNREFUSED) — is etcd running there, and is that its client port (2379 by default, not the peer port 2380)?');
  const mixed = unreachableError('read of /', ['http://a:1', 'http://b:2'], 5000, new Map([['http://a:1', 'connect ECONNREFUSED a:1'], ['http://b:2', 'no answer within 2500 ms']]));
  assert.equal(mixed.message, 'etcd unreachable: read of / failed on every endpoint (http://a:1, http://b:2) within 5000 ms — http://a:1: connection refused (ECONNREFUSED); http://b:2: no answer (host down, or a firewall drops the traffic)');
});

test('https:// to a plain-text port: says the server does not speak TLS and what to change', () => {
  const e = toBackendError(new Error('14 UNAVAILABLE: No connection established. Last error: Error: 80DC:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl'), ctx);
  assert.ok(e instanceof BackendConfigError);
  assert.match(e.message, /^TLS connection to etcd at http:\/\/127\.0\.0\.1:2379 failed: the server there does not speak TLS \(wrong version number\): use an http:\/\/ endpoint, or enable TLS on etcd's client port$/);
});
