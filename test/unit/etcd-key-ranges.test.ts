import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBytes, rangesOfPrefix, rangesOfPrefixes } from '../../src/backends/etcd/etcdKeyRanges.js';
import { distinctPrefixes } from '../../src/store/keys.js';

const inRange = (key: string, r: { key: Buffer; rangeEnd?: Buffer }): boolean => {
  const k = Buffer.from(key);
  if (!r.rangeEnd) return k.equals(r.key);
  return Buffer.compare(k, r.key) >= 0 && Buffer.compare(k, r.rangeEnd) < 0;
};
const covered = (key: string, prefix: string): boolean => rangesOfPrefix(prefix).some((r) => inRange(key, r));

test('a prefix covers itself and keys below it on whole segments only', () => {
  for (const k of ['/service/demo', '/service/demo/leader', '/service/demo/members/pg1', '/service/demo/']) assert.ok(covered(k, '/service/demo'), k);
  for (const k of ['/service/demo2', '/service/demo-x/leader', '/service/demo.bak', '/service/dem', '/service/demo0', '/service']) {
    assert.ok(!covered(k, '/service/demo'), k);
  }
  assert.ok(covered('/service/demo/x', 'service/demo/'), 'prefix normalised');
});

test('the root prefix covers every absolute key', () => {
  assert.equal(rangesOfPrefix('/').length, 1);
  for (const k of ['/', '/a', '/service/demo/leader', '/zzz']) assert.ok(covered(k, '/'), k);
});

test('distinct prefixes: duplicates and nested prefixes dropped', () => {
  assert.deepEqual(distinctPrefixes(['/service/demo/members', '/service/demo', '/service/demo/', '/service/demo2']), ['/service/demo', '/service/demo2']);
  assert.deepEqual(distinctPrefixes(['/a', '/', '/b']), ['/']);
  assert.deepEqual(distinctPrefixes([]), []);
  assert.equal(rangesOfPrefixes(['/a', '/a/b', '/c']).length, 4);
});

test('bytes decode as UTF-8 with replacement, never throwing', () => {
  assert.equal(decodeBytes(Buffer.from([0x66, 0xff, 0xfe, 0x6f])), 'f\ufffd\ufffdo');
  assert.equal(decodeBytes(Buffer.from('żółw ✓', 'utf8')), 'żółw ✓');
  assert.equal(decodeBytes(Buffer.from([0xe2, 0x82])), '\ufffd');
  assert.equal(decodeBytes(undefined), '');
  assert.equal(decodeBytes(new Uint8Array([0x61, 0x62]).subarray(1)), 'b');
});

test('a watch uses one range per prefix; siblings inside it are left to the segment filter', async () => {
  const { watchRangeOfPrefix } = await import('../../src/backends/etcd/etcdKeyRanges.js');
  const { isUnderPrefix } = await import('../../src/store/keys.js');
  const r = watchRangeOfPrefix('/service/demo/');
  for (const k of ['/service/demo', '/service/demo/leader', '/service/demo-x', '/service/demo.bak/k']) assert.ok(inRange(k, r), k);
  for (const k of ['/service/demo2', '/service/demo0', '/service/dem']) assert.ok(!inRange(k, r), k);
  assert.ok(!isUnderPrefix('/service/demo-x', r.prefix));
  assert.ok(inRange('/anything', watchRangeOfPrefix('/')));
});

test('several prefixes share one watch range spanning them', async () => {
  const { watchRangeOfPrefixes } = await import('../../src/backends/etcd/etcdKeyRanges.js');
  const r = watchRangeOfPrefixes(['/service/b', '/service/a/members', '/service/a'])!;
  assert.deepEqual(r.prefixes, ['/service/a', '/service/b']);
  assert.equal(r.key.toString(), '/service/a');
  assert.equal(r.rangeEnd.toString(), '/service/b0');
  for (const k of ['/service/a', '/service/a/x', '/service/ab', '/service/b/leader']) assert.ok(inRange(k, r), k);
  assert.ok(!inRange('/service/b1', r));
  assert.equal(watchRangeOfPrefixes([]), undefined);
  assert.equal(watchRangeOfPrefixes(['/x', '/'])!.prefixes.length, 1);
});
