/**
 * Stage debris: haconfd SIGKILLed 50 times while a render's stage file exists (its check_cmd is
 * running) leaves no stage file behind once it starts again; look-alike files and a stage file a
 * live process has open are never touched.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startCli } from '../harness/cli.js';
import { removeDir, tempDir, waitFor } from '../harness/process.js';

const STAGE = /^\.app\.conf\.[0-9a-f]{12}\.stage$/;

test('SIGKILL 50 times during renders, start once more: zero stage files left, nothing else touched', async () => {
  const dir = tempDir('stage-debris');
  const confdir = join(dir, 'etc');
  const out = join(dir, 'out');
  mkdirSync(join(confdir, 'conf.d'), { recursive: true });
  mkdirSync(join(confdir, 'templates'));
  mkdirSync(out);
  const data = join(dir, 'data.yaml');
  const dest = join(out, 'app.conf');
  writeFileSync(join(confdir, 'templates', 'app.hbs'), 'version {{getv "/v"}}\n');
  // The check holds the pass between "stage written" and "committed": the kill lands there.
  writeFileSync(join(confdir, 'conf.d', 'app.toml'), `[template]\nsrc = "app.hbs"\ndest = "${dest}"\nkeys = ["/v"]\ncheck_cmd = "sleep 2"\n`);
  const lookAlikes = ['.app.conf.stage', '.app.conf.zzzzzzzzzzzz.stage', '.other.conf.0123456789ab.stage', 'app.conf.0123456789ab.stage', '.app.conf.0123456789ab.stage.bak', '.app.conf.0123456789abc.stage'];
  for (const n of lookAlikes) writeFileSync(join(out, n), 'not haconfd debris\n');
  const stages = (): string[] => readdirSync(out).filter((n) => STAGE.test(n));
  const seen = new Set<string>();
  let maxAtOnce = 0;
  try {
    for (let round = 1; round <= 50; round++) {
      writeFileSync(data, `v: ${round}\n`);
      const proc = startCli(['-onetime', '-backend', 'file', '-file', data, '-confdir', confdir], { logFile: join(dir, `run${round}.log`) });
      try {
        const fresh = await waitFor(`round ${round}: a stage file`, () => stages().find((n) => !seen.has(n)), 20_000, 10);
        seen.add(fresh);
        maxAtOnce = Math.max(maxAtOnce, stages().length);
        proc.kill('SIGKILL');
        await waitFor('killed', () => proc.exited(), 5000);
      } finally {
        await proc.stop();
      }
    }
    assert.equal(seen.size, 50);
    // The next start sweeps what the previous kill left: debris never piles up.
    assert.ok(maxAtOnce <= 2, `${maxAtOnce} stage files at once`);
    assert.ok(stages().length >= 1, 'the last kill left its stage file (the test exercises the sweep)');

    // A stage file some live process has open (a pass in flight elsewhere) is left alone.
    const inUse = join(out, '.app.conf.aaaaaaaaaaaa.stage');
    const fd = openSync(inUse, 'w');
    writeFileSync(data, 'v: final\n');
    const last = await runCli(['-onetime', '-backend', 'file', '-file', data, '-confdir', confdir, '-log-format', 'json']);
    closeSync(fd);
    assert.equal(last.code, 0, last.stderr);
    assert.equal(readFileSync(dest, 'utf8'), 'version final\n');
    assert.match(last.stderr, /removed stage files left by an interrupted haconfd/);
    assert.deepEqual(stages(), ['.app.conf.aaaaaaaaaaaa.stage']);
    for (const n of lookAlikes) assert.equal(readFileSync(join(out, n), 'utf8'), 'not haconfd debris\n', `${n} was touched`);

    // Closed now: the next start removes it too.
    writeFileSync(data, 'v: again\n');
    const again = await runCli(['-onetime', '-backend', 'file', '-file', data, '-confdir', confdir]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(stages(), []);
    assert.deepEqual(readdirSync(out).sort(), ['app.conf', ...lookAlikes].sort());
  } finally {
    removeDir(dir);
  }
});
