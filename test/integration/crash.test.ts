/**
 * Nothing half-written: haconfd is SIGKILLed at random moments while it renders a large file over
 * and over; the destination is always a complete old or new version, never a partial one.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCli } from '../harness/cli.js';
import { removeDir, sleep, tempDir, waitFor } from '../harness/process.js';

/** A rendered file is whole when its header version equals every line's and the END marker is there. */
function isWhole(text: string): boolean {
  const lines = text.split('\n');
  const m = /^version (\d+)$/.exec(lines[0] ?? '');
  if (!m) return false;
  const v = m[1];
  const body = lines.slice(1, -2);
  return body.length === 20_000 && body.every((l) => l === `row ${v} xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`) && lines[lines.length - 2] === `END ${v}`;
}

test('SIGKILL mid-render never leaves a partial destination', async () => {
  const dir = tempDir('crash');
  const confdir = join(dir, 'etc');
  mkdirSync(join(confdir, 'conf.d'), { recursive: true });
  mkdirSync(join(confdir, 'templates'));
  const data = join(dir, 'data.yaml');
  const dest = join(dir, 'big.out');
  writeFileSync(join(confdir, 'templates', 'big.hbs'), 'version {{getv "/v"}}\n{{#each (seq 1 20000)}}row {{getv "/v"}} xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n{{/each}}END {{getv "/v"}}\n');
  writeFileSync(join(confdir, 'conf.d', 'big.toml'), `[template]\nsrc = "big.hbs"\ndest = "${dest}"\nkeys = ["/v"]\n`);
  let version = 1;
  writeFileSync(data, `v: ${version}\n`);
  try {
    for (let round = 0; round < 8; round++) {
      const proc = startCli(['-watch', '-backend', 'file', '-file', data, '-confdir', confdir, '-min-reload-interval', '0'], { logFile: join(dir, `run${round}.log`) });
      try {
        if (round === 0) await waitFor('first render', () => readFileSync(dest, 'utf8').startsWith('version 1'), 60_000);
        else await waitFor('haconfd started', () => proc.log().includes('haconfd started'), 60_000);
        // Keep the data changing so renders and renames are in flight when the kill lands.
        const killAt = Date.now() + 100 + Math.floor(Math.random() * 700);
        while (Date.now() < killAt) {
          writeFileSync(data, `v: ${++version}\n`);
          await sleep(15);
        }
        proc.kill('SIGKILL');
        await waitFor('killed', () => proc.exited(), 60_000);
      } finally {
        await proc.stop();
      }
      const text = readFileSync(dest, 'utf8');
      assert.ok(isWhole(text), `round ${round}: destination is partial (${text.length} bytes, starts ${JSON.stringify(text.slice(0, 30))})`);
    }
  } finally {
    removeDir(dir);
  }
});
