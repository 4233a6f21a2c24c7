/** The one redaction function: URL userinfo passwords, password pairs, configured secrets. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { redactText, redactUrl, redactValue, registerSecret } from '../../src/log/redact.js';
import { createLogger } from '../../src/log/logger.js';
import { assertNoSecrets } from '../harness/secrets.js';

test('redactUrl: the password of the userinfo goes, the user and the rest stay', () => {
  assert.equal(redactUrl('http://alice:secret@10.0.0.1:2379'), 'http://alice:[redacted]@10.0.0.1:2379');
  assert.equal(redactUrl('postgres://replicator:S3cr3t PW@10.0.0.5:5432/postgres'), 'postgres://replicator:[redacted]@10.0.0.5:5432/postgres');
  assert.equal(redactUrl('postgres://u:p@ss:w@rd@h:5432/db?x=y@z'), 'postgres://u:[redacted]@h:5432/db?x=y@z');
  assert.equal(redactUrl('http://alice@h:2379'), 'http://alice@h:2379');
  assert.equal(redactUrl('https://h:2379/path@x'), 'https://h:2379/path@x');
  assert.equal(redactUrl('h:2379'), 'h:2379');
});

test('redactText: URLs inside messages, password pairs, quoted forms', () => {
  assert.equal(
    redactText(`member "pwleak" left out: conn_url: URL "postgres://replicator:S3cr3tPW@10.0.0.5:5432/postgres" contains a space`),
    'member "pwleak" left out: conn_url: URL "postgres://replicator:[redacted]@10.0.0.5:5432/postgres" contains a space',
  );
  assert.equal(redactText("etcd: bad -node 'http://alice:pw@h:1'"), "etcd: bad -node 'http://alice:[redacted]@h:1'");
  assert.equal(redactText('host=db password=hunter22 user=x'), 'host=db password=[redacted] user=x');
  assert.equal(redactText('password: "a b c" next'), 'password: [redacted] next');
  assert.equal(redactText('?user=a&password=xyz&sslmode=require'), '?user=a&password=[redacted]&sslmode=require');
  assert.equal(redactText('check passed; 3 passes'), 'check passed; 3 passes');
});

test('registered secrets are removed wherever they appear', () => {
  registerSecret('Reg1stered-Secret');
  assert.equal(redactText('auth failed with Reg1stered-Secret for x'), 'auth failed with [redacted] for x');
  registerSecret('abc'); // too short to look for: ordinary words would go
  assert.equal(redactText('abc'), 'abc');
});

test('redactValue: nested fields, arrays and errors', () => {
  const e = new Error('at http://u:ErrPw1@h:1');
  const v = redactValue({ a: ['http://u:ArrPw1@h:1'], b: { c: 'password=NestedPw1' }, err: e }) as Record<string, unknown>;
  const text = JSON.stringify(v) + String((v['err'] as Error).message) + String((v['err'] as Error).stack);
  assertNoSecrets('redactValue', text, ['ErrPw1', 'ArrPw1', 'NestedPw1']);
  assert.equal(e.message, 'at http://u:ErrPw1@h:1', 'the original error is not changed');
});

test('the logger redacts every message and field, JSON and text, children too', () => {
  for (const format of ['json', 'text'] as const) {
    let out = '';
    const destination = new Writable({
      write(chunk: Buffer, _e, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const log = createLogger({ level: 'debug', format, destination });
    log.warn({ url: 'http://bob:LogPw1@h:2379', nested: { conn: 'postgres://r:LogPw2@h/db' } }, 'cannot reach http://bob:LogPw3@h:2379');
    log.child({ resource: 'x' }).error({ err: new Error('password=LogPw4') }, 'failed');
    log.info('plain %s', 'http://c:LogPw5@h:1');
    assertNoSecrets(`logger (${format})`, out, ['LogPw1', 'LogPw2', 'LogPw3', 'LogPw4', 'LogPw5']);
    assert.match(out, /bob/);
  }
});
