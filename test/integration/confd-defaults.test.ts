/**
 * A confd host, flags as confd users give them (none for the config location): the real CLI finds
 * /etc/confd/confd.toml and /etc/confd/{conf.d,templates} by itself, as confd does. The "/" of
 * those default paths is moved to a temp dir with HACONFD_TEST_ETC_ROOT (tests only), so the real
 * /etc is never touched.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../harness/cli.js';
import { removeDir, tempDir } from '../harness/process.js';

function confdHost(): { root: string; etc: string; out: string; data: string } {
  const root = tempDir('confd-host');
  const etc = join(root, 'etc', 'confd');
  mkdirSync(join(etc, 'conf.d'), { recursive: true });
  mkdirSync(join(etc, 'templates'));
  const out = join(root, 'out');
  mkdirSync(out);
  const data = join(root, 'data.yaml');
  writeFileSync(data, 'service:\n  demo:\n    leader: pg1\n    members:\n      pg1: a\n      pg2: b\n');
  writeFileSync(join(etc, 'templates', 'm.tmpl'), 'leader {{getv "/leader"}}\n{{range gets "/members/*"}}{{base .Key}} {{.Value}}\n{{end}}');
  writeFileSync(join(etc, 'conf.d', 'm.toml'), `[template]\nsrc = "m.tmpl"\ndest = ${JSON.stringify(join(out, 'm.conf'))}\nkeys = ["/leader", "/members"]\n`);
  return { root, etc, out, data };
}

test('no -confdir, no -config-file: /etc/confd/confd.toml and /etc/confd/conf.d are used, as by confd', async () => {
  const h = confdHost();
  try {
    writeFileSync(join(h.etc, 'confd.toml'), `backend = "file"\nfile = [${JSON.stringify(h.data)}]\nprefix = "/service/demo"\n`);
    const r = await runCli(['-onetime', '-log-format', 'json'], { env: { HACONFD_TEST_ETC_ROOT: h.root } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(h.out, 'm.conf'), 'utf8'), 'leader pg1\npg1 a\npg2 b\n');
  } finally {
    removeDir(h.root);
  }
});

test('no confd.toml: not an error; the flags alone drive the run, with /etc/confd as confdir', async () => {
  const h = confdHost();
  try {
    const r = await runCli(['-onetime', '-backend', 'file', '-file', h.data, '-prefix', '/service/demo', '-log-format', 'json'], {
      env: { HACONFD_TEST_ETC_ROOT: h.root },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(h.out, 'm.conf'), 'utf8'), 'leader pg1\npg1 a\npg2 b\n');
  } finally {
    removeDir(h.root);
  }
});

test('a broken /etc/confd/confd.toml stops the start with exit 2, naming the file; nothing is written', async () => {
  const h = confdHost();
  try {
    writeFileSync(join(h.etc, 'confd.toml'), 'backend = "file"\nfile = [\n');
    const r = await runCli(['-onetime', '-log-format', 'json'], { env: { HACONFD_TEST_ETC_ROOT: h.root } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${join(h.etc, 'confd.toml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: invalid TOML`));
    assert.equal(existsSync(join(h.out, 'm.conf')), false);
  } finally {
    removeDir(h.root);
  }
});

test("Patroni's pgbouncer.toml as shipped (owner = a user this host lacks, its own prefix) under -prefix: confd's output, a warning, exit 0", async () => {
  const h = confdHost();
  try {
    const repo = join(import.meta.dirname, '..', '..');
    writeFileSync(join(h.etc, 'templates', 'pgbouncer.tmpl'), readFileSync(join(repo, 'examples', 'confd', 'templates', 'pgbouncer.tmpl')));
    const dest = join(h.out, 'pgbouncer.ini');
    // Patroni's extras/confd/conf.d/pgbouncer.toml, keys as written there (reload_cmd left out: no pgbouncer here).
    writeFileSync(
      join(h.etc, 'conf.d', 'pgbouncer.toml'),
      `[template]\nprefix = "/service/batman"\nowner = "no-such-user-haconfd-test"\nmode = "0644"\nsrc = "pgbouncer.tmpl"\ndest = ${JSON.stringify(dest)}\n\nkeys = [\n    "/members/","/leader"\n]\n`,
    );
    const data = join(repo, 'examples', 'confd', 'data', 'patroni.yaml');
    const r = await runCli(['-onetime', '-prefix', '/service/demo', '-backend', 'file', '-file', data, '-log-format', 'json'], { env: { HACONFD_TEST_ETC_ROOT: h.root } });
    assert.equal(r.code, 0, r.stderr);
    const golden = readFileSync(join(repo, 'test', 'golden', 'confd', 'cases', 'example-pgbouncer', 'expected.out'), 'utf8');
    assert.equal(readFileSync(dest, 'utf8'), golden);
    assert.match(r.stdout + r.stderr, /pgbouncer\.toml: owner \\"no-such-user-haconfd-test\\" does not exist on this machine: ignored/);
  } finally {
    removeDir(h.root);
  }
});
