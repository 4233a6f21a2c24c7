import test from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags, UsageError } from '../../src/config/flags.js';

test('all four Go spellings parse alike', () => {
  for (const argv of [['-prefix', '/a'], ['--prefix', '/a'], ['-prefix=/a'], ['--prefix=/a']]) {
    assert.equal(parseFlags(argv).flags.get('prefix'), '/a', argv.join(' '));
  }
});

test('-node repeats; booleans take =false; ints parse', () => {
  const { flags } = parseFlags(['-node', 'a:1', '--node=b:2', '-watch', '-onetime=false', '-interval', '10', '-noop=true']);
  assert.deepEqual(flags.get('node'), ['a:1', 'b:2']);
  assert.equal(flags.get('watch'), true);
  assert.equal(flags.get('onetime'), false);
  assert.equal(flags.get('interval'), 10);
  assert.equal(flags.get('noop'), true);
});

test("Patroni's confd invocation parses", () => {
  const { flags, rest } = parseFlags(['-prefix=/service/demo', '-interval=10', '-backend', 'etcdv3', '-node', 'http://etcd1:2379', '-node', 'http://etcd2:2379']);
  assert.equal(flags.get('prefix'), '/service/demo');
  assert.equal(flags.get('backend'), 'etcdv3');
  assert.deepEqual(flags.get('node'), ['http://etcd1:2379', 'http://etcd2:2379']);
  assert.deepEqual(rest, []);
});

test('-interval abc is a usage error naming the flag', () => {
  assert.throws(() => parseFlags(['-interval', 'abc']), (e: unknown) => e instanceof UsageError && /-interval/.test(e.message) && /abc/.test(e.message));
});

test('unknown flag is a usage error with a suggestion', () => {
  assert.throws(() => parseFlags(['-intervall=5']), /unknown flag -intervall \(did you mean -interval\?\)/);
  assert.throws(() => parseFlags(['--zzzzzz']), /unknown flag -zzzzzz/);
});

test('a value-taking flag at the end needs its value', () => {
  assert.throws(() => parseFlags(['-prefix']), /needs a value/);
});

test('bad boolean value is refused', () => {
  assert.throws(() => parseFlags(['-watch=maybe']), /invalid boolean/);
});

test('parsing stops at -- and at the first positional argument', () => {
  assert.deepEqual(parseFlags(['-watch', '--', '-x']).rest, ['-x']);
  assert.deepEqual(parseFlags(['-watch', 'extra', '-noop']).rest, ['extra', '-noop']);
});
