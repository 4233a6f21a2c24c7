/**
 * The shipped templates/haproxy.cfg.hbs rendered through the real engine from Patroni-shaped keys,
 * and every rendered file checked by the real `haproxy -c` (Debian's haproxy 2.6).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { createTemplateEngine, type CompiledTemplate } from '../../src/template/engine.js';
import { renderTemplate } from '../../src/template/renderTemplate.js';
import { registerPatroniHelpers } from '../../src/template/helpers/patroni.js';
import type { RenderWarning } from '../../src/template/renderData.js';
import { Store } from '../../src/store/store.js';
import { removeDir, requireBinary, tempDir } from '../harness/process.js';
import { clusterPairs, memberValue, snapshotOf, threeMembers } from '../harness/patroniKeys.js';

const TEMPLATE = join(import.meta.dirname, '../../templates/haproxy.cfg.hbs');
const log = pino({ level: 'silent' });
let dir = '';
let compiled: CompiledTemplate;
let fileNo = 0;

before(() => {
  requireBinary('haproxy', 'haproxy');
  dir = tempDir('haproxy-cfg');
  compiled = createTemplateEngine([registerPatroniHelpers]).compile('haproxy.cfg.hbs', readFileSync(TEMPLATE, 'utf8'));
});
after(() => removeDir(dir));

function baseVars(): Record<string, unknown> {
  return { runtime_socket: join(dir, 'admin.sock'), server_state_file: join(dir, 'server-state') };
}

async function render(
  pairs: Iterable<[string, string]>,
  vars: Record<string, unknown> = {},
  prefix = '/service',
): Promise<{ content: string; warnings: RenderWarning[] }> {
  return renderTemplate(compiled, {
    store: new Store(snapshotOf(pairs), prefix),
    vars: { ...baseVars(), ...vars },
    resource: 'haproxy',
    log,
  });
}

/** Writes the config and runs `haproxy -c -f`; asserts it is valid. Returns the file path. */
async function assertHaproxyAccepts(content: string): Promise<string> {
  const file = join(dir, `haproxy-${++fileNo}.cfg`);
  writeFileSync(file, content);
  const r = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile('haproxy', ['-c', '-f', file], (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
  });
  assert.equal(r.code, 0, `haproxy -c failed on ${file}:\n${r.out}\n---\n${content}`);
  assert.match(r.out, /Configuration file is valid/);
  return file;
}

/** Lines of one `listen` section. */
function section(content: string, name: string): string[] {
  const lines = content.split('\n');
  const start = lines.findIndex((l) => l === `listen ${name}`);
  assert.ok(start >= 0, `no "listen ${name}" in:\n${content}`);
  const out: string[] = [];
  for (let i = start + 1; i < lines.length && !/^(listen|global|defaults|frontend|backend) /.test(lines[i] ?? ''); i++) out.push((lines[i] ?? '').trim());
  return out.filter((l) => l !== '' && !l.startsWith('#'));
}

function servers(content: string, listen: string): string[] {
  return section(content, listen).filter((l) => l.startsWith('server '));
}

describe('shipped haproxy.cfg: one cluster', () => {
  test('three members: write and read listens with every member, Patroni demo ports, safe globals', async () => {
    const { content, warnings } = await render(clusterPairs('/service', 'demo', threeMembers()));
    assert.deepEqual(warnings, []);
    await assertHaproxyAccepts(content);
    const primary = section(content, 'demo_primary');
    assert.ok(primary.includes('bind *:5000'));
    assert.ok(primary.includes('option httpchk'));
    assert.ok(primary.includes('http-check send meth OPTIONS uri /primary'));
    assert.ok(primary.includes('http-check expect status 200'));
    assert.ok(primary.some((l) => l.startsWith('default-server inter 3s fall 3 rise 2 on-marked-down shutdown-sessions')));
    assert.deepEqual(servers(content, 'demo_primary'), [
      'server pg1 127.0.0.1:15432 maxconn 100 check port 18008',
      'server pg2 127.0.0.1:15433 maxconn 100 check port 18009',
      'server pg3 127.0.0.1:15434 maxconn 100 check port 18010',
    ]);
    assert.ok(section(content, 'demo_replicas').includes('bind *:5001'));
    assert.ok(section(content, 'demo_replicas').includes('http-check send meth OPTIONS uri /replica'));
    assert.equal(servers(content, 'demo_replicas').length, 3);
    assert.ok(section(content, 'stats').includes('bind 127.0.0.1:7000'), 'the stats page on loopback by default');
    assert.ok(!section(content, 'stats').some((l) => l.startsWith('stats auth')));
    assert.match(content, /^global\n(?: {4}#.*\n)* {4}maxconn 4096$/m);
    assert.match(content, /^defaults\n(?:.*\n)*? {4}backlog 1024$/m);
    assert.match(content, new RegExp(`stats socket ${join(dir, 'admin.sock')} mode 600 level admin expose-fd listeners`));
    assert.match(content, /server-state-file /);
    assert.match(content, /load-server-state-from-file global/);
    assert.match(content, /hard-stop-after 30m/);
    assert.doesNotMatch(content, /pidfile/);
    assert.doesNotMatch(content, /listen demo_read_only|listen demo_sync/);
    assert.match(content, /# ---- cluster demo \(scope demo\)/);
  });

  test('vars switch on read-only and sync listens and add ?lag= to the replica check', async () => {
    const { content } = await render(clusterPairs('/service', 'demo', threeMembers()), {
      enable_read_only: true,
      enable_sync: true,
      replica_max_lag: '10MB',
      primary_port: 6000,
      replica_port: 6001,
      read_only_port: 6002,
      sync_port: 6003,
      stats_port: 7100,
      check_inter: '1s',
      maxconn: 500,
      timeout_client: '1h',
      user: 'haproxy',
      group: 'haproxy',
      log_target: '/dev/log',
      stats_address: '::',
    });
    await assertHaproxyAccepts(content);
    assert.ok(section(content, 'demo_replicas').includes('http-check send meth OPTIONS uri /replica?lag=10MB'));
    assert.ok(section(content, 'demo_read_only').includes('bind *:6002'));
    assert.ok(section(content, 'demo_read_only').includes('http-check send meth OPTIONS uri /read-only'));
    assert.ok(section(content, 'demo_sync').includes('bind *:6003'));
    assert.ok(section(content, 'demo_sync').includes('http-check send meth OPTIONS uri /sync'));
    assert.equal(servers(content, 'demo_sync').length, 3);
    assert.ok(section(content, 'stats').includes('bind [::]:7100'));
    assert.match(content, /^ {4}maxconn 500$/m);
    assert.match(content, /^ {4}user haproxy\n {4}group haproxy$/m);
    assert.match(content, /^ {4}log \/dev\/log local0$/m);
    assert.match(content, /^ {4}log global\n {4}option tcplog$/m);
    assert.match(content, /timeout client 1h/);
    assert.match(content, /default-server inter 1s fall 3 rise 2/);
  });

  test('a var that is not a value fails the render, naming the var', async () => {
    const pairs = clusterPairs('/service', 'demo', threeMembers());
    await assert.rejects(render(pairs, { primary_port: '5000\nlisten evil' }), /vars\.primary_port must be a port/);
    await assert.rejects(render(pairs, { runtime_socket: '/run/x.sock level admin\nglobal' }), /vars\.runtime_socket/);
    await assert.rejects(render(pairs, { primary_check: '/primary\n    server x 1.2.3.4:1' }), /vars\.primary_check/);
    await assert.rejects(render(pairs, { check_inter: '3 s' }), /vars\.check_inter/);
    await assert.rejects(render(pairs, { replica_max_lag: '10MB&x' }), /vars\.replica_max_lag/);
    await assert.rejects(render(pairs, { enable_sync: 'yes' }), /vars\.enable_sync/);
    await assert.rejects(render(pairs, { user: 'root\n    stats socket /tmp/x level admin' }), /vars\.user/);
    await assert.rejects(render(pairs, { log_target: '/dev/log local0\nglobal' }), /vars\.log_target/);
  });
});

describe('shipped haproxy.cfg: typos are errors', () => {
  test('an unknown [template.vars] key fails the render naming the nearest setting (primery_port would silently keep 5000)', async () => {
    const pairs = clusterPairs('/service', 'demo', threeMembers());
    await assert.rejects(render(pairs, { primery_port: 6000, replica_port: 6001 }), (e: Error) => {
      assert.match(e.message, /vars\.primery_port is not a setting of this template \(did you mean primary_port\?\)/);
      return true;
    });
    await assert.rejects(render(pairs, { statsport: 7100 }), /vars\.statsport is not a setting of this template \(did you mean stats_port\?\)/);
    await assert.rejects(render(pairs, { zzzzzzzzzz: 1 }), (e: Error) => /vars\.zzzzzzzzzz is not a setting/.test(e.message) && !/did you mean/.test(e.message));
  });

  test('the shipped conf.d/haproxy.toml and every example resource on this template use known vars only', async () => {
    const { parseTemplateResource } = await import('../../src/resource/templateResource.js');
    const root = join(import.meta.dirname, '../..');
    for (const f of ['conf.d/haproxy.toml', 'examples/local/conf.d/haproxy.toml', 'examples/compose/haconfd/conf.d/haproxy.toml']) {
      const r = parseTemplateResource(join(root, f), readFileSync(join(root, f), 'utf8'), { templatesDir: join(root, 'templates'), cwd: root });
      const { content } = await render(clusterPairs('/service', 'demo', threeMembers()), { ...r.vars, ...baseVars() });
      assert.match(content, /^listen demo_primary$/m, f);
    }
  });
});

describe('shipped haproxy.cfg: production defaults (stats page, auth, limits, log)', () => {
  test('stats_address / stats_user / stats_password: the page binds where asked and asks for a password; haproxy -c passes', async () => {
    const { content } = await render(clusterPairs('/service', 'demo', threeMembers()), {
      stats_address: '0.0.0.0',
      stats_user: 'ops',
      stats_password: 's3cr:et!pw',
      maxconn: 20000,
      backlog: 4096,
    });
    await assertHaproxyAccepts(content);
    const stats = section(content, 'stats');
    assert.ok(stats.includes('bind 0.0.0.0:7000'));
    assert.ok(stats.includes('stats auth ops:s3cr:et!pw'));
    assert.match(content, /^ {4}maxconn 20000$/m);
    assert.match(content, /^ {4}backlog 4096$/m);
  });

  test('a bad or half-set stats password fails the render without quoting the value', async () => {
    const pairs = clusterPairs('/service', 'demo', threeMembers());
    await assert.rejects(render(pairs, { stats_user: 'ops', stats_password: 'has space' }), (e: Error) => {
      assert.match(e.message, /vars\.stats_password must be 1-128 printable characters .*\(value not shown\)/);
      assert.doesNotMatch(e.message, /has space/);
      return true;
    });
    await assert.rejects(render(pairs, { stats_password: 'pw' }), /vars\.stats_password is set without vars\.stats_user/);
    await assert.rejects(render(pairs, { stats_user: 'ops' }), /vars\.stats_user is set without vars\.stats_password/);
  });

  test('log_target: an explicit target logs with option tcplog; "" leaves a comment saying how to turn it on', async () => {
    const pairs = clusterPairs('/service', 'demo', threeMembers());
    const on = (await render(pairs, { log_target: '127.0.0.1:514' })).content;
    await assertHaproxyAccepts(on);
    assert.match(on, /^ {4}log 127\.0\.0\.1:514 local0$/m);
    assert.match(on, /^ {4}log global\n {4}option tcplog$/m);
    const off = (await render(pairs, { log_target: '' })).content;
    await assertHaproxyAccepts(off);
    assert.doesNotMatch(off, /^ {4}log |option tcplog/m);
    assert.match(off, /# No log target: .* Set log_target/);
  });
});

describe('shipped haproxy.cfg: many clusters behind one HAProxy', () => {
  test('every scope under the prefix gets its own listens and ports (base + index × stride)', async () => {
    const pairs = [
      ...clusterPairs('/service', 'alpha', threeMembers('a', 16432, 19008)),
      ...clusterPairs('/service', 'beta', threeMembers('b', 17432, 20008)),
      ...clusterPairs('/service', 'gamma', threeMembers('g', 18432, 21008)),
    ];
    const { content, warnings } = await render(pairs);
    assert.deepEqual(warnings, []);
    await assertHaproxyAccepts(content);
    assert.ok(section(content, 'alpha_primary').includes('bind *:5000'));
    assert.ok(section(content, 'alpha_replicas').includes('bind *:5001'));
    assert.ok(section(content, 'beta_primary').includes('bind *:5010'));
    assert.ok(section(content, 'beta_replicas').includes('bind *:5011'));
    assert.ok(section(content, 'gamma_primary').includes('bind *:5020'));
    assert.deepEqual(servers(content, 'beta_primary').map((l) => l.split(' ')[1]), ['b1', 'b2', 'b3']);
  });

  test('ports pinned per cluster in vars.clusters win; a port used twice fails the render', async () => {
    const pairs = [...clusterPairs('/service', 'alpha', threeMembers('a')), ...clusterPairs('/service', 'beta', threeMembers('b', 17432))];
    const { content } = await render(pairs, { clusters: { beta: { primary_port: 6100, replica_port: 6101 } } });
    await assertHaproxyAccepts(content);
    assert.ok(section(content, 'beta_primary').includes('bind *:6100'));
    assert.ok(section(content, 'beta_replicas').includes('bind *:6101'));
    await assert.rejects(render(pairs, { clusters: { beta: { primary_port: 5001 } } }), /port 5001 is used twice: alpha replica and beta primary/);
    await assert.rejects(render(pairs, { port_stride: 0 }), /port 5000 is used twice/);
    await assert.rejects(render(pairs, { clusters: { beta: { writer_port: 1 } } }), /unknown setting/);
  });

  test('Citus groups render one listen pair per group', async () => {
    const pairs = [
      ...clusterPairs('/service/citus', '0', threeMembers('c', 22432, 23008)),
      ...clusterPairs('/service/citus', '1', threeMembers('w', 24432, 25008)),
    ];
    const { content } = await render(pairs);
    await assertHaproxyAccepts(content);
    assert.ok(section(content, 'citus_0_primary').includes('bind *:5000'));
    assert.ok(section(content, 'citus_1_primary').includes('bind *:5010'));
  });

  test('a scope whose name is not usable is left out with a warning', async () => {
    const pairs = [...clusterPairs('/service', 'good', threeMembers()), ...clusterPairs('/service', 'bad scope', threeMembers('x', 26432))];
    const { content, warnings } = await render(pairs);
    await assertHaproxyAccepts(content);
    assert.doesNotMatch(content, /bad scope|server x1/);
    assert.equal(warnings.filter((w) => w.code === 'cluster_rejected').length, 1);
  });
});

describe('shipped haproxy.cfg: IPv6 and other address forms', () => {
  test('IPv6 members render as [addr]:port; an API on another host gets addr', async () => {
    const pairs = clusterPairs('/service', 'v6', [
      { name: 'n1', host: '::1', port: 5432, apiPort: 8008, role: 'master' },
      { name: 'n2', host: 'fd00::2', port: 5432, apiHost: 'fd00::22', apiPort: 8009, role: 'replica' },
      { name: 'n3', host: '127.0.0.1', port: 5433, apiHost: '127.0.0.2', apiPort: 8010, role: 'replica' },
    ]);
    const { content, warnings } = await render(pairs, { bind_address: '::' });
    assert.deepEqual(warnings, []);
    await assertHaproxyAccepts(content);
    assert.deepEqual(servers(content, 'v6_primary'), [
      'server n1 [::1]:5432 maxconn 100 check port 8008',
      'server n2 [fd00::2]:5432 maxconn 100 check port 8009 addr [fd00::22]',
      'server n3 127.0.0.1:5433 maxconn 100 check port 8010 addr 127.0.0.2',
    ]);
    assert.ok(section(content, 'v6_primary').includes('bind [::]:5000'));
  });

  test('legacy plain postgres:// values, user@host, DNS names and an https API', async () => {
    const pairs: [string, string][] = [
      ...clusterPairs('/service', 'old', [{ name: 'a', port: 5432, apiPort: 8008, role: 'master' }]),
      ['/service/old/members/b', 'postgres://replicator:secret@127.0.0.1:5433/postgres?application_name=http://127.0.0.1:8009/patroni'],
      ['/service/old/members/c', JSON.stringify({ conn_url: 'postgres://rep@localhost:5434/postgres', api_url: 'https://localhost:8010/patroni', state: 'running', role: 'replica', version: '3.0.2' })],
    ];
    const { content, warnings } = await render(pairs);
    assert.deepEqual(warnings, []);
    await assertHaproxyAccepts(content);
    assert.deepEqual(servers(content, 'old_replicas'), [
      'server a 127.0.0.1:5432 maxconn 100 check port 8008',
      'server b 127.0.0.1:5433 maxconn 100 check port 8009',
      'server c localhost:5434 maxconn 100 check port 8010 check-ssl verify none',
    ]);
    assert.doesNotMatch(content, /secret|replicator/);
  });
});

describe('shipped haproxy.cfg: bad member data is left out and reported, the file stays valid', () => {
  const good = threeMembers();
  const cases: { title: string; name: string; value: string; reason: RegExp; mustNotAppear: RegExp }[] = [
    { title: 'member JSON that is not JSON', name: 'bad', value: '{"conn_url": "postgres://10.9.9.9:5432/postgres", ', reason: /not JSON/, mustNotAppear: /10\.9\.9\.9|server bad/ },
    { title: 'a JSON value that is not an object', name: 'bad', value: '["postgres://10.9.9.9:5432"]', reason: /not a JSON object/, mustNotAppear: /10\.9\.9\.9|server bad/ },
    { title: 'missing conn_url', name: 'bad', value: JSON.stringify({ api_url: 'http://10.9.9.9:8008/patroni', role: 'replica', state: 'running' }), reason: /conn_url is missing/, mustNotAppear: /10\.9\.9\.9|server bad/ },
    { title: 'missing api_url', name: 'bad', value: JSON.stringify({ conn_url: 'postgres://10.9.9.9:5432/postgres', role: 'replica', state: 'running' }), reason: /api_url is missing/, mustNotAppear: /10\.9\.9\.9|server bad/ },
    {
      title: 'conn_url with a newline in the host',
      name: 'bad',
      value: JSON.stringify({ conn_url: 'postgres://10.9.9.9\nlisten evil\n    bind *:6666:5432/postgres', api_url: 'http://10.9.9.9:8008/patroni', role: 'replica', state: 'running' }),
      reason: /conn_url: .*a newline/,
      mustNotAppear: /evil|6666|10\.9\.9\.9|server bad/,
    },
    {
      title: 'conn_url with a space in the host',
      name: 'bad',
      value: JSON.stringify({ conn_url: 'postgres://10.9.9.9 backup:5432/postgres', api_url: 'http://10.9.9.9:8008/patroni', role: 'replica', state: 'running' }),
      reason: /conn_url: .*a space/,
      mustNotAppear: /backup|10\.9\.9\.9|server bad/,
    },
    {
      title: 'conn_url with # in the host',
      name: 'bad',
      value: JSON.stringify({ conn_url: 'postgres://10.9.9.9#evil:5432/postgres', api_url: 'http://10.9.9.9:8008/patroni', role: 'replica', state: 'running' }),
      reason: /conn_url: .*'#'/,
      mustNotAppear: /evil|10\.9\.9\.9|server bad/,
    },
    {
      title: 'api_url with a newline',
      name: 'bad',
      value: JSON.stringify({ conn_url: 'postgres://10.9.9.9:5432/postgres', api_url: 'http://10.9.9.9:8008\nlisten evil/patroni', role: 'replica', state: 'running' }),
      reason: /api_url: .*a newline/,
      mustNotAppear: /evil|10\.9\.9\.9|server bad/,
    },
    { title: 'port 0', name: 'bad', value: memberValue({ name: 'bad', host: '10.9.9.9', port: 0 }), reason: /port 0 is outside 1-65535/, mustNotAppear: /10\.9\.9\.9|server bad/ },
    { title: 'port 70000', name: 'bad', value: memberValue({ name: 'bad', host: '10.9.9.9', port: 70000 }), reason: /port 70000 is outside 1-65535/, mustNotAppear: /10\.9\.9\.9|server bad/ },
    { title: 'API port 70000', name: 'bad', value: memberValue({ name: 'bad', host: '10.9.9.9', apiPort: 70000 }), reason: /api_url: port 70000/, mustNotAppear: /10\.9\.9\.9|server bad/ },
    { title: 'a host that is neither IP nor DNS name', name: 'bad', value: memberValue({ name: 'bad', host: 'db;evil' }), reason: /neither an IP address nor a DNS name/, mustNotAppear: /evil|server bad/ },
    { title: 'an invalid IPv4 address', name: 'bad', value: memberValue({ name: 'bad', host: '300.1.1.1' }), reason: /invalid IPv4/, mustNotAppear: /300\.1\.1\.1|server bad/ },
    { title: 'a member name with spaces', name: 'bad name', value: memberValue({ name: 'x', host: '10.9.9.9' }), reason: /member name "bad name" contains a space/, mustNotAppear: /bad name|10\.9\.9\.9/ },
    { title: 'a member name with /', name: 'bad/name', value: memberValue({ name: 'x', host: '10.9.9.9' }), reason: /member name "bad\/name" contains '\/'/, mustNotAppear: /bad|10\.9\.9\.9/ },
    { title: 'a member name with a newline', name: 'bad\nlisten evil', value: memberValue({ name: 'x', host: '10.9.9.9' }), reason: /a newline/, mustNotAppear: /evil|10\.9\.9\.9/ },
  ];
  for (const c of cases) {
    test(c.title, async () => {
      const pairs = [...clusterPairs('/service', 'demo', good), [`/service/demo/members/${c.name}`, c.value] as [string, string]];
      const { content, warnings } = await render(pairs);
      await assertHaproxyAccepts(content);
      assert.doesNotMatch(content, c.mustNotAppear);
      assert.equal(servers(content, 'demo_primary').length, 3, 'the good members stay');
      assert.equal(servers(content, 'demo_replicas').length, 3);
      const rejected = warnings.filter((w) => w.code === 'member_rejected');
      assert.equal(rejected.length, 1, JSON.stringify(warnings));
      assert.match(rejected[0]?.message ?? '', c.reason);
      assert.equal(rejected[0]?.detail?.['cluster'], 'demo');
    });
  }

  test('a leader key naming a member that does not exist: rendered without a leader, warned', async () => {
    const pairs = clusterPairs('/service', 'demo', good, 'ghost\nlisten evil');
    const { content, warnings } = await render(pairs);
    await assertHaproxyAccepts(content);
    assert.doesNotMatch(content, /ghost|evil/);
    assert.equal(servers(content, 'demo_primary').length, 3);
    assert.deepEqual(warnings.map((w) => w.code), ['leader_unknown']);
  });

  test('the leader key changes no byte of the file (a switchover needs no reload)', async () => {
    const a = await render(clusterPairs('/service', 'demo', good, 'pg1'));
    const b = await render(clusterPairs('/service', 'demo', good, 'pg2'));
    const c = await render(clusterPairs('/service', 'demo', good.map((m) => ({ ...m, role: m.name === 'pg2' ? 'master' : 'replica' })), null));
    assert.equal(a.content, b.content);
    assert.equal(a.content, c.content);
  });

  test('no leader key at all (between delete and put in a switchover) is not a warning', async () => {
    const { content, warnings } = await render(clusterPairs('/service', 'demo', good, null));
    await assertHaproxyAccepts(content);
    assert.deepEqual(warnings, []);
  });

  test('zero members in one scope: its listens render empty, the others keep theirs', async () => {
    const pairs = [...clusterPairs('/service', 'demo', good), ...clusterPairs('/service', 'empty', [], null)];
    const { content } = await render(pairs);
    await assertHaproxyAccepts(content);
    assert.deepEqual(servers(content, 'empty_primary'), []);
    assert.equal(servers(content, 'demo_primary').length, 3);
  });

  test('zero members in every scope: the render fails (min_members), so the old file stays', async () => {
    await assert.rejects(render(clusterPairs('/service', 'demo', [], null)), /0 valid member\(s\) in 1 cluster\(s\), min_members is 1/);
    await assert.rejects(render([]), /0 valid member\(s\) in 0 cluster\(s\)/);
    // Only bad members count as none.
    await assert.rejects(render([...clusterPairs('/service', 'demo', [], null), ['/service/demo/members/x', 'nope']]), /min_members/);
    // min_members = 0 renders an empty but valid config.
    const { content } = await render(clusterPairs('/service', 'demo', [], null), { min_members: 0 });
    await assertHaproxyAccepts(content);
  });
});
