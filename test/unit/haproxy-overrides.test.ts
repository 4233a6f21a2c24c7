/** Operator overrides file: atomic save, strict load, pure list edits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadOverrides, saveOverrides, overridesPath, withOverride, withoutOverride, OverridesFileError, DEFAULT_STATE_DIR } from '../../src/haproxy/controller/overrides.js';
import { removeDir, tempDir } from '../harness/process.js';

test('overrides: missing file is none; save then load round-trips; directory created', () => {
  const dir = tempDir('ovr');
  try {
    const path = overridesPath(join(dir, 'state'));
    assert.equal(path, join(dir, 'state', 'haproxy-overrides.json'));
    assert.deepEqual(loadOverrides(path), []);
    const list = withOverride(withOverride([], { backend: 'replicas', server: 'pg2', state: 'drain', since: '2026-01-01T00:00:00.000Z' }), {
      backend: 'primary', server: 'pg1', state: 'maint', reason: 'disk swap',
    });
    saveOverrides(path, list);
    const back = loadOverrides(path);
    assert.deepEqual(back, [
      { backend: 'primary', server: 'pg1', state: 'maint', reason: 'disk swap' },
      { backend: 'replicas', server: 'pg2', state: 'drain', since: '2026-01-01T00:00:00.000Z' },
    ]);
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).version, 1);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    // No temp files left behind.
    assert.deepEqual(readdirSync(join(dir, 'state')), ['haproxy-overrides.json']);
    saveOverrides(path, withoutOverride(back, 'primary', 'pg1'));
    assert.deepEqual(loadOverrides(path).map((o) => o.server), ['pg2']);
  } finally {
    removeDir(dir);
  }
});

test('overrides: a broken file is an error naming the path, never silently empty', () => {
  const dir = tempDir('ovr');
  try {
    const path = join(dir, 'o.json');
    const bad: [string, RegExp][] = [
      ['{not json', /not valid JSON/],
      ['[]', /expected \{"version":1/],
      ['{"version":2,"overrides":[]}', /unsupported version 2/],
      ['{"version":1,"overrides":[3]}', /entry 0 is not an object/],
      ['{"version":1,"overrides":[{"backend":"a;b","server":"s","state":"drain"}]}', /invalid backend/],
      ['{"version":1,"overrides":[{"backend":"a","server":"s\\nshow info","state":"drain"}]}', /invalid server/],
      ['{"version":1,"overrides":[{"backend":"a","server":"s","state":"ready"}]}', /state must be "drain" or "maint"/],
    ];
    for (const [text, re] of bad) {
      writeFileSync(path, text);
      assert.throws(() => loadOverrides(path), (e: unknown) => e instanceof OverridesFileError && re.test(e.message) && e.message.includes(path), text);
    }
  } finally {
    removeDir(dir);
  }
});

test('overrides: pure edits replace per server and default dir', () => {
  const a = withOverride([], { backend: 'b', server: 's', state: 'drain' });
  const b = withOverride(a, { backend: 'b', server: 's', state: 'maint' });
  assert.deepEqual(b, [{ backend: 'b', server: 's', state: 'maint' }]);
  assert.deepEqual(a, [{ backend: 'b', server: 's', state: 'drain' }]);
  assert.deepEqual(withoutOverride(b, 'b', 'other'), b);
  assert.deepEqual(withoutOverride(b, 'b', 's'), []);
  assert.equal(overridesPath(), join(DEFAULT_STATE_DIR, 'haproxy-overrides.json'));
});
