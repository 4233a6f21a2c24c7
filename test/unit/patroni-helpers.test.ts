/** The Patroni template helpers through the real engine (no HAProxy: see test/integration/haproxy-cfg-*). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createTemplateEngine } from '../../src/template/engine.js';
import { renderTemplate } from '../../src/template/renderTemplate.js';
import { registerPatroniHelpers } from '../../src/template/helpers/patroni.js';
import type { RenderWarning } from '../../src/template/renderData.js';
import { Store } from '../../src/store/store.js';
import { clusterPairs, snapshotOf, threeMembers } from '../harness/patroniKeys.js';

const engine = createTemplateEngine([registerPatroniHelpers]);

async function render(source: string, pairs: Iterable<[string, string]>, prefix: string, vars: Record<string, unknown> = {}): Promise<{ content: string; warnings: RenderWarning[] }> {
  return renderTemplate(engine.compile('t', source), { store: new Store(snapshotOf(pairs), prefix), vars, resource: 't', log: pino({ level: 'silent' }) });
}

const demo = (): [string, string][] => clusterPairs('/service', 'demo', threeMembers(), 'pg2');

describe('patroni helpers', () => {
  test('registered names', () => {
    assert.deepEqual([...engine.helperNames].sort(), ['patroniCluster', 'patroniClusters', 'patroniMembers', 'patroniSettings']);
  });

  test('patroniMembers: one scope as the prefix, "/members" or "/" alike; isLeader from the leader key', async () => {
    const tpl = '{{#each (patroniMembers "/members")}}{{name}} {{address}} {{apiPort}} {{role}} {{isLeader}}\n{{/each}}';
    const { content } = await render(tpl, demo(), '/service/demo');
    assert.equal(content, 'pg1 127.0.0.1:15432 18008 primary false\npg2 127.0.0.1:15433 18009 replica true\npg3 127.0.0.1:15434 18010 replica false\n');
    const again = await render(tpl.replace('"/members"', '"/"'), demo(), '/service/demo');
    assert.equal(again.content, content);
    const fromNamespace = await render(tpl.replace('"/members"', '"/demo"'), demo(), '/service');
    assert.equal(fromNamespace.content, content);
  });

  test('patroniMembers: tags and the no-arg form', async () => {
    const pairs = clusterPairs('/service', 'demo', [
      { name: 'a', role: 'master' },
      { name: 'b', port: 5433, tags: { noloadbalance: true, dc: 'x' } },
    ]);
    const { content } = await render('{{#each (patroniMembers)}}{{name}}:{{noloadbalance}}:{{#if tags.custom.dc}}{{tags.custom.dc}}{{/if}};{{/each}}', pairs, '/service/demo');
    assert.equal(content, 'a:false:;b:true:x;');
  });

  test('patroniCluster: leader, leaderMember, paused, ports', async () => {
    const pairs = demo();
    const i = pairs.findIndex(([k]) => k === '/service/demo/config');
    pairs[i] = ['/service/demo/config', JSON.stringify({ pause: true, failsafe_mode: true })];
    const { content } = await render(
      '{{#with (patroniCluster "/")}}{{scope}} {{leader}} {{leaderMember.address}} {{paused}} {{failsafeMode}} {{ports.primary}} {{binds.replica}}{{/with}}',
      pairs,
      '/service/demo',
      { primary_port: 6000 },
    );
    assert.equal(content, 'demo pg2 127.0.0.1:15433 true true 6000 *:5001');
  });

  test('patroniClusters: index and ports per cluster; warnings for rejected members, once per render', async () => {
    const pairs = [...demo(), ...clusterPairs('/service', 'zeta', threeMembers('z')), ['/service/zeta/members/bad', 'x'] as [string, string]];
    const tpl = '{{#each (patroniClusters "/")}}{{id}}#{{index}}:{{ports.primary}}/{{ports.replica}}:{{members.length}};{{/each}}{{#each (patroniClusters "/")}}{{/each}}';
    const { content, warnings } = await render(tpl, pairs, '/service');
    assert.equal(content, 'demo#0:5000/5001:3;zeta#1:5010/5011:3;');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.code, 'member_rejected');
    assert.match(warnings[0]?.message ?? '', /cluster zeta: member "bad" left out: value is not JSON/);
    assert.deepEqual(warnings[0]?.detail?.['key'], '/zeta/members/bad');
  });

  test('min_members on patroniCluster and patroniClusters', async () => {
    await assert.rejects(render('{{#with (patroniCluster "/" min_members=4)}}{{/with}}', demo(), '/service/demo'), /3 valid member\(s\) in demo, min_members is 4/);
    await assert.rejects(render('{{#each (patroniClusters "/" min_members="x")}}{{/each}}', demo(), '/service'), /min_members must be a non-negative integer/);
  });

  test('wrong arguments name the helper', async () => {
    await assert.rejects(render('{{#each (patroniMembers "/a" "/b")}}{{/each}}', demo(), '/service'), /patroniMembers: expected at most 1 argument/);
    await assert.rejects(render('{{#each (patroniClusters 5)}}{{/each}}', demo(), '/service'), /patroniClusters: the directory must be a string/);
    await assert.rejects(render('{{#with (patroniSettings)}}{{/with}}', demo(), '/service', { stats_port: 'x' }), /vars\.stats_port must be a port/);
  });
});
