import { test } from 'node:test';
import assert from 'node:assert/strict';
import Handlebars from 'handlebars';
import { registerStandardHelpers, STANDARD_HELPER_NAMES } from '../../src/template/helpers/index.js';
import { createTemplateEngine } from '../../src/template/engine.js';
import { registerStoreHelpers } from '../../src/template/storeHelpers.js';
import { renderDataFor } from './helpers-render.js';

const CONFD_HELPERS = [
  'base', 'dir', 'split', 'join', 'replace', 'toUpper', 'toLower', 'contains', 'trimSuffix', 'json', 'jsonArray', 'map', 'index',
  'getenv', 'datetime', 'lookupIP', 'lookupIPV4', 'lookupIPV6', 'lookupSRV', 'fileExists', 'base64Encode', 'base64Decode',
  'parseBool', 'atoi', 'add', 'sub', 'mul', 'div', 'mod', 'seq', 'reverse', 'sortByLength', 'sortKVByLength',
];

test('STANDARD_HELPER_NAMES lists exactly what registerStandardHelpers registers, confd set included', () => {
  const hb = Handlebars.create();
  const builtin = new Set(Object.keys(hb.helpers));
  registerStandardHelpers(hb);
  const added = Object.keys(hb.helpers).filter((n) => !builtin.has(n)).sort();
  assert.deepEqual(added, [...STANDARD_HELPER_NAMES].sort());
  for (const n of [...CONFD_HELPERS, 'urlHost', 'urlPort', 'default']) assert.ok(STANDARD_HELPER_NAMES.includes(n), n);
  assert.equal(new Set(STANDARD_HELPER_NAMES).size, STANDARD_HELPER_NAMES.length, 'no duplicates');
});

test('every helper compiles under the engine (knownHelpersOnly), reserved-word names included', () => {
  const engine = createTemplateEngine([registerStoreHelpers, registerStandardHelpers]);
  for (const n of STANDARD_HELPER_NAMES) assert.ok(engine.helperNames.includes(n), n);
  const tpl = engine.compile(
    't',
    '{{default (getv "/x" "") "d"}} {{index (split "a:b" ":") 1}} {{#with (map "k" "v")}}{{k}}{{/with}} {{#each (seq 1 2)}}{{this}}{{/each}} {{urlPort "pg://[::1]:5432/x"}}',
  );
  assert.equal(tpl.render(renderDataFor()), 'd b v 12 5432');
});

test('helpers work inside nested #each blocks (options and render data reach them)', () => {
  const engine = createTemplateEngine([registerStoreHelpers, registerStandardHelpers]);
  const tpl = engine.compile(
    'nested',
    '{{#each (lsdir "/clusters")}}{{this}}:{{#each (gets (join (split (replace "/clusters/C/members/*" "C" this) ",") ""))}} {{toUpper (base key)}}{{/each}};{{/each}}',
  );
  const data = renderDataFor({
    pairs: [['/clusters/a/members/pg1', '1'], ['/clusters/a/members/pg2', '2'], ['/clusters/b/members/pg3', '3']],
  });
  assert.equal(tpl.render(data), 'a: PG1 PG2;b: PG3;');
});

test('a helper error surfaces as a failed render naming the helper', () => {
  const engine = createTemplateEngine([registerStoreHelpers, registerStandardHelpers]);
  const tpl = engine.compile('bad', 'x {{atoi "x"}}');
  assert.throws(() => tpl.render(renderDataFor()), /atoi: not an integer: string "x"/);
});
