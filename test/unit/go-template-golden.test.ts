/**
 * Every case of the golden corpus (test/golden/confd/cases, outputs made by real confd) rendered
 * by haconfd's Go engine with confd's function map over a store built from the case's data.json;
 * output bytes, or the error message, must be confd's. See test/golden/confd/README.md.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import { effectivePrefix } from '../../src/resource/templateResource.js';
import { restrictSnapshot } from '../../src/store/snapshot.js';
import { createGoEngine } from '../../src/template/goEngine.js';
import { sprintf } from '../../src/template/go/fmt.js';
import { LookupCache } from '../../src/template/lookups.js';
import { renderTemplate } from '../../src/template/renderTemplate.js';
import { memoryLogger } from '../harness/memoryLogger.js';

const CASES = join(import.meta.dirname, '..', 'golden', 'confd', 'cases');
const CONFDIR = '<CONFDIR>';

function read(dir: string, file: string): string | undefined {
  const p = join(dir, file);
  return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
}

/** What confd logs for an error: its wrapper for parse errors, then log.Error's own fmt pass over the text. */
function confdMessage(message: string, isParse: boolean): string {
  const text = isParse ? `Unable to process template ${CONFDIR}/templates/template.tmpl, ${message}` : message;
  return sprintf(text, []);
}

const names = existsSync(CASES) ? readdirSync(CASES).sort() : [];

test('the golden corpus is present', () => {
  assert.ok(names.length >= 150, `expected at least 150 cases under ${CASES}, found ${names.length}`);
});

for (const name of names) {
  test(`confd golden: ${name}`, async () => {
    const dir = join(CASES, name);
    const source = readFileSync(join(dir, 'template.tmpl'), 'utf8');
    const data = JSON.parse(readFileSync(join(dir, 'data.json'), 'utf8')) as Record<string, string>;
    const env: Record<string, string> = { PATH: '/usr/bin:/bin', ...(JSON.parse(read(dir, 'env.json') ?? '{}') as Record<string, string>) };
    // The resource's prefix as haconfd decides it from -prefix (prefix.txt) and the resource's own (resource-prefix.txt).
    const prefix = effectivePrefix(read(dir, 'prefix.txt')?.trim(), read(dir, 'resource-prefix.txt')?.trim());
    const expectedOut = read(dir, 'expected.out');
    const expectedErr = read(dir, 'expected.err');

    const snapshot = restrictSnapshot({ revision: 1, pairs: new Map(Object.entries(data)) }, [prefix]);
    const engine = createGoEngine({ env });
    let out: string | undefined;
    let err: string | undefined;
    try {
      const compiled = engine.compile(join('/confdir/templates', 'template.tmpl'), source);
      try {
        const r = await renderTemplate(compiled, {
          store: new Store(snapshot, prefix),
          vars: {},
          resource: 'case.toml',
          log: memoryLogger().log,
          lookups: new LookupCache(),
        });
        out = r.content;
      } catch (e) {
        err = confdMessage((e as Error).message, false);
      }
    } catch (e) {
      err = confdMessage((e as Error).message, true);
    }
    if (expectedOut !== undefined) {
      assert.equal(err, undefined, `confd rendered this case, haconfd failed: ${err}`);
      assert.equal(out, expectedOut);
    } else {
      assert.equal(out, undefined, `confd failed with: ${expectedErr?.trim()}\nhaconfd rendered:\n${out}`);
      assert.equal(err, (expectedErr ?? '').replace(/\n$/, ''));
    }
  });
}
