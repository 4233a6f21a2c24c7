/**
 * Planted passwords never reach what haconfd prints: -node with userinfo, `nodes` in haconfd.toml
 * under -watch, HACONFD_PASSWORD with an unreachable etcd, and Patroni members rejected for their
 * conn_url/api_url (legacy `user:pw@` form). Real CLI processes; every line of stdout/stderr is
 * checked for every planted secret.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, REPO } from '../harness/cli.js';
import { freePort, removeDir, tempDir } from '../harness/process.js';
import { PLANTED, assertNoSecrets } from '../harness/secrets.js';

test('-node with a password in it: refused (exit 2) without quoting the password', async () => {
  for (const mode of ['-onetime', '-watch']) {
    const r = await runCli([mode, '-backend', 'etcdv3', '-node', `http://alice:${PLANTED.node}@127.0.0.1:2379`, '-log-format', 'json'], { timeoutMs: 20_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /credentials belong in -username\/-password/);
    assert.match(r.stderr, /alice:\[redacted\]@127\.0\.0\.1/);
    assertNoSecrets(`${mode} -node`, r.stdout + r.stderr);
  }
});

test('nodes = [...] in haconfd.toml with a password, under -watch: refused without quoting it', async () => {
  const dir = tempDir('secrets-toml');
  try {
    const cfg = join(dir, 'haconfd.toml');
    writeFileSync(cfg, `backend = "etcdv3"\nnodes = ["http://bob:${PLANTED.toml}@127.0.0.1:2379"]\n`);
    mkdirSync(join(dir, 'conf.d'));
    const r = await runCli(['-watch', '-config-file', cfg, '-confdir', dir, '-log-format', 'text'], { timeoutMs: 20_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /bob:\[redacted\]@/);
    assertNoSecrets('haconfd.toml nodes', r.stdout + r.stderr);
  } finally {
    removeDir(dir);
  }
});

test('HACONFD_PASSWORD with etcd unreachable: errors, /readyz and logs never show it', async () => {
  const dir = tempDir('secrets-env');
  try {
    mkdirSync(join(dir, 'conf.d'));
    const port = await freePort();
    const r = await runCli(['-onetime', '-backend', 'etcdv3', '-node', `http://127.0.0.1:${port}`, '-username', 'carol', '-confdir', dir, '-connect-timeout', '500', '-log-level', 'debug', '-log-format', 'json'], {
      env: { HACONFD_PASSWORD: PLANTED.env },
      timeoutMs: 20_000,
    });
    assert.notEqual(r.code, 0);
    assertNoSecrets('HACONFD_PASSWORD', r.stdout + r.stderr);
  } finally {
    removeDir(dir);
  }
});

test('members rejected for their conn_url/api_url: the member_rejected warning names them, never their passwords', async () => {
  const dir = tempDir('secrets-member');
  try {
    const confdir = join(dir, 'etc');
    mkdirSync(join(confdir, 'conf.d'), { recursive: true });
    mkdirSync(join(confdir, 'templates'));
    writeFileSync(join(confdir, 'templates', 'haproxy.cfg.hbs'), readFileSync(join(REPO, 'templates', 'haproxy.cfg.hbs')));
    const dest = join(dir, 'haproxy.cfg');
    writeFileSync(
      join(confdir, 'conf.d', 'haproxy.toml'),
      `[template]\nsrc = "haproxy.cfg.hbs"\ndest = "${dest}"\nprefix = "/service"\nkeys = ["/"]\n[template.vars]\nruntime_socket = "${join(dir, 'admin.sock')}"\nserver_state_file = "${join(dir, 'state')}"\n`,
    );
    const good = JSON.stringify({ conn_url: 'postgres://10.0.0.1:5432/postgres', api_url: 'http://10.0.0.1:8008/patroni', state: 'running', role: 'master' });
    // Legacy form, a space in the password: rejected. JSON form, a password in api_url and a bad port.
    const legacy = `postgres://replicator:${PLANTED.member}@10.0.0.5:5432/postgres?application_name=http://10.0.0.5:8008/patroni`;
    const apiLeak = JSON.stringify({ conn_url: 'postgres://10.0.0.6:5432/postgres', api_url: `http://admin:${PLANTED.api}@10.0.0.6:99999/patroni`, state: 'running', role: 'replica' });
    const data = join(dir, 'data.json');
    writeFileSync(data, JSON.stringify({ service: { demo: { leader: 'pg1', members: { pg1: good, pwleak: legacy, apileak: apiLeak } } } }));
    const r = await runCli(['-onetime', '-backend', 'file', '-file', data, '-confdir', confdir, '-log-format', 'json'], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    const rejected = r.stderr.split('\n').filter((l) => l.includes('member_rejected'));
    assert.equal(rejected.length, 2, r.stderr);
    assert.ok(rejected.some((l) => l.includes('pwleak') && l.includes('replicator:[redacted]@')));
    assert.ok(rejected.some((l) => l.includes('apileak')));
    assertNoSecrets('member_rejected', r.stdout + r.stderr + readFileSync(dest, 'utf8'));
  } finally {
    removeDir(dir);
  }
});
