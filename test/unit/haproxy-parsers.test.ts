/** Parsers and pure helpers of src/haproxy, on output captured from Debian's haproxy 2.6.12. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServersState, stateNameOf, decodeAdminState, ServersStateParseError } from '../../src/haproxy/runtime/serversState.js';
import { parseShowStat, serverStatsOf, StatParseError } from '../../src/haproxy/runtime/statCsv.js';
import { parseShowInfo, pidOf } from '../../src/haproxy/runtime/infoList.js';
import { streamsByServer } from '../../src/haproxy/runtime/sessionList.js';
import { parseShowProc } from '../../src/haproxy/reload/procList.js';
import { classifyReply } from '../../src/haproxy/runtime/runtimeReply.js';
import { parseSocketAddress, formatSocketAddress } from '../../src/haproxy/runtime/socketAddress.js';
import { isHaproxyIdentifier, assertHaproxyIdentifier, parseServerRef } from '../../src/haproxy/runtime/names.js';
import { commandLine, SERVER_ACTIONS } from '../../src/haproxy/runtime/runtimeCommand.js';
import { InvalidNameError } from '../../src/haproxy/runtime/runtimeErrors.js';
import { extractConfigServers, splitServerAddress } from '../../src/haproxy/config/configServers.js';
import { filterServersState } from '../../src/haproxy/reload/serverStateFile.js';
import { effectiveServers } from '../../src/haproxy/config/serverKeywords.js';

const HEADER =
  '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port';

// Real reply to "set severity-output number; show servers state" (haproxy 2.6.12): pg1 forced maint
// (weight 5), pg3 up without checks, replicas/pg3 drained.
const SERVERS_STATE_REPLY = `
1
${HEADER}
3 primary 1 pg1 127.0.0.1 0 1 5 1 0 8 2 0 14 0 0 0 - 15432 - 0 18008 - - 18008
3 primary 2 pg2 127.0.0.1 0 0 1 1 6 8 2 0 6 0 0 0 - 15433 - 0 18009 - - 18009
4 replicas 1 pg1 127.0.0.1 0 0 1 1 6 8 2 0 6 0 0 0 - 15432 - 0 0 - - 0
4 replicas 2 pg2 127.0.0.1 3 0 1 1 5 8 2 4 6 0 0 0 - 15433 - 0 0 - - 0
4 replicas 3 pg3 127.0.0.1 2 8 1 1 0 1 0 0 0 0 0 0 - 15434 - 0 0 - - 0

`;

test('show servers state: 25 columns decoded into typed states', () => {
  const r = parseServersState(classifyReply(SERVERS_STATE_REPLY).body);
  assert.equal(r.version, 1);
  assert.equal(r.servers.length, 5);
  const [p1, p2, r1, r2, r3] = r.servers;
  assert.deepEqual(
    { b: p1?.backend, s: p1?.server, addr: p1?.addr, port: p1?.port, op: p1?.opState, admin: p1?.admin, w: p1?.userWeight, cp: p1?.checkPort },
    { b: 'primary', s: 'pg1', addr: '127.0.0.1', port: 15432, op: 'down', admin: { maint: ['forced'], drain: [] }, w: 5, cp: 18008 },
  );
  assert.equal(stateNameOf(p1!), 'maint');
  assert.equal(stateNameOf(p2!), 'down');
  assert.equal(stateNameOf(r1!), 'down');
  assert.equal(stateNameOf(r2!), 'stopping');
  assert.equal(stateNameOf(r3!), 'drain');
  assert.equal(r3?.fqdn, undefined);
  assert.equal(r3?.line, '4 replicas 3 pg3 127.0.0.1 2 8 1 1 0 1 0 0 0 0 0 0 - 15434 - 0 0 - - 0');
});

test('admin_state bits: every source decoded', () => {
  assert.deepEqual(decodeAdminState(0), { maint: [], drain: [] });
  assert.deepEqual(decodeAdminState(0x01), { maint: ['forced'], drain: [] });
  assert.deepEqual(decodeAdminState(0x02), { maint: ['inherited'], drain: [] });
  assert.deepEqual(decodeAdminState(0x04), { maint: ['config'], drain: [] });
  assert.deepEqual(decodeAdminState(0x08), { maint: [], drain: ['forced'] });
  assert.deepEqual(decodeAdminState(0x10), { maint: [], drain: ['inherited'] });
  assert.deepEqual(decodeAdminState(0x20), { maint: ['dns'], drain: [] });
  assert.deepEqual(decodeAdminState(0x09), { maint: ['forced'], drain: ['forced'] });
  assert.equal(stateNameOf({ admin: decodeAdminState(0x09), opState: 'up' }), 'maint');
  assert.equal(stateNameOf({ admin: decodeAdminState(0x10), opState: 'up' }), 'drain');
  assert.equal(stateNameOf({ admin: decodeAdminState(0), opState: 'starting' }), 'starting');
});

test('show servers state: bad input is rejected with the line', () => {
  assert.throws(() => parseServersState(''), ServersStateParseError);
  assert.throws(() => parseServersState('2\n'), /version 2/);
  assert.throws(() => parseServersState(`1\n${HEADER}\n3 primary 1 pg1 127.0.0.1 0 1\n`), /line 3: expected 25 columns/);
  assert.throws(() => parseServersState(`1\n3 primary 1 pg1 127.0.0.1 x 0 1 1 0 8 2 0 14 0 0 0 - 15432 - 0 0 - - 0\n`), /srv_op_state/);
  assert.throws(() => parseServersState(`1\n3 primary 1 pg1 127.0.0.1 7 0 1 1 0 8 2 0 14 0 0 0 - 15432 - 0 0 - - 0\n`), /unknown srv_op_state 7/);
  // An empty backend list (no servers) is valid.
  assert.deepEqual(parseServersState(`1\n${HEADER}\n`).servers, []);
});

// Real `show stat` lines (header shortened to the first 81 columns is NOT done: the full 2.6 header).
const STAT_HEADER =
  '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,';
const STAT_REPLY = [
  STAT_HEADER,
  'primary,FRONTEND,,,0,0,9975,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,3,0,,,,0,0,0,0,,,,,,,,,,,0,0,0,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,tcp,,0,0,0,,0,0,0,,,,,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,',
  'primary,pg1,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,1,1,1,1,,1,3,1,,0,,2,0,,0,L4CON,,0,,,,,,,,,,,0,0,,,,,-1,Connection refused,,0,0,0,0,,,,Layer4 connection problem,,2,3,0,,,,127.0.0.1:15432,,tcp,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,',
  'primary,pg2,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP 1/3,1,1,0,0,0,1,0,,1,3,2,,0,,2,0,,0,INI,,,,,,,,,,,,,0,0,,,,,-1,,,0,0,0,0,,,,Initializing,,2,3,2,,,,127.0.0.1:15433,,tcp,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,',
  'primary,BACKEND,0,0,0,0,998,0,0,0,0,0,,0,0,0,0,UP,1,1,0,,0,1,0,,1,3,0,,0,,1,0,,0,,,,,,,,,,,,,,0,0,0,0,0,0,-1,,,0,0,0,0,,,,,,,,,,,,,,tcp,roundrobin,,,,,,,0,0,0,,,,,0,0,0,0,0,,,,,1,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,1,0,0,0,0,',
  'replicas,pg3,0,0,1,1,,7,0,0,,0,,0,0,0,0,no check,1,1,0,,,1,,,1,4,3,,0,,2,0,,0,,,,,,,,,,,,,,0,0,,,,,-1,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:15434,,tcp,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,',
  '',
  '',
].join('\n');

test('show stat: CSV by header name, only server rows typed', () => {
  const rows = parseShowStat(STAT_REPLY);
  assert.equal(rows.length, 5);
  assert.equal(rows[0]?.['svname'], 'FRONTEND');
  assert.equal(Object.keys(rows[0]!).length, 128); // 2.6: 128 named columns and a trailing comma
  const servers = serverStatsOf(rows);
  assert.deepEqual(
    servers.map((s) => [s.backend, s.server, s.status, s.checkStatus, s.sessions, s.totalSessions, s.addr]),
    [
      ['primary', 'pg1', 'DOWN', 'L4CON', 0, 0, '127.0.0.1:15432'],
      ['primary', 'pg2', 'UP 1/3', 'INI', 0, 0, '127.0.0.1:15433'],
      ['replicas', 'pg3', 'no check', '', 1, 7, '127.0.0.1:15434'],
    ],
  );
  assert.equal(servers[0]?.lastCheckDesc, 'Connection refused');
  assert.throws(() => parseShowStat('primary,pg1,0\n'), StatParseError);
});

const INFO_REPLY = 'Name: HAProxy\nVersion: 2.6.12-1+deb12u4\nRelease_date: 2026/10/17\nNbthread: 2\nNbproc: 1\nProcess_num: 1\nPid: 8464\nUptime: 0d 0h00m00s\nUptime_sec: 0\nCurrConns: 0\nnode: host-1\ndescription: \n\n';

test('show info: key: value, the worker Pid', () => {
  const info = parseShowInfo(INFO_REPLY);
  assert.equal(info['Version'], '2.6.12-1+deb12u4');
  assert.equal(info['Uptime'], '0d 0h00m00s');
  assert.equal(info['description'], '');
  assert.equal(pidOf(info), 8464);
  assert.equal(pidOf(parseShowInfo('Name: HAProxy\n')), undefined);
  assert.equal(pidOf(parseShowInfo('Pid: abc\n')), undefined);
});

const PROC_WITH_OLD =
  '#<PID>          <type>          <reloads>       <uptime>        <version>      \n7645            master          1 [failed: 0]   0d00h01m03s     2.6.12-1+deb12u4\n# workers\n8464            worker          0               0d00h00m01s     2.6.12-1+deb12u4\n# old workers\n7647            worker          1               0d00h01m03s     2.6.12-1+deb12u4\n# programs\n\n';
const PROC_FAILED =
  '#<PID>          <type>          <reloads>       <uptime>        <version>      \n7645            master          2 [failed: 1]   0d00h01m36s     2.6.12-1+deb12u4\n# workers\n8464            worker          1               0d00h00m34s     2.6.12-1+deb12u4\n# programs\n\n';

test('show proc: master, failed reloads, current and old workers', () => {
  const p = parseShowProc(PROC_WITH_OLD);
  assert.equal(p.master?.pid, 7645);
  assert.equal(p.master?.reloads, 1);
  assert.equal(p.failedReloads, 0);
  assert.deepEqual(p.workers.map((w) => [w.pid, w.reloads, w.uptime, w.version]), [[8464, 0, '0d00h00m01s', '2.6.12-1+deb12u4']]);
  assert.deepEqual(p.oldWorkers.map((w) => w.pid), [7647]);
  const f = parseShowProc(PROC_FAILED);
  assert.equal(f.failedReloads, 1);
  assert.equal(f.master?.reloads, 2);
  assert.deepEqual(f.workers.map((w) => w.pid), [8464]);
  assert.deepEqual(f.oldWorkers, []);
  const empty = parseShowProc('');
  assert.equal(empty.master, undefined);
  assert.deepEqual(empty.workers, []);
});

test('replies classified by severity (real 2.6 replies)', () => {
  assert.equal(classifyReply('\n\n').severity, 'ok');
  assert.equal(classifyReply('\n\n\n').severity, 'ok'); // "state ready; health down"
  const noBackend = classifyReply('\n[3]: No such backend.\n\n');
  assert.equal(noBackend.severity, 'error');
  assert.deepEqual(noBackend.messages, [{ severity: 'error', code: 3, text: 'No such backend.' }]);
  assert.equal(classifyReply('\n[3]: Permission denied\n\n').messages[0]?.text, 'Permission denied');
  assert.equal(classifyReply('\n[4]: something odd\n\n').severity, 'warning');
  assert.equal(classifyReply('\n[6]: note\n\n').severity, 'info');
  // 2.6 reports an unknown command at level 6: still an error.
  const unknown = classifyReply('\n[6]: Unknown command, but maybe one of the following ones is a better match:\n  show fd [num]   : dump\n\n');
  assert.equal(unknown.severity, 'error');
  assert.match(unknown.messages[0]?.text ?? '', /show fd/);
  // Without severity output.
  assert.equal(classifyReply('Permission denied\n\n').severity, 'error');
  // Data replies are ok and keep their body (leading empty answer removed).
  const st = classifyReply(SERVERS_STATE_REPLY);
  assert.equal(st.severity, 'ok');
  assert.ok(st.body.startsWith('1\n# be_id'));
  // Worst severity wins.
  assert.equal(classifyReply('\n[6]: a\n\n[3]: b\n\n').severity, 'error');
});

test('socket addresses: unix paths, ipv4@host:port, host:port; bad ports refused', () => {
  assert.deepEqual(parseSocketAddress('/run/haproxy/admin.sock'), { kind: 'unix', path: '/run/haproxy/admin.sock' });
  assert.deepEqual(parseSocketAddress('unix@/run/x.sock'), { kind: 'unix', path: '/run/x.sock' });
  assert.deepEqual(parseSocketAddress('./admin.sock'), { kind: 'unix', path: './admin.sock' });
  assert.deepEqual(parseSocketAddress('ipv4@127.0.0.1:9999'), { kind: 'tcp', host: '127.0.0.1', port: 9999 });
  assert.deepEqual(parseSocketAddress('127.0.0.1:9999'), { kind: 'tcp', host: '127.0.0.1', port: 9999 });
  assert.deepEqual(parseSocketAddress('localhost:9999'), { kind: 'tcp', host: 'localhost', port: 9999 });
  assert.deepEqual(parseSocketAddress('ipv6@[::1]:9999'), { kind: 'tcp', host: '::1', port: 9999 });
  assert.equal(formatSocketAddress(parseSocketAddress('ipv6@[::1]:9999')), '[::1]:9999');
  assert.throws(() => parseSocketAddress('ipv4@127.0.0.1:0'), /port must be 1-65535/);
  assert.throws(() => parseSocketAddress('127.0.0.1:70000'), /port must be 1-65535/);
  assert.throws(() => parseSocketAddress('ipv4@nohost'), /expected ipv4@host:port/);
  assert.throws(() => parseSocketAddress('  '), /empty/);
});

test('names: only HAProxy identifier characters reach a command', () => {
  for (const ok of ['primary', 'pg-1', 'pg_1', 'node.dc1', 'a:b', 'X9']) assert.ok(isHaproxyIdentifier(ok), ok);
  const bad = ['', 'a;b', 'a b', 'a\nb', 'a\rb', 'a/b', 'a\\b', 'a#b', 'pg1; set server primary/pg2 state ready', 'é', 'a\tb', 'x'.repeat(257)];
  for (const b of bad) {
    assert.equal(isHaproxyIdentifier(b), false, JSON.stringify(b));
    assert.throws(() => assertHaproxyIdentifier('server', b), InvalidNameError);
  }
  assert.deepEqual(parseServerRef('primary/pg1'), { backend: 'primary', server: 'pg1' });
  for (const b of ['primary', '/pg1', 'primary/', 'a/b/c', 'pri mary/pg1', 'primary/pg1;x', 'primary/pg1\n']) {
    assert.throws(() => parseServerRef(b), InvalidNameError, b);
  }
});

test('command lines: exact text, one line, injection impossible', () => {
  assert.equal(commandLine({ backend: 'primary', server: 'pg1', action: 'maint' }), 'set server primary/pg1 state maint');
  assert.equal(commandLine({ backend: 'primary', server: 'pg1', action: 'drain' }), 'set server primary/pg1 state drain');
  assert.equal(commandLine({ backend: 'primary', server: 'pg1', action: 'ready' }), 'set server primary/pg1 state ready');
  assert.equal(
    commandLine({ backend: 'primary', server: 'pg1', action: 'ready-health-down' }),
    'set server primary/pg1 weight 0; set server primary/pg1 state ready; set server primary/pg1 health down; set server primary/pg1 weight 100%',
  );
  assert.equal(
    commandLine({ backend: 'primary', server: 'pg1', action: 'ready-health-up' }),
    'set server primary/pg1 state ready; set server primary/pg1 health up',
  );
  assert.equal(commandLine({ backend: 'primary', server: 'pg1', action: 'health-up' }), 'set server primary/pg1 health up');
  for (const action of SERVER_ACTIONS) {
    assert.ok(!commandLine({ backend: 'b', server: 's', action }).includes('\n'));
    assert.throws(() => commandLine({ backend: 'b', server: 's; shutdown sessions server b/t', action }), InvalidNameError);
    assert.throws(() => commandLine({ backend: 'b\nshow info', server: 's', action }), InvalidNameError);
    assert.throws(() => commandLine({ backend: 'b', server: 's t', action }), InvalidNameError);
  }
});

const CONFIG = `global
    stats socket /run/haproxy/admin.sock mode 600 level admin
    server-state-file /var/lib/haproxy/server-state

defaults
    mode tcp
    load-server-state-from-file global

listen stats
    mode http
    bind *:7000

listen primary
    bind *:5000
    option httpchk
    default-server inter 3s fall 3 rise 2 on-marked-down shutdown-sessions
    server pg1 10.0.0.1:5432 maxconn 100 check port 8008
    server pg2 10.0.0.2:5432 check port 8008 # comment
  # server ghost 10.0.0.9:5432
    server pg3 [2001:db8::3]:5432 check

backend replicas
    server pg1 ipv4@10.0.0.1:5432 check
    server db db.example.com:6432 check
    server v6bare 2001:db8::4:5432
    server noport 10.0.0.5

frontend fe
    bind *:1
    default_backend replicas
`;

test('config servers: server lines per listen/backend, all address forms', () => {
  assert.deepEqual(extractConfigServers(CONFIG), [
    { backend: 'primary', server: 'pg1', addr: '10.0.0.1', port: 5432 },
    { backend: 'primary', server: 'pg2', addr: '10.0.0.2', port: 5432 },
    { backend: 'primary', server: 'pg3', addr: '2001:db8::3', port: 5432 },
    { backend: 'replicas', server: 'pg1', addr: '10.0.0.1', port: 5432 },
    { backend: 'replicas', server: 'db', addr: 'db.example.com', port: 6432 },
    { backend: 'replicas', server: 'v6bare', addr: '2001:db8::4', port: 5432 },
    { backend: 'replicas', server: 'noport', addr: '10.0.0.5', port: undefined },
  ]);
  assert.deepEqual(splitServerAddress('ipv6@[::1]:5432'), { addr: '::1', port: 5432 });
  assert.deepEqual(extractConfigServers(''), []);
});

test('server-state filter: servers whose address or port changed (or that are gone) are left out', () => {
  const dump = `1
${HEADER}
3 primary 1 pg1 10.0.0.1 2 8 1 1 0 8 2 0 14 0 0 0 - 5432 - 0 8008 - - 8008
3 primary 2 pg2 10.0.0.2 0 1 1 1 6 8 2 0 6 0 0 0 - 5432 - 0 8008 - - 8008
3 primary 3 pg3 2001:db8::3 0 1 1 1 6 8 2 0 6 0 0 0 - 5432 - 0 8008 - - 8008
4 replicas 1 pg1 10.0.0.1 2 8 1 1 6 8 2 0 6 0 0 0 - 5432 - 0 0 - - 0
4 replicas 2 db 10.1.1.1 2 0 1 1 6 8 2 0 6 0 0 0 db.example.com 6432 - 0 0 - - 0
4 replicas 3 gone 10.0.0.7 2 0 1 1 6 8 2 0 6 0 0 0 - 5432 - 0 0 - - 0
9 oldbackend 1 x 10.0.0.8 2 0 1 1 6 8 2 0 6 0 0 0 - 5432 - 0 0 - - 0
`;
  const next = extractConfigServers(CONFIG.replace('pg2 10.0.0.2:5432', 'pg2 10.0.0.22:5432').replace('pg1 ipv4@10.0.0.1:5432', 'pg1 ipv4@10.0.0.1:5433'));
  const f = filterServersState(dump, next);
  assert.deepEqual(f.kept.map((s) => `${s.backend}/${s.server}`), ['primary/pg1', 'primary/pg3', 'replicas/db']);
  assert.deepEqual(f.dropped, [
    { ref: 'primary/pg2', reason: 'address 10.0.0.2 → 10.0.0.22' },
    { ref: 'replicas/pg1', reason: 'port 5432 → 5433' },
    { ref: 'replicas/gone', reason: 'not in the new config' },
    { ref: 'oldbackend/x', reason: 'not in the new config' },
  ]);
  const lines = f.text.split('\n');
  assert.equal(lines[0], '1');
  assert.equal(lines[1], HEADER);
  assert.equal(lines[2], '3 primary 1 pg1 10.0.0.1 2 8 1 1 0 8 2 0 14 0 0 0 - 5432 - 0 8008 - - 8008');
  assert.equal(parseServersState(f.text).servers.length, 3);
  // Nothing to keep: still a valid file.
  assert.deepEqual(parseServersState(filterServersState(dump, []).text).servers, []);
});

test('server-state file: new or moved health-checked servers get a line that starts them DOWN; unchecked, agent-checked, named or unknown-backend ones do not', () => {
  const dump = `1\n${HEADER}\n3 primary 1 pg1 10.0.0.1 2 0 1 1 0 6 3 4 6 0 0 0 - 5432 - 0 8008 - - 8008\n3 primary 2 pg2 10.0.0.2 2 0 1 1 0 6 3 4 6 0 0 0 - 5432 - 0 8008 - - 8008\n`;
  const config = `defaults\n    default-server inter 3s weight 5\nlisten primary\n    default-server check\n    server pg1 10.0.0.1:5432 port 8008\n    server pg2 10.0.0.2:6543 port 8008\n    server pg3 10.0.0.3:5432 port 8008 weight 9 addr 10.9.9.9\n    server pg4 10.0.0.4:5432 no-check\n    server pg5 10.0.0.5:5432 agent-check agent-port 1\n    server pg6 db6.example:5432\n    server pg7 [2001:db8::7]:5432 ssl\nlisten other\n    server x 10.0.0.8:1 check\n`;
  const f = filterServersState(dump, extractConfigServers(config), effectiveServers(config));
  assert.deepEqual(f.kept.map((x) => x.server), ['pg1']);
  assert.deepEqual(f.startingDown, ['primary/pg2', 'primary/pg3', 'primary/pg7']);
  const added = parseServersState(f.text).servers.filter((x) => x.server !== 'pg1');
  assert.deepEqual(added.map((x) => [x.server, x.backendId, x.serverId, x.addr, x.port, x.opState, x.userWeight, x.checkPort]), [
    ['pg2', 3, 3, '10.0.0.2', 6543, 'down', 5, 8008],
    ['pg3', 3, 4, '10.0.0.3', 5432, 'down', 9, 8008],
    ['pg7', 3, 5, '2001:db8::7', 5432, 'down', 5, 0],
  ]);
  // Last column (srv_agent_port) is 0: the check port is not the agent's.
  assert.match(f.text, /pg3 10\.0\.0\.3 0 0 9 9 0 8 2 0 6 0 0 0 - 5432 - 0 8008 10\.9\.9\.9 - 0$/m);
  assert.match(f.text, /pg2 10\.0\.0\.2 .* 6543 - 0 8008 - - 0$/m);
  assert.match(f.text, /pg7 2001:db8::7 .* 5432 - 1 0 - - 0$/m);
});

// Real `show sess` lines (haproxy 2.6.12): two streams waiting to retry a refused connect (s1, s2),
// the CLI's own stream, and one queued with no server yet.
const SHOW_SESS = `0x55cbebb7bdb0: proto=tcpv4 src=127.0.0.1:47268 fe=x be=x srv=s1 ts=00 epoch=0 age=0s calls=2 rate=2 cpu=0 lat=0 rq[f=808000h,i=0,an=00h,rx=9s,wx=,ax=] rp[f=80000000h,i=0,an=00h,rx=,wx=,ax=] scf=[8,0h,fd=13] scb=[3,1h,fd=-1] exp=0s rc=1 c_exp=0s
0x55cbebc96740: proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none> ts=00 epoch=0 age=0s calls=1 rate=0 cpu=0 lat=0 rq[f=c08000h,i=0,an=00h,rx=,wx=,ax=] rp[f=80008002h,i=0,an=00h,rx=,wx=,ax=] scf=[8,200h,fd=15] scb=[8,1h,fd=-1] exp= rc=0 c_exp=
0x7f0654039b60: proto=tcpv4 src=127.0.0.1:47270 fe=x be=x srv=s2 ts=00 epoch=0 age=0s calls=2 rate=2 cpu=0 lat=0 rq[f=808000h,i=0,an=00h,rx=9s,wx=,ax=] rp[f=80000000h,i=0,an=00h,rx=,wx=,ax=] scf=[8,0h,fd=14] scb=[3,1h,fd=-1] exp=0s rc=1 c_exp=0s
0x560f8582d3b0: proto=tcpv4 src=127.0.0.1:57440 fe=demo_replicas be=demo_replicas srv=<none> ts=00 epoch=0xb age=2s calls=1 rate=1 cpu=0 lat=0 rq[f=808000h,i=0,an=00h,rx=29m58s,wx=,ax=] rp[f=80000000h,i=0,an=00h,rx=,wx=,ax=] scf=[8,0h,fd=217] scb=[2,1h,fd=-1] exp=2s rc=0 c_exp=2s
0x7f0654039c00: proto=tcpv4 src=127.0.0.1:47272 fe=x be=x srv=s1 ts=00 epoch=0 age=0s calls=2 rate=2 cpu=0 lat=0 rq[f=808000h,i=0,an=00h,rx=9s,wx=,ax=] rp[f=80000000h,i=0,an=00h,rx=,wx=,ax=] scf=[8,0h,fd=16] scb=[3,1h,fd=-1] exp=0s rc=1 c_exp=0s

`;

test('show sess: streams counted per backend/server; no server, the CLI and other lines skipped', () => {
  assert.deepEqual(Object.fromEntries(streamsByServer(SHOW_SESS)), { 'x/s1': 2, 'x/s2': 1 });
  assert.deepEqual(Object.fromEntries(streamsByServer('')), {});
  // A server named like a prefix of another is its own.
  assert.deepEqual(Object.fromEntries(streamsByServer(SHOW_SESS.replace(/srv=s2 /, 'srv=s10 '))), { 'x/s1': 2, 'x/s10': 1 });
  assert.deepEqual(Object.fromEntries(streamsByServer('Unknown command\nsrv=s1 be=x\n')), {});
});
