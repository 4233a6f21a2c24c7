/**
 * The shipped keepalived templates rendered through the real engine and helpers, the validating
 * helper refusing a bad spec, and `haconfd keepalived render` in-process (refusal writes nothing).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runKeepalivedCommand, parseKeepalivedArgs } from '../../src/cli/keepalivedCommand.js';
import { registerKeepalivedHelpers } from '../../src/keepalived/helpers.js';
import { renderKeepalivedFiles, shippedTemplatesDir } from '../../src/keepalived/renderFiles.js';
import { shellQuote } from '../../src/keepalived/viewModel.js';
import { silentLogger } from '../../src/log/logger.js';
import { Store } from '../../src/store/store.js';
import { createTemplateEngine } from '../../src/template/engine.js';
import { LookupCache } from '../../src/template/lookups.js';
import type { RenderWarning } from '../../src/template/renderData.js';
import { removeDir, tempDir } from '../harness/process.js';
import { captureIo } from '../harness/captureIo.js';

const BASE = { interface: 'eth0', vip: '10.0.0.10/24', priority: 101, peer_priority: 100 };

function renderWith(template: string, vars: Record<string, unknown>, pairs: [string, string][] = []): string {
  const engine = createTemplateEngine([registerKeepalivedHelpers]);
  const source = readFileSync(join(shippedTemplatesDir(), template), 'utf8');
  return engine.compile(template, source).render({
    store: new Store({ revision: 1, pairs: new Map(pairs) }, '/haproxy'),
    vars,
    resource: 'keepalived.toml',
    warnings: [],
    log: silentLogger(),
    lookups: new LookupCache(),
  });
}

test('keepalived.conf.hbs lays out global_defs, vrrp_script and the instance', () => {
  const conf = renderWith('keepalived.conf.hbs', {
    ...BASE, router_id: 'lb1', unicast_src_ip: '10.0.0.1', unicast_peers: ['10.0.0.2'], auth_pass: 'secret', track_interfaces: ['eth1'],
    notify_master: '/etc/keepalived/master.sh', vip: '10.0.0.10/24 dev eth0 label eth0:vip',
  });
  for (const line of [
    'router_id lb1', 'enable_script_security', 'script_user root', 'vrrp_script chk_haproxy {', 'script "/etc/keepalived/chk_haproxy.sh"',
    'weight -50', 'vrrp_instance VI_1 {', 'state MASTER', 'interface eth0', 'virtual_router_id 51', 'priority 101', 'advert_int 1',
    'unicast_src_ip 10.0.0.1', 'unicast_peer {', 'auth_type PASS', 'auth_pass secret', '10.0.0.10/24 dev eth0 label eth0:vip',
    'track_interface {', 'eth1', 'track_script {', 'chk_haproxy', 'notify_master "/etc/keepalived/master.sh"',
  ]) {
    assert.ok(conf.split('\n').some((l) => l.trim() === line), `missing line "${line}" in:\n${conf}`);
  }
  assert.doesNotMatch(conf, /nopreempt|vrrp_sync_group|undefined/);
  const opens = (conf.match(/\{/g) ?? []).length;
  assert.equal(opens, (conf.match(/\}/g) ?? []).length, 'braces balance');
});

test('several instances get a vrrp_sync_group; nopreempt renders in BACKUP', () => {
  const conf = renderWith('keepalived.conf.hbs', {
    interface: 'eth0', priority: 100, peer_priority: 101, nopreempt: true,
    instances: [{ vip: '10.0.0.10/24', name: 'VI_DB' }, { vip: '10.0.1.10/24', name: 'VI_APP' }], sync_group: 'VG_LB',
  });
  assert.match(conf, /vrrp_sync_group VG_LB \{\n\s+group \{\n\s+VI_DB\n\s+VI_APP\n/);
  assert.equal((conf.match(/^\s+nopreempt$/gm) ?? []).length, 2);
  assert.equal((conf.match(/^\s+state BACKUP$/gm) ?? []).length, 2);
  assert.match(conf, /weight 0\n/);
  assert.match(conf, /virtual_router_id 52/);
  assert.doesNotMatch(conf, /sync_group_tracking_weight/, 'weight 0 needs no group tracking weight');
});

test('an assumed peer_priority is reported as a render warning', () => {
  const warnings: RenderWarning[] = [];
  const engine = createTemplateEngine([registerKeepalivedHelpers]);
  const source = readFileSync(join(shippedTemplatesDir(), 'keepalived.conf.hbs'), 'utf8');
  const data = { store: new Store({ revision: 1, pairs: new Map() }), vars: { interface: 'eth0', vip: '10.0.0.10/24', priority: 101 }, resource: 'k', warnings, log: silentLogger(), lookups: new LookupCache() };
  engine.compile('k', source).render(data);
  assert.deepEqual(warnings.map((w) => w.code), ['keepalived_peer_priority_assumed']);
  warnings.length = 0;
  engine.compile('k', source).render({ ...data, vars: { ...data.vars, peer_priority: 100 } });
  assert.deepEqual(warnings, []);
});

test('values from the store reach the file', () => {
  const conf = renderWith('keepalived.conf.hbs', BASE, [['/haproxy/vip', '10.7.7.7/24'], ['/haproxy/virtual_router_id', '99']]);
  assert.match(conf, /^\s+10\.7\.7\.7\/24$/m);
  assert.match(conf, /virtual_router_id 99/);
});

test('an invalid spec fails the render with every field named', () => {
  assert.throws(
    () => renderWith('keepalived.conf.hbs', { ...BASE, virtual_router_id: 256, auth_pass: 'ninechars' }),
    (e: Error) => /virtual_router_id: must be 1–255/.test(e.message) && /auth_pass: /.test(e.message) && /refused/.test(e.message),
  );
  assert.throws(
    () => renderWith('keepalived.conf.hbs', { ...BASE }, [['/haproxy/vip', '10.7.7.7']]),
    /vip: "10\.7\.7\.7" is not an IP address with a prefix length/,
  );
  assert.throws(() => renderWith('chk_haproxy.sh.hbs', { probe: 'killall' }), /probe: must be one of/);
});

test('chk_haproxy.sh.hbs: each probe kind, never killall/pidof, restart bounded', () => {
  const http = renderWith('chk_haproxy.sh.hbs', {});
  assert.ok(http.startsWith('#!/bin/bash\n'), 'shebang on the first line');
  assert.match(http, /curl -fsS -o \/dev\/null --max-time "\$PROBE_TIMEOUT" 'http:\/\/127\.0\.0\.1:7000\/'/);
  assert.doesNotMatch(http, /^\s*(killall|pidof)/m);
  assert.doesNotMatch(http, /restart/);
  const tcp = renderWith('chk_haproxy.sh.hbs', { probe: 'tcp', tcp_ports: [5000, 5001], chk_timeout: 2 });
  assert.match(tcp, /for port in 5000 5001; do/);
  assert.doesNotMatch(tcp, /curl/);
  const master = renderWith('chk_haproxy.sh.hbs', { probe: 'master', master_socket: '127.0.0.1:9999' });
  assert.match(master, /show proc/);
  assert.match(master, /'127\.0\.0\.1'|127\.0\.0\.1 9999/);
  const restart = renderWith('chk_haproxy.sh.hbs', { restart_cmd: "systemctl restart 'haproxy'", chk_timeout: 12 });
  assert.match(restart, /timeout 10 \/bin\/sh -c 'systemctl restart '\\''haproxy'\\'''/);
  assert.match(restart, /-ge 60 \]/);
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
});

test('render CLI: flags map to vars, the files are printed', async () => {
  const p = parseKeepalivedArgs(['--vip', '10.0.0.10/24', '--vip=10.0.0.11/24', '--nopreempt', '-dest', '/x', '--weight', '0']);
  assert.deepEqual(p.vars, { vips: ['10.0.0.10/24', '10.0.0.11/24'], nopreempt: true, chk_weight: '0' });
  assert.equal(p.dest, '/x');
  const { code, out, err } = await cli(['render', '--vip', '10.0.0.10/24', '--interface', 'eth0', '--peer', '10.0.0.2', '--priority', '101']);
  assert.equal(code, 0, err);
  assert.match(out, /# ==> keepalived\.conf <==/);
  assert.match(out, /#!\/bin\/bash/);
  assert.match(out, /unicast_peer \{\n\s+10\.0\.0\.2/);
  assert.match(err, /note: VI_1: peer_priority not set, assumed 100/);
  const files = renderKeepalivedFiles({ vips: ['10.0.0.10/24'], interface: 'eth0', unicast_peers: ['10.0.0.2'], priority: '101' });
  assert.ok(out.includes(files.keepalivedConf));
});

test('render CLI: a refused spec writes nothing, exits 2 and names every field with its flag', async () => {
  const dir = tempDir('karender');
  try {
    const { code, err, out } = await cli([
      'render', '--vip', '10.0.0.10', '--priority', '300', '--virtual-router-id', '0', '--auth-pass', 'waytoolong', '--nopreempt',
      '--state', 'MASTER', '--weight', '-50', '-dest', dir,
    ]);
    assert.equal(code, 2);
    assert.equal(out, '');
    for (const want of ['vip (--vip)', 'interface (--interface)', 'priority (--priority)', 'virtual_router_id (--virtual-router-id)', 'auth_pass (--auth-pass)', 'nopreempt (--nopreempt)', 'chk_weight (--weight)']) {
      assert.ok(err.includes(want), `stderr lacks ${want}:\n${err}`);
    }
    assert.deepEqual(readdirSync(dir), [], 'nothing written');
    const same = await cli(['render', '--vip', '10.0.0.10/24', '--interface', 'eth0', '--priority', '100', '--peer-priority', '100', '-dest', dir]);
    assert.equal(same.code, 2);
    assert.match(same.err, /priority \(--priority\): 100 is the same as the peer's/);
    const gap = await cli(['render', '--vip', '10.0.0.10/24', '--interface', 'eth0', '--priority', '150', '--peer-priority', '100', '--weight', '-10', '-dest', dir]);
    assert.equal(gap.code, 2);
    assert.match(gap.err, /chk_weight \(--weight\): \|-10\| does not exceed the priority gap 50/);
    assert.deepEqual(readdirSync(dir), []);
    assert.equal((await cli(['render', '--bogus'])).code, 2);
    assert.equal((await cli(['frobnicate'])).code, 2);
    assert.equal((await cli(['render', '--help'])).code, 0);
  } finally {
    removeDir(dir);
  }
});

test('render CLI -dest: writes both files, the script 0755, and the config points at it', async () => {
  const dir = tempDir('karender');
  try {
    const { code, err } = await cli(['render', '--vip', '10.0.0.10/24', '--interface', 'eth0', '--priority', '101', '-dest', dir]);
    assert.equal(code, 0, err);
    const script = join(dir, 'chk_haproxy.sh');
    assert.ok(existsSync(script));
    const { statSync } = await import('node:fs');
    assert.equal(statSync(script).mode & 0o7777, 0o755);
    assert.equal(statSync(join(dir, 'keepalived.conf')).mode & 0o7777, 0o644);
    if (process.getuid?.() === 0) assert.equal(statSync(script).uid, 0);
    assert.ok(readFileSync(join(dir, 'keepalived.conf'), 'utf8').includes(`script "${script}"`));
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.stage')), [], 'no stage files left');
  } finally {
    removeDir(dir);
  }
});

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = captureIo();
  const code = await runKeepalivedCommand(args, c.io);
  return { code, out: c.out(), err: c.err() };
}


test('keepalived render --interfce: one line naming the flag it meant, not the whole usage', async () => {
  const r = await cli(['render', '--vip', '10.0.0.10/24', '--interfce', 'eth0', '--priority', '101']);
  assert.equal(r.code, 2);
  assert.equal(r.err, 'haconfd keepalived render: unknown option --interfce (did you mean --interface?); see haconfd keepalived render --help\n');
  assert.equal(r.out, '');
  const far = await cli(['render', '--zzzzzz', 'x']);
  assert.equal(far.err, 'haconfd keepalived render: unknown option --zzzzzz; see haconfd keepalived render --help\n');
});
