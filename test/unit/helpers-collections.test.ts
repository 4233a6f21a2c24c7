import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render, renderError } from './helpers-render.js';

test('map builds an object usable by index, lookup and #each', () => {
  const tpl = '{{#with (map "name" "es" "port" 9200)}}{{name}}:{{port}}{{/with}}';
  assert.equal(render(tpl), 'es:9200');
  assert.equal(render('{{index (map "name" "es") "name"}}'), 'es');
  assert.equal(render('{{#each (map "a" 1 "b" 2)}}{{@key}}={{this}};{{/each}}'), 'a=1;b=2;');
  assert.equal(render('{{#each (map)}}x{{/each}}'), '');
  assert.equal(render('{{#each (map "__proto__" "p" "a" 1)}}{{@key}}={{this}};{{/each}}'), '__proto__=p;a=1;');
  assert.equal(render('{{index (map "__proto__" "p") "__proto__"}}'), 'p');
});

test('map rejects an odd number of arguments and non-string keys', () => {
  assert.match(renderError('{{map "a" 1 "b"}}'), /^map: expected key value pairs, got an odd number of arguments \(3\)/);
  assert.match(renderError('{{map 1 2}}'), /^map: keys must be strings, argument 1 is number 1/);
});

test('index: lists, maps, nested indices, string indices for lists', () => {
  const ctx = { context: { l: ['a', 'b'], m: { x: { y: ['p', 'q'] } } } };
  assert.equal(render('{{index l 1}}', ctx), 'b');
  assert.equal(render('{{index l "0"}}', ctx), 'a');
  assert.equal(render('{{index m "x" "y" 1}}', ctx), 'q');
  assert.equal(render('[{{index m "nope"}}]', ctx), '[]');
  assert.equal(render('{{index (jsonArray "[[1,2],[3,4]]") 1 0}}'), '3');
  assert.equal(render('{{index "abc" 1}}'), 'b');
});

test('index errors: out of range, bad index, indexing nothing', () => {
  const ctx = { context: { l: ['a', 'b'], m: { k: 'v' } } };
  assert.match(renderError('{{index l 2}}', ctx), /^index: index 2 out of range \(length 2\)/);
  assert.match(renderError('{{index l -1}}', ctx), /^index: index -1 out of range/);
  assert.match(renderError('{{index l "x"}}', ctx), /^index: a list index must be an integer, got string "x"/);
  assert.match(renderError('{{index missing 0}}', ctx), /^index: cannot index nothing \(undefined\)/);
  assert.match(renderError('{{index m "k" "z" 0}}', ctx), /^index: cannot index nothing|^index: a list index must be an integer/);
  assert.match(renderError('{{index m "nope" 0}}', ctx), /^index: cannot index nothing \(undefined\) \(index 2\)/);
  assert.match(renderError('{{index 5 0}}'), /^index: cannot index number 5/);
  assert.match(renderError('{{index}}'), /^index: expected at least 1 argument/);
});

test('seq is inclusive and empty when first > last', () => {
  assert.equal(render('{{#each (seq 3 5)}}{{this}} {{/each}}'), '3 4 5 ');
  assert.equal(render('{{#each (seq 1 1)}}{{this}}{{/each}}'), '1');
  assert.equal(render('[{{#each (seq 5 3)}}{{this}}{{/each}}]'), '[]');
  assert.equal(render('{{join (seq -1 1) ","}}'), '-1,0,1');
  assert.equal(render('{{join (seq "1" "3") ","}}'), '1,2,3');
});

test('seq errors: non-integers and absurd lengths', () => {
  assert.match(renderError('{{seq 1 "x"}}'), /^seq: last must be an integer, got string "x"/);
  assert.match(renderError('{{seq 1.5 3}}'), /^seq: first must be an integer, got number 1.5/);
  assert.match(renderError('{{seq 1 100000000}}'), /^seq: 1\.\.100000000 is longer than 1000000 numbers/);
  assert.match(renderError('{{seq 1}}'), /^seq: expected 2 arguments/);
});

test('reverse reverses lists of strings and of pairs without touching the input', () => {
  assert.equal(render('{{join (reverse (split "a,b,c" ",")) ","}}'), 'c,b,a');
  const pairs: Array<[string, string]> = [['/m/a', '1'], ['/m/b', '2'], ['/m/c', '3']];
  assert.equal(render('{{#each (reverse (gets "/m/*"))}}{{key}} {{/each}}', { pairs }), '/m/c /m/b /m/a ');
  const l = ['x', 'y'];
  assert.equal(render('{{join (reverse l) ""}}{{join l ""}}', { context: { l } }), 'yxxy');
  assert.equal(render('[{{#each (reverse (split "" ""))}}x{{/each}}]'), '[]');
  assert.match(renderError('{{reverse "abc"}}'), /^reverse: the list must be a list, got string "abc"/);
});

test('sortByLength: shortest first, stable for equal lengths, UTF-8 length', () => {
  assert.equal(render('{{join (sortByLength (split "ccc,a,bb,b" ",")) ","}}'), 'a,b,bb,ccc');
  assert.equal(render('{{join (sortByLength (split "éé,abc,z" ",")) ","}}'), 'z,abc,éé');
  assert.match(renderError('{{sortByLength (seq 1 2)}}'), /^sortByLength: list item 0 must be a string, got number 1/);
  assert.match(renderError('{{sortByLength "x"}}'), /^sortByLength: the list must be a list/);
});

test('sortKVByLength sorts pairs by key length', () => {
  const pairs: Array<[string, string]> = [['/upstream/app-long', '3'], ['/upstream/a', '1'], ['/upstream/app', '2']];
  const out = render('{{#each (sortKVByLength (gets "/upstream/*"))}}{{key}}={{value}} {{/each}}', { pairs });
  assert.equal(out, '/upstream/a=1 /upstream/app=2 /upstream/app-long=3 ');
  assert.match(renderError('{{sortKVByLength (split "a" ",")}}'), /^sortKVByLength: list item 0 must be a \{key, value\} pair, got string "a"/);
});

test('json parses an object usable by #each, lookup and paths', () => {
  const pairs: Array<[string, string]> = [
    ['/services/zk/host1', '{"Id":"host1","IP":"192.168.10.11"}'],
    ['/services/zk/host2', '{"Id":"host2","IP":"192.168.10.12"}'],
  ];
  const tpl = '{{#each (gets "/services/zk/*")}}{{#with (json value)}}{{Id}}={{IP}} {{/with}}{{/each}}';
  assert.equal(render(tpl, { pairs }), 'host1=192.168.10.11 host2=192.168.10.12 ');
  const animals = '{"animals":[{"type":"dog","name":"Fido"},{"type":"cat","name":"Misse"}]}';
  assert.equal(render('{{#with (json (getv "/d"))}}{{#each animals}}{{name}} {{/each}}{{/with}}', { pairs: [['/d', animals]] }), 'Fido Misse ');
  assert.equal(render('{{lookup (index (json (getv "/d")) "animals" 1) "type"}}', { pairs: [['/d', animals]] }), 'cat');
  assert.equal(render('{{#each (json "{\\"b\\":2,\\"a\\":1}")}}{{@key}}{{this}}{{/each}}'), 'b2a1');
  assert.equal(render('[{{#each (json "null")}}x{{/each}}]'), '[]');
});

test('json errors: invalid text, not an object', () => {
  assert.match(renderError('{{json "{not json"}}'), /^json: invalid JSON "\{not json": /);
  assert.match(renderError('{{json "[1,2]"}}'), /^json: expected a JSON object, got an array \(use jsonArray for arrays\)/);
  assert.match(renderError('{{json "42"}}'), /^json: expected a JSON object, got a number/);
  assert.match(renderError('{{json missing}}'), /^json: the JSON text must be a string, got nothing/);
});

test('jsonArray parses a list usable by #each', () => {
  assert.equal(render('{{#each (jsonArray (getv "/l"))}}{{this}};{{/each}}', { pairs: [['/l', '["a","b","c"]']] }), 'a;b;c;');
  assert.equal(render('{{#each (jsonArray "[{\\"h\\":\\"x\\"}]")}}{{h}}{{/each}}'), 'x');
  assert.equal(render('[{{#each (jsonArray "null")}}x{{/each}}]'), '[]');
  assert.match(renderError('{{jsonArray "{}"}}'), /^jsonArray: expected a JSON array, got an object/);
  assert.match(renderError('{{jsonArray "[1,"}}'), /^jsonArray: invalid JSON "\[1,": /);
});
