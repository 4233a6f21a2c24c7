/** The daemon's backend session: its transitions, and what readiness and the controller read from it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackendSession } from '../../src/daemon/backendSession.js';

test('reads: down until one succeeds; failures counted and named; a success clears them', () => {
  const gauge: boolean[] = [];
  const s = new BackendSession((up) => gauge.push(up));
  s.down();
  assert.equal(s.reachable, false);
  assert.equal(s.notReadyReason(false), 'backend not reachable');
  assert.equal(s.readFailed(new Error('refused')), 1);
  assert.equal(s.readFailed(new Error('refused again')), 2);
  assert.equal(s.notReadyReason(false), 'backend not reachable: refused again');
  assert.equal(s.lastReadError?.message, 'refused again');
  s.readSucceeded();
  assert.equal(s.reachable, true);
  assert.equal(s.error, undefined);
  assert.equal(s.lastReadError, undefined);
  assert.equal(s.notReadyReason(true), undefined);
  assert.equal(s.readFailed(new Error('x')), 1, 'the run of failures starts again');
  assert.deepEqual(gauge, [false, false, false, true, false]);
});

test('watch: an outage starts once, a full read during it spares the reconnect its own read', () => {
  const s = new BackendSession();
  s.readSucceeded();
  assert.equal(s.watchUp, true);
  assert.equal(s.watchDisconnected(new Error('stream reset')), true, 'the outage starts');
  assert.equal(s.watchDisconnected(undefined), false, 'still the same outage');
  assert.equal(s.watchUp, false);
  assert.equal(s.reachable, false);
  assert.equal(s.notReadyReason(true), 'backend not reachable');
  s.readSucceeded();
  assert.equal(s.notReadyReason(true), 'backend watch not connected', 'reads work, the watch does not');
  assert.equal(s.notReadyReason(false), undefined, 'interval mode does not watch');
  assert.deepEqual(s.watchConnected(), { reconnected: true, readSince: false });
  assert.deepEqual(s.watchConnected(), { reconnected: false, readSince: false }, 'already up');

  s.watchDisconnected(new Error('again'));
  s.fullRead();
  assert.deepEqual(s.watchConnected(), { reconnected: true, readSince: true });
  s.fullRead();
  s.watchDisconnected(undefined);
  assert.deepEqual(s.watchConnected(), { reconnected: true, readSince: false }, 'a read before the outage does not count');
});

test('a failed connection attempt is named until something works', () => {
  const s = new BackendSession();
  s.connectFailed(new Error('no route to host'));
  assert.equal(s.notReadyReason(true), 'backend not reachable: no route to host');
  s.watchConnected();
  assert.equal(s.notReadyReason(true), undefined);
});
