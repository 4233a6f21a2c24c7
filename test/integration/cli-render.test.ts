/**
 * The renderer as users run it: the real CLI process against temp directories, every bad input
 * from issue 2, and check_cmd with the real `haproxy -c`.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../harness/cli.js';
import { removeDir, requireBinary, tempDir } from '../harness/process.js';

interface Fixture {
  dir: string;
  confdir: string;
  data: string;
  out: string;
  resource(name: string, body: string): void;
  template(name: string, body: string): void;
  run(extra?: string[], env?: NodeJS.ProcessEnv): ReturnType<typeof runCli>;
}

function fixture(): Fixture {
  const dir = tempDir('cli');
  const confdir = join(dir, 'etc');
  mkdirSync(join(confdir, 'conf.d'), { recursive: true });
  mkdirSync(join(confdir, 'templates'));
  const out = join(dir, 'out');
  mkdirSync(out);
  const data = join(dir, 'data.yaml');
  writeFileSync(data, 'service:\n  demo:\n    leader: pg1\n    members:\n      pg1: 10.0.0.1\n      pg2: 10.0.0.2\n');
  return {
    dir,
    confdir,
    data,
    out,
    resource: (name, body) => writeFileSync(join(confdir, 'conf.d', name), body),
    template: (name, body) => writeFileSync(join(confdir, 'templates', name), body),
    run: (extra = [], env = {}) =>
      runCli(['-onetime', '-backend', 'file', '-file', data, '-confdir', confdir, '-prefix', '/service/demo', '-log-format', 'json', ...extra], { env }),
  };
}

const GOOD_TEMPLATE = 'leader {{getv "/leader"}}\n{{#each (gets "/members/*")}}server {{key}} {{value}}\n{{/each}}';

function goodResource(f: Fixture, name = 'good.toml', dest = 'good.txt', extra = ''): string {
  const path = join(f.out, dest);
  f.template('good.hbs', GOOD_TEMPLATE.replace('{{key}}', '{{key}}'));
  f.resource(name, `[template]\nsrc = "good.hbs"\ndest = "${path}"\nkeys = ["/leader", "/members"]\n${extra}`);
  return path;
}

async function withFixture(fn: (f: Fixture) => Promise<void>): Promise<void> {
  const f = fixture();
  try {
    await fn(f);
  } finally {
    removeDir(f.dir);
  }
}

test('renders, sets the mode, and a second run changes nothing (exit 0 both)', () =>
  withFixture(async (f) => {
    const dest = goodResource(f, 'good.toml', 'good.txt', 'mode = "0640"\nreload_cmd = "echo x >> ' + join(f.dir, 'reloads') + '"\n');
    const r1 = await f.run();
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(readFileSync(dest, 'utf8'), 'leader pg1\nserver /members/pg1 10.0.0.1\nserver /members/pg2 10.0.0.2\n');
    assert.equal(statSync(dest).mode & 0o777, 0o640);
    const r2 = await f.run();
    assert.equal(r2.code, 0);
    assert.equal(readFileSync(join(f.dir, 'reloads'), 'utf8'), 'x\n', 'unchanged output must not reload');
    assert.deepEqual(readdirSync(f.out), ['good.txt'], 'no stage files left behind');
  }));

test('-version, -help, unknown flag, -interval abc, positional argument', async () => {
  const v = await runCli(['-version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^haconfd \d+\.\d+\.\d+/);
  const h = await runCli(['--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /-onetime/);
  const u = await runCli(['-bogus']);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /unknown flag -bogus/);
  const i = await runCli(['-interval', 'abc']);
  assert.equal(i.code, 2);
  assert.match(i.stderr, /invalid value "abc" for -interval/);
  const p = await runCli(['-onetime', 'stray']);
  assert.equal(p.code, 2);
  assert.match(p.stderr, /unexpected argument "stray"/);
});

test('malformed TOML: named with its line, the other resources still run, exit 1', () =>
  withFixture(async (f) => {
    const dest = goodResource(f);
    f.resource('bad.toml', '[template]\nsrc = "good.hbs"\ndest = \n');
    const r = await f.run();
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.toml: invalid TOML: line 3/);
    assert.ok(existsSync(dest), 'the good resource was still rendered');
  }));

test('misspelled key rejects that resource naming the nearest key', () =>
  withFixture(async (f) => {
    goodResource(f);
    f.resource('typo.toml', '[template]\nsrc = "good.hbs"\ndest = "/tmp/x"\nreload_comd = "true"\n');
    const r = await f.run();
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown key \\?"reload_comd\\?" in \[template\] \(did you mean \\?"reload_cmd\\?"\?\)/);
  }));

test('mode with non-octal digits is refused', () =>
  withFixture(async (f) => {
    goodResource(f, 'good.toml', 'good.txt', 'mode = "0789"\n');
    const r = await f.run();
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not an octal file mode/);
    assert.equal(existsSync(join(f.out, 'good.txt')), false);
  }));

test('missing template, syntax error (line named), unknown helper, get on a missing key: destination untouched', () =>
  withFixture(async (f) => {
    const dest = join(f.out, 'x.txt');
    writeFileSync(dest, 'OLD\n');
    const cases: [string, string | undefined, RegExp][] = [
      ['nofile.hbs', undefined, /template .*nofile\.hbs does not exist/],
      ['syntax.hbs', 'ok\n{{#each (gets "/members/*")}}\n{{value}\n', /syntax\.hbs line 3/],
      ['helper.hbs', '{{frobnicate "/leader"}}', /unknown helper frobnicate/],
      ['missing.hbs', '{{get "/no/such/key"}}', /key not found: \/no\/such\/key/],
    ];
    for (const [src, body, re] of cases) {
      if (body !== undefined) f.template(src, body);
      f.resource('x.toml', `[template]\nsrc = "${src}"\ndest = "${dest}"\n`);
      const r = await f.run();
      assert.equal(r.code, 1, src);
      assert.match(r.stderr, re, src);
      assert.equal(readFileSync(dest, 'utf8'), 'OLD\n', `${src}: destination must be untouched`);
    }
  }));

test('check_cmd failing or hanging past its timeout: destination byte-for-byte unchanged, stderr quoted', () =>
  withFixture(async (f) => {
    const dest = goodResource(f, 'good.toml', 'good.txt', 'check_cmd = "echo check-says-no >&2; exit 3"\n');
    writeFileSync(dest, 'OLD\n');
    const r = await f.run();
    assert.equal(r.code, 1);
    assert.match(r.stderr, /check_cmd exited 3/);
    assert.match(r.stderr, /check-says-no/);
    assert.equal(readFileSync(dest, 'utf8'), 'OLD\n');
    goodResource(f, 'good.toml', 'good.txt', 'check_cmd = "sleep 30"\ncheck_timeout = "300ms"\n');
    const started = Date.now();
    const t = await f.run();
    assert.equal(t.code, 1);
    assert.match(t.stderr, /check_cmd timed out after 300 ms and was killed/);
    assert.ok(Date.now() - started < 10_000, 'the hanging check was killed');
    assert.equal(readFileSync(dest, 'utf8'), 'OLD\n');
    assert.deepEqual(readdirSync(f.out), ['good.txt']);
  }));

test('reload_cmd failing: file committed, failure reported with stderr, exit 1', () =>
  withFixture(async (f) => {
    const dest = goodResource(f, 'good.toml', 'good.txt', 'reload_cmd = "echo reload-broke >&2; exit 1"\n');
    const r = await f.run();
    assert.equal(r.code, 1);
    assert.match(r.stderr, /reload failed: reload_cmd exited 1/);
    assert.match(r.stderr, /reload-broke/);
    assert.match(readFileSync(dest, 'utf8'), /leader pg1/);
  }));

test('{{.src}} and {{.dest}} are substituted in check_cmd', () =>
  withFixture(async (f) => {
    const log = join(f.dir, 'check.log');
    goodResource(f, 'good.toml', 'good.txt', `check_cmd = "grep -q 'leader pg1' {{.src}} && echo {{ .dest }} > ${log}"\n`);
    const r = await f.run();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(log, 'utf8').trim(), join(f.out, 'good.txt'));
  }));

test('destination directory missing is a clear error', () =>
  withFixture(async (f) => {
    goodResource(f, 'good.toml', 'nodir/sub/good.txt');
    const r = await f.run();
    assert.equal(r.code, 1);
    assert.match(r.stderr, /destination directory .*nodir\/sub does not exist/);
  }));

test('unreadable data file and invalid YAML are named; nothing is written', () =>
  withFixture(async (f) => {
    const dest = goodResource(f);
    writeFileSync(dest, 'OLD\n');
    const missing = await runCli(['-onetime', '-backend', 'file', '-file', join(f.dir, 'nope.yaml'), '-confdir', f.confdir]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.yaml does not exist/);
    writeFileSync(f.data, 'service:\n  demo:\n    leader: [unclosed\n  x: : :\n');
    const bad = await f.run();
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /data\.yaml: line \d+/);
    if (process.getuid?.() !== 0) {
      chmodSync(f.data, 0o000);
      const unreadable = await f.run();
      assert.match(unreadable.stderr, /not readable/);
    }
    assert.equal(readFileSync(dest, 'utf8'), 'OLD\n');
  }));

test('-noop logs a unified diff and writes nothing; -sync-only writes without check or reload', () =>
  withFixture(async (f) => {
    const marker = join(f.dir, 'ran');
    const dest = goodResource(f, 'good.toml', 'good.txt', `check_cmd = "touch ${marker}"\nreload_cmd = "touch ${marker}"\n`);
    writeFileSync(dest, 'leader pgX\n');
    const n = await f.run(['-noop']);
    assert.equal(n.code, 0, n.stderr);
    assert.match(n.stderr, /-leader pgX/);
    assert.match(n.stderr, /\+leader pg1/);
    assert.equal(readFileSync(dest, 'utf8'), 'leader pgX\n');
    assert.equal(existsSync(marker), false);
    const s = await f.run(['-sync-only']);
    assert.equal(s.code, 0, s.stderr);
    assert.match(readFileSync(dest, 'utf8'), /leader pg1/);
    assert.equal(existsSync(marker), false);
  }));

test('-keep-stage-file keeps the staged file of a failed check', () =>
  withFixture(async (f) => {
    goodResource(f, 'good.toml', 'good.txt', 'check_cmd = "false"\n');
    const r = await f.run(['-keep-stage-file']);
    assert.equal(r.code, 1);
    const staged = readdirSync(f.out).filter((n) => n.endsWith('.stage'));
    assert.equal(staged.length, 1);
    assert.match(readFileSync(join(f.out, staged[0] as string), 'utf8'), /leader pg1/);
  }));

test('min_keys: too few keys keeps the last file', () =>
  withFixture(async (f) => {
    const dest = goodResource(f, 'good.toml', 'good.txt', 'min_keys = 5\n');
    writeFileSync(dest, 'OLD\n');
    const r = await f.run();
    assert.equal(r.code, 1);
    assert.match(r.stderr, /only 3 key\(s\).*min_keys is 5/);
    assert.equal(readFileSync(dest, 'utf8'), 'OLD\n');
  }));

test('global -prefix replaces the resource prefix, as in confd; without it the resource prefix is used; [template.vars] reach the template', () =>
  withFixture(async (f) => {
    const dest = join(f.out, 'p.txt');
    f.template('p.hbs', '{{getv "/leader" "none"}} {{vars.port}} {{vars.list.[1]}}');
    f.resource('p.toml', `[template]\nsrc = "p.hbs"\ndest = "${dest}"\nprefix = "/service/batman"\n[template.vars]\nport = 5000\nlist = ["a", "b"]\n`);
    const replaced = await runCli(['-onetime', '-backend', 'file', '-file', f.data, '-confdir', f.confdir, '-prefix', '/service/demo']);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.equal(readFileSync(dest, 'utf8'), 'pg1 5000 b');
    const own = await runCli(['-onetime', '-backend', 'file', '-file', f.data, '-confdir', f.confdir]);
    assert.equal(own.code, 0, own.stderr);
    assert.equal(readFileSync(dest, 'utf8'), 'none 5000 b', 'no -prefix: the resource reads its own /service/batman (empty here)');
  }));

test('env backend: /database/host is DATABASE_HOST', () =>
  withFixture(async (f) => {
    const dest = join(f.out, 'e.txt');
    f.template('e.hbs', '{{getv "/database/host"}}:{{getv "/database/port" "5432"}}');
    f.resource('e.toml', `[template]\nsrc = "e.hbs"\ndest = "${dest}"\nkeys = ["/database"]\n`);
    const r = await runCli(['-onetime', '-backend', 'env', '-confdir', f.confdir], { env: { DATABASE_HOST: 'db1' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(dest, 'utf8'), 'db1:5432');
  }));

test('check_cmd with the real haproxy -c: a valid config is committed, an invalid one is not', () =>
  withFixture(async (f) => {
    const haproxy = requireBinary('haproxy', 'haproxy');
    const dest = join(f.out, 'haproxy.cfg');
    f.template(
      'h.hbs',
      'global\n  maxconn 100\ndefaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\nlisten primary\n  bind 127.0.0.1:{{vars.port}}\n{{#each (gets "/members/*")}}  server {{base key}} {{value}}:5432\n{{/each}}',
    );
    f.resource('h.toml', `[template]\nsrc = "h.hbs"\ndest = "${dest}"\nkeys = ["/members"]\ncheck_cmd = "${haproxy} -c -f {{.src}}"\n[template.vars]\nport = 15000\n`);
    const ok = await f.run();
    assert.equal(ok.code, 0, ok.stderr);
    const good = readFileSync(dest, 'utf8');
    assert.match(good, /server pg1 10\.0\.0\.1:5432/);
    f.resource('h.toml', `[template]\nsrc = "h.hbs"\ndest = "${dest}"\nkeys = ["/members"]\ncheck_cmd = "${haproxy} -c -f {{.src}}"\n[template.vars]\nport = "not-a-port"\n`);
    const bad = await f.run();
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /check_cmd exited/);
    assert.match(bad.stderr, /ALERT|parsing/);
    assert.equal(readFileSync(dest, 'utf8'), good);
  }));
