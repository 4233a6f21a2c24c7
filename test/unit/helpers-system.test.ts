import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render, renderError } from './helpers-render.js';
import { formatGoTime } from '../../src/template/helpers/timeLayout.js';

test('getenv: value, empty when unset, default when unset or empty', () => {
  process.env.HACONFD_TEST_SET = 'db1';
  process.env.HACONFD_TEST_EMPTY = '';
  delete process.env.HACONFD_TEST_UNSET;
  try {
    assert.equal(render('{{getenv "HACONFD_TEST_SET"}}'), 'db1');
    assert.equal(render('{{getenv "HACONFD_TEST_SET" "x"}}'), 'db1');
    assert.equal(render('[{{getenv "HACONFD_TEST_UNSET"}}]'), '[]');
    assert.equal(render('{{getenv "HACONFD_TEST_UNSET" "127.0.0.1"}}'), '127.0.0.1');
    assert.equal(render('{{getenv "HACONFD_TEST_EMPTY" "fallback"}}'), 'fallback');
    assert.match(renderError('{{getenv}}'), /^getenv: expected 1 to 2 arguments/);
  } finally {
    delete process.env.HACONFD_TEST_SET;
    delete process.env.HACONFD_TEST_EMPTY;
  }
});

test('fileExists: files, directories, symlinks; missing and dangling are false', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'haconfd-helpers-'));
  try {
    const file = join(dir, 'f');
    await writeFile(file, 'x');
    await symlink(join(dir, 'nowhere'), join(dir, 'dangling'));
    const ctx = { context: { file, dir, missing: join(dir, 'missing'), dangling: join(dir, 'dangling'), under: join(file, 'x') } };
    assert.equal(render('{{fileExists file}} {{fileExists dir}} {{fileExists missing}} {{fileExists dangling}} {{fileExists under}}', ctx), 'true true false false false');
    assert.equal(render('{{#if (fileExists file)}}present{{/if}}', ctx), 'present');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('formatGoTime: Go reference layouts and named layouts', () => {
  const t = new Date(Date.UTC(2015, 0, 23, 21, 34, 56, 93)); // Friday
  assert.equal(formatGoTime(t, '2006-01-02 15:04:05.999999999 -0700 MST', 'utc'), '2015-01-23 21:34:56.093 +0000 UTC');
  assert.equal(formatGoTime(t, 'Jan 2, 2006 at 3:04pm (MST)', 'utc'), 'Jan 23, 2015 at 9:34pm (UTC)');
  assert.equal(formatGoTime(t, 'RFC3339', 'utc'), '2015-01-23T21:34:56Z');
  assert.equal(formatGoTime(t, 'RFC1123', 'utc'), 'Fri, 23 Jan 2015 21:34:56 UTC');
  assert.equal(formatGoTime(t, 'Monday January _2 06 002 __2', 'utc'), 'Friday January 23 15 023  23');
  assert.equal(formatGoTime(t, '15:04:05.000 .9 .99 ,000', 'utc'), '21:34:56.093  .09 ,093');
  assert.equal(formatGoTime(new Date(Date.UTC(2015, 0, 2, 3, 4, 5, 0)), '2006-1-2 3:4:5.999 PM Z07:00 -07:00 -0700 Z0700 -07', 'utc'), '2015-1-2 3:4:5 AM Z +00:00 +0000 Z +00');
  assert.equal(formatGoTime(t, 'DateOnly', 'utc'), '2015-01-23');
  assert.equal(formatGoTime(t, 'literal text', 'utc'), 'literal text');
});

test('datetime renders now, with an optional Go layout and time zone', () => {
  const out = render('{{datetime}}');
  assert.match(out, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,3})? [+-]\d{4} \S+$/);
  const before = Date.now();
  const iso = render('{{datetime "2006-01-02T15:04:05.000Z07:00" "UTC"}}');
  const after = Date.now();
  const ms = Date.parse(iso);
  assert.ok(ms >= before - 1 && ms <= after + 1, `${iso} not between ${before} and ${after}`);
  assert.match(render('{{datetime "RFC3339" "UTC"}}'), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  assert.match(renderError('{{datetime "RFC3339" "Mars"}}'), /^datetime: time zone must be "UTC" or "Local", got "Mars"/);
});
