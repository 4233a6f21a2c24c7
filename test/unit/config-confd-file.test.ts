/**
 * confd's own config file (`-config-file /etc/confd/confd.toml`) with confd's key spellings loads
 * unchanged: every key confd documents for the backends haconfd has.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlags } from '../../src/config/flags.js';
import { ConfigError, loadConfig } from '../../src/config/loadConfig.js';

function withFile(text: string, fn: (path: string, dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'haconfd-confd-toml-'));
  try {
    const path = join(dir, 'confd.toml');
    writeFileSync(path, text);
    fn(path, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const CONFD_TOML = (confdir: string): string => `backend = "etcdv3"
confdir = "${confdir}"
log-level = "debug"
interval = 60
noop = false
prefix = "/service/demo"
scheme = "https"
nodes = [
  "10.0.1.1:2379",
  "10.0.1.2:2379",
]
client_cert = "/etc/confd/ssl/client.crt"
client_key = "/etc/confd/ssl/client.key"
client_cakeys = "/etc/confd/ssl/ca.pem"
basic_auth = true
username = "confd"
password = "s3cret"
watch = true
sync-only = true
`;

test('confd.toml with confd key names: every key is taken as confd means it', () => {
  withFile(CONFD_TOML('/etc/confd'), (path) => {
    const c = loadConfig({ flags: parseFlags(['-config-file', path]).flags, env: {} });
    assert.equal(c.configFile, path);
    assert.equal(c.backend, 'etcdv3');
    assert.equal(c.confdir, '/etc/confd');
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.intervalSeconds, 60);
    assert.equal(c.noop, false);
    assert.equal(c.prefix, '/service/demo');
    assert.deepEqual(c.nodes, ['https://10.0.1.1:2379', 'https://10.0.1.2:2379']);
    assert.deepEqual(c.tls, { cert: '/etc/confd/ssl/client.crt', key: '/etc/confd/ssl/client.key', ca: '/etc/confd/ssl/ca.pem' });
    assert.deepEqual(c.auth, { username: 'confd', password: 's3cret' });
    assert.equal(c.mode, 'watch');
    assert.equal(c.syncOnly, true);
  });
});

test('confd.toml: flags still win over the file (haconfd precedence)', () => {
  withFile(CONFD_TOML('/etc/confd'), (path) => {
    const c = loadConfig({ flags: parseFlags(['-config-file', path, '-prefix', '/other', '-onetime']).flags, env: {} });
    assert.equal(c.prefix, '/other');
    assert.equal(c.mode, 'onetime');
  });
});

test('confd.toml: a misspelt key is refused, naming the file and the nearest key', () => {
  withFile('backend = "etcdv3"\nclient_cakey = "/x"\n', (path) => {
    assert.throws(
      () => loadConfig({ flags: parseFlags(['-config-file', path]).flags, env: {} }),
      (e: unknown) => e instanceof ConfigError && e.message.includes(path) && /unknown key "client_cakey"/.test(e.message) && /client_cakeys/.test(e.message),
    );
  });
});
