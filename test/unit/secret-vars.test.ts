/**
 * A var named like a secret (stats_password, auth_pass …) is rendered into the file but never reaches
 * a log line: the -noop diff and a failed check's quoted stderr show [redacted].
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTemplateResource } from '../../src/resource/templateResource.js';
import { syncResource } from '../../src/resource/syncResource.js';
import { ResourceError } from '../../src/resource/resourceError.js';
import { redactSecrets, secretValues } from '../../src/resource/secretVars.js';
import { createDefaultEngine } from '../../src/template/helperSet.js';
import { TemplateCache } from '../../src/template/templateCache.js';
import { createLogger } from '../../src/log/logger.js';
import { removeDir, tempDir } from '../harness/process.js';
import { Writable } from 'node:stream';

test('secretValues finds secret-named vars at any depth; redactSecrets replaces each occurrence', () => {
  const vars = { stats_user: 'ops', stats_password: 'hunter22', nested: { auth_pass: 'vrrp1234', port: 5 }, api_token: 12345678 };
  assert.deepEqual(secretValues(vars), ['hunter22', 'vrrp1234', '12345678']);
  assert.equal(redactSecrets('stats auth ops:hunter22 and hunter22', secretValues(vars)), 'stats auth ops:[redacted] and [redacted]');
  assert.equal(redactSecrets('STATS_URL="http://ops:pw0rd@127.0.0.1:7000/"', []), 'STATS_URL="http://ops:[redacted]@127.0.0.1:7000/"');
  assert.equal(redactSecrets('http://127.0.0.1:7000/ and user@host:22', []), 'http://127.0.0.1:7000/ and user@host:22');
});

test('-noop diff and a failed check never show the stats password; the file itself has it', async () => {
  const dir = tempDir('secret-vars');
  try {
    writeFileSync(join(dir, 't.hbs'), 'stats auth {{vars.stats_user}}:{{vars.stats_password}}\n');
    const toml = (check: string): string =>
      `[template]\nsrc = "t.hbs"\ndest = "${join(dir, 'out.cfg')}"\nkeys = ["/"]\n${check}\n[template.vars]\nstats_user = "ops"\nstats_password = "Sup3r-s3cret"\n`;
    const ctx = { templatesDir: dir, cwd: dir };
    const lines: string[] = [];
    const log = createLogger({
      level: 'info',
      format: 'json',
      destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }),
    });
    const templates = new TemplateCache(createDefaultEngine());
    const snapshot = { revision: 1, pairs: new Map<string, string>() };

    const noop = await syncResource(parseTemplateResource(join(dir, 'a.toml'), toml(''), ctx), snapshot, templates, { noop: true, syncOnly: false, keepStageFile: false, log });
    assert.equal(noop.status, 'noop');
    assert.match(noop.diff ?? '', /^\+stats auth ops:\[redacted\]$/m);
    assert.doesNotMatch(lines.join(''), /Sup3r-s3cret/);
    assert.match(lines.join(''), /stats auth ops:\[redacted\]/);

    const failing = parseTemplateResource(join(dir, 'b.toml'), toml('check_cmd = "cat {{.src}} >&2; exit 1"'), ctx);
    await assert.rejects(syncResource(failing, snapshot, templates, { noop: false, syncOnly: false, keepStageFile: false, log }), (e: unknown) => {
      assert.ok(e instanceof ResourceError && e.stage === 'check');
      assert.match(e.message, /stats auth ops:\[redacted\]/);
      assert.doesNotMatch(JSON.stringify(e) + String(e.stack), /Sup3r-s3cret/);
      return true;
    });

    const ok = parseTemplateResource(join(dir, 'c.toml'), toml(''), ctx);
    assert.equal((await syncResource(ok, snapshot, templates, { noop: false, syncOnly: false, keepStageFile: false, log })).status, 'committed');
    assert.equal(readFileSync(join(dir, 'out.cfg'), 'utf8'), 'stats auth ops:Sup3r-s3cret\n');
  } finally {
    removeDir(dir);
  }
});
