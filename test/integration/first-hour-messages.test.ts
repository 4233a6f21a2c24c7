/**
 * The messages a newcomer meets in the first hour, each naming the cause and the fix (issue 13).
 * Every case runs the real CLI as a process.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { REPO, runCli, startCli } from '../harness/cli.js';
import { freePort, removeDir, tempDir, waitFor } from '../harness/process.js';

let dir = '';
before(() => {
  dir = tempDir('first-hour');
});
after(() => removeDir(dir));

/** A confdir with one resource (TOML body after [template] src/dest/keys) and template text. */
function confdir(name: string, resourceRest: string, template = 'x {{vars.a}}\n'): string {
  const c = join(dir, name);
  mkdirSync(join(c, 'conf.d'), { recursive: true });
  mkdirSync(join(c, 'templates'), { recursive: true });
  writeFileSync(join(c, 'templates', 't.hbs'), template);
  writeFileSync(join(c, 'conf.d', 'r.toml'), `[template]\nsrc = "t.hbs"\ndest = "${join(c, 'out')}"\nkeys = ["/"]\n${resourceRest}`);
  return c;
}

test('master socket missing: says the master CLI comes from master-worker mode with -S (not a stats socket line)', async () => {
  const c = confdir('master', `[template.haproxy]\nreload = "master-socket"\nmaster_socket = "${join(dir, 'master.sock')}"\n[template.vars]\na = 1\n`);
  const r = await runCli(['-onetime', '-backend', 'env', '-confdir', c, '-log-format', 'text']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /reload failed: HAProxy master socket \S+master\.sock does not exist\. HAProxy must run in master-worker mode with this master socket: haproxy -W -S \S+master\.sock/);
  assert.doesNotMatch(r.stderr, /stats socket/);
});

test('wrong etcd port: -onetime fails at once in plain words (refused; is that the client port?), not after the 5 s timeout', async () => {
  const c = confdir('refused', '[template.vars]\na = 1\n');
  const port = await freePort();
  const t0 = Date.now();
  const r = await runCli(['-onetime', '-backend', 'etcdv3', '-node', `http://127.0.0.1:${port}`, '-confdir', c, '-log-format', 'text']);
  const ms = Date.now() - t0;
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`etcd unreachable: read of / failed on every endpoint \\(http://127\\.0\\.0\\.1:${port}\\): connection refused \\(ECONNREFUSED\\) — is etcd running there, and is that its client port \\(2379 by default`));
  assert.doesNotMatch(r.stderr, /LB pick|Deadline exceeded|\d+ UNAVAILABLE|grpc-js/);
  assert.ok(ms < 4000, `took ${ms} ms; the connect timeout is 5000 ms`);
});

test('stopping the daemon while etcd is down: the read in flight ends quietly, no "etcd backend is closed" error', async () => {
  const c = confdir('stop-down', '[template.vars]\na = 1\n');
  // An endpoint that accepts and never answers: the read is still in flight when SIGTERM arrives.
  const held: Socket[] = [];
  const silent = createServer((s) => held.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  const p = startCli(['-watch', '-backend', 'etcdv3', '-node', `http://127.0.0.1:${port}`, '-confdir', c, '-log-format', 'json'], { logFile: join(dir, 'stop-down.log') });
  try {
    await waitFor('the daemon connected to the silent endpoint', () => held.length > 0, 15_000);
  } finally {
    await p.stop();
    for (const s of held) s.destroy();
    silent.close();
  }
  assert.equal(p.child.exitCode, 0, p.log());
  assert.match(p.log(), /stopping: finishing the pass in flight/);
  assert.doesNotMatch(p.log(), /backend is closed/, p.log());
  const afterStop = p.log().slice(p.log().indexOf('stopping:'));
  assert.doesNotMatch(afterStop, /"level":(40|50)/, `nothing at warn/error after the stop:\n${afterStop}`);
});

test('npm run example without HAProxy installed: the skipped check is logged with how to install it', async () => {
  const work = join(dir, 'example');
  mkdirSync(join(work, 'out'), { recursive: true });
  cpSync(join(REPO, 'examples'), join(work, 'examples'), { recursive: true, verbatimSymlinks: true });
  cpSync(join(REPO, 'templates'), join(work, 'templates'), { recursive: true });
  // The example's command (package.json "example", after npm ci), on a PATH without /usr/sbin/haproxy.
  const script = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['example'] ?? '';
  const cmd = script.slice(script.indexOf('node dist/cli/main.js ') + 'node dist/cli/main.js '.length).split(' ');
  assert.ok(cmd.includes('-onetime'), script);
  const path = `${dirname(process.execPath)}:/usr/bin:/bin`;
  const r = await runCli(cmd, { cwd: work, env: { PATH: path } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /INFO  check passed, with output .*output="check skipped: haproxy is not installed \(apt-get install haproxy to check the file\)"/);
  assert.match(readFileSync(join(work, 'out', 'haproxy.cfg'), 'utf8'), /^listen demo_primary$/m);
});
