/** `haconfd haproxy …` argument handling, config-file defaults, roles and output formatting (no HAProxy needed). */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runHaproxyCommand, statusRows, formatTable, withRoles, type HaproxyCommandDefaults } from '../../src/cli/haproxyCommand.js';
import { resolveHaproxySettings, DEFAULT_PATTERNS } from '../../src/cli/haproxyDefaults.js';
import { roleOfServer, isLeaderOnWriteBackend, clusterWarnings } from '../../src/cli/serverRoles.js';
import { parseServersState } from '../../src/haproxy/runtime/serversState.js';
import type { ServerStat } from '../../src/haproxy/runtime/statCsv.js';
import { parseClusters } from '../../src/patroni/cluster.js';
import { Store } from '../../src/store/store.js';
import { clusterPairs, snapshotOf, threeMembers } from '../harness/patroniKeys.js';
import { removeDir, tempDir } from '../harness/process.js';
import { captureIo } from '../harness/captureIo.js';

const dir = tempDir('hap-cli-unit');
after(() => removeDir(dir));

/** No config file, no HACONFD_* from the test's environment. */
const EMPTY_CONFDIR = join(dir, 'no-confdir');
async function run(argv: string[], defaults: HaproxyCommandDefaults = {}): Promise<{ code: number; out: string; err: string }> {
  const c = captureIo();
  const code = await runHaproxyCommand(['-confdir', EMPTY_CONFDIR, ...argv], c.io, { env: {}, ...defaults });
  return { code, out: c.out(), err: c.err() };
}

function writeToml(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

test('usage errors exit 2 with a message', async () => {
  const cases: [string[], RegExp][] = [
    [[], /missing subcommand/],
    [['bogus', '--socket', '/x'], /unknown subcommand "bogus"/],
    [['status', '--socket'], /--socket needs a value/],
    [['status', '--socket', '/x', 'extra'], /unexpected argument "extra"/],
    [['drain', '--socket', '/x'], /needs exactly one/],
    [['drain', 'a/b', 'c/d', '--socket', '/x'], /needs exactly one/],
    [['status', '--socket', '/x', '--frobnicate'], /unknown option --frobnicate/],
    [['status', '--socket', '/x', '-nodes', 'h:1'], /unknown option -nodes \(did you mean --node\?\)/],
    [['maint', 'primary/pg1', '--socket', '/x', '--leader'], /--leader only applies to ready/],
    [['status', '--json=yes', '--socket', '/x'], /--json takes no value/],
    [['status', '--no-roles=1', '--socket', '/x'], /--no-roles takes no value/],
    [['status', '--socket', 'ipv4@127.0.0.1:0'], /port must be 1-65535/],
    [['status', '--socket', '/x', '-connect-timeout', 'soon'], /not a whole number/],
    [['status', '--socket', '/x', '-basic-auth=maybe'], /invalid boolean value "maybe"/],
    [['status', '--socket', '/x', '-backend', 'consul'], /unsupported backend "consul"/],
    [['status', '--socket', '/x', '-backend', 'file'], /-backend file needs at least one -file/],
    [['status', '--socket', '/x', '-client-cert', '/c.pem'], /-client-cert and -client-key go together/],
    [['status', '--socket', '/x', '-basic-auth', '-username', 'u'], /-basic-auth needs -username and -password/],
    [['status', '--socket', '/x', '-scheme', 'gopher', '-node', 'h:1'], /-scheme must be http or https/],
    [['status', '--socket', '/x', '-config-file', join(dir, 'absent.toml')], /absent\.toml does not exist/],
    // Names that could inject commands are refused before any socket is opened.
    [['drain', 'primary/pg1;set server primary/pg2 state ready', '--socket', '/nonexistent.sock'], /invalid/],
    [['drain', 'primary/pg 1', '--socket', '/nonexistent.sock'], /invalid/],
    [['maint', 'pg1\nshow info', '--socket', '/nonexistent.sock'], /invalid server name/],
    [['ready', 'a/b/c', '--socket', '/nonexistent.sock'], /invalid/],
  ];
  for (const [argv, re] of cases) {
    const r = await run(argv);
    assert.equal(r.code, 2, `${JSON.stringify(argv)} → ${r.code}: ${r.err}`);
    assert.match(r.err, re, JSON.stringify(argv));
  }
});

test('no socket anywhere → exit 2 saying how to give one', async () => {
  const r = await run(['status']);
  assert.equal(r.code, 2);
  assert.match(r.err, /no HAProxy runtime socket: give --socket PATH/);
  assert.match(r.err, /\[haproxy\] table/);
  // A config file without one: the message names it.
  const f = writeToml('nosock.toml', '[haproxy]\nstate_dir = "/tmp"\n');
  const r2 = await run(['status', '-config-file', f]);
  assert.equal(r2.code, 2);
  assert.ok(r2.err.includes(f), r2.err);
});

test('--help prints usage, exit 0; defaults supply the socket', async () => {
  const c = await run(['--help']);
  assert.equal(c.code, 0);
  assert.match(c.out, /haconfd haproxy status \[--socket PATH\]/);
  // The default socket is used (and is missing → runtime failure, exit 1, naming the path).
  const d = await run(['status'], { socket: '/nonexistent/haconfd-test.sock' });
  assert.equal(d.code, 1);
  assert.match(d.err, /\/nonexistent\/haconfd-test\.sock does not exist/);
});

test('the socket comes from haconfd.toml: [haproxy] socket, admin_socket, -confdir, HACONFD_CONFIG_FILE', async () => {
  const a = writeToml('a.toml', '[haproxy]\nsocket = "/nonexistent/from-file.sock"\n');
  let r = await run(['status', '-config-file', a], { socket: '/nonexistent/caller-default.sock' });
  assert.equal(r.code, 1);
  assert.match(r.err, /from-file\.sock does not exist/); // the file wins over the caller's default
  r = await run(['status', '--config-file', a, '--socket', '/nonexistent/flag.sock']);
  assert.match(r.err, /flag\.sock does not exist/); // the flag wins over the file
  const b = writeToml('b.toml', '[haproxy]\nadmin_socket = "/nonexistent/admin-socket.sock"\n');
  r = await run(['status', `-config-file=${b}`]);
  assert.match(r.err, /admin-socket\.sock does not exist/);
  const confdir = join(dir, 'confdir');
  mkdirSync(confdir, { recursive: true });
  writeFileSync(join(confdir, 'haconfd.toml'), '[haproxy]\nsocket = "/nonexistent/confdir.sock"\n');
  const c = captureIo();
  assert.equal(await runHaproxyCommand(['status', '-confdir', confdir], c.io, { env: {} }), 1);
  assert.match(c.err(), /confdir\.sock does not exist/);
  const e = captureIo();
  assert.equal(await runHaproxyCommand(['status'], e.io, { env: { HACONFD_CONFIG_FILE: b } }), 1);
  assert.match(e.err(), /admin-socket\.sock does not exist/);
  // A bad socket in the file is a configuration error naming where it came from.
  const bad = writeToml('bad.toml', '[haproxy]\nsocket = "ipv4@127.0.0.1:99999"\n');
  r = await run(['status', '-config-file', bad]);
  assert.equal(r.code, 2);
  assert.match(r.err, /socket from \[haproxy\] socket in .*bad\.toml: .*port must be 1-65535/);
  const wrongType = writeToml('wrongtype.toml', '[haproxy]\nsocket = 5\n');
  r = await run(['status', '-config-file', wrongType]);
  assert.equal(r.code, 2);
  assert.match(r.err, /\[haproxy\] socket must be a non-empty string, got 5/);
  const broken = writeToml('broken.toml', '[haproxy\nsocket = "/x"\n');
  r = await run(['status', '-config-file', broken]);
  assert.equal(r.code, 2);
  assert.match(r.err, /broken\.toml: invalid TOML: line 1/);
});

test('settings: overrides file, namespace, when a backend counts as configured', () => {
  const base = { env: {}, noRoles: false, defaults: {} };
  const flags = (o: Record<string, string | string[] | boolean>) => new Map(Object.entries({ confdir: EMPTY_CONFDIR, ...o }));
  let s = resolveHaproxySettings({ ...base, flags: flags({}) });
  assert.equal(s.socket, undefined);
  assert.equal(s.overridesFile, '/var/lib/haconfd/haproxy-overrides.json');
  assert.equal(s.dcs, undefined, 'nothing configured: no roles');
  assert.deepEqual(s.patterns, DEFAULT_PATTERNS);

  // The namespace is absolute, as the daemon's [controller] reads it: a -prefix (confd.toml's
  // `prefix = "/service/demo"`, which replaces resources' prefixes) does not move it.
  s = resolveHaproxySettings({ ...base, flags: flags({ node: ['127.0.0.1:1'], prefix: '/service/demo' }) });
  assert.equal(s.dcs?.prefix, '/service');
  assert.deepEqual(s.dcs?.config.nodes, ['127.0.0.1:1']);
  s = resolveHaproxySettings({ ...base, flags: flags({ node: ['127.0.0.1:1'] }), noRoles: true });
  assert.equal(s.dcs, undefined, '--no-roles');
  s = resolveHaproxySettings({ ...base, env: { HACONFD_NODE: 'h:2379' }, flags: flags({}), namespace: '/pg' });
  assert.equal(s.dcs?.prefix, '/pg');
  assert.deepEqual(s.dcs?.config.nodes, ['h:2379']);

  const t = writeToml('full.toml', [
    'nodes = ["http://127.0.0.1:1"]',
    '[haproxy]',
    'socket = "/run/h.sock"',
    'state_dir = "/srv/state"',
  ].join('\n'));
  s = resolveHaproxySettings({ ...base, flags: new Map([['config-file', t]]) });
  assert.equal(s.socket, '/run/h.sock');
  assert.equal(s.overridesFile, '/srv/state/haproxy-overrides.json');
  assert.equal(s.dcs?.prefix, '/service');
  s = resolveHaproxySettings({ ...base, flags: new Map([['config-file', t]]), stateDir: '/elsewhere' });
  assert.equal(s.overridesFile, '/elsewhere/haproxy-overrides.json');

  // [controller]: its overrides file, namespace and backend patterns are the ones the controller uses.
  const ctl = writeToml('ctl.toml', [
    '[haproxy]',
    'state_dir = "/srv/state"',
    '[controller]',
    'socket = "/run/ctl.sock"',
    'namespace = "/pg"',
    'overrides_file = "/srv/ctl-overrides.json"',
    'write_backends = ["rw_{cluster}"]',
  ].join('\n'));
  s = resolveHaproxySettings({ ...base, flags: new Map([['config-file', ctl]]) });
  assert.equal(s.socket, '/run/ctl.sock');
  assert.equal(s.overridesFile, '/srv/ctl-overrides.json');
  assert.equal(s.dcs?.prefix, '/pg', 'an enabled [controller] means the DCS is configured');
  assert.deepEqual(s.patterns.writeBackends, ['rw_{cluster}']);
  const off = writeToml('ctl-off.toml', '[controller]\nenabled = false\n');
  assert.equal(resolveHaproxySettings({ ...base, flags: new Map([['config-file', off]]) }).dcs, undefined);
});

function demoClusters(leader?: string | null) {
  const pairs = [
    ...clusterPairs('/service', 'demo', threeMembers(), leader),
    ...clusterPairs('/service', 'other', threeMembers('q')),
    ['/service/other/members/pg2', JSON.stringify({ conn_url: 'postgres://127.0.0.1:5999/postgres', api_url: 'http://127.0.0.1:8999/patroni', state: 'starting', role: 'replica' })] as [string, string],
  ];
  return parseClusters(new Store(snapshotOf(pairs), '/service'), '/').clusters;
}

test('roleOfServer: backend → cluster by pattern, server → member by name', () => {
  const clusters = demoClusters();
  assert.deepEqual(roleOfServer('demo_primary', 'pg1', clusters, DEFAULT_PATTERNS), { cluster: 'demo', role: 'primary', leader: true, memberState: 'running' });
  assert.deepEqual(roleOfServer('demo_replicas', 'pg2', clusters, DEFAULT_PATTERNS), { cluster: 'demo', role: 'replica', leader: false, memberState: 'running' });
  assert.deepEqual(roleOfServer('other_replicas', 'pg2', clusters, DEFAULT_PATTERNS), { cluster: 'other', role: 'replica', leader: false, memberState: 'starting' });
  assert.equal(roleOfServer('demo_primary', 'ghost', clusters, DEFAULT_PATTERNS), undefined);
  // A backend no pattern names: found when exactly one cluster has that member, else unknown.
  assert.equal(roleOfServer('custom', 'q3', clusters, DEFAULT_PATTERNS)?.cluster, 'other');
  assert.equal(roleOfServer('custom', 'pg2', clusters, DEFAULT_PATTERNS), undefined);
  assert.equal(isLeaderOnWriteBackend('demo_primary', 'pg1', clusters, DEFAULT_PATTERNS), true);
  assert.equal(isLeaderOnWriteBackend('demo_replicas', 'pg1', clusters, DEFAULT_PATTERNS), false);
  assert.equal(isLeaderOnWriteBackend('demo_primary', 'pg2', clusters, DEFAULT_PATTERNS), false);
  assert.equal(isLeaderOnWriteBackend('custom', 'q1', clusters, DEFAULT_PATTERNS), false);
  // The leader key is the truth: pg2 holds it while its member key still says replica.
  const switched = demoClusters('pg2');
  assert.equal(isLeaderOnWriteBackend('demo_primary', 'pg2', switched, DEFAULT_PATTERNS), true);
  assert.equal(isLeaderOnWriteBackend('demo_primary', 'pg1', switched, DEFAULT_PATTERNS), false);
  assert.deepEqual(roleOfServer('demo_primary', 'pg2', switched, DEFAULT_PATTERNS)?.leader, true);
  // A leader key naming no member confirms nobody, and is worth a warning.
  const ghost = demoClusters('ghost');
  assert.equal(isLeaderOnWriteBackend('demo_primary', 'ghost', ghost, DEFAULT_PATTERNS), false);
  assert.deepEqual(clusterWarnings(ghost), ["cluster demo: leader key names 'ghost', which is not a member"]);
  // No leader key: nobody.
  assert.equal(isLeaderOnWriteBackend('demo_primary', 'pg1', demoClusters(null), DEFAULT_PATTERNS), false);
  // Citus group ids and custom patterns.
  const citus = parseClusters(new Store(snapshotOf(clusterPairs('/service/cit', '1', threeMembers('w'))), '/service'), '/').clusters;
  assert.equal(citus[0]?.id, 'cit_1');
  assert.equal(roleOfServer('cit_1_primary', 'w1', citus, DEFAULT_PATTERNS)?.role, 'primary');
  assert.equal(isLeaderOnWriteBackend('rw_demo', 'pg1', clusters, { writeBackends: ['rw_{cluster}'], readBackends: [], readBackendsWithLeader: [] }), true);
});

const STATE = parseServersState(`1
# header
3 primary 1 pg1 127.0.0.1 2 0 1 1 0 8 2 0 14 0 0 0 - 15432 - 0 18008 - - 18008
3 primary 2 pg2 127.0.0.1 0 1 1 1 6 8 2 0 6 0 0 0 - 15433 - 0 18009 - - 18009
4 replicas 1 pg3 ::1 2 8 1 1 6 8 2 0 6 0 0 0 - 15434 - 0 0 - - 0
`).servers;

test('status rows and table', () => {
  const stats: ServerStat[] = [
    { backend: 'primary', server: 'pg1', status: 'UP', sessions: 3, totalSessions: 10, checkStatus: 'L7OK', checkCode: '200', lastCheckDesc: '', weight: 1, addr: '' },
    { backend: 'primary', server: 'pg2', status: 'MAINT', sessions: 0, totalSessions: 0, checkStatus: '', checkCode: '', lastCheckDesc: '', weight: 1, addr: '' },
  ];
  const rows = statusRows(STATE, stats, [{ backend: 'replicas', server: 'pg3', state: 'drain' }]);
  assert.deepEqual(rows, [
    { backend: 'primary', server: 'pg1', address: '127.0.0.1:15432', state: 'UP', check: 'UP L7OK', sessions: 3 },
    { backend: 'primary', server: 'pg2', address: '127.0.0.1:15433', state: 'MAINT', check: 'MAINT', sessions: 0 },
    { backend: 'replicas', server: 'pg3', address: '[::1]:15434', state: 'DRAIN', check: '', sessions: 0, override: 'drain' },
  ]);
  const table = formatTable(rows).split('\n');
  assert.match(table[0] ?? '', /^BACKEND\s+SERVER\s+ADDRESS\s+STATE\s+CHECK\s+SESSIONS$/);
  assert.match(table[3] ?? '', /^replicas\s+pg3\s+\[::1\]:15434\s+DRAIN \(operator drain\)\s+-\s+0$/);
});

test('role columns: known, not a member, DCS unreadable', () => {
  const rows = statusRows(STATE, [], []);
  // Backends 'primary'/'replicas' match no pattern; pg1..pg3 are members of demo only.
  const clusters = demoClusters().filter((c) => c.id === 'demo');
  const known = withRoles(rows, clusters, DEFAULT_PATTERNS);
  assert.deepEqual(known.map((r) => [r.role, r.leader, r.memberState, r.cluster]), [
    ['primary', true, 'running', 'demo'],
    ['replica', false, 'running', 'demo'],
    ['replica', false, 'running', 'demo'],
  ]);
  const table = formatTable(known, { roles: true }).split('\n');
  assert.match(table[0] ?? '', /^BACKEND\s+SERVER\s+ADDRESS\s+STATE\s+CHECK\s+SESSIONS\s+ROLE\s+MEMBER STATE$/);
  assert.match(table[1] ?? '', /^primary\s+pg1\s+127\.0\.0\.1:15432\s+UP\s+-\s+0\s+primary \(leader\)\s+running$/);
  assert.match(table[2] ?? '', /\s+replica\s+running$/);
  const none = withRoles(rows, [], DEFAULT_PATTERNS);
  assert.deepEqual(none[0], { ...rows[0], role: null, leader: false, memberState: null, cluster: null });
  assert.match(formatTable(none, { roles: true }).split('\n')[1] ?? '', /\s0\s+-\s+-$/);
  const unknown = withRoles(rows, undefined, DEFAULT_PATTERNS);
  assert.deepEqual(unknown.map((r) => [r.role, r.memberState]), [['?', '?'], ['?', '?'], ['?', '?']]);
  assert.match(formatTable(unknown, { roles: true }).split('\n')[1] ?? '', /\s0\s+\?\s+\?$/);
});
