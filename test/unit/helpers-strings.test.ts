import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render, renderError } from './helpers-render.js';
import { basePath, cleanPath, dirPath } from '../../src/template/helpers/paths.js';
import { replaceString, splitString } from '../../src/template/helpers/strings.js';

test('base and dir follow Go path semantics', () => {
  assert.equal(render('{{base "/services/web/cust1"}}'), 'cust1');
  assert.equal(render('{{dir "/services/data/url"}}'), '/services/data');
  assert.equal(basePath(''), '.');
  assert.equal(basePath('/a/b/'), 'b');
  assert.equal(basePath('///'), '/');
  assert.equal(basePath('a'), 'a');
  assert.equal(dirPath(''), '.');
  assert.equal(dirPath('a'), '.');
  assert.equal(dirPath('/a'), '/');
  assert.equal(dirPath('/'), '/');
  assert.equal(dirPath('/a/b/'), '/a/b');
  assert.equal(dirPath('a//b/../c/d'), 'a/c');
  assert.equal(cleanPath('/../a/./b//'), '/a/b');
  assert.equal(cleanPath('../../a'), '../../a');
  assert.equal(cleanPath('a/..'), '.');
});

test('base works on a key from the store inside #each', () => {
  const out = render('{{#each (gets "/members/*")}}{{base key}}={{value}};{{/each}}', {
    pairs: [['/service/demo/members/pg1', 'a'], ['/service/demo/members/pg2', 'b']],
    prefix: '/service/demo',
  });
  assert.equal(out, 'pg1=a;pg2=b;');
});

test('split returns a real list usable by #each and index', () => {
  assert.equal(render('{{#each (split "a,b,,c" ",")}}[{{this}}]{{/each}}'), '[a][b][][c]');
  assert.equal(render('{{index (split "10.0.0.1:5432" ":") 1}}'), '5432');
  assert.equal(render('{{#each (split "" ",")}}[{{this}}]{{/each}}'), '[]');
  assert.deepEqual(splitString('héllo', ''), ['h', 'é', 'l', 'l', 'o']);
  assert.deepEqual(splitString('', ''), []);
  assert.deepEqual(splitString('a', ','), ['a']);
});

test('join joins a list with a separator', () => {
  assert.equal(render('{{join (split "a b c" " ") ","}}'), 'a,b,c');
  assert.equal(render('{{join (getvs "/x/*") ", "}}', { pairs: [['/x/1', 'b'], ['/x/2', 'a']] }), 'a, b');
  assert.equal(render('{{join (seq 1 3) "-"}}'), '1-2-3');
  assert.equal(render('{{join (getvs "/none/*") ","}}'), '');
});

test('join rejects a non-list and a list of pairs', () => {
  assert.match(renderError('{{join "abc" ","}}'), /^join: the list must be a list, got string "abc"/);
  assert.match(renderError('{{join (gets "/x/*") ","}}', { pairs: [['/x/1', 'b']] }), /^join: list item 0 must be a string, got an object/);
});

test('replace: count as in Go strings.Replace, -1 = all, count optional', () => {
  assert.equal(render('{{replace "pg-node-1" "-" "_" -1}}'), 'pg_node_1');
  assert.equal(render('{{replace "pg-node-1" "-" "_" 1}}'), 'pg_node-1');
  assert.equal(render('{{replace "pg-node-1" "-" "_" 0}}'), 'pg-node-1');
  assert.equal(render('{{replace "pg-node-1" "-" "_"}}'), 'pg_node_1');
  assert.equal(render('{{replace "aaa" "a" "aa" -1}}'), 'aaaaaa');
  assert.equal(replaceString('abc', '', '-', -1), '-a-b-c-');
  assert.equal(replaceString('abc', '', '-', 2), '-a-bc');
  assert.equal(replaceString('', '', '-', -1), '-');
});

test('replace rejects a non-integer count', () => {
  assert.match(renderError('{{replace "a" "a" "b" "x"}}'), /^replace: the count must be an integer, got string "x"/);
  assert.match(renderError('{{replace "a" "a"}}'), /^replace: expected 3 to 4 arguments/);
});

test('toUpper, toLower, contains, trimSuffix', () => {
  assert.equal(render('{{toUpper "value"}}'), 'VALUE');
  assert.equal(render('{{toLower "VaLuE"}}'), 'value');
  assert.equal(render('{{#if (contains "pg-replica-1" "replica")}}yes{{else}}no{{/if}}'), 'yes');
  assert.equal(render('{{#if (contains "pg-primary" "replica")}}yes{{else}}no{{/if}}'), 'no');
  assert.equal(render('{{contains "abc" ""}}'), 'true');
  assert.equal(render('{{trimSuffix "db1.example.com." "."}}'), 'db1.example.com');
  assert.equal(render('{{trimSuffix "db1" ".example.com"}}'), 'db1');
  assert.equal(render('{{trimSuffix "a.." "."}}'), 'a.');
  assert.equal(render('{{toUpper 5}}'), '5');
});

test('string helpers name themselves on a missing or wrong argument', () => {
  assert.match(renderError('{{toUpper}}'), /^toUpper: expected 1 argument \(toUpper string\), got 0/);
  assert.match(renderError('{{toUpper missing}}'), /^toUpper: the string must be a string, got nothing \(undefined\)/);
  assert.match(renderError('{{toLower (split "a" ",")}}'), /^toLower: the string must be a string, got a list/);
  assert.match(renderError('{{split "a"}}'), /^split: expected 2 arguments/);
  assert.match(renderError('{{contains "a" "b" "c"}}'), /^contains: expected 2 arguments/);
  assert.match(renderError('{{trimSuffix}}'), /^trimSuffix: /);
  assert.match(renderError('{{base}}'), /^base: expected 1 argument/);
  assert.match(renderError('{{dir (map)}}'), /^dir: the path must be a string, got an object/);
});

test('default: fallback for undefined, null and empty string only', () => {
  assert.equal(render('{{default missing "fallback"}}'), 'fallback');
  assert.equal(render('{{default "" "fallback"}}'), 'fallback');
  assert.equal(render('{{default x "fallback"}}', { context: { x: null } }), 'fallback');
  assert.equal(render('{{default "v" "fallback"}}'), 'v');
  assert.equal(render('{{default 0 "fallback"}}'), '0');
  assert.equal(render('{{default (getv "/port" "") "5432"}}'), '5432');
  assert.equal(render('{{default (getv "/port" "") "5432"}}', { pairs: [['/port', '6432']] }), '6432');
  assert.match(renderError('{{default "x"}}'), /^default: expected 2 arguments/);
});
