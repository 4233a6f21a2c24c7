/** decodeReadTxnText (etcdWire.ts): the same pairs as decodeReadTxn + decodeBytes, as strings. Pure. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeReadTxn, decodeReadTxnText } from '../../src/backends/etcd/etcdWire.js';
import { decodeBytes } from '../../src/backends/etcd/etcdKeyRanges.js';

const field = (n: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([(n << 3) | 2, body.length]), body]);
const varintField = (n: number, v: number): Buffer => Buffer.from([n << 3, v]);

function kv(key: Buffer, value: Buffer | undefined): Buffer {
  const parts = [field(1, key), varintField(2, 5), varintField(3, 7)];
  if (value) parts.push(field(5, value));
  return field(2, Buffer.concat(parts));
}

test('decodeReadTxnText: same pairs and revision as decodeReadTxn + decodeBytes, invalid UTF-8 replaced', () => {
  const header = field(1, Buffer.concat([varintField(1, 9), varintField(3, 42)]));
  const range1 = field(1, Buffer.concat([header, kv(Buffer.from('/a/1'), Buffer.from('x')), kv(Buffer.from([0x2f, 0x61, 0xff]), Buffer.from([0x63, 0xe9])), varintField(4, 2)]));
  const range2 = field(1, Buffer.concat([kv(Buffer.from('/b/żółw'), undefined)]));
  const res = Buffer.concat([header, varintField(2, 1), field(3, range1), field(3, range2)]);
  const viaBuffers: [string, string][] = [];
  const r1 = decodeReadTxn(res, (k, v) => viaBuffers.push([decodeBytes(k), decodeBytes(v)]));
  const viaText: [string, string][] = [];
  const r2 = decodeReadTxnText(res, (k, v) => viaText.push([k, v]));
  assert.equal(r1.revision, 42);
  assert.equal(r2.revision, 42);
  assert.deepEqual(viaText, viaBuffers);
  assert.deepEqual(viaText, [['/a/1', 'x'], ['/a\ufffd', 'c\ufffd'], ['/b/żółw', '']]);
  assert.throws(() => decodeReadTxnText(res.subarray(0, res.length - 3), () => undefined), /truncated/);
});
