/**
 * The messages a newcomer meets in the first hour, each naming the cause and the fix (issue 13).
 * Every case runs the real CLI as a process.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../harness/cli.js';
import { removeDir, tempDir } from '../harness/process.js';

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
