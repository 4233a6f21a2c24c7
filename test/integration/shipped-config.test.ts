/**
 * The shipped conf.d/ and templates/, copied as the README's Install says (to <root>/etc/haconfd), are
 * safe to start: the only resource is haproxy.cfg, nothing touches keepalived, and `-noop` shows
 * what would be written as a real diff.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { loadResources } from '../../src/resource/loadResources.js';
import { CLI, REPO, runCli } from '../harness/cli.js';
import { removeDir, requireBinary, tempDir } from '../harness/process.js';

let root = '';
let confdir = '';
before(() => {
  root = tempDir('shipped-config');
  confdir = join(root, 'etc', 'haconfd');
  mkdirSync(confdir, { recursive: true });
  cpSync(join(REPO, 'conf.d'), join(confdir, 'conf.d'), { recursive: true });
  cpSync(join(REPO, 'templates'), join(confdir, 'templates'), { recursive: true });
});
after(() => removeDir(root));

test('the shipped conf.d holds one resource, haproxy.cfg: the files it may write and the service it reloads', () => {
  const { resources, errors } = loadResources(join(confdir, 'conf.d'), { templatesDir: join(confdir, 'templates'), cwd: root });
  assert.deepEqual(errors, []);
  assert.deepEqual(resources.map((r) => r.name), ['haproxy.toml']);
  const [r] = resources;
  assert.ok(r);
  // Written: the destination and (right before each reload) the server-state file. Nothing else.
  assert.equal(r.dest, '/etc/haproxy/haproxy.cfg');
  assert.equal(r.haproxy?.stateFile, '/var/lib/haproxy/server-state');
  assert.equal(r.reloadCmd, undefined, 'HAProxy is reloaded by the [template.haproxy] strategy, no free-form command');
  assert.equal(r.haproxy?.reload, 'systemd');
  assert.equal(r.haproxy?.unit, 'haproxy');
  assert.doesNotMatch(JSON.stringify(r), /keepalived/i, 'nothing in the shipped resource names keepalived');
});

test('the keepalived resources are examples, not shipped in conf.d (their VIP and interface are placeholders)', () => {
  assert.deepEqual(readdirSync(join(REPO, 'conf.d')).sort(), ['haproxy.toml']);
  assert.deepEqual(readdirSync(join(REPO, 'examples', 'keepalived', 'conf.d')).sort(), ['keepalived-chk.toml', 'keepalived.toml']);
  const { resources, errors } = loadResources(join(REPO, 'examples', 'keepalived', 'conf.d'), {
    templatesDir: join(REPO, 'examples', 'keepalived', 'templates'),
    cwd: REPO,
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(resources.map((r) => r.dest), ['/etc/keepalived/chk_haproxy.sh', '/etc/keepalived/keepalived.conf']);
});

test('the daemon on the shipped confdir (-onetime -noop) would write /etc/haproxy/haproxy.cfg only, and prints the diff as lines', async () => {
  const r = await runCli(
    ['-onetime', '-noop', '-backend', 'file', '-file', join(REPO, 'examples/data/patroni-demo.yaml'), '-confdir', confdir, '-log-format', 'text'],
    { cwd: root },
  );
  assert.equal(r.code, 0, r.stderr);
  const wouldUpdate = r.stderr.split('\n').filter((l) => /noop: would update/.test(l));
  assert.equal(wouldUpdate.length, 1, r.stderr);
  assert.match(wouldUpdate[0] ?? '', /resource=haproxy\.toml .*dest=\/etc\/haproxy\/haproxy\.cfg diff=\(below\)/);
  assert.doesNotMatch(r.stderr, /keepalived/i);
  // The diff as real lines, not one escaped string.
  assert.match(r.stderr, /^\+\+\+ \/etc\/haproxy\/haproxy\.cfg\trendered$/m);
  assert.match(r.stderr, /^\+listen demo_primary$/m);
  assert.doesNotMatch(r.stderr, /\\n/);
  assert.deepEqual(readdirSync(root).sort(), ['etc'], 'nothing written beside the confdir');
});

test('started for real on the shipped confdir in a temp root (/etc, /var, /run empty tmpfs): it writes haproxy.cfg and the server-state file, nothing else', async () => {
  const unshare = requireBinary('unshare', 'util-linux');
  requireBinary('haproxy', 'haproxy');
  // A private mount namespace: /etc, /var and /run are fresh tmpfs, holding only the directories a
  // Debian HAProxy install has; every file haconfd writes there is listed afterwards.
  const script = [
    'for m in /etc /var /run; do mount -t tmpfs none "$m" || exit 90; done',
    'mkdir -p /etc/haproxy /var/lib/haproxy /run/haproxy /etc/keepalived',
    `"${process.execPath}" "${CLI}" -onetime -backend file -file "${join(REPO, 'examples/data/patroni-demo.yaml')}" -confdir "${confdir}" -log-format json`,
    'echo "rc=$?"',
    'echo "--- written:"',
    'find /etc /var /run -type f | sort',
  ].join('\n');
  const env = { ...process.env };
  delete env['NODE_EXTRA_CA_CERTS'];
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(unshare, ['--mount', '--propagation', 'private', '/bin/sh', '-c', script], { env, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    ),
  );
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const out = r.stdout;
  const written = out.slice(out.indexOf('--- written:\n') + '--- written:\n'.length).trim().split('\n');
  assert.deepEqual(written, ['/etc/haproxy/haproxy.cfg', '/var/lib/haproxy/server-state'], out);
  const log = r.stderr;
  assert.match(log, /"dest":"\/etc\/haproxy\/haproxy\.cfg".*"msg":"updated"/);
  // The one thing it runs besides the check: `systemctl reload haproxy` (no systemd in the temp root).
  assert.match(log, /reload failed: systemctl reload haproxy failed/);
  assert.match(out, /rc=1/, 'the failed reload makes -onetime exit 1');
  assert.doesNotMatch(log, /keepalived/i);
});
