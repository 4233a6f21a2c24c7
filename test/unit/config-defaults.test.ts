/**
 * Defaults with no flags, as a confd user expects them (confd's config.go): -confdir /etc/confd,
 * -config-file /etc/confd/confd.toml (a fixed path, read whatever -confdir is; absent = skipped),
 * ETCDCTL_PEERS for the etcd backend, CONFD_CLIENT_* for the TLS files. haconfd's own /etc/haconfd
 * and <confdir>/haconfd.toml take part only when they exist. Never touches the real /etc: the
 * resolution is pure, and loadConfig is run under HACONFD_TEST_ETC_ROOT.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPaths, resolveConfigLocation, TEST_ETC_ROOT_ENV } from '../../src/config/defaultPaths.js';
import { parseFlags } from '../../src/config/flags.js';
import { loadConfig, parseLogLevel } from '../../src/config/loadConfig.js';

const PATHS = defaultPaths({});
const on = (...existing: string[]) => (p: string) => existing.includes(p);

test('the real default paths are confd\'s and haconfd\'s under /etc', () => {
  assert.deepEqual(PATHS, { haconfdDir: '/etc/haconfd', confdDir: '/etc/confd', confdConfigFile: '/etc/confd/confd.toml' });
  assert.deepEqual(defaultPaths({ [TEST_ETC_ROOT_ENV]: '/tmp/r' }), {
    haconfdDir: '/tmp/r/etc/haconfd',
    confdDir: '/tmp/r/etc/confd',
    confdConfigFile: '/tmp/r/etc/confd/confd.toml',
  });
});

test('no flags, nothing installed: confdir /etc/confd, no config file (not an error)', () => {
  assert.deepEqual(resolveConfigLocation({ confdir: undefined, configFile: undefined, paths: PATHS, exists: on() }), {
    confdir: '/etc/confd',
    configFile: undefined,
    explicit: false,
  });
});

test('a confd host: /etc/confd/confd.toml is read', () => {
  const r = resolveConfigLocation({ confdir: undefined, configFile: undefined, paths: PATHS, exists: on('/etc/confd', '/etc/confd/confd.toml') });
  assert.deepEqual(r, { confdir: '/etc/confd', configFile: '/etc/confd/confd.toml', explicit: false });
});

test('confd reads /etc/confd/confd.toml whatever -confdir says', () => {
  const r = resolveConfigLocation({ confdir: '/srv/conf', configFile: undefined, paths: PATHS, exists: on('/etc/confd/confd.toml') });
  assert.deepEqual(r, { confdir: '/srv/conf', configFile: '/etc/confd/confd.toml', explicit: false });
});

test('haconfd\'s own places win when they exist: /etc/haconfd, then <confdir>/haconfd.toml', () => {
  assert.equal(resolveConfigLocation({ confdir: undefined, configFile: undefined, paths: PATHS, exists: on('/etc/haconfd', '/etc/confd') }).confdir, '/etc/haconfd');
  const both = resolveConfigLocation({
    confdir: undefined,
    configFile: undefined,
    paths: PATHS,
    exists: on('/etc/haconfd', '/etc/haconfd/haconfd.toml', '/etc/confd/confd.toml'),
  });
  assert.equal(both.configFile, '/etc/haconfd/haconfd.toml');
  const onlyConfd = resolveConfigLocation({ confdir: undefined, configFile: undefined, paths: PATHS, exists: on('/etc/haconfd', '/etc/confd/confd.toml') });
  assert.equal(onlyConfd.configFile, '/etc/confd/confd.toml');
  const inConfd = resolveConfigLocation({ confdir: undefined, configFile: undefined, paths: PATHS, exists: on('/etc/confd/haconfd.toml', '/etc/confd/confd.toml') });
  assert.equal(inConfd.configFile, '/etc/confd/haconfd.toml');
});

test('an explicit -config-file is used as given (and must exist); -config-file "" means none', () => {
  assert.deepEqual(resolveConfigLocation({ confdir: undefined, configFile: '/x/c.toml', paths: PATHS, exists: on('/etc/confd/confd.toml') }), {
    confdir: '/etc/confd',
    configFile: '/x/c.toml',
    explicit: true,
  });
  assert.deepEqual(resolveConfigLocation({ confdir: undefined, configFile: '', paths: PATHS, exists: on('/etc/confd/confd.toml') }), {
    confdir: '/etc/confd',
    configFile: undefined,
    explicit: false,
  });
});

function withRoot(fn: (root: string) => void): void {
  const root = mkdtempSync(join(tmpdir(), 'haconfd-etc-'));
  try {
    fn(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const load = (argv: string[], env: NodeJS.ProcessEnv) => loadConfig({ flags: parseFlags(argv).flags, env });

test('loadConfig with no flags: confd\'s confdir and confd.toml (keys in confd\'s spelling)', () =>
  withRoot((root) => {
    const env = { [TEST_ETC_ROOT_ENV]: root };
    const bare = load([], env);
    assert.equal(bare.confdir, join(root, 'etc', 'confd'));
    assert.equal(bare.configFile, undefined);
    assert.equal(bare.prefix, undefined);
    assert.equal(bare.intervalSeconds, 600);
    assert.equal(bare.backend, 'etcdv3');

    mkdirSync(join(root, 'etc', 'confd'), { recursive: true });
    writeFileSync(join(root, 'etc', 'confd', 'confd.toml'), 'backend = "etcd"\nnodes = ["http://10.0.0.1:2379"]\nprefix = "/service/demo"\ninterval = 10\nlog-level = "debug"\n');
    const c = load([], env);
    assert.equal(c.configFile, join(root, 'etc', 'confd', 'confd.toml'));
    assert.equal(c.confdir, join(root, 'etc', 'confd'));
    assert.deepEqual(c.nodes, ['http://10.0.0.1:2379']);
    assert.equal(c.prefix, '/service/demo');
    assert.equal(c.intervalSeconds, 10);
    assert.equal(c.logLevel, 'debug');

    // confd.toml may move the config directory.
    writeFileSync(join(root, 'etc', 'confd', 'confd.toml'), `confdir = ${JSON.stringify(join(root, 'srv'))}\n`);
    assert.equal(load([], env).confdir, join(root, 'srv'));

    // Once /etc/haconfd exists it is the default confdir; confd.toml is still read when it has no haconfd.toml.
    mkdirSync(join(root, 'etc', 'haconfd'));
    writeFileSync(join(root, 'etc', 'confd', 'confd.toml'), 'prefix = "/from-confd"\n');
    const h = load([], env);
    assert.equal(h.confdir, join(root, 'etc', 'haconfd'));
    assert.equal(h.prefix, '/from-confd');
    writeFileSync(join(root, 'etc', 'haconfd', 'haconfd.toml'), 'prefix = "/from-haconfd"\n');
    assert.equal(load([], env).prefix, '/from-haconfd');
  }));

test('a broken default confd.toml is an error naming it (as in confd)', () =>
  withRoot((root) => {
    mkdirSync(join(root, 'etc', 'confd'), { recursive: true });
    writeFileSync(join(root, 'etc', 'confd', 'confd.toml'), 'prefix = \n');
    assert.throws(() => load([], { [TEST_ETC_ROOT_ENV]: root }), (e: unknown) => e instanceof Error && e.message.includes(join(root, 'etc', 'confd', 'confd.toml')) && /line 1/.test(e.message));
  }));

test('ETCDCTL_PEERS gives the nodes for -backend etcd (confd\'s default backend), not for etcdv3 or when -node is set', () =>
  withRoot((root) => {
    const env = { [TEST_ETC_ROOT_ENV]: root, ETCDCTL_PEERS: 'http://10.0.0.1:2379,http://10.0.0.2:2379' };
    assert.deepEqual(load([], env).nodes, ['http://10.0.0.1:2379', 'http://10.0.0.2:2379']);
    assert.deepEqual(load(['-backend', 'etcd'], env).nodes, ['http://10.0.0.1:2379', 'http://10.0.0.2:2379']);
    assert.deepEqual(load(['-backend', 'etcdv3'], env).nodes, ['127.0.0.1:2379']);
    assert.deepEqual(load(['-node', 'http://10.9.9.9:2379'], env).nodes, ['http://10.9.9.9:2379']);
  }));

test('CONFD_CLIENT_CERT / _KEY / _CAKEYS fill the TLS files nothing else sets', () =>
  withRoot((root) => {
    const env = { [TEST_ETC_ROOT_ENV]: root, CONFD_CLIENT_CERT: '/c.pem', CONFD_CLIENT_KEY: '/k.pem', CONFD_CLIENT_CAKEYS: '/ca.pem' };
    assert.deepEqual(load([], env).tls, { cert: '/c.pem', key: '/k.pem', ca: '/ca.pem' });
    assert.deepEqual(load(['-client-ca-keys', '/flag-ca.pem'], { ...env, HACONFD_CLIENT_CERT: '/h.pem' }).tls, { cert: '/h.pem', key: '/k.pem', ca: '/flag-ca.pem' });
    mkdirSync(join(root, 'etc', 'confd'), { recursive: true });
    writeFileSync(join(root, 'etc', 'confd', 'confd.toml'), 'client_cakeys = "/file-ca.pem"\n');
    assert.equal(load([], env).tls.ca, '/file-ca.pem', 'confd: the file wins over CONFD_CLIENT_CAKEYS');
  }));

test('-log-level as confd (logrus) reads it: any case, warning, panic', () => {
  assert.equal(parseLogLevel('warning'), 'warn');
  assert.equal(parseLogLevel('WARN'), 'warn');
  assert.equal(parseLogLevel('Debug'), 'debug');
  assert.equal(parseLogLevel('panic'), 'fatal');
  assert.equal(parseLogLevel('fatal'), 'fatal');
  assert.equal(parseLogLevel('trace'), 'trace');
  assert.throws(() => parseLogLevel('bogus'), /-log-level must be one of .* got "bogus"/);
});

test('confd flags haconfd does not implement: accepted with their neutral value, refused otherwise with the reason', () =>
  withRoot((root) => {
    const env = { [TEST_ETC_ROOT_ENV]: root };
    assert.doesNotThrow(() => load(['-client-insecure=false', '-srv-domain', '', '-srv-record=', '-auth-token', '', '-table='], env));
    assert.throws(() => load(['-client-insecure'], env), /-client-insecure \(confd's client_insecure\) is not supported by haconfd: TLS verification cannot be turned off/);
    assert.throws(() => load(['-srv-domain', 'example.com'], env), /-srv-domain .* DNS SRV discovery .* list the members with -node/);
    assert.throws(() => load(['-separator', ':'], env), /a Redis setting/);
    // The same keys in confd.toml: a confd.toml spelling out the defaults works unchanged.
    mkdirSync(join(root, 'etc', 'confd'), { recursive: true });
    const file = join(root, 'etc', 'confd', 'confd.toml');
    writeFileSync(file, 'backend = "etcd"\nsrv_domain = ""\nsrv_record = ""\nclient_insecure = false\nauth_token = ""\ntable = ""\n');
    assert.equal(load([], env).configFile, file);
    writeFileSync(file, 'client_insecure = true\n');
    assert.throws(() => load([], env), /-client-insecure \(confd's client_insecure\) is not supported/);
    writeFileSync(file, 'client_insecure = "yes"\n');
    assert.throws(() => load([], env), /confd\.toml: key "client_insecure": expected true or false/);
  }));
