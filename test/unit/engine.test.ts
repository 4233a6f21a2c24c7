import test from 'node:test';
import assert from 'node:assert/strict';
import { createTemplateEngine, TemplateError } from '../../src/template/engine.js';
import { registerStoreHelpers } from '../../src/template/storeHelpers.js';
import { renderTemplate } from '../../src/template/renderTemplate.js';
import { Store } from '../../src/store/store.js';
import { silentLogger } from '../../src/log/logger.js';

const engine = createTemplateEngine([registerStoreHelpers]);
const store = new Store({ revision: 1, pairs: new Map([['/p/a', '<b>&"'], ['/p/m/x', '1'], ['/p/m/y', '2']]) }, '/p');
const render = async (src: string, vars: Record<string, unknown> = {}) =>
  (await renderTemplate(engine.compile('t.hbs', src), { store, vars, resource: 'r', log: silentLogger() })).content;

test('HTML escaping is off', async () => {
  assert.equal(await render('{{getv "/a"}}'), '<b>&"');
});

test('store helpers inside #each and with vars', async () => {
  assert.equal(await render('{{#each (gets "/m/*")}}{{key}}={{value}};{{/each}}{{vars.port}}', { port: 5000 }), '/m/x=1;/m/y=2;5000');
  assert.equal(await render('{{#each (ls "/m")}}{{this}} {{/each}}'), 'x y ');
  assert.equal(await render('{{#if (exists "/a")}}yes{{/if}}'), 'yes');
});

test('unknown helper is an error when the template is loaded, naming template and line', () => {
  assert.throws(
    () => engine.compile('bad.hbs', 'line1\n{{nosuchhelper "x"}}'),
    (e: unknown) => e instanceof TemplateError && /bad\.hbs line 2/.test(e.message) && /nosuchhelper/.test(e.message),
  );
});

test('syntax error names template and line', () => {
  assert.throws(() => engine.compile('syn.hbs', 'a\nb\n{{#if x}}\n'), (e: unknown) => e instanceof TemplateError && /syn\.hbs/.test(e.message));
  assert.throws(() => engine.compile('syn2.hbs', 'a\n{{getv "/a"}\n'), (e: unknown) => e instanceof TemplateError && e.line === 2);
});

test('get on a missing key fails the render naming the key', async () => {
  await assert.rejects(render('{{get "/missing/key"}}'), /key not found: \/missing\/key/);
});
