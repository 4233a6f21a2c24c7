import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holdReleaseLine, holdReplyError, holdRequestLine, parseHolds, stillHeld } from '../../src/haproxy/runtime/holdCommands.js';

test('hold command lines, with names and durations checked', () => {
  assert.equal(holdRequestLine('demo_primary', 3000), 'haconfd hold demo_primary 3000');
  assert.equal(holdReleaseLine('demo_primary'), 'haconfd release demo_primary');
  assert.throws(() => holdRequestLine('demo_primary; shutdown sessions server x/y', 3000));
  assert.throws(() => holdReleaseLine('a b'));
  for (const ms of [0, -1, 1.5, 3_600_001, Number.NaN]) assert.throws(() => holdRequestLine('demo_primary', ms), RangeError, String(ms));
});

test('parseHolds reads every listen line and refuses anything else', () => {
  const text = 'demo_primary held 70 released 69 timed_out 0 abandoned 1 wait_ms 61234 requested_ms 0\nother_primary held 0 released 0 timed_out 0 abandoned 0 wait_ms 0 requested_ms 2500\n\n';
  assert.deepEqual(parseHolds(text), [
    { listen: 'demo_primary', held: 70, released: 69, timedOut: 0, abandoned: 1, waitMs: 61234, requestedMs: 0 },
    { listen: 'other_primary', held: 0, released: 0, timedOut: 0, abandoned: 0, waitMs: 0, requestedMs: 2500 },
  ]);
  assert.deepEqual(parseHolds(''), []);
  assert.throws(() => parseHolds('demo_primary held 1 released 1'), /unexpected line/);
});

test('holdReplyError: success, the Lua\'s error lines, and HAProxy without the script', () => {
  assert.equal(holdReplyError(''), undefined);
  assert.equal(holdReplyError('\n'), undefined);
  assert.equal(holdReplyError('error: no such listen: x\n'), 'no such listen: x');
  assert.match(holdReplyError('Unknown command: \'haconfd\', but maybe one of the following ones is a better match:\n') ?? '', /haconfd-hold\.lua is not loaded/);
});

test('stillHeld: connections that waited and were not let go yet', () => {
  const h = { listen: 'demo_primary', held: 10, released: 6, timedOut: 1, abandoned: 1, waitMs: 900, requestedMs: 0 };
  assert.equal(stillHeld(h), 2);
  assert.equal(stillHeld({ ...h, released: 8 }), 0);
  // Counters read between two updates never give a negative count.
  assert.equal(stillHeld({ ...h, released: 9 }), 0);
});
