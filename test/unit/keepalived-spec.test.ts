/**
 * keepalived spec: every rule of issue 6 refused before keepalived sees a file, each error naming
 * its field; defaults; values from the store; the chk_haproxy spec and its time budget.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { resolveChkSpec, resolveKeepalivedSpec } from '../../src/keepalived/resolveSpec.js';
import { validateSpec, type KeepalivedSpec, type SpecError } from '../../src/keepalived/spec.js';
import { keepalivedSpecFromVars, mergeStoreValues, parseVip } from '../../src/keepalived/specInput.js';
import { Store } from '../../src/store/store.js';

const BASE = { interface: 'eth0', vip: '10.0.0.10/24', priority: 101, peer_priority: 100 } as const;

function errorsOf(vars: Record<string, unknown>): SpecError[] {
  return resolveKeepalivedSpec(vars).errors;
}

function assertRefused(vars: Record<string, unknown>, field: string, pattern: RegExp): void {
  const errors = errorsOf(vars);
  const hit = errors.find((e) => e.field === field && pattern.test(e.message));
  assert.ok(hit, `expected an error on ${field} matching ${pattern}; got ${JSON.stringify(errors)}`);
}

test('a plain pair member is accepted with documented defaults', () => {
  const r = resolveKeepalivedSpec(BASE);
  assert.deepEqual(r.errors, []);
  const i = r.spec.instances[0]!;
  assert.equal(i.state, 'MASTER');
  assert.equal(i.virtualRouterId, 51);
  assert.equal(r.spec.check.weight, -50);
  assert.equal(r.spec.check.script, '/etc/keepalived/chk_haproxy.sh');
  assert.equal(r.spec.scriptSecurity, true);
  assert.equal(r.spec.scriptUser, 'root');
  const backup = resolveKeepalivedSpec({ ...BASE, priority: 100, peer_priority: 101 });
  assert.equal(backup.spec.instances[0]!.state, 'BACKUP');
});

test('without peer_priority the classic 100 is assumed, and messages say so', () => {
  const r = resolveKeepalivedSpec({ interface: 'eth0', vip: '10.0.0.10/24', priority: 101 });
  assert.equal(r.ok, true);
  assert.equal(r.spec.instances[0]!.peerPriority, 100);
  assert.equal(r.spec.instances[0]!.peerPriorityAssumed, true);
  assert.equal(resolveKeepalivedSpec({ interface: 'eth0', vip: '10.0.0.10/24', priority: 100 }).spec.instances[0]!.peerPriority, 101);
  assertRefused({ interface: 'eth0', vip: '10.0.0.10/24', priority: 200 }, 'chk_weight', /assumed: set peer_priority/);
});

test('virtual_router_id outside 1–255 is refused', () => {
  assertRefused({ ...BASE, virtual_router_id: 0 }, 'virtual_router_id', /1–255/);
  assertRefused({ ...BASE, virtual_router_id: 256 }, 'virtual_router_id', /1–255/);
  assert.equal(resolveKeepalivedSpec({ ...BASE, virtual_router_id: 255 }).ok, true);
  assert.equal(resolveKeepalivedSpec({ ...BASE, virtual_router_id: 1 }).ok, true);
});

test('priority outside 1–254 is refused (also the peer\'s)', () => {
  assertRefused({ ...BASE, priority: 0 }, 'priority', /1–254/);
  assertRefused({ ...BASE, priority: 255 }, 'priority', /address owner/);
  assertRefused({ ...BASE, peer_priority: 255 }, 'peer_priority', /1–254/);
  assert.equal(resolveKeepalivedSpec({ ...BASE, priority: 254, peer_priority: 253 }).ok, true);
});

test('the same priority on both peers is refused', () => {
  assertRefused({ ...BASE, priority: 100, peer_priority: 100 }, 'priority', /same as the peer/);
});

test('auth_pass over 8 characters is refused', () => {
  assertRefused({ ...BASE, auth_pass: 'ninechars' }, 'auth_pass', /first 8/);
  assertRefused({ ...BASE, auth_pass: 'a b' }, 'auth_pass', /printable/);
  assert.equal(resolveKeepalivedSpec({ ...BASE, auth_pass: 'eight888' }).ok, true);
});

test('nopreempt with state MASTER is refused', () => {
  assertRefused({ ...BASE, nopreempt: true, state: 'MASTER', chk_weight: 0 }, 'nopreempt', /state BACKUP/);
  const ok = resolveKeepalivedSpec({ ...BASE, nopreempt: true });
  assert.deepEqual(ok.errors, []);
  assert.equal(ok.spec.instances[0]!.state, 'BACKUP', 'nopreempt defaults the state to BACKUP');
  assert.equal(ok.spec.check.weight, 0, 'nopreempt defaults the weight to 0 (FAULT)');
});

test('nopreempt with a negative script weight is refused (the VIP would never move)', () => {
  assertRefused({ ...BASE, nopreempt: true, chk_weight: -50 }, 'chk_weight', /never move/);
  assertRefused({ ...BASE, nopreempt: true, chk_weight: 60 }, 'chk_weight', /never move/);
});

test('a weight whose magnitude does not exceed the priority gap is refused', () => {
  assertRefused({ ...BASE, priority: 150, peer_priority: 100, chk_weight: -50 }, 'chk_weight', /does not exceed the priority gap 50/);
  assertRefused({ ...BASE, priority: 150, peer_priority: 100, chk_weight: -20 }, 'chk_weight', /gap 50/);
  assert.equal(resolveKeepalivedSpec({ ...BASE, priority: 150, peer_priority: 100, chk_weight: -51 }).ok, true);
  assert.equal(resolveKeepalivedSpec({ ...BASE, priority: 150, peer_priority: 100, chk_weight: 0 }).ok, true, 'weight 0 (FAULT) needs no gap');
  assertRefused({ ...BASE, chk_weight: -300 }, 'chk_weight', /-253\.\.253/);
});

test('a VIP that is not an IP with a prefix is refused', () => {
  assertRefused({ ...BASE, vip: '10.0.0.10' }, 'vip', /prefix length/);
  assertRefused({ ...BASE, vip: 'db.example/24' }, 'vip', /not an IP address/);
  assertRefused({ ...BASE, vip: '10.0.0.10/33' }, 'vip', /0–32/);
  assertRefused({ ...BASE, vip: '10.0.0.10/24 bogus eth0' }, 'vip', /not an IP address/);
  assertRefused({ ...BASE, vip: undefined }, 'vip', /missing/);
  assertRefused({ ...BASE, vip: undefined, vips: ['10.0.0.10/24', '10.0.0.11'] }, 'vips[1]', /prefix/);
  assertRefused({ ...BASE, vip: undefined, vips: ['10.0.0.10/24', 'fd00::10/64'] }, 'vips', /IPv4 and IPv6/);
  assert.equal(resolveKeepalivedSpec({ ...BASE, vip: 'fd00::10/64' }).ok, true);
  assertRefused({ ...BASE, vip: '10.0.0.10/24 dev eth1 label eth0:vip' }, 'vip', /eth1:<suffix>/);
  assert.deepEqual(parseVip('10.0.0.10/24 dev eth1 label eth1:vip'), {
    address: '10.0.0.10', prefixLength: 24, text: '10.0.0.10/24 dev eth1 label eth1:vip', dev: 'eth1', label: 'eth1:vip',
  });
});

test('a missing interface name is refused', () => {
  assertRefused({ ...BASE, interface: undefined }, 'interface', /missing/);
  assertRefused({ ...BASE, interface: '' }, 'interface', /missing/);
  assertRefused({ ...BASE, interface: 'eth0; rm -rf /' }, 'interface', /not an interface name/);
});

test('a script path writable by non-root is refused when script security is on', () => {
  const { spec } = keepalivedSpecFromVars({ ...BASE, chk_script: '/srv/x/chk.sh' });
  const insecure = { pathFacts: () => ({ insecure: '/srv/x is world-writable' }) };
  const r = validateSpec(spec, insecure);
  assert.ok(r.errors.some((e) => e.field === 'chk_script' && /world-writable/.test(e.message)), JSON.stringify(r.errors));
  assert.equal(validateSpec({ ...spec, scriptSecurity: false }, insecure).ok, true, 'without script security the path is not judged');
  assert.equal(validateSpec(spec, { pathFacts: () => ({}) }).ok, true);
  const notify = validateSpec(keepalivedSpecFromVars({ ...BASE, notify_master: '/srv/x/n.sh' }).spec, insecure);
  assert.ok(notify.errors.some((e) => e.field === 'notify_master'));
  assertRefused({ ...BASE, chk_script: 'chk.sh' }, 'chk_script', /absolute/);
  assertRefused({ ...BASE, chk_script: '/etc/keepalived/chk "x".sh' }, 'chk_script', /plain absolute path/);
});

test('unicast peers and source must be addresses of the VIPs\' family', () => {
  assertRefused({ ...BASE, unicast_peers: ['10.0.0.2', 'nope'] }, 'unicast_peers[1]', /not an IP/);
  assertRefused({ ...BASE, unicast_src_ip: '10.0.0.1', unicast_peers: '10.0.0.1' }, 'unicast_peers', /own unicast_src_ip/);
  assertRefused({ ...BASE, unicast_src_ip: 'fd00::1' }, 'unicast_src_ip', /family/);
  const r = resolveKeepalivedSpec({ ...BASE, unicast_peers: '10.0.0.2, 10.0.0.3' });
  assert.deepEqual(r.spec.instances[0]!.unicastPeers, ['10.0.0.2', '10.0.0.3']);
});

test('type problems and typos name their field once', () => {
  const errors = errorsOf({ ...BASE, priority: 'high' });
  assert.deepEqual(errors.filter((e) => e.field === 'priority').length, 1, JSON.stringify(errors));
  assertRefused({ ...BASE, nopreemt: true }, 'nopreemt', /typo/);
  assertRefused({ ...BASE, nopreempt: 'maybe' }, 'nopreempt', /true or false/);
  assertRefused({ ...BASE, state: 'LEADER' }, 'state', /MASTER or BACKUP/);
  assertRefused({ ...BASE, chk_interval: 0 }, 'chk_interval', /at least 1/);
});

test('several instances: per-instance fields, unique names and router ids per interface', () => {
  const vars = {
    interface: 'eth0', priority: 101, peer_priority: 100,
    instances: [{ vip: '10.0.0.10/24' }, { vip: '10.0.1.10/24', interface: 'eth1', virtual_router_id: 51 }, { vip: '10.0.0.11/24', virtual_router_id: 51 }],
  };
  const r = resolveKeepalivedSpec(vars);
  assert.deepEqual(r.errors.map((e) => e.field), ['instances[2].virtual_router_id'], JSON.stringify(r.errors));
  const ok = resolveKeepalivedSpec({ ...vars, instances: vars.instances.slice(0, 2) });
  assert.equal(ok.ok, true, JSON.stringify(ok.errors));
  assert.deepEqual(ok.spec.instances.map((i) => [i.name, i.interface, i.virtualRouterId]), [['VI_1', 'eth0', 51], ['VI_2', 'eth1', 51]]);
  assertRefused({ ...vars, instances: [{ vip: '10.0.0.10/24', priority: 300 }, { vip: '10.0.0.11/24' }] }, 'instances[0].priority', /1–254/);
  assertRefused({ ...vars, instances: [{ vip: '10.0.0.10/24', prio: 3 }, { vip: '10.0.0.11/24' }] }, 'instances[0].prio', /not an instance setting/);
});

test('VRRP values in the store override [template.vars]; paths and commands never come from it', () => {
  const pairs = new Map([
    ['/haproxy/vip', '10.9.9.9/24'],
    ['/haproxy/virtual_router_id', '77'],
    ['/haproxy/unicast_peers/1', '10.9.9.2'],
    ['/haproxy/chk_script', '/tmp/evil.sh'],
  ]);
  const store = new Store({ revision: 3, pairs }, '/haproxy');
  const merged = mergeStoreValues({ ...BASE }, store);
  const r = resolveKeepalivedSpec(merged);
  assert.equal(r.ok, true, JSON.stringify(r.errors));
  assert.equal(r.spec.instances[0]!.vips[0]!.address, '10.9.9.9');
  assert.equal(r.spec.instances[0]!.virtualRouterId, 77);
  assert.deepEqual(r.spec.instances[0]!.unicastPeers, ['10.9.9.2']);
  assert.equal(r.spec.check.script, '/etc/keepalived/chk_haproxy.sh');
  const listVars = mergeStoreValues({ ...BASE, vip: undefined, vips: ['10.0.0.10/24', '10.0.0.11/24'] }, store);
  assert.deepEqual(resolveKeepalivedSpec(listVars).spec.instances[0]!.vips.map((v) => v.address), ['10.9.9.9'], 'the store\'s /vip replaces vars.vips');
  const storeList = mergeStoreValues({ ...BASE }, new Store({ revision: 1, pairs: new Map([['/haproxy/vips/a', '10.8.8.8/24'], ['/haproxy/vips/b', '10.8.8.9/24']]) }, '/haproxy'));
  assert.deepEqual(resolveKeepalivedSpec(storeList).spec.instances[0]!.vips.map((v) => v.address), ['10.8.8.8', '10.8.8.9'], 'the store\'s /vips/* replace vars.vip');
  const bad = resolveKeepalivedSpec(mergeStoreValues({ ...BASE }, new Store({ revision: 1, pairs: new Map([['/haproxy/virtual_router_id', '300']]) }, '/haproxy')));
  assert.ok(bad.errors.some((e) => e.field === 'virtual_router_id'));
});

test('validateSpec works on a hand-built spec and reports every problem at once', () => {
  const spec: KeepalivedSpec = {
    ...keepalivedSpecFromVars(BASE).spec,
  };
  const broken: KeepalivedSpec = {
    ...spec,
    instances: [{ ...spec.instances[0]!, virtualRouterId: 300, priority: 0, interface: '', authPass: 'toolongpass' }],
  };
  const fields = validateSpec(broken).errors.map((e) => e.field).sort();
  assert.deepEqual(fields, ['auth_pass', 'interface', 'priority', 'virtual_router_id']);
});

test('chk_haproxy spec: probes, addresses and the time budget', () => {
  assert.equal(resolveChkSpec({}).ok, true);
  const field = (vars: Record<string, unknown>): string[] => resolveChkSpec(vars).errors.map((e) => e.field);
  assert.deepEqual(field({ probe: 'pidof' }), ['probe']);
  assert.deepEqual(field({ stats_url: "http://127.0.0.1:7000/'; rm -rf /'" }), ['stats_url']);
  assert.deepEqual(field({ stats_url: 'ftp://x/' }), ['stats_url']);
  assert.deepEqual(field({ probe: 'tcp' }), ['tcp_ports']);
  assert.deepEqual(field({ probe: 'tcp', tcp_ports: [5000, 70000] }), ['tcp_ports']);
  assert.deepEqual(field({ probe: 'master', master_socket: 'nowhere' }), ['master_socket']);
  assert.equal(resolveChkSpec({ probe: 'master', master_socket: 'ipv4@127.0.0.1:9999' }).ok, true);
  assert.equal(resolveChkSpec({ probe: 'master', master_socket: '/run/haproxy-master.sock' }).ok, true);
  const budget = resolveChkSpec({ restart_cmd: 'systemctl restart haproxy' });
  assert.deepEqual(budget.errors.map((e) => e.field), ['chk_timeout']);
  assert.match(budget.errors[0]!.message, /worst case \(12 s/);
  assert.equal(resolveChkSpec({ restart_cmd: 'systemctl restart haproxy', chk_timeout: 12 }).ok, true);
  assert.deepEqual(field({ probe: 'tcp', tcp_ports: [1, 2, 3] }), ['chk_timeout'], 'three 1 s probes do not fit in 2 s');
  assert.deepEqual(field({ restart_cmd: 'a\nb', chk_timeout: 20 }), ['restart_cmd']);
  assert.deepEqual(field({ stats_urll: 'x' }), ['stats_urll']);
});
