import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEtcdNode, parseEtcdNodes } from '../../src/backends/etcd/etcdNodes.js';
import { BackendConfigError } from '../../src/backends/backend.js';

test('node forms: http://, https://, bare host:port, bare host, IPv6', () => {
  assert.deepEqual(parseEtcdNode('http://10.0.0.1:2379', false), { url: 'http://10.0.0.1:2379', target: '10.0.0.1:2379', secure: false });
  assert.deepEqual(parseEtcdNode('https://etcd1:22379/', false), { url: 'https://etcd1:22379', target: 'etcd1:22379', secure: true });
  assert.deepEqual(parseEtcdNode('etcd1:2379', false), { url: 'http://etcd1:2379', target: 'etcd1:2379', secure: false });
  assert.deepEqual(parseEtcdNode('etcd1:2379', true), { url: 'https://etcd1:2379', target: 'etcd1:2379', secure: true });
  assert.deepEqual(parseEtcdNode('etcd1', false), { url: 'http://etcd1:2379', target: 'etcd1:2379', secure: false });
  assert.deepEqual(parseEtcdNode('[::1]:2379', false), { url: 'http://[::1]:2379', target: '[::1]:2379', secure: false });
  assert.deepEqual(parseEtcdNode('HTTP://[fe80::1]', false), { url: 'http://[fe80::1]:2379', target: '[fe80::1]:2379', secure: false });
});

test('bad nodes are BackendConfigErrors naming the node', () => {
  for (const bad of ['', 'ftp://h:1', 'h:0', 'h:65536', 'h:abc', 'http://h:2379/v3', '::1', 'user:pw@h:2379', 'http://:2379', '[::1', 'h h:1']) {
    assert.throws(() => parseEtcdNode(bad, false), (e: unknown) => e instanceof BackendConfigError && e.message.includes(`'${bad}'`), bad);
  }
});

test('node list: default scheme, no mixing, duplicates dropped', () => {
  assert.deepEqual(
    parseEtcdNodes(['http://127.0.0.1:2379', '127.0.0.1:22379', 'http://127.0.0.1:2379'], false).map((e) => e.url),
    ['http://127.0.0.1:2379', 'http://127.0.0.1:22379'],
  );
  assert.throws(() => parseEtcdNodes(['http://a:1', 'https://b:1'], false), /mix http and https/);
  assert.throws(() => parseEtcdNodes(['http://a:1'], true), /TLS options .* http:\/\//);
  assert.throws(() => parseEtcdNodes([], false), BackendConfigError);
  assert.deepEqual(parseEtcdNodes(['a:1', 'https://b:1'], true).map((e) => e.secure), [true, true]);
});
