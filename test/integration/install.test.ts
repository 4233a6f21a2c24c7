/**
 * Installed like a tool, as the README's Install says: `npm pack` + `npm install -g <tarball>` into a
 * temp prefix, and `npm install -g .` from the checkout, each give a `haconfd` on PATH that runs and
 * renders. The npm dependencies come from the registry (as for any user).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO } from '../harness/cli.js';
import { removeDir, tempDir } from '../harness/process.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: readonly string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 300_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
let dir = '';
before(() => {
  dir = tempDir('install');
});
after(() => removeDir(dir));

/**
 * A private copy of the checkout (its tracked files and the built dist/): `npm pack` rebuilds dist/
 * and `npm install -g .` reifies node_modules (dropping dev dependencies) in the folder they run in,
 * which must never be the checkout the rest of the suite runs from, concurrently. `modules`: the
 * checkout's node_modules linked (pack only reads it) or a fresh `npm ci` of its own.
 */
async function privateCheckout(name: string, modules: 'link' | 'own'): Promise<string> {
  const co = join(dir, name);
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: REPO }).toString('utf8').split('\0').filter((f) => f !== '');
  for (const f of files) {
    if (!existsSync(join(REPO, f)) && !lstatSync(join(REPO, f), { throwIfNoEntry: false })) continue;
    mkdirSync(dirname(join(co, f)), { recursive: true });
    cpSync(join(REPO, f), join(co, f), { verbatimSymlinks: true });
  }
  cpSync(join(REPO, 'dist'), join(co, 'dist'), { recursive: true });
  if (modules === 'link') symlinkSync(join(REPO, 'node_modules'), join(co, 'node_modules'));
  else {
    const ci = await run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: co });
    assert.equal(ci.code, 0, ci.stderr);
  }
  return co;
}

/** PATH with the prefix's bin first, so a bare `haconfd` is the installed one. */
function pathWith(prefix: string): NodeJS.ProcessEnv {
  return { PATH: `${join(prefix, 'bin')}:${process.env['PATH'] ?? ''}` };
}

test('npm pack + npm install -g <tarball>: haconfd on PATH, -version, and a render from the installed copy', async () => {
  const co = await privateCheckout('checkout-pack', 'link');
  const packed = await run('npm', ['pack', '--pack-destination', dir], { cwd: co });
  assert.equal(packed.code, 0, packed.stderr);
  const tgz = readdirSync(dir).find((n) => n.endsWith('.tgz'));
  assert.ok(tgz, `npm pack wrote no tarball: ${packed.stdout}`);
  assert.ok(!existsSync(join(co, tgz)), 'the tarball lands in the pack destination, not the checkout');

  const prefix = join(dir, 'prefix');
  const inst = await run('npm', ['install', '-g', '--ignore-scripts', '--no-audit', '--no-fund', '--prefix', prefix, join(dir, tgz)], { cwd: dir });
  assert.equal(inst.code, 0, inst.stderr);
  assert.doesNotMatch(inst.stderr, /warn/i, 'the README command installs without warnings');
  const pkg = join(prefix, 'lib', 'node_modules', 'haconfd');
  assert.ok(!lstatSync(pkg).isSymbolicLink(), 'a copy, independent of the checkout');
  assert.ok(existsSync(join(pkg, 'dist', 'cli', 'main.js')), 'dist/ is in the package');
  assert.ok(!existsSync(join(pkg, 'src')), 'sources stay out of the package');
  // Every module in the package comes from a source file that exists (prepare builds a fresh dist/).
  const jsFiles = (readdirSync(join(pkg, 'dist'), { recursive: true }) as string[]).filter((f) => f.endsWith('.js'));
  assert.ok(jsFiles.length > 50, `${jsFiles.length} modules`);
  const stale = jsFiles.filter((f) => !existsSync(join(REPO, 'src', f.replace(/\.js$/, '.ts'))));
  assert.deepEqual(stale, [], 'no stale module from an older layout of src/');

  const v = await run('haconfd', ['-version'], { cwd: dir, env: pathWith(prefix) });
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout.trim(), `haconfd ${VERSION}`);

  // The README's first render, from the installed files: the example resource + the shipped template.
  const confdir = join(dir, 'conf');
  mkdirSync(join(confdir, 'templates'), { recursive: true });
  cpSync(join(pkg, 'examples', 'local', 'conf.d'), join(confdir, 'conf.d'), { recursive: true });
  // The template and the hold script beside it (on by default; `haproxy -c` loads it).
  for (const f of ['haproxy.cfg.hbs', 'haconfd-hold.lua']) cpSync(join(pkg, 'templates', f), join(confdir, 'templates', f));
  mkdirSync(join(dir, 'out'));
  const r = await run(
    'haconfd',
    ['-onetime', '-backend', 'file', '-file', join(pkg, 'examples', 'data', 'patroni-demo.yaml'), '-confdir', confdir, '-log-format', 'json'],
    { cwd: dir, env: pathWith(prefix) },
  );
  assert.equal(r.code, 0, r.stderr);
  const cfg = readFileSync(join(dir, 'out', 'haproxy.cfg'), 'utf8');
  assert.match(cfg, /^listen demo_primary\n {4}bind \*:5000$/m);
  assert.match(cfg, /^listen billing_primary$/m);
  assert.ok(cfg.includes(`lua-load ${join(confdir, 'templates', 'haconfd-hold.lua')}\n`), 'the write listens hold by default, with the script beside the template');
});

test('npm install -g . from a checkout (after npm ci): haconfd on PATH, linked to the checkout', async () => {
  const prefix = join(dir, 'linked');
  const co = await privateCheckout('checkout-link', 'own');
  const inst = await run('npm', ['install', '-g', '--ignore-scripts', '--no-audit', '--no-fund', '--prefix', prefix, '.'], { cwd: co });
  assert.equal(inst.code, 0, inst.stderr);
  assert.doesNotMatch(inst.stderr, /warn/i);
  const v = await run('haconfd', ['-version'], { cwd: dir, env: pathWith(prefix) });
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout.trim(), `haconfd ${VERSION}`);
  const h = await run('haconfd', ['keepalived', 'render', '-help'], { cwd: dir, env: pathWith(prefix) });
  assert.match(h.stdout + h.stderr, /keepalived render/);
});

test('the dist entry point is executable through its shebang, and npm ci runs no unreviewed install script', async () => {
  assert.match(readFileSync(join(REPO, 'dist', 'cli', 'main.js'), 'utf8'), /^#!\/usr\/bin\/env node\n/);
  const ls = await run('npm', ['install-scripts', 'ls'], { cwd: REPO });
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /No packages with unreviewed install scripts/);
});

test('prepare outside a checkout (no src/, as in the installed tarball) does nothing; without TypeScript it says what to run', async () => {
  const pkgLike = join(dir, 'pkglike');
  mkdirSync(join(pkgLike, 'scripts'), { recursive: true });
  cpSync(join(REPO, 'scripts', 'prepare.mjs'), join(pkgLike, 'scripts', 'prepare.mjs'));
  const none = await run(process.execPath, [join(pkgLike, 'scripts', 'prepare.mjs')], { cwd: pkgLike });
  assert.equal(none.code, 0, none.stderr);
  mkdirSync(join(pkgLike, 'src'));
  const noTsc = await run(process.execPath, [join(pkgLike, 'scripts', 'prepare.mjs')], { cwd: pkgLike });
  assert.equal(noTsc.code, 1);
  assert.match(noTsc.stderr, /needs the dev dependencies \(TypeScript\).*\n.*Run `npm ci` in the checkout first/);
});

test('the systemd unit and the compose image run the installed `haconfd` command, not dist/ by path', () => {
  const unit = readFileSync(join(REPO, 'examples', 'systemd', 'haconfd.service'), 'utf8');
  assert.match(unit, /^ExecStart=haconfd -watch /m);
  const dockerfile = readFileSync(join(REPO, 'examples', 'compose', 'haconfd.Dockerfile'), 'utf8');
  assert.match(dockerfile, /npm install -g --ignore-scripts .*haconfd\.tgz/);
  assert.match(dockerfile, /^ENTRYPOINT \["haconfd"\]$/m);
  assert.doesNotMatch(unit + dockerfile, /dist\/cli\/main\.js/);
});
