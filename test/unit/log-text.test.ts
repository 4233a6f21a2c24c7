/** The text log format: one line per event, and multi-line fields (diffs, stderr) as real lines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTextLine } from '../../src/log/logger.js';

test('a single-line record stays one line, with key=value fields (quoted when they hold spaces)', () => {
  const line = formatTextLine({ level: 30, time: 0, pid: 1, msg: 'updated', resource: 'a.toml', note: 'two words' });
  assert.equal(line, '1970-01-01T00:00:00.000Z INFO  updated resource=a.toml note="two words"\n');
});

test('a multi-line field (the -noop diff) follows the line as real lines, never an escaped \\n string', () => {
  const diff = '--- /x\tcurrent\n+++ /x\trendered\n@@ -1 +1 @@\n-old\n+new';
  const out = formatTextLine({ level: 30, time: 0, msg: 'noop: would update', resource: 'a.toml', diff });
  assert.equal(out, `1970-01-01T00:00:00.000Z INFO  noop: would update resource=a.toml diff=(below)\n${diff}\n`);
  assert.doesNotMatch(out, /\\n/);
});
