/** Which engine a resource uses, and its max_output: from the TOML, validated. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseByteSize, parseTemplateResource, ResourceConfigError } from '../../src/resource/templateResource.js';

const ctx = { templatesDir: '/etc/haconfd/templates', cwd: '/tmp' };
const parse = (body: string) => parseTemplateResource('/etc/haconfd/conf.d/x.toml', `[template]\ndest = "/tmp/x"\n${body}`, ctx);

test('engine: .tmpl is Go, anything else Handlebars; the engine key overrides both ways', () => {
  assert.equal(parse('src = "haproxy.tmpl"').engine, 'go');
  assert.equal(parse('src = "haproxy.cfg.hbs"').engine, 'handlebars');
  assert.equal(parse('src = "haproxy.cfg"').engine, 'handlebars');
  assert.equal(parse('src = "haproxy.cfg"\nengine = "go"').engine, 'go');
  assert.equal(parse('src = "x.tmpl"\nengine = "handlebars"').engine, 'handlebars');
  assert.throws(() => parse('src = "x.tmpl"\nengine = "jinja"'), (e: unknown) => e instanceof ResourceConfigError && /engine must be "go" or "handlebars", got "jinja"/.test(e.message));
});

test('max_output: bytes or a size with a unit; anything else is refused', () => {
  assert.equal(parse('src = "x.tmpl"').maxOutput, undefined);
  assert.equal(parse('src = "x.tmpl"\nmax_output = 1000').maxOutput, 1000);
  assert.equal(parseByteSize('64MiB', 'max_output'), 64 * 1024 * 1024);
  assert.equal(parseByteSize('500 KB', 'max_output'), 500_000);
  assert.throws(() => parse('src = "x.tmpl"\nmax_output = "lots"'), /max_output must be a positive size/);
  assert.throws(() => parse('src = "x.tmpl"\nmax_output = 0'), /max_output must be a positive size/);
});
