/** The pure parts of the ZooKeeper backend: -node parsing, confd's key mapping over the kept tree, jute. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BackendConfigError } from '../../src/backends/backend.js';
import { parseZkServers } from '../../src/backends/zookeeper/nodes.js';
import { ZnodeTree } from '../../src/backends/zookeeper/tree.js';
import { JuteReader, JuteWriter, JuteDecodeError } from '../../src/backends/zookeeper/jute.js';
import { znodePrefixes } from '../../src/backends/zookeeper/zookeeper.js';

test('znodePrefixes: "/*" dropped as confd does, nested prefixes folded', () => {
  assert.deepEqual(znodePrefixes(['/golden/nested/l1/*', '/golden/dir-no-data', '/s/members/*', '/s']), ['/golden/dir-no-data', '/golden/nested/l1', '/s']);
});

describe('parseZkServers', () => {
  test("repeatable and confd's comma-separated form; default port 2181; duplicates dropped", () => {
    assert.deepEqual(
      parseZkServers(['zk1:2181,zk2:2182', 'zk3', "'zk4:1'", 'zk1:2181', '[::1]:2190']).map((s) => s.label),
      ['zk1:2181', 'zk2:2182', 'zk3:2181', 'zk4:1', '[::1]:2190'],
    );
  });
  test('bad entries are configuration errors naming the entry', () => {
    for (const [node, re] of [
      ['zk1:0', /-node zk1:0: port must be a number from 1 to 65535/],
      ['zk1:65536', /port must be/],
      ['zk1:', /port must be/],
      ['https://zk1:2181', /host:port \(no http/],
      ['zk1:2181/chroot', /chroot path is not supported; put it in -prefix/],
      [',', /no ZooKeeper server given/],
    ] as const) {
      assert.throws(() => parseZkServers([node]), (e: unknown) => e instanceof BackendConfigError && re.test((e as Error).message), node);
    }
  });
});

describe('ZnodeTree (confd mapping, newest observation wins)', () => {
  test('leaves are keys; a directory turns into a key when its last child goes and back', () => {
    const t = new ZnodeTree(['/s']);
    t.apply({ path: '/s', value: '', seq: 1 });
    t.apply({ path: '/s/members', value: 'dir data', seq: 2 });
    t.apply({ path: '/s/members/a', value: 'A', seq: 3 });
    assert.deepEqual(Object.fromEntries(t.keys()), { '/s/members/a': 'A' });
    assert.deepEqual(t.apply({ path: '/s/members/a', value: undefined, seq: 4 }), [
      { type: 'delete', key: '/s/members/a', revision: 4 },
      { type: 'put', key: '/s/members', value: 'dir data', revision: 4 },
    ]);
    assert.deepEqual(t.apply({ path: '/s/members/b', value: 'B', seq: 5 }), [
      { type: 'put', key: '/s/members/b', value: 'B', revision: 5 },
      { type: 'delete', key: '/s/members', revision: 5 },
    ]);
    // A directory's data change is no key change.
    assert.deepEqual(t.apply({ path: '/s/members', value: 'other', seq: 6 }), []);
  });
  test('an older observation never overwrites a newer one; paths outside the prefixes are ignored', () => {
    const t = new ZnodeTree(['/s']);
    t.apply({ path: '/s/k', value: 'new', seq: 10 });
    assert.deepEqual(t.apply({ path: '/s/k', value: 'old', seq: 9 }), []);
    assert.deepEqual(t.apply({ path: '/s/k', value: undefined, seq: 8 }), []);
    assert.deepEqual(t.apply({ path: '/s2/k', value: 'x', seq: 11 }), []);
    assert.deepEqual(Object.fromEntries(t.keys()), { '/s/k': 'new' });
    // A delete then a late reply of the same znode from before it: stays deleted.
    t.apply({ path: '/s/k', value: undefined, seq: 12 });
    t.apply({ path: '/s/k', value: 'stale', seq: 11 });
    assert.deepEqual(Object.fromEntries(t.keys()), {});
  });
  test("the prefix's own parent is never a key", () => {
    const t = new ZnodeTree(['/s/a']);
    assert.deepEqual(t.apply({ path: '/s/a', value: 'v', seq: 1 }), [{ type: 'put', key: '/s/a', value: 'v', revision: 1 }]);
    assert.deepEqual(t.apply({ path: '/s/a', value: undefined, seq: 2 }), [{ type: 'delete', key: '/s/a', revision: 2 }]);
  });
});

describe('jute', () => {
  test('round trip and a truncated reply', () => {
    const f = new JuteWriter().int(-7).long(1n << 40n).bool(true).string('znode').buffer(null).frame();
    assert.equal(f.readInt32BE(0), f.length - 4);
    const r = new JuteReader(f.subarray(4));
    assert.equal(r.int(), -7);
    assert.equal(r.long(), 1n << 40n);
    assert.equal(r.bool(), true);
    assert.equal(r.string(), 'znode');
    assert.equal(r.buffer(), null);
    assert.throws(() => new JuteReader(Buffer.from([0, 0, 0, 9, 1])).buffer(), JuteDecodeError);
  });
});
