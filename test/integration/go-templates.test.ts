/**
 * Go templates (confd's) and Handlebars templates side by side, as users run them: the real CLI,
 * one `-onetime` pass with the file backend over a config dir holding both kinds.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../harness/cli.js';
import { removeDir, tempDir } from '../harness/process.js';

const DATA = `service:
  demo:
    leader: pg1
    members:
      pg1: '{"conn_url":"postgres://10.0.0.1:5432/postgres","api_url":"http://10.0.0.1:8008/patroni","state":"running","role":"master"}'
      pg2: '{"conn_url":"postgres://10.0.0.2:5432/postgres","api_url":"http://10.0.0.2:8008/patroni","state":"running","role":"replica"}'
`;

/** The shape of Patroni's extras/confd haproxy.tmpl backend section. */
const GO_TEMPLATE = `backend primary
{{range gets "/members/*"}}{{$data := json .Value}}{{$base := base .Key}}
    server {{$base}} {{index (split (index (split $data.conn_url "/") 2) "@") 0}} check port {{index (split (index (split $data.api_url "/") 2) ":") 1}}{{end}}
leader {{getv "/leader"}}
`;

const HBS_TEMPLATE = 'leader {{getv "/leader"}}\n{{#each (gets "/members/*")}}member {{key}}\n{{/each}}';

async function withConfdir(fn: (dir: string, run: () => ReturnType<typeof runCli>) => Promise<void>): Promise<void> {
  const dir = tempDir('gotmpl');
  try {
    const confdir = join(dir, 'etc');
    mkdirSync(join(confdir, 'conf.d'), { recursive: true });
    mkdirSync(join(confdir, 'templates'));
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'data.yaml'), DATA);
    const run = (): ReturnType<typeof runCli> =>
      runCli(['-onetime', '-backend', 'file', '-file', join(dir, 'data.yaml'), '-confdir', confdir, '-prefix', '/service/demo', '-log-format', 'json']);
    await fn(dir, run);
  } finally {
    removeDir(dir);
  }
}

function resource(dir: string, name: string, src: string, dest: string, extra = ''): void {
  writeFileSync(join(dir, 'etc', 'conf.d', name), `[template]\nsrc = "${src}"\ndest = "${join(dir, 'out', dest)}"\nkeys = ["/leader", "/members/"]\n${extra}`);
}

test('a .tmpl (Go) and a .hbs (Handlebars) resource render in one -onetime pass', () =>
  withConfdir(async (dir, run) => {
    writeFileSync(join(dir, 'etc', 'templates', 'haproxy.tmpl'), GO_TEMPLATE);
    writeFileSync(join(dir, 'etc', 'templates', 'members.hbs'), HBS_TEMPLATE);
    resource(dir, 'haproxy.toml', 'haproxy.tmpl', 'haproxy.cfg');
    resource(dir, 'members.toml', 'members.hbs', 'members.txt');
    const r = await run();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      readFileSync(join(dir, 'out', 'haproxy.cfg'), 'utf8'),
      'backend primary\n\n    server pg1 10.0.0.1:5432 check port 8008\n    server pg2 10.0.0.2:5432 check port 8008\nleader pg1\n',
    );
    assert.equal(readFileSync(join(dir, 'out', 'members.txt'), 'utf8'), 'leader pg1\nmember /members/pg1\nmember /members/pg2\n');
  }));

test('[template] engine overrides the extension both ways', () =>
  withConfdir(async (dir, run) => {
    writeFileSync(join(dir, 'etc', 'templates', 'go.conf'), '{{range $i, $m := ls "/members"}}{{$i}}:{{$m}} {{end}}');
    writeFileSync(join(dir, 'etc', 'templates', 'hb.tmpl'), '{{#each (ls "/members")}}{{this}};{{/each}}');
    resource(dir, 'go.toml', 'go.conf', 'go.out', 'engine = "go"\n');
    resource(dir, 'hb.toml', 'hb.tmpl', 'hb.out', 'engine = "handlebars"\n');
    const r = await run();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(dir, 'out', 'go.out'), 'utf8'), '0:pg1 1:pg2 ');
    assert.equal(readFileSync(join(dir, 'out', 'hb.out'), 'utf8'), 'pg1;pg2;');
  }));

test('a failing Go template fails that resource only: its destination stays byte-identical, the other renders', () =>
  withConfdir(async (dir, run) => {
    const keep = 'previous content\n';
    writeFileSync(join(dir, 'out', 'bad.cfg'), keep);
    writeFileSync(join(dir, 'etc', 'templates', 'bad.tmpl'), 'ok\n{{getv "/nope"}}\n');
    writeFileSync(join(dir, 'etc', 'templates', 'unknown.tmpl'), 'x\n{{nope 1}}\n');
    writeFileSync(join(dir, 'etc', 'templates', 'members.hbs'), HBS_TEMPLATE);
    resource(dir, 'bad.toml', 'bad.tmpl', 'bad.cfg');
    resource(dir, 'unknown.toml', 'unknown.tmpl', 'unknown.cfg');
    resource(dir, 'members.toml', 'members.hbs', 'members.txt');
    const r = await run();
    assert.equal(r.code, 1);
    assert.equal(readFileSync(join(dir, 'out', 'bad.cfg'), 'utf8'), keep);
    assert.equal(readFileSync(join(dir, 'out', 'members.txt'), 'utf8'), 'leader pg1\nmember /members/pg1\nmember /members/pg2\n');
    assert.deepEqual(readdirSync(join(dir, 'out')).sort(), ['bad.cfg', 'members.txt'], 'nothing staged left behind, nothing written for the unknown function');
    assert.match(r.stderr, /template: bad\.tmpl:2:2: executing \\"bad\.tmpl\\" at <getv \\"\/nope\\">: error calling getv: key does not exist: \/nope/);
    assert.match(r.stderr, /template: unknown\.tmpl:2: function \\"nope\\" not defined/);
  }));

test('max_output: a render past the resource\'s limit is refused, the destination kept (both engines)', () =>
  withConfdir(async (dir, run) => {
    writeFileSync(join(dir, 'out', 'big.cfg'), 'old\n');
    writeFileSync(join(dir, 'out', 'big.txt'), 'old\n');
    writeFileSync(join(dir, 'etc', 'templates', 'big.tmpl'), '{{range seq 1 1000}}0123456789{{end}}');
    writeFileSync(join(dir, 'etc', 'templates', 'big.hbs'), '{{#each (seq 1 1000)}}0123456789{{/each}}');
    resource(dir, 'big.toml', 'big.tmpl', 'big.cfg', 'max_output = "5KB"\n');
    resource(dir, 'bighb.toml', 'big.hbs', 'big.txt', 'max_output = 5000\n');
    writeFileSync(join(dir, 'etc', 'templates', 'small.tmpl'), '{{range seq 1 3}}{{.}}{{end}}');
    resource(dir, 'small.toml', 'small.tmpl', 'small.cfg', 'max_output = "5KB"\n');
    const r = await run();
    assert.equal(r.code, 1);
    assert.equal(readFileSync(join(dir, 'out', 'big.cfg'), 'utf8'), 'old\n');
    assert.equal(readFileSync(join(dir, 'out', 'big.txt'), 'utf8'), 'old\n');
    assert.equal(readFileSync(join(dir, 'out', 'small.cfg'), 'utf8'), '123');
    assert.match(r.stderr, /output exceeds the limit of 5000 bytes/);
    assert.match(r.stderr, /exceeds max_output \(5000 bytes\)/);
  }));
