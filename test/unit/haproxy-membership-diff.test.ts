import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addServerLineOf, diffMembership } from '../../src/haproxy/config/membershipDiff.js';

const cfg = (servers: readonly string[], extra = ''): string => `global
    stats socket /run/haproxy/admin.sock mode 600 level admin
defaults
    mode tcp
    default-server maxconn 50
    timeout connect 1s
listen demo_primary
    bind 127.0.0.1:5000
    option httpchk
    # a comment line
    default-server inter 3s fall 3 rise 2 on-marked-down shutdown-sessions init-addr last,libc,none
${servers.map((s) => `    server ${s} 10.0.0.${s.slice(2)}:5432 maxconn 100 check port 8008`).join('\n')}
listen demo_replicas
    bind 127.0.0.1:5001
    balance roundrobin${extra}
    default-server inter 3s
${servers.map((s) => `    server ${s} 10.0.0.${s.slice(2)}:5432 check port 8008`).join('\n')}
`;

test('membership diff: a member added → add server with every keyword, default-server first, init-addr dropped', () => {
  const d = diffMembership(cfg(['pg1', 'pg2']), cfg(['pg1', 'pg2', 'pg3']));
  assert.equal(d.kind, 'runtime');
  if (d.kind !== 'runtime') return;
  assert.deepEqual(d.removed, []);
  assert.deepEqual(d.added.map(addServerLineOf), [
    'add server demo_primary/pg3 10.0.0.3:5432 maxconn 50 inter 3s fall 3 rise 2 on-marked-down shutdown-sessions maxconn 100 check port 8008',
    'add server demo_replicas/pg3 10.0.0.3:5432 maxconn 50 inter 3s check port 8008',
  ]);
  assert.ok(d.added.every((s) => s.health && !s.agent && s.addr === '10.0.0.3' && s.port === 5432));
});

test('membership diff: a member removed → del server in every backend', () => {
  const d = diffMembership(cfg(['pg1', 'pg2', 'pg3']), cfg(['pg1', 'pg3']));
  assert.deepEqual(d, {
    kind: 'runtime',
    added: [],
    removed: [
      { backend: 'demo_primary', server: 'pg2', text: 'server pg2 10.0.0.2:5432 maxconn 100 check port 8008' },
      { backend: 'demo_replicas', server: 'pg2', text: 'server pg2 10.0.0.2:5432 check port 8008' },
    ],
  });
});

test('membership diff: an added server carries its line as written, comparable with a removed one', () => {
  const d = diffMembership(cfg(['pg1']), cfg(['pg1', 'pg2']).replace('10.0.0.2:5432 maxconn 100', '10.0.0.2:5432   maxconn 100'));
  assert.equal(d.kind, 'runtime');
  if (d.kind !== 'runtime') return;
  assert.deepEqual(d.added.map((s) => s.text), ['server pg2 10.0.0.2:5432 maxconn 100 check port 8008', 'server pg2 10.0.0.2:5432 check port 8008']);
});

test('membership diff: identical, or only whole-line comments and blank lines differ → same', () => {
  assert.deepEqual(diffMembership(cfg(['pg1']), cfg(['pg1'])), { kind: 'same' });
  assert.deepEqual(diffMembership(cfg(['pg1']), `# header\n\n${cfg(['pg1']).replace('    # a comment line\n', '')}`), { kind: 'same' });
});

test('membership diff: anything outside server lines needs a reload, and the reason names the line', () => {
  const d = diffMembership(cfg(['pg1']), cfg(['pg1']).replace('timeout connect 1s', 'timeout connect 2s'));
  assert.equal(d.kind, 'reload');
  assert.match(d.kind === 'reload' ? d.reason : '', /"defaults".*timeout connect 2s/);
  assert.equal(diffMembership(cfg(['pg1']), `${cfg(['pg1'])}listen other\n    bind :1\n    server a 1.1.1.1:1\n`).kind, 'reload');
  assert.equal(diffMembership(cfg(['pg1']), cfg(['pg1']).replace('default-server inter 3s fall', 'default-server inter 2s fall')).kind, 'reload');
});

test('membership diff: a changed server line (address, keywords) needs a reload', () => {
  const d = diffMembership(cfg(['pg1', 'pg2']), cfg(['pg1', 'pg2']).replace('10.0.0.2:5432 maxconn 100', '10.0.0.9:5432 maxconn 100'));
  assert.equal(d.kind, 'reload');
  assert.match(d.kind === 'reload' ? d.reason : '', /demo_primary\/pg2 changed/);
});

test('membership diff: map-based balance cannot take dynamic servers; consistent hashing can; removal is fine', () => {
  for (const algo of ['static-rr', 'source', 'uri', 'hdr(host)']) {
    const d = diffMembership(cfg(['pg1'], `\n    balance ${algo}`), cfg(['pg1', 'pg2'], `\n    balance ${algo}`));
    assert.equal(d.kind, 'reload', algo);
    assert.match(d.kind === 'reload' ? d.reason : '', /demo_replicas uses balance/);
  }
  assert.equal(diffMembership(cfg(['pg1'], '\n    balance source\n    hash-type consistent'), cfg(['pg1', 'pg2'], '\n    balance source\n    hash-type consistent')).kind, 'runtime');
  assert.equal(diffMembership(cfg(['pg1', 'pg2'], '\n    balance static-rr'), cfg(['pg1'], '\n    balance static-rr')).kind, 'runtime');
});

test('membership diff: named defaults (from) are inherited, including their default-server and balance', () => {
  const base = (servers: string[]): string => `defaults base\n    default-server weight 7\n    balance static-rr\ndefaults\n    mode tcp\nbackend b from base\n${servers.map((s) => `    server ${s} 127.0.0.1:1`).join('\n')}\nbackend c\n    server x 127.0.0.1:1\n`;
  const d = diffMembership(base(['a']), base(['a', 'b']));
  assert.equal(d.kind, 'reload');
  assert.match(d.kind === 'reload' ? d.reason : '', /static-rr/);
  const named = `defaults base\n    default-server weight 7\ndefaults x from base\n    mode tcp\nbackend b\n    server a 127.0.0.1:1\n`;
  const n = diffMembership(named, `${named}    server b 127.0.0.1:2 check\n`);
  assert.equal(n.kind, 'runtime');
  assert.deepEqual(n.kind === 'runtime' ? n.added.map(addServerLineOf) : [], ['add server b/b 127.0.0.1:2 weight 7 check']);
});

test('membership diff: no-check after check turns health checks off; agent-check is noticed', () => {
  const a = 'backend b\n    default-server check agent-check agent-port 1\n    server a 127.0.0.1:1\n';
  const d = diffMembership(a, `${a}    server b 127.0.0.1:2 no-check\n`);
  assert.equal(d.kind, 'runtime');
  if (d.kind !== 'runtime') return;
  assert.equal(d.added[0]?.health, false);
  assert.equal(d.added[0]?.agent, true);
});

test('membership diff bad input: values that could smuggle a command, odd server lines → reload with a reason, never a line', () => {
  const a = 'backend b\n    server a 127.0.0.1:1\n';
  for (const [line, why] of [
    ['    server b 127.0.0.1:2 ssl crt "/x;y"\n', /cannot go through the runtime API/],
    ['    server b 127.0.0.1:2 x\\y\n', /cannot go through the runtime API/],
    ['    server b\n', /incomplete server line/],
    ['    server a 127.0.0.1:9\n', /declares server a twice/],
  ] as const) {
    const d = diffMembership(a, `${a}${line}`);
    assert.equal(d.kind, 'reload', line);
    assert.match(d.kind === 'reload' ? d.reason : '', why, line);
  }
  const late = 'backend b\n    server a 127.0.0.1:1\n    default-server check\n';
  const d = diffMembership(late, `${late}    server b 127.0.0.1:2\n`);
  assert.match(d.kind === 'reload' ? d.reason : '', /default-server after a server line/);
  assert.equal(diffMembership('backend b\n    server a 1.1.1.1:1\n', 'backend b\n    server a 1.1.1.1:1\n    server b;c 1.1.1.1:2\n').kind, 'reload');
  assert.equal(diffMembership('', '').kind, 'same');
});

test('membership diff: a conditional block (.if/.elif/.else/.endif) in either config → reload naming the directive', () => {
  const plain = 'backend b\n    server a 127.0.0.1:1\n';
  // Inside a backend (parseConfigSections keeps the line there) and around a whole section (it lands in the section before).
  const inside = 'backend b\n    server a 127.0.0.1:1\n    .if defined(EXTRA)\n    server b 127.0.0.1:2\n    .endif\n';
  const around = 'global\n    maxconn 10\n.if streq("$MODE",dr)\nbackend b\n    server a 127.0.0.1:1\n.else\nbackend b\n    server a 127.0.0.1:1\n    server b 127.0.0.1:2\n.endif\n';
  for (const [loaded, next, directive] of [
    [plain, inside, '.if'],
    [inside, plain, '.if'],
    [inside, inside.replace('    server b 127.0.0.1:2\n', ''), '.if'],
    [around, around.replace('    server b 127.0.0.1:2\n', ''), '.if'],
    [plain.replace('backend b\n', 'backend b\n    .elif 1\n'), plain, '.elif'],
    [plain, `${plain}    .else\n`, '.else'],
    [plain, `${plain}.endif\n`, '.endif'],
  ] as const) {
    const d = diffMembership(loaded, next);
    assert.deepEqual(d, { kind: 'reload', reason: `conditional block (${directive}) in the config: cannot tell which servers are active` }, next);
  }
  // A directive in a comment is not one.
  assert.equal(diffMembership(`${plain}    # .if x\n`, `${plain}    # .if x\n    server b 127.0.0.1:2 # .endif\n`).kind, 'runtime');
});

test('membership diff: a removed server using resolvers (own or via default-server) cannot be deleted at runtime → reload', () => {
  const dns = 'resolvers r1\n    nameserver ns1 127.0.0.1:53\n';
  for (const [where, servers] of [
    ['own', '    server a 127.0.0.1:1\n    server s db.example:5432 resolvers r1 init-addr none\n'],
    ['proxy default-server', '    default-server resolvers r1\n    server a db.example:1\n    server s db.example:5432\n'],
  ] as const) {
    const loaded = `${dns}backend b\n${servers}`;
    const d = diffMembership(loaded, loaded.replace(/ {4}server s .*\n/, ''));
    assert.deepEqual(d, { kind: 'reload', reason: 'server b/s uses resolvers and cannot be deleted at runtime' }, where);
  }
  const viaDefaults = `${dns}defaults\n    default-server resolvers r1\nbackend b\n    server a db.example:1\n    server s db.example:5432\n`;
  assert.deepEqual(diffMembership(viaDefaults, viaDefaults.replace('    server s db.example:5432\n', '')), { kind: 'reload', reason: 'server b/s uses resolvers and cannot be deleted at runtime' });
  // A server without resolvers next to one with: removable.
  const mixed = `${dns}backend b\n    server a db.example:1 resolvers r1\n    server s 127.0.0.1:5432\n`;
  assert.equal(diffMembership(mixed, mixed.replace('    server s 127.0.0.1:5432\n', '')).kind, 'runtime');
});

test('membership diff: an added server using resolvers (own or inherited) cannot be added at runtime → reload', () => {
  const dns = 'resolvers r1\n    nameserver ns1 127.0.0.1:53\n';
  const own = `${dns}backend b\n    server a 127.0.0.1:1\n`;
  const d = diffMembership(own, `${own}    server s db.example:5432 resolvers r1 init-addr none\n`);
  assert.deepEqual(d, { kind: 'reload', reason: 'server b/s uses resolvers, which a server added at runtime cannot' });
  const inherited = `${dns}defaults\n    default-server resolvers r1\nbackend b\n    server a db.example:1\n`;
  assert.match(JSON.stringify(diffMembership(inherited, `${inherited}    server s db.example:5432\n`)), /b\/s uses resolvers/);
});
