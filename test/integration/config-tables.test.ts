/**
 * haconfd.toml's tables are validated the same way in every mode: a misspelt key (or a bad value
 * in [controller]) exits 2 naming it — and for a key, the nearest valid one — under -onetime as
 * in the daemon, before anything is rendered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../harness/cli.js';
import { removeDir, tempDir } from '../harness/process.js';

interface Case {
  readonly name: string;
  readonly toml: string;
  readonly message: RegExp;
}

const CASES: readonly Case[] = [
  { name: '[controller] sockt', toml: '[controller]\nsockt = "/run/haproxy/admin.sock"\n', message: /\[controller\] unknown key \\?"sockt\\?" \(did you mean \\?"socket\\?"\?\)/ },
  { name: '[haproxy] state_dri', toml: '[haproxy]\nstate_dri = "/var/lib/haconfd"\n', message: /\[haproxy\] unknown key \\?"state_dri\\?" \(did you mean \\?"state_dir\\?"\?\)/ },
  { name: '[keepalived] (no such table)', toml: '[keepalived]\nvip = "10.0.0.1"\n', message: /unknown key \\?"keepalived\\?"/ },
  { name: '[controller] interval = "soon"', toml: '[controller]\nsocket = "/run/haproxy/admin.sock"\ninterval = "soon"\n', message: /interval: invalid duration/ },
];

const MODES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['-onetime', ['-onetime']],
  ['the daemon (-watch)', ['-watch']],
  ['the daemon (-interval)', ['-interval', '60']],
];

for (const c of CASES) {
  for (const [mode, flags] of MODES) {
    test(`${c.name}: exit 2 under ${mode}, nothing rendered`, { timeout: 30_000 }, async () => {
      const dir = tempDir('config-tables');
      try {
        const confdir = join(dir, 'etc');
        mkdirSync(join(confdir, 'conf.d'), { recursive: true });
        mkdirSync(join(confdir, 'templates'), { recursive: true });
        writeFileSync(join(confdir, 'haconfd.toml'), c.toml);
        writeFileSync(join(confdir, 'templates', 'a.hbs'), 'a={{getv "/a"}}\n');
        writeFileSync(join(confdir, 'conf.d', 'a.toml'), `[template]\nsrc = "a.hbs"\ndest = "${join(dir, 'a.out')}"\nkeys = ["/a"]\n`);
        writeFileSync(join(dir, 'data.yaml'), 'a: 1\n');
        const r = await runCli([...flags, '-backend', 'file', '-file', join(dir, 'data.yaml'), '-confdir', confdir, '-log-format', 'json'], { timeoutMs: 20_000 });
        assert.equal(r.code, 2, `exit ${r.code}\n${r.stderr}`);
        assert.match(r.stderr, c.message);
        assert.ok(!existsSync(join(dir, 'a.out')), 'nothing rendered');
      } finally {
        removeDir(dir);
      }
    });
  }
}

test('the same file without the mistake renders under -onetime (the cases above fail for their mistake alone)', { timeout: 30_000 }, async () => {
  const dir = tempDir('config-tables');
  try {
    const confdir = join(dir, 'etc');
    mkdirSync(join(confdir, 'conf.d'), { recursive: true });
    mkdirSync(join(confdir, 'templates'), { recursive: true });
    writeFileSync(join(confdir, 'haconfd.toml'), '[haproxy]\nstate_dir = "/var/lib/haconfd"\n[controller]\nsocket = "/run/haproxy/admin.sock"\ninterval = "2s"\n');
    writeFileSync(join(confdir, 'templates', 'a.hbs'), 'a={{getv "/a"}}\n');
    writeFileSync(join(confdir, 'conf.d', 'a.toml'), `[template]\nsrc = "a.hbs"\ndest = "${join(dir, 'a.out')}"\nkeys = ["/a"]\n`);
    writeFileSync(join(dir, 'data.yaml'), 'a: 1\n');
    const r = await runCli(['-onetime', '-backend', 'file', '-file', join(dir, 'data.yaml'), '-confdir', confdir, '-log-format', 'json'], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(dir, 'a.out')));
  } finally {
    removeDir(dir);
  }
});
