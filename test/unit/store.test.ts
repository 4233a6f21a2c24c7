import test from 'node:test';
import assert from 'node:assert/strict';
import { MissingKeyError, Store, globToRegExp } from '../../src/store/store.js';
import { isUnderPrefix, joinKeys, normalizeKey } from '../../src/store/keys.js';
import { applyEvents } from '../../src/store/snapshot.js';

const snap = {
  revision: 7,
  pairs: new Map([
    ['/service/demo/leader', 'pg1'],
    ['/service/demo/members/pg1', '{"a":1}'],
    ['/service/demo/members/pg2', 'b'],
    ['/service/demo/members/pg10', 'a'],
    ['/service/demo/config', 'c'],
    ['/service/demo/sync/x/y', 'deep'],
    ['/service/demo2/leader', 'other'],
  ]),
};
const s = new Store(snap, '/service/demo');

test('keys are relative to the prefix', () => {
  assert.deepEqual(s.get('/leader'), { key: '/leader', value: 'pg1' });
  assert.deepEqual(s.get('leader'), { key: '/leader', value: 'pg1' });
  assert.equal(s.exists('/members/pg1'), true);
  assert.equal(s.exists('/members'), false);
});

test('get on a missing key throws naming the key; getv takes a default', () => {
  assert.throws(() => s.get('/nope'), (e: unknown) => e instanceof MissingKeyError && e.message === 'key not found: /nope');
  assert.equal(s.getv('/nope', 'dflt'), 'dflt');
  assert.equal(s.getv('/nope', ''), '');
  assert.throws(() => s.getv('/nope'), /key not found: \/nope/);
});

test('gets: glob, * never crosses /, sorted by key; no match = []', () => {
  assert.deepEqual(s.gets('/members/*').map((kv) => kv.key), ['/members/pg1', '/members/pg10', '/members/pg2']);
  assert.deepEqual(s.gets('/*').map((kv) => kv.key), ['/config', '/leader']);
  assert.deepEqual(s.gets('/sync/*'), []);
  assert.deepEqual(s.gets('/members/pg?').map((kv) => kv.key), ['/members/pg1', '/members/pg2']);
  assert.deepEqual(s.gets('/nothing/*'), []);
});

test('getvs sorted by value', () => {
  assert.deepEqual(s.getvs('/members/*'), ['a', 'b', '{"a":1}']);
});

test('ls and lsdir list immediate children', () => {
  assert.deepEqual(s.ls('/'), ['config', 'leader', 'members', 'sync']);
  assert.deepEqual(s.lsdir('/'), ['members', 'sync']);
  assert.deepEqual(s.ls('/members'), ['pg1', 'pg10', 'pg2']);
  assert.deepEqual(s.lsdir('/members'), []);
  assert.deepEqual(s.ls('/sync'), ['x']);
  assert.deepEqual(s.ls('/absent'), []);
});

test('prefix matching is by whole path segment', () => {
  assert.equal(isUnderPrefix('/service/demo2/leader', '/service/demo'), false);
  assert.equal(isUnderPrefix('/service/demo/leader', '/service/demo'), true);
  assert.equal(isUnderPrefix('/service/demo', '/service/demo'), true);
  assert.equal(s.size(), 6);
});

test('key helpers and glob special characters', () => {
  assert.equal(normalizeKey('a//b/'), '/a/b');
  assert.equal(joinKeys('/service', 'demo/', '/leader'), '/service/demo/leader');
  assert.equal(globToRegExp('/a.b/*').test('/a.b/x'), true);
  assert.equal(globToRegExp('/a.b/*').test('/aXb/x'), false);
});

test('applyEvents returns a new snapshot and leaves the old one intact', () => {
  const next = applyEvents(snap, [
    { type: 'put', key: '/service/demo/leader', value: 'pg2', revision: 8 },
    { type: 'delete', key: '/service/demo/members/pg10', revision: 9 },
  ]);
  assert.equal(next.revision, 9);
  assert.equal(next.pairs.get('/service/demo/leader'), 'pg2');
  assert.equal(next.pairs.has('/service/demo/members/pg10'), false);
  assert.equal(snap.pairs.get('/service/demo/leader'), 'pg1');
});
