/**
 * The shipped resource (conf.d/haproxy.toml) and the example data (examples/data/patroni-demo.yaml)
 * together: the resource parses, and the data renders a haproxy.cfg that the real `haproxy -c` accepts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { createTemplateEngine } from '../../src/template/engine.js';
import { renderTemplate } from '../../src/template/renderTemplate.js';
import { registerPatroniHelpers } from '../../src/template/helpers/patroni.js';
import { Store } from '../../src/store/store.js';
import { parseDataFile } from '../../src/backends/file.js';
import { parseTemplateResource } from '../../src/resource/templateResource.js';
import { removeDir, requireBinary, tempDir } from '../harness/process.js';
import YAML from 'yaml';

const ROOT = join(import.meta.dirname, '../..');
let dir = '';
before(() => {
  requireBinary('haproxy', 'haproxy');
  dir = tempDir('haproxy-example');
});
after(() => removeDir(dir));

test('conf.d/haproxy.toml parses: prefix /service, check_cmd haproxy -c (without -q, which hides the reason in 2.6), min_keys, demo defaults', () => {
  const file = join(ROOT, 'conf.d/haproxy.toml');
  const r = parseTemplateResource(file, readFileSync(file, 'utf8'), { templatesDir: join(ROOT, 'templates'), cwd: ROOT });
  assert.equal(r.src, join(ROOT, 'templates/haproxy.cfg.hbs'));
  assert.equal(r.prefix, '/service');
  assert.equal(r.checkCmd, 'haproxy -c -f {{.src}}');
  assert.ok(r.minKeys >= 1);
  assert.equal(r.vars['primary_port'], 5000);
  assert.equal(r.vars['replica_port'], 5001);
  assert.equal(r.vars['stats_port'], 7000);
});

test('examples/data/patroni-demo.yaml renders two clusters through the shipped resource; haproxy -c passes', async () => {
  const pairs = await parseDataFile('patroni-demo.yaml', readFileSync(join(ROOT, 'examples/data/patroni-demo.yaml'), 'utf8'));
  const tomlFile = join(ROOT, 'conf.d/haproxy.toml');
  const resource = parseTemplateResource(tomlFile, readFileSync(tomlFile, 'utf8'), { templatesDir: join(ROOT, 'templates'), cwd: ROOT });
  const compiled = createTemplateEngine([registerPatroniHelpers]).compile('haproxy.cfg.hbs', readFileSync(resource.src, 'utf8'));
  const { content, warnings } = await renderTemplate(compiled, {
    store: new Store({ revision: 1, pairs }, resource.prefix),
    vars: { ...resource.vars, runtime_socket: join(dir, 'admin.sock'), server_state_file: join(dir, 'state') },
    resource: resource.name,
    log: pino({ level: 'silent' }),
  });
  assert.deepEqual(warnings, []);
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, content);
  const out = await new Promise<string>((resolve, reject) =>
    execFile('haproxy', ['-c', '-f', file], (err, stdout, stderr) => (err ? reject(new Error(`${stderr}\n${content}`)) : resolve(stdout))),
  );
  assert.match(out, /Configuration file is valid/);
  assert.match(content, /^listen billing_primary\n {4}bind \*:5000$/m);
  assert.match(content, /^listen demo_primary\n {4}bind \*:5010$/m);
  assert.match(content, /server patroni1 172\.28\.0\.21:5432 maxconn 100 check port 8008/);
  assert.match(content, /server billing-b 10\.20\.0\.12:5432 maxconn 100 check port 8008/);
  assert.match(content, /# ---- cluster demo \(scope demo\)/);
});

async function renderExample(tomlFile: string): Promise<string> {
  const pairs = await parseDataFile('patroni-demo.yaml', readFileSync(join(ROOT, 'examples/data/patroni-demo.yaml'), 'utf8'));
  const resource = parseTemplateResource(tomlFile, readFileSync(tomlFile, 'utf8'), { templatesDir: join(ROOT, 'templates'), cwd: ROOT });
  const compiled = createTemplateEngine([registerPatroniHelpers]).compile('haproxy.cfg.hbs', readFileSync(resource.src, 'utf8'));
  const { content, warnings } = await renderTemplate(compiled, {
    store: new Store({ revision: 1, pairs }, resource.prefix),
    vars: { ...resource.vars, runtime_socket: join(dir, 'admin.sock'), server_state_file: join(dir, 'state') },
    resource: resource.name,
    log: pino({ level: 'silent' }),
  });
  assert.deepEqual(warnings, []);
  const file = join(dir, 'haproxy-compose.cfg');
  writeFileSync(file, content);
  await new Promise<string>((resolve, reject) =>
    execFile('haproxy', ['-c', '-f', file], (err, stdout, stderr) => (err ? reject(new Error(`${stderr}\n${content}`)) : resolve(stdout))),
  );
  return content;
}

test('examples/compose: the sidecar resource parses and renders (demo pinned to 5000/5001); the compose file has the demo topology', async () => {
  const content = await renderExample(join(ROOT, 'examples/compose/haconfd/conf.d/haproxy.toml'));
  assert.match(content, /^listen demo_primary\n {4}bind \*:5000$/m);
  assert.match(content, /^listen demo_replicas\n {4}bind \*:5001$/m);
  assert.match(content, /stats socket \S+ mode 600 level admin expose-fd listeners/);
  const compose = YAML.parse(readFileSync(join(ROOT, 'examples/compose/docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, { command?: string[] }> };
  assert.deepEqual(Object.keys(compose.services).sort(), ['etcd1', 'etcd2', 'etcd3', 'haconfd', 'haconfd-init', 'haproxy', 'patroni1', 'patroni2', 'patroni3']);
  assert.ok(compose.services['haconfd']?.command?.includes('-watch'));
  assert.ok(compose.services['haproxy']?.command?.includes('-W'));
});

test('examples/systemd/haconfd.service runs -watch against etcd with the shipped confdir', () => {
  const unit = readFileSync(join(ROOT, 'examples/systemd/haconfd.service'), 'utf8');
  assert.match(unit, /^ExecStart=haconfd -watch -backend etcdv3 -confdir \/etc\/haconfd /m);
  assert.match(unit, /^After=.*haproxy\.service/m);
  assert.match(unit, /^ReadWritePaths=\/etc\/haproxy \/var\/lib\/haproxy \/run\/haproxy$/m);
});
