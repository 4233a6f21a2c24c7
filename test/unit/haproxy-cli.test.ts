/** `haconfd haproxy …` argument handling and output formatting (no HAProxy needed). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { runHaproxyCommand, statusRows, formatTable } from '../../src/cli/haproxyCommand.js';
import { parseServersState } from '../../src/haproxy/serversState.js';
import type { ServerStat } from '../../src/haproxy/statCsv.js';

function capture(): { io: { stdout: PassThrough; stderr: PassThrough }; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d) => (o += d));
  stderr.on('data', (d) => (e += d));
  return { io: { stdout, stderr }, out: () => o, err: () => e };
}

test('usage errors exit 2 with a message', async () => {
  const cases: [string[], RegExp][] = [
    [[], /missing subcommand/],
    [['bogus', '--socket', '/x'], /unknown subcommand "bogus"/],
    [['status'], /--socket PATH is required/],
    [['status', '--socket'], /--socket needs a value/],
    [['status', '--socket', '/x', 'extra'], /unexpected argument "extra"/],
    [['drain', '--socket', '/x'], /needs exactly one/],
    [['drain', 'a/b', 'c/d', '--socket', '/x'], /needs exactly one/],
    [['status', '--socket', '/x', '--frobnicate'], /unknown option --frobnicate/],
    [['maint', 'primary/pg1', '--socket', '/x', '--leader'], /--leader only applies to ready/],
    [['status', '--json=yes', '--socket', '/x'], /--json takes no value/],
    [['status', '--socket', 'ipv4@127.0.0.1:0'], /port must be 1-65535/],
    // Names that could inject commands are refused before any socket is opened.
    [['drain', 'primary/pg1;set server primary/pg2 state ready', '--socket', '/nonexistent.sock'], /invalid/],
    [['drain', 'primary/pg 1', '--socket', '/nonexistent.sock'], /invalid/],
    [['maint', 'pg1\nshow info', '--socket', '/nonexistent.sock'], /invalid server name/],
    [['ready', 'a/b/c', '--socket', '/nonexistent.sock'], /invalid/],
  ];
  for (const [argv, re] of cases) {
    const c = capture();
    const code = await runHaproxyCommand(argv, c.io);
    assert.equal(code, 2, `${JSON.stringify(argv)} → ${code}: ${c.err()}`);
    assert.match(c.err(), re, JSON.stringify(argv));
  }
});

test('--help prints usage, exit 0; defaults supply the socket', async () => {
  const c = capture();
  assert.equal(await runHaproxyCommand(['--help'], c.io), 0);
  assert.match(c.out(), /haconfd haproxy status --socket PATH/);
  const d = capture();
  // The default socket is used (and is missing → runtime failure, exit 1, naming the path).
  assert.equal(await runHaproxyCommand(['status'], d.io, { socket: '/nonexistent/haconfd-test.sock' }), 1);
  assert.match(d.err(), /\/nonexistent\/haconfd-test\.sock does not exist/);
});

test('status rows and table', () => {
  const state = parseServersState(`1
# header
3 primary 1 pg1 127.0.0.1 2 0 1 1 0 8 2 0 14 0 0 0 - 15432 - 0 18008 - - 18008
3 primary 2 pg2 127.0.0.1 0 1 1 1 6 8 2 0 6 0 0 0 - 15433 - 0 18009 - - 18009
4 replicas 1 pg3 ::1 2 8 1 1 6 8 2 0 6 0 0 0 - 15434 - 0 0 - - 0
`).servers;
  const stats: ServerStat[] = [
    { backend: 'primary', server: 'pg1', status: 'UP', sessions: 3, totalSessions: 10, checkStatus: 'L7OK', checkCode: '200', lastCheckDesc: '', weight: 1, addr: '' },
    { backend: 'primary', server: 'pg2', status: 'MAINT', sessions: 0, totalSessions: 0, checkStatus: '', checkCode: '', lastCheckDesc: '', weight: 1, addr: '' },
  ];
  const rows = statusRows(state, stats, [{ backend: 'replicas', server: 'pg3', state: 'drain' }]);
  assert.deepEqual(rows, [
    { backend: 'primary', server: 'pg1', address: '127.0.0.1:15432', state: 'UP', check: 'UP L7OK', sessions: 3 },
    { backend: 'primary', server: 'pg2', address: '127.0.0.1:15433', state: 'MAINT', check: 'MAINT', sessions: 0 },
    { backend: 'replicas', server: 'pg3', address: '[::1]:15434', state: 'DRAIN', check: '', sessions: 0, override: 'drain' },
  ]);
  const table = formatTable(rows).split('\n');
  assert.match(table[0] ?? '', /^BACKEND\s+SERVER\s+ADDRESS\s+STATE\s+CHECK\s+SESSIONS$/);
  assert.match(table[3] ?? '', /^replicas\s+pg3\s+\[::1\]:15434\s+DRAIN \(operator drain\)\s+-\s+0$/);
});
