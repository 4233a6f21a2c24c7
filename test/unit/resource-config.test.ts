import test from 'node:test';
import assert from 'node:assert/strict';
import { effectivePrefix, parseMode, parseTemplateResource, ResourceConfigError } from '../../src/resource/templateResource.js';
import { parseDuration, parseWait } from '../../src/config/duration.js';

const ctx = { globalPrefix: '/service', templatesDir: '/etc/haconfd/templates', cwd: '/work' };
const parse = (body: string) => parseTemplateResource('/etc/haconfd/conf.d/x.toml', body, ctx);

test('a full resource parses; a global -prefix replaces the resource prefix (confd); paths resolved', () => {
  const r = parse(`[template]
src = "haproxy.cfg.hbs"
dest = "out/haproxy.cfg"
prefix = "/demo"
keys = ["/members", "/leader"]
mode = "0640"
owner = "root"
group = "root"
check_cmd = "haproxy -c -f {{.src}}"
reload_cmd = "systemctl reload haproxy"
check_timeout = "5s"
reload_timeout = 90
min_keys = 2
wait = "100ms:1s"
[template.vars]
write_port = 5000
[template.vars.nested]
a = "b"
`);
  assert.equal(r.src, '/etc/haconfd/templates/haproxy.cfg.hbs');
  assert.equal(r.dest, '/work/out/haproxy.cfg');
  assert.equal(r.prefix, '/service');
  assert.deepEqual(r.keys, ['/service/members', '/service/leader']);
  assert.equal(r.mode, 0o640);
  assert.equal(r.uid, 0);
  assert.equal(r.gid, 0);
  assert.equal(r.checkTimeoutMs, 5000);
  assert.equal(r.reloadTimeoutMs, 90_000);
  assert.equal(r.minKeys, 2);
  assert.deepEqual(r.wait, { minMs: 100, maxMs: 1000 });
  assert.deepEqual(r.vars, { write_port: 5000, nested: { a: 'b' } });
});

test('defaults: keys = the prefix, timeouts 30 s / 60 s', () => {
  const r = parse('[template]\nsrc = "a"\ndest = "/tmp/a"\n');
  assert.deepEqual(r.keys, ['/service']);
  assert.equal(r.checkTimeoutMs, 30_000);
  assert.equal(r.reloadTimeoutMs, 60_000);
  assert.equal(r.mode, undefined);
});

test('prefix as confd decides it: a non-empty global -prefix replaces the resource prefix', () => {
  // Measured with confd 0.17.0-dev, file backend: resource prefix "/res" read /res without -prefix,
  // /service/demo with -prefix /service/demo (and service/demo/), / with -prefix /.
  assert.equal(effectivePrefix(undefined, '/res'), '/res');
  assert.equal(effectivePrefix('', '/res'), '/res');
  assert.equal(effectivePrefix('/service/demo', '/res'), '/service/demo');
  assert.equal(effectivePrefix('service/demo/', '/res'), '/service/demo');
  assert.equal(effectivePrefix('/', '/res'), '/');
  assert.equal(effectivePrefix(undefined, 'res/'), '/res');
  assert.equal(effectivePrefix(undefined, undefined), '/');
  assert.equal(effectivePrefix('/g', undefined), '/g');
  const body = '[template]\nsrc = "a.tmpl"\ndest = "/tmp/a"\nprefix = "/service/batman"\nkeys = ["/members/", "/leader"]\n';
  const own = parseTemplateResource('/c/conf.d/pgbouncer.toml', body, { templatesDir: '/c/templates', cwd: '/' });
  assert.equal(own.prefix, '/service/batman');
  assert.deepEqual(own.keys, ['/service/batman/members', '/service/batman/leader']);
  const replaced = parseTemplateResource('/c/conf.d/pgbouncer.toml', body, { globalPrefix: '/service/demo', templatesDir: '/c/templates', cwd: '/' });
  assert.equal(replaced.prefix, '/service/demo');
  assert.deepEqual(replaced.keys, ['/service/demo/members', '/service/demo/leader']);
});

test('malformed TOML names the file and the line', () => {
  assert.throws(() => parse('[template]\nsrc = "a"\ndest = \n'), (e: unknown) => e instanceof ResourceConfigError && /x\.toml: invalid TOML: line 3/.test(e.message));
});

test('unknown or misspelled key rejects the resource naming the key and the nearest valid one', () => {
  assert.throws(() => parse('[template]\nsrc = "a"\ndest = "/b"\nchek_cmd = "true"\n'), /unknown key "chek_cmd" in \[template\] \(did you mean "check_cmd"\?\)/);
  assert.throws(() => parse('[template]\nsrc = "a"\ndest = "/b"\nzzzzzzzz = 1\n'), /unknown key "zzzzzzzz"/);
  assert.throws(() => parse('[templat]\nsrc = "a"\n'), /unknown table \[templat\]/);
});

test('mode is always octal; non-octal digits refused', () => {
  assert.equal(parseMode('644'), 0o644);
  assert.equal(parseMode('0644'), 0o644);
  assert.equal(parseMode('0o600'), 0o600);
  assert.equal(parseMode(755), 0o755);
  assert.throws(() => parse('[template]\nsrc = "a"\ndest = "/b"\nmode = "0698"\n'), /mode "0698" is not an octal file mode/);
  assert.throws(() => parseMode('rw-r--r--'), /not an octal/);
});

test('required keys and types', () => {
  assert.throws(() => parse('[template]\ndest = "/b"\n'), /src is required/);
  assert.throws(() => parse('[template]\nsrc = "a"\n'), /dest is required/);
  assert.throws(() => parse('[template]\nsrc = "a"\ndest = "/b"\nkeys = "x"\n'), /keys must be a list/);
  assert.throws(() => parse('[template]\nsrc = "a"\ndest = "/b"\nmin_keys = -1\n'), /min_keys/);
  assert.throws(() => parse('[template]\nsrc = "a"\ndest = "/b"\nuid = 0\nowner = "root"\n'), /uid or owner, not both/);
  assert.throws(() => parse('[template]\nsrc = "a"\ndest = "/b"\ncheck_timeout = "soon"\n'), /check_timeout: invalid duration/);
});

test('an owner or group this machine lacks is a warning, not a refusal (confd ignores both; Patroni\'s pgbouncer.toml has owner = "postgres")', () => {
  const r = parse('[template]\nsrc = "a"\ndest = "/b"\nowner = "no-such-user-xyz"\ngroup = "no-such-group-xyz"\n');
  assert.equal(r.uid, undefined);
  assert.equal(r.gid, undefined);
  assert.deepEqual(r.warnings, [
    'owner "no-such-user-xyz" does not exist on this machine: ignored, the file keeps its current owner (confd ignores owner altogether)',
    'group "no-such-group-xyz" does not exist on this machine: ignored, the file keeps its current group (confd ignores group altogether)',
  ]);
  assert.equal(parse('[template]\nsrc = "a"\ndest = "/b"\nowner = "root"\n').warnings, undefined);
  assert.throws(() => parse('[template]\nsrc = "a"\ndest = "/b"\nowner = ""\n'), /owner must be a name/);
});

test('durations and wait', () => {
  assert.equal(parseDuration('250ms', 'x'), 250);
  assert.equal(parseDuration('2m', 'x'), 120_000);
  assert.equal(parseDuration(1.5, 'x'), 1500);
  assert.deepEqual(parseWait('2s'), { minMs: 2000, maxMs: 8000 });
  assert.deepEqual(parseWait({ min: '1s', max: '3s' }), { minMs: 1000, maxMs: 3000 });
  assert.throws(() => parseWait('3s:1s'), /shorter than min/);
  assert.throws(() => parseWait('a:b:c'), /min:max/);
});

test('[template.haproxy]: validated reload strategy settings', () => {
  const base = '[template]\nsrc = "a"\ndest = "/etc/haproxy/haproxy.cfg"\n';
  const r = parse(`${base}[template.haproxy]\nreload = "master-socket"\nmaster_socket = "/run/m.sock"\nadmin_socket = "/run/a.sock"\nstate_file = "/var/lib/haproxy/state"\n`);
  assert.equal(r.haproxy?.reload, 'master-socket');
  assert.equal(r.haproxy?.stateFile, '/var/lib/haproxy/state');
  const c = parse(`${base}reload_cmd = "my-reload"\n[template.haproxy]\nreload = "command"\n`);
  assert.equal(c.haproxy?.command, 'my-reload');
  assert.equal(c.reloadCmd, undefined, 'the strategy runs the command, not the plain reload step');
  assert.throws(() => parse(`${base}[template.haproxy]\nreload = "master-socket"\n`), /needs master_socket/);
  assert.throws(() => parse(`${base}[template.haproxy]\nreload = "kill"\n`), /reload must be/);
  assert.throws(() => parse(`${base}[template.haproxy]\nreload = "systemd"\nstate_flie = "/x"\n`), /unknown key "state_flie" in \[template.haproxy\] \(did you mean "state_file"\?\)/);
  assert.throws(() => parse(`${base}reload_cmd = "x"\n[template.haproxy]\nreload = "systemd"\n`), /keep one/);
  assert.throws(() => parse(`${base}[template.haproxy]\nreload = "systemd"\nstate_file = "/x"\n`), /needs admin_socket/);
});
