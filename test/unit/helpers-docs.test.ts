/** The helper reference (the README's helper reference) is checked: every helper is documented, every deterministic example renders as shown. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { STANDARD_HELPER_NAMES } from '../../src/template/helpers/index.js';
import { render } from './helpers-render.js';

const DOC = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const STORE_HELPERS = ['get', 'getv', 'gets', 'getvs', 'exists', 'ls', 'lsdir'];

interface Row {
  readonly helper: string;
  readonly template: string;
  readonly output: string;
  readonly exact: boolean;
}

const ROW = /^\| `([^`]+)` \| .+ \| `(\{\{.*\}\})` → (e\.g\. )?`(.*)` \|$/;

function rows(): Row[] {
  const out: Row[] = [];
  for (const line of DOC.split('\n')) {
    const m = ROW.exec(line);
    if (m) out.push({ helper: (m[1] as string).split(' ')[0] as string, template: m[2] as string, output: m[4] as string, exact: m[3] === undefined });
  }
  return out;
}

function exampleData(): Array<[string, string]> {
  const table = DOC.slice(DOC.indexOf('| key (relative) | value |'));
  const pairs: Array<[string, string]> = [];
  for (const line of table.split('\n').slice(2)) {
    const m = /^\| `([^`]+)` \| `([^`]+)` \|$/.exec(line);
    if (!m) break;
    pairs.push([`/service/demo${m[1]}`, m[2] as string]);
  }
  return pairs;
}

test('every helper has a row with an example', () => {
  const documented = new Set(rows().map((r) => r.helper));
  for (const name of [...STANDARD_HELPER_NAMES, ...STORE_HELPERS]) assert.ok(documented.has(name), `${name} is not in the README helper reference`);
  assert.ok(exampleData().length >= 5, 'the example data table is parsed');
});

test('every deterministic example renders exactly as documented', () => {
  const pairs = exampleData();
  const exact = rows().filter((r) => r.exact);
  assert.ok(exact.length >= 35, `only ${exact.length} exact examples found`);
  for (const r of exact) {
    assert.equal(render(r.template, { pairs, prefix: '/service/demo' }), r.output, `${r.helper}: ${r.template}`);
  }
});

test('the host-dependent examples (e.g. rows) render without error', () => {
  const loose = rows().filter((r) => !r.exact);
  assert.ok(loose.length >= 5);
  for (const r of loose) assert.equal(typeof render(r.template, { pairs: exampleData(), prefix: '/service/demo' }), 'string', r.template);
});
