import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render, renderError } from './helpers-render.js';
import { parseGoBool } from '../../src/template/helpers/conversions.js';

test('atoi parses decimal integers like strconv.Atoi', () => {
  assert.equal(render('{{atoi "42"}}'), '42');
  assert.equal(render('{{atoi "-7"}}'), '-7');
  assert.equal(render('{{atoi "+7"}}'), '7');
  assert.equal(render('{{atoi "007"}}'), '7');
  assert.equal(render('{{add (atoi (getv "/port")) 1}}', { pairs: [['/port', '5432']] }), '5433');
  assert.equal(render('{{atoi 3}}'), '3');
});

test('atoi rejects everything else, naming the helper and the text', () => {
  for (const bad of ['x', '', ' 1', '1 ', '1.0', '0x10', '1e3', '9999999999999999999']) {
    assert.match(renderError(`{{atoi "${bad}"}}`), new RegExp(`^atoi: not an integer: string ${JSON.stringify(JSON.stringify(bad)).slice(1, -1).replace(/[.+]/g, '\\$&')}`), bad);
  }
  assert.match(renderError('{{atoi missing}}'), /^atoi: not an integer: nothing \(undefined\)/);
  assert.match(renderError('{{atoi 1.5}}'), /^atoi: not an integer: number 1.5/);
});

test('parseBool accepts exactly Go strconv.ParseBool words', () => {
  for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.equal(parseGoBool(t), true, t);
  for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.equal(parseGoBool(f), false, f);
  assert.equal(render('{{#if (parseBool (getv "/nofailover"))}}skip{{else}}use{{/if}}', { pairs: [['/nofailover', 'true']] }), 'skip');
  assert.equal(render('{{#if (parseBool "0")}}yes{{else}}no{{/if}}'), 'no');
  assert.equal(render('{{parseBool true}}'), 'true');
  for (const bad of ['yes', 'tRUE', '', 'on']) {
    assert.match(renderError(`{{parseBool "${bad}"}}`), /^parseBool: not a boolean: string /, bad);
  }
});

test('add, sub, mul, div, mod on integers (div truncates toward zero, mod keeps the sign of a)', () => {
  assert.equal(render('{{add 2 3}} {{sub 2 3}} {{mul 4 -3}} {{div 7 2}} {{mod 7 3}}'), '5 -1 -12 3 1');
  assert.equal(render('{{div -7 2}} {{mod -7 3}} {{div 0 -5}}'), '-3 -1 0');
  assert.equal(render('{{add "2" "40"}}'), '42');
  assert.equal(render('{{add (mul 2 3) (sub 10 4)}}'), '12');
});

test('arithmetic errors: division by zero, non-integers, overflow', () => {
  assert.match(renderError('{{div 1 0}}'), /^div: division by zero \(div 1 0\)/);
  assert.match(renderError('{{mod 1 0}}'), /^mod: division by zero/);
  assert.match(renderError('{{add "x" 1}}'), /^add: the first number must be an integer, got string "x"/);
  assert.match(renderError('{{mul 1 1.5}}'), /^mul: the second number must be an integer, got number 1.5/);
  assert.match(renderError('{{sub missing 1}}'), /^sub: the first number must be an integer, got nothing/);
  assert.match(renderError('{{mul 9007199254740991 2}}'), /^mul: result of mul 9007199254740991 2 is outside the safe integer range/);
  assert.match(renderError('{{add 1}}'), /^add: expected 2 arguments \(add a b\), got 1/);
});

test('base64Encode and base64Decode (standard alphabet, padded, UTF-8)', () => {
  assert.equal(render('{{base64Encode "Value"}}'), 'VmFsdWU=');
  assert.equal(render('{{base64Decode "VmFsdWU="}}'), 'Value');
  assert.equal(render('{{base64Encode ""}}'), '');
  assert.equal(render('{{base64Decode ""}}'), '');
  assert.equal(render('{{base64Decode (base64Encode "pässwörd/+?")}}'), 'pässwörd/+?');
  assert.equal(render('{{base64Encode "?>?"}}'), 'Pz4/');
  assert.equal(render('{{base64Decode "Pz4/\nPz4/"}}'), '?>??>?');
});

test('base64Decode rejects malformed input', () => {
  for (const bad of ['VmFsdWU', 'VmFsdWU=x', '!!!!', 'Pz4_', 'V===', 'VmFs dWU=']) {
    assert.match(renderError(`{{base64Decode "${bad}"}}`), /^base64Decode: not valid padded base64: /, bad);
  }
  assert.match(renderError('{{base64Decode}}'), /^base64Decode: expected 1 argument/);
});
