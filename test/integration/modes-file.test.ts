/**
 * -interval and -watch with the file backend, run as real processes: data, template and conf.d
 * edits take effect without a restart; a new broken resource is reported, never fatal.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCli } from '../harness/cli.js';
import { removeDir, tempDir, waitFor } from '../harness/process.js';

function setup(tag: string) {
  const dir = tempDir(tag);
  const confdir = join(dir, 'etc');
  mkdirSync(join(confdir, 'conf.d'), { recursive: true });
  mkdirSync(join(confdir, 'templates'));
  const data = join(dir, 'data.yaml');
  writeFileSync(data, 'app:\n  value: one\n');
  writeFileSync(join(confdir, 'templates', 'a.hbs'), 'value={{getv "/app/value"}}\n');
  writeFileSync(join(confdir, 'conf.d', 'a.toml'), `[template]\nsrc = "a.hbs"\ndest = "${join(dir, 'a.out')}"\nkeys = ["/app"]\n`);
  return { dir, confdir, data, out: join(dir, 'a.out') };
}

const read = (p: string): string => (existsSync(p) ? readFileSync(p, 'utf8') : '');

for (const mode of ['-interval=1', '-watch'] as const) {
  test(`${mode}: data, template and conf.d edits apply without restart; a broken new resource is skipped`, async () => {
    const s = setup(mode === '-watch' ? 'watch' : 'interval');
    const proc = startCli([mode, '-backend', 'file', '-file', s.data, '-confdir', s.confdir, '-log-format', 'json'], { logFile: join(s.dir, 'haconfd.log') });
    try {
      await waitFor('first render', () => read(s.out) === 'value=one\n', 60_000);
      writeFileSync(s.data, 'app:\n  value: two\n');
      await waitFor('data change rendered', () => read(s.out) === 'value=two\n', 60_000);
      writeFileSync(join(s.confdir, 'templates', 'a.hbs'), 'v2 value={{toUpper (getv "/app/value")}}\n');
      await waitFor('template edit rendered', () => read(s.out) === 'v2 value=TWO\n', 60_000);
      writeFileSync(join(s.confdir, 'conf.d', 'broken.toml'), '[template]\nsrc = "a.hbs"\ndestt = "/tmp/x"\n');
      writeFileSync(join(s.confdir, 'conf.d', 'b.toml'), `[template]\nsrc = "a.hbs"\ndest = "${join(s.dir, 'b.out')}"\nkeys = ["/app"]\n`);
      await waitFor('new resource rendered', () => read(join(s.dir, 'b.out')) === 'v2 value=TWO\n', 60_000);
      await waitFor('broken resource reported', () => /broken\.toml: unknown key \\"destt\\"/.test(proc.log()), 60_000);
      assert.equal(proc.exited(), false, 'a broken resource file is never fatal');
      writeFileSync(s.data, 'app:\n  value: [unclosed\n');
      await waitFor('bad data reported', () => /data\.yaml: line/.test(proc.log()), 60_000);
      assert.equal(read(s.out), 'v2 value=TWO\n', 'the last good output stays');
      assert.equal(proc.exited(), false);
      writeFileSync(s.data, 'app:\n  value: three\n');
      await waitFor('recovered after the data file was fixed', () => read(s.out) === 'v2 value=THREE\n', 60_000);
      proc.kill('SIGTERM');
      await waitFor('exit on SIGTERM', () => proc.exited(), 60_000);
      assert.equal(proc.child.exitCode, 0, proc.log());
    } finally {
      await proc.stop();
      removeDir(s.dir);
    }
  });
}
