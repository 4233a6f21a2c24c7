/**
 * Bad member data found by fault injection (issue 14): an empty member name is reported like
 * every other bad member, the unspecified address (0.0.0.0, ::) is rejected with a reason, and two
 * members at one host:port are rendered with a warning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createTemplateEngine } from '../../src/template/engine.js';
import { renderTemplate } from '../../src/template/renderTemplate.js';
import { registerPatroniHelpers } from '../../src/template/helpers/patroni.js';
import type { RenderWarning } from '../../src/template/renderData.js';
import { Store } from '../../src/store/store.js';
import { parseMember } from '../../src/patroni/member.js';
import { clusterPairs, memberValue, snapshotOf, threeMembers } from '../harness/patroniKeys.js';

const engine = createTemplateEngine([registerPatroniHelpers]);
const TPL = '{{#each (patroniMembers)}}{{name}}={{address}};{{/each}}';

async function render(pairs: Iterable<[string, string]>): Promise<{ content: string; warnings: RenderWarning[] }> {
  return renderTemplate(engine.compile('t', TPL), { store: new Store(snapshotOf(pairs), '/service/demo'), vars: {}, resource: 't', log: pino({ level: 'silent' }) });
}

test('a member key with an empty name (…/members/) gets the member_rejected warning', async () => {
  const pairs = [...clusterPairs('/service', 'demo', threeMembers(), 'pg1'), ['/service/demo/members/', memberValue({ name: 'x', host: '10.0.0.9' })] as [string, string]];
  const { content, warnings } = await render(pairs);
  assert.equal(content.split(';').filter(Boolean).length, 3);
  const w = warnings.filter((x) => x.code === 'member_rejected');
  assert.equal(w.length, 1, JSON.stringify(warnings));
  assert.match(w[0]!.message, /member "" left out: empty member name/);
  assert.equal(w[0]!.detail?.['key'], '/members/');
});

test('0.0.0.0 and :: as a member host (conn_url or api_url) are rejected with the reason', () => {
  for (const host of ['0.0.0.0', '::', '0:0:0:0:0:0:0:0', '::0', '::0.0.0.0']) {
    const url = host.includes(':') ? `[${host}]` : host;
    const conn = parseMember('m', JSON.stringify({ conn_url: `postgres://${url}:5432/postgres`, api_url: 'http://10.0.0.1:8008/patroni' }));
    assert.equal(conn.ok, false, host);
    if (!conn.ok) assert.match(conn.rejection.reason, /^conn_url: host .* is the unspecified address/);
    const api = parseMember('m', JSON.stringify({ conn_url: 'postgres://10.0.0.1:5432/postgres', api_url: `http://${url}:8008/patroni` }));
    assert.equal(api.ok, false, host);
    if (!api.ok) assert.match(api.rejection.reason, /^api_url: host .* is the unspecified address/);
  }
  // Near misses stay valid.
  for (const host of ['0.0.0.1', '10.0.0.0', '[::1]', '[::ffff:10.0.0.1]']) {
    const r = parseMember('m', JSON.stringify({ conn_url: `postgres://${host}:5432/postgres`, api_url: 'http://10.0.0.1:8008/patroni' }));
    assert.equal(r.ok, true, host);
  }
});

test('two members at the same host:port: both rendered, one member_duplicate_address warning', async () => {
  const members = threeMembers();
  const dup = { ...members[2]!, name: 'pg9', host: members[0]!.host ?? '127.0.0.1', port: members[0]!.port ?? 15432 };
  const pairs = clusterPairs('/service', 'demo', [...members, dup], 'pg1');
  const { content, warnings } = await render(pairs);
  assert.equal(content.split(';').filter(Boolean).length, 4);
  const w = warnings.filter((x) => x.code === 'member_duplicate_address');
  assert.equal(w.length, 1, JSON.stringify(warnings));
  assert.deepEqual(w[0]!.detail?.['members'], ['pg1', 'pg9']);
  const clean = await render(clusterPairs('/service', 'demo', members, 'pg1'));
  assert.equal(clean.warnings.length, 0);
});
