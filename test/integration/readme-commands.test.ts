/**
 * The README's commands run as written against the shipped files: the Install block (copy conf.d/
 * and templates/ to /etc/haconfd, `-onetime -noop`, `-onetime`) and the "Running as a daemon" block
 * (`-interval=10`, `-watch -listen`), against a real etcd holding Patroni's keys.
 *
 * What the test changes, and only this: `/etc/haconfd` is a temp dir (also given as HACONFD_CONFDIR,
 * the default the commands rely on), the etcd URLs and the -listen port are the test's, and the
 * copied haproxy.toml writes into the temp dir and reloads nothing (no systemd here). `haproxy -c`
 * still checks every file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDataFile } from '../../src/backends/file.js';
import { REPO, runCli, startCli } from '../harness/cli.js';
import { startEtcd, type EtcdInstance } from '../harness/etcd.js';
import { freePort, removeDir, requireBinary, tempDir, waitFor } from '../harness/process.js';

/** The shell commands of the first ```sh block after `heading`, continuation lines joined, comments dropped. */
export function readmeCommands(readme: string, heading: string): string[] {
  const at = readme.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `README has no heading ${heading}`);
  const rest = readme.slice(at);
  const m = /```sh\n([\s\S]*?)```/.exec(rest);
  assert.ok(m?.[1], `no sh block under ${heading}`);
  return m[1]
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter((l) => l !== '');
}

/** The first ```sh block under `heading` that contains `marker`. */
function readmeBlockWith(readme: string, heading: string, marker: string): string[] {
  const at = readme.indexOf(`\n${heading}\n`);
  const end = readme.indexOf('\n## ', at + 1);
  const section = readme.slice(at, end < 0 ? undefined : end);
  for (const m of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    if (m[1]?.includes(marker)) return readmeCommands('\n' + heading + '\n```sh\n' + m[1] + '```', heading);
  }
  assert.fail(`no sh block with ${marker} under ${heading}`);
}

const README = readFileSync(join(REPO, 'README.md'), 'utf8');
let etcd: EtcdInstance;
let dir = '';
let etc = '';
let dest = '';

/** A README command line, moved into the test's world. */
function localize(cmd: string, listenPort: number): string[] {
  const words = cmd
    .replaceAll('/etc/haconfd', etc)
    .replaceAll('http://127.0.0.1:2379', etcd.clientUrl)
    .replaceAll('http://127.0.0.1:22379', etcd.clientUrl)
    .replaceAll('127.0.0.1:9911', `127.0.0.1:${listenPort}`)
    .split(/\s+/);
  assert.equal(words[0], 'haconfd', cmd);
  return words.slice(1);
}

before(async () => {
  requireBinary('haproxy', 'haproxy');
  dir = tempDir('readme');
  etc = join(dir, 'etc', 'haconfd');
  dest = join(dir, 'haproxy.cfg');
  etcd = await startEtcd('readme');
  const pairs = await parseDataFile('patroni-demo.yaml', readFileSync(join(REPO, 'examples/data/patroni-demo.yaml'), 'utf8'));
  for (const [k, v] of pairs) await etcd.ctl(['put', k, v]);
});
after(async () => {
  await etcd?.stop();
  removeDir(dir);
});

test('Install: copy the shipped files, -onetime -noop shows the diff and writes nothing, -onetime writes haproxy.cfg', async () => {
  const cmds = readmeBlockWith(README, '## Install', 'cp -r conf.d templates /etc/haconfd/');
  assert.deepEqual(
    cmds.map((c) => c.split(' ').slice(0, 3).join(' ')),
    ['install -d /etc/haconfd', 'cp -r conf.d', 'haconfd -onetime -noop', 'haconfd -onetime -backend'],
  );
  for (const c of cmds.slice(0, 2)) execFileSync('/bin/sh', ['-c', c.replaceAll('/etc/haconfd', etc)], { cwd: REPO });
  // The test's only edit of the copied resource: its destination, and no systemctl reload.
  const toml = join(etc, 'conf.d', 'haproxy.toml');
  const shipped = readFileSync(toml, 'utf8');
  assert.match(shipped, /^dest = "\/etc\/haproxy\/haproxy\.cfg"$/m);
  assert.match(shipped, /^\[template\.haproxy\]\nreload = "systemd"\nunit = "haproxy"\n/m);
  writeFileSync(
    toml,
    shipped
      .replace('dest = "/etc/haproxy/haproxy.cfg"', `dest = ${JSON.stringify(dest)}`)
      .replace(/^\[template\.haproxy\]\n(?:[a-z_]+ = .*\n)+/m, ''),
  );
  const env = { HACONFD_CONFDIR: etc };

  const noop = await runCli(localize(cmds[2] ?? '', 0), { cwd: dir, env });
  assert.equal(noop.code, 0, noop.stderr);
  assert.match(noop.stderr, /noop: would update/);
  assert.ok(!existsSync(dest), '-noop writes nothing');

  const once = await runCli(localize(cmds[3] ?? '', 0), { cwd: dir, env });
  assert.equal(once.code, 0, once.stderr);
  assert.match(readFileSync(dest, 'utf8'), /^listen demo_primary\n {4}bind \*:5010$/m);
});

test('Running as a daemon: both commands run as written with the shipped resource (no -prefix clash), render, and stop cleanly', async () => {
  const cmds = readmeCommands(README, '## Running as a daemon');
  assert.equal(cmds.length, 2);
  assert.ok(cmds.every((c) => !c.includes('-prefix')), 'the shipped resource already reads /service');
  assert.ok(existsSync(join(etc, 'conf.d', 'haproxy.toml')), 'the Install test copied the shipped files');
  for (const [i, cmd] of cmds.entries()) {
    rmSync(dest, { force: true });
    const port = await freePort();
    const p = startCli(localize(cmd, port), { logFile: join(dir, `daemon${i}.log`), cwd: dir, env: { HACONFD_CONFDIR: etc } });
    try {
      await waitFor(`${cmd}: haproxy.cfg written`, () => existsSync(dest) && /listen demo_replicas/.test(readFileSync(dest, 'utf8')), 20_000);
      if (cmd.includes('-watch')) {
        await waitFor('/readyz 200', async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200, 10_000);
        // A new member appears in the file without a restart.
        const member = JSON.stringify({ conn_url: 'postgres://172.28.0.24:5432/postgres', api_url: 'http://172.28.0.24:8008/patroni', state: 'running', role: 'replica', version: '3.0.2' });
        await etcd.ctl(['put', '/service/demo/members/patroni4', member]);
        await waitFor('patroni4 in haproxy.cfg', () => /server patroni4 172\.28\.0\.24:5432/.test(readFileSync(dest, 'utf8')), 20_000);
      }
      assert.doesNotMatch(p.log(), /"level":(50|60)/, p.log());
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${p.log()}`);
    } finally {
      await p.stop();
    }
    assert.equal(p.child.exitCode, 0, p.log());
  }
});

test('the first screen: the three ways to run it (once, polling, watching) run as written', async () => {
  const first = README.slice(0, README.indexOf('\n## Contents'));
  const rows = [...first.matchAll(/^\| (once|polling|watching) \| `(haconfd [^`]+)` \|/gm)].map((m) => ({ how: m[1] as string, cmd: m[2] as string }));
  assert.deepEqual(rows.map((r) => r.how), ['once', 'polling', 'watching']);
  const env = { HACONFD_CONFDIR: etc };
  for (const { how, cmd } of rows) {
    rmSync(dest, { force: true });
    const port = await freePort();
    const args = localize(cmd.replace('127.0.0.1:9911', `127.0.0.1:${port}`), port);
    if (how === 'once') {
      const r = await runCli(args, { cwd: dir, env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(readFileSync(dest, 'utf8'), /^listen demo_primary$/m);
      continue;
    }
    const p = startCli(args, { logFile: join(dir, `first-${how}.log`), cwd: dir, env });
    try {
      await waitFor(`${how}: haproxy.cfg written`, () => existsSync(dest) && /listen demo_replicas/.test(readFileSync(dest, 'utf8')), 20_000);
      if (how === 'watching') await waitFor('/readyz 200', async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200, 10_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${p.log()}`);
    } finally {
      await p.stop();
    }
    assert.equal(p.child.exitCode, 0, p.log());
  }
});
