import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render, renderError } from './helpers-render.js';
import { splitHostPort } from '../../src/template/helpers/url.js';

test('urlHost / urlPort on URLs, IPv6 in brackets, user@host and bare host:port', () => {
  const cases: Array<[string, string, string]> = [
    ['postgres://[::1]:5432/x', '::1', '5432'],
    ['postgres://u:p@[fe80::1%25eth0]:6432/db?sslmode=require', 'fe80::1%25eth0', '6432'],
    ['postgres://replicator:secret@10.0.0.11:5433/postgres', '10.0.0.11', '5433'],
    ['http://10.0.0.11:8008/patroni', '10.0.0.11', '8008'],
    ['postgres://db1.example.com/app', 'db1.example.com', ''],
    ['postgres://user@db1', 'db1', ''],
    ['user@db1:5432', 'db1', '5432'],
    ['db1:5432', 'db1', '5432'],
    ['db1', 'db1', ''],
    ['[::1]:5432', '::1', '5432'],
    ['[::1]', '::1', ''],
    ['::1', '::1', ''],
    ['2001:db8::5', '2001:db8::5', ''],
    ['u:p:w@host:1', 'host', '1'],
    ['a@b@host:2/path@x', 'host', '2'],
    ['', '', ''],
    ['db1:', 'db1', ''],
  ];
  for (const [input, host, port] of cases) {
    assert.deepEqual(splitHostPort(input), { host, port }, input);
    assert.equal(render('{{urlHost u}}|{{urlPort u}}', { context: { u: input } }), `${host}|${port}`, input);
  }
});

test('urlPort takes an optional default for a missing port', () => {
  assert.equal(render('{{urlPort "postgres://db1/app" "5432"}}'), '5432');
  assert.equal(render('{{urlPort "postgres://db1:6432/app" "5432"}}'), '6432');
  assert.equal(render('{{urlPort "[::1]" "5432"}}'), '5432');
});

test('works on the conn_url of a Patroni member value', () => {
  const member = JSON.stringify({ conn_url: 'postgres://10.0.0.12:5432/postgres', api_url: 'http://10.0.0.12:8008/patroni' });
  const out = render('{{#with (json (getv "/members/pg2"))}}server pg2 {{urlHost conn_url}}:{{urlPort conn_url}} check port {{urlPort api_url}}{{/with}}', {
    pairs: [['/members/pg2', member]],
  });
  assert.equal(out, 'server pg2 10.0.0.12:5432 check port 8008');
});

test('malformed inputs fail naming the helper and the input', () => {
  assert.match(renderError('{{urlHost "postgres://[::1:5432/x"}}'), /^urlHost: missing "\]" after an IPv6 address in "postgres:\/\/\[::1:5432\/x"/);
  assert.match(renderError('{{urlPort "postgres://[::1]x/"}}'), /^urlPort: unexpected "x" after "\]"/);
  assert.match(renderError('{{urlPort "db1:abc"}}'), /^urlPort: invalid port "abc" in "db1:abc"/);
  assert.match(renderError('{{urlPort "db1:0"}}'), /^urlPort: invalid port "0"/);
  assert.match(renderError('{{urlPort "db1:65536"}}'), /^urlPort: invalid port "65536"/);
  assert.match(renderError('{{urlHost missing}}'), /^urlHost: the URL must be a string, got nothing/);
  assert.match(renderError('{{urlPort}}'), /^urlPort: expected 1 to 2 arguments/);
});
