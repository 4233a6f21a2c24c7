import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlags } from '../../src/config/flags.js';
import { ConfigError, loadConfig, parseListen } from '../../src/config/loadConfig.js';

function withConfdir(toml: string | undefined, fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'haconfd-cfg-'));
  try {
    if (toml !== undefined) writeFileSync(join(dir, 'haconfd.toml'), toml);
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The default paths (/etc/confd/confd.toml …) moved where nothing exists: the test machine's /etc never leaks in.
const NO_ETC = { HACONFD_TEST_ETC_ROOT: join(tmpdir(), 'haconfd-tests-no-etc-root') };
const load = (argv: string[], env: NodeJS.ProcessEnv = {}) => loadConfig({ flags: parseFlags(argv).flags, env: { ...NO_ETC, ...env } });

test('defaults', () => {
  withConfdir(undefined, (dir) => {
    const c = load(['-confdir', dir]);
    assert.equal(c.mode, 'interval');
    assert.equal(c.intervalSeconds, 600);
    assert.equal(c.backend, 'etcdv3');
    assert.deepEqual(c.nodes, ['127.0.0.1:2379']);
    assert.equal(c.prefix, undefined, 'no -prefix: each resource keeps its own prefix');
    assert.equal(c.configFile, undefined);
  });
});

test('precedence: flags > environment > config file > defaults', () => {
  withConfdir('prefix = "/from-file"\ninterval = 30\nlog-level = "warn"\nnodes = ["f1:2379"]\n', (dir) => {
    const fileOnly = load(['-confdir', dir]);
    assert.equal(fileOnly.prefix, '/from-file');
    assert.equal(fileOnly.intervalSeconds, 30);
    assert.deepEqual(fileOnly.nodes, ['f1:2379']);
    const envWins = load(['-confdir', dir], { HACONFD_PREFIX: '/from-env', HACONFD_NODE: 'e1:2379,e2:2379' });
    assert.equal(envWins.prefix, '/from-env');
    assert.deepEqual(envWins.nodes, ['e1:2379', 'e2:2379']);
    assert.equal(envWins.logLevel, 'warn');
    const flagWins = load(['-confdir', dir, '-prefix', '/from-flag', '-interval=5'], { HACONFD_PREFIX: '/from-env', HACONFD_INTERVAL: '7' });
    assert.equal(flagWins.prefix, '/from-flag');
    assert.equal(flagWins.intervalSeconds, 5);
  });
});

test('-onetime wins over -watch; -backend etcd means etcdv3', () => {
  withConfdir(undefined, (dir) => {
    const c = load(['-confdir', dir, '-watch', '-onetime', '-backend', 'etcd']);
    assert.equal(c.mode, 'onetime');
    assert.equal(c.backend, 'etcdv3');
  });
});

test('config file: unknown key rejected with a suggestion; bad TOML names the line', () => {
  withConfdir('backnd = "file"\n', (dir) => {
    assert.throws(() => load(['-confdir', dir]), (e: unknown) => e instanceof ConfigError && /unknown key "backnd" \(did you mean "backend"\?\)/.test(e.message));
  });
  withConfdir('prefix = "/a"\ninterval = \n', (dir) => {
    assert.throws(() => load(['-confdir', dir]), /haconfd\.toml: invalid TOML: line 2/);
  });
});

test('explicit -config-file that does not exist is an error; the default one is optional', () => {
  assert.throws(() => load(['-config-file', '/nonexistent/haconfd.toml']), /does not exist/);
  withConfdir(undefined, (dir) => assert.doesNotThrow(() => load(['-confdir', dir])));
});

test('bad values are configuration errors', () => {
  withConfdir(undefined, (dir) => {
    assert.throws(() => load(['-confdir', dir, '-backend', 'consul']), /unsupported backend "consul"/);
    assert.throws(() => load(['-confdir', dir, '-interval', '0']), /at least 1/);
    assert.throws(() => load(['-confdir', dir, '-backend', 'file']), /needs at least one -file/);
    assert.throws(() => load(['-confdir', dir, '-log-level', 'loud']), /-log-level/);
    assert.throws(() => load(['-confdir', dir], { HACONFD_INTERVAL: 'abc' }), /HACONFD_INTERVAL/);
    assert.throws(() => load(['-confdir', dir, '-basic-auth']), /-username and -password/);
  });
});

test('-scheme applies to nodes without one; auth from the environment', () => {
  withConfdir(undefined, (dir) => {
    const c = load(['-confdir', dir, '-scheme', 'https', '-node', 'h1:2379', '-node', 'http://h2:2379'], { HACONFD_USERNAME: 'u', HACONFD_PASSWORD: 'p' });
    assert.deepEqual(c.nodes, ['https://h1:2379', 'http://h2:2379']);
    assert.deepEqual(c.auth, { username: 'u', password: 'p' });
  });
});

test('parseListen', () => {
  assert.deepEqual(parseListen('127.0.0.1:9100'), { host: '127.0.0.1', port: 9100 });
  assert.deepEqual(parseListen(':9100'), { host: '127.0.0.1', port: 9100 });
  assert.deepEqual(parseListen('[::1]:9100'), { host: '::1', port: 9100 });
  assert.throws(() => parseListen('nope'), /HOST:PORT/);
});

test('[haproxy] and [controller] are typed; an unknown key or table is refused, naming the nearest valid one', () => {
  withConfdir('[haproxy]\nsocket = "/run/h.sock"\nstate_dir = "/srv"\n[controller]\nsocket = "/run/c.sock"\ninterval = "2s"\n', (dir) => {
    const c = load(['-confdir', dir]);
    assert.deepEqual(c.tables.haproxy, { socket: '/run/h.sock', state_dir: '/srv' });
    assert.deepEqual(c.tables.controller, { socket: '/run/c.sock', interval: '2s' });
  });
  withConfdir(undefined, (dir) => {
    const c = load(['-confdir', dir]);
    assert.deepEqual(c.tables, { haproxy: {}, controller: undefined });
  });
  const refused: Array<[string, RegExp]> = [
    ['[controller]\nsockt = "/run/c.sock"\n', /\[controller\] unknown key "sockt" \(did you mean "socket"\?\)/],
    ['[haproxy]\nadmin_sock = "/run/h.sock"\n', /\[haproxy\] unknown key "admin_sock" \(did you mean "admin_socket"\?\)/],
    ['[haproxy]\nstate_dir = 7\n', /\[haproxy\] state_dir must be a non-empty string/],
    ['[keepalived]\nvip = "10.0.0.1"\n', /unknown key "keepalived"/],
    ['[controler]\nsocket = "/run/c.sock"\n', /unknown key "controler" \(did you mean "controller"\?\)/],
    ['controller = "yes"\n', /controller must be a table/],
  ];
  for (const [toml, message] of refused) {
    withConfdir(toml, (dir) => {
      assert.throws(() => load(['-confdir', dir]), (e: unknown) => e instanceof ConfigError && message.test(e.message), toml);
    });
  }
});
