import { test } from 'node:test';
import assert from 'node:assert/strict';
import { etcdErrorKind, shortReason, toBackendError } from '../../src/backends/etcd/etcdErrors.js';
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
  assert.equal(e.message, 'etcd unreachable at http://127.0.0.1:2379: connect ECONNREFUSED 127.0.0.1:1');
  assert.equal(etcdErrorKind(new Error('etcdserver: invalid auth token')), 'invalid-token');
  assert.equal(etcdErrorKind(new Error('etcdserver: mvcc: required revision has been compacted')), 'compacted');
  assert.equal(etcdErrorKind(new Error('etcdserver: authentication is not enabled')), 'auth-not-enabled');
  assert.equal(etcdErrorKind('weird'), 'unavailable');
});

test('OpenSSL alerts become a readable reason', () => {
  const r = shortReason(new Error('No connection established. Last error: 80DC2ACC397F0000:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 42\n (2026-11-23T20:25:47.477Z). Resolution note: '));
  assert.equal(r, 'the server rejected the TLS handshake (sslv3 alert bad certificate): check -client-cert/-client-key');
});
