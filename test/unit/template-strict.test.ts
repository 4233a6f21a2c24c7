/**
 * Typos are errors (issue 13): a printed `{{field}}` the data does not have fails the render naming
 * it and its line; optional fields stay possible through #if / #with / #each / default.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TemplateError } from '../../src/template/engine.js';
import { createDefaultEngine } from '../../src/template/helperSet.js';
import { renderTemplate } from '../../src/template/renderTemplate.js';
import { Store } from '../../src/store/store.js';
import { silentLogger } from '../../src/log/logger.js';

const engine = createDefaultEngine();
const store = new Store({ revision: 1, pairs: new Map([['/p/leader', 'pg1']]) }, '/p');
const render = async (src: string, vars: Record<string, unknown> = {}) =>
  (await renderTemplate(engine.compile('t.hbs', src), { store, vars, resource: 'r', log: silentLogger() })).content;

test('a printed field that is not defined fails the render, naming the expression and its line', async () => {
  await assert.rejects(render('leader\n{{vars.leadr}}\n', { leader: 'pg1' }), (e: unknown) => {
    assert.ok(e instanceof TemplateError);
    assert.equal(e.message, 'template t.hbs: line 2: {{vars.leadr}} prints a field that is not defined — misspelt? (an optional field: {{#if vars.leadr}}…{{/if}} or {{default vars.leadr "…"}})');
    assert.equal(e.line, 2);
    return true;
  });
  // Through block params too (Handlebars' own strict mode misses these: the shipped templates use them).
  await assert.rejects(render('{{#each vars.members as |m|}}{{m.nmae}}{{/each}}', { members: [{ name: 'a' }] }), /\{\{m\.nmae\}\} prints a field that is not defined/);
  await assert.rejects(render('{{#with vars.s as |s|}}{{s.primery_port}}{{/with}}', { s: { primary_port: 5000 } }), /\{\{s\.primery_port\}\}/);
  // A missing parent names the whole path.
  await assert.rejects(render('{{vars.a.b.c}}', { a: {} }), /\{\{vars\.a\.b\.c\}\}/);
});

test('optional fields: #if, #with, #each, #unless and default render nothing (or the fallback) without an error', async () => {
  assert.equal(await render('[{{#if vars.x}}{{vars.x}}{{/if}}]'), '[]');
  assert.equal(await render('[{{#with vars.x}}{{this}}{{/with}}]'), '[]');
  assert.equal(await render('[{{#each vars.x}}{{this}}{{/each}}]'), '[]');
  assert.equal(await render('[{{#unless vars.x}}none{{/unless}}]'), '[none]');
  assert.equal(await render('[{{default vars.x "5000"}}]'), '[5000]');
});

test('present values print as before: null and "" as empty, false and 0 as themselves, helpers and @data untouched', async () => {
  assert.equal(await render('[{{vars.n}}|{{vars.e}}|{{vars.f}}|{{vars.z}}|{{vars.l}}]', { n: null, e: '', f: false, z: 0, l: ['a', 'b'] }), '[||false|0|a,b]');
  assert.equal(await render('{{#each vars.m}}{{@key}}={{this}};{{/each}}', { m: { a: 1, b: 2 } }), 'a=1;b=2;');
  assert.equal(await render('{{getv "/leader"}}'), 'pg1');
  assert.equal(await render('{{{vars.raw}}}', { raw: '<&>' }), '<&>');
});

test('every Handlebars template shipped in the repository still renders its own data (see the integration tests); their printed fields are all defined', () => {
  for (const name of ['haproxy.cfg.hbs', 'keepalived.conf.hbs', 'chk_haproxy.sh.hbs']) {
    const src = readFileSync(join(import.meta.dirname, '../../templates', name), 'utf8');
    assert.doesNotThrow(() => engine.compile(name, src), name);
  }
});
