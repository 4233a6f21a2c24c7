import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { loadSync } from '@grpc/proto-loader';
import { decodeReadTxn, encodeReadTxn } from '../../src/backends/etcd/etcdWire.js';

// The reference: etcd3's own proto files through protobufjs, with etcd3's options.
const require = createRequire(import.meta.url);
const def = loadSync(require.resolve('etcd3/proto/rpc.proto'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
const txn = (def['etcdserverpb.KV'] as unknown as Record<string, {
  requestDeserialize(b: Buffer): { success: { request_range: { key: Buffer; range_end: Buffer; revision: string } }[]; compare: unknown[] };
  responseSerialize(v: unknown): Buffer;
}>)['Txn']!;

test('encodeReadTxn: what protobufjs reads back', () => {
  const buf = encodeReadTxn([
    { key: Buffer.from('/service/demo') },
    { key: Buffer.from('/service/demo/'), rangeEnd: Buffer.from('/service/demo0'), revision: 2 ** 40 + 7 },
    { key: Buffer.from([0xff, 0x00]), rangeEnd: Buffer.alloc(0), revision: 300 },
  ]);
  const req = txn.requestDeserialize(buf);
  assert.equal(req.compare.length, 0);
  assert.equal(req.success.length, 3);
  const [a, b, c] = req.success.map((o) => o.request_range);
  assert.equal(a!.key.toString(), '/service/demo');
  assert.equal(a!.range_end.length, 0);
  assert.equal(a!.revision, '0');
  assert.equal(b!.range_end.toString(), '/service/demo0');
  assert.equal(b!.revision, String(2 ** 40 + 7));
  assert.deepEqual([...c!.key], [0xff, 0x00]);
  assert.equal(c!.revision, '300');
});

test('decodeReadTxn: pairs and header revision from a protobufjs-encoded response', () => {
  const kv = (key: Buffer | string, value: Buffer | string, rev: number) => ({
    key: Buffer.from(key), value: Buffer.from(value), create_revision: '3', mod_revision: String(rev), version: '2', lease: '694d77aa9e38260f',
  });
  const bytes = txn.responseSerialize({
    header: { cluster_id: '14841639068965178418', member_id: '10276657743932975437', revision: String(2 ** 45 + 1), raft_term: '9' },
    succeeded: true,
    responses: [
      { response_range: { header: { revision: '5' }, kvs: [kv('/service/demo', 'self', 4)], more: false, count: '1' } },
      { response_range: { kvs: [kv('/service/demo/leader', 'pg1', 5), kv(Buffer.from([0x2f, 0xff]), Buffer.from([0xc3, 0x28]), 6), kv('/service/demo/empty', '', 7)], count: '3' } },
      { response_range: { kvs: [], count: '0' } },
    ],
  });
  const pairs: [string, number[]][] = [];
  const { revision } = decodeReadTxn(bytes, (k, v) => pairs.push([k.toString('latin1'), [...v]]));
  assert.equal(revision, 2 ** 45 + 1);
  assert.deepEqual(pairs, [
    ['/service/demo', [...Buffer.from('self')]],
    ['/service/demo/leader', [...Buffer.from('pg1')]],
    ['/\xff', [0xc3, 0x28]],
    ['/service/demo/empty', []],
  ]);
});

test('decodeReadTxn: an empty response and truncated bytes', () => {
  assert.deepEqual(decodeReadTxn(Buffer.alloc(0), () => assert.fail('no pairs')), { revision: 0 });
  const bytes = txn.responseSerialize({ header: { revision: '9' }, responses: [{ response_range: { kvs: [{ key: Buffer.from('/k'), value: Buffer.from('v') }] } }] });
  for (let cut = 1; cut < bytes.length; cut++) {
    try {
      decodeReadTxn(bytes.subarray(0, cut), () => undefined);
    } catch (e) {
      assert.match((e as Error).message, /^protobuf: /);
    }
  }
});
