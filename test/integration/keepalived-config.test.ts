/**
 * Generated keepalived files against the real programs: every generated config passes Debian's
 * `keepalived -t -e -f` (run inside a network namespace that has the named interfaces), the
 * script-security rule agrees with keepalived's, chk_haproxy.sh really probes a real HAProxy, and
 * the resource pipeline keeps the old file when the spec or the template is bad.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { runKeepalivedCommand } from '../../src/cli/keepalivedCommand.js';
import { registerKeepalivedHelpers } from '../../src/keepalived/helpers.js';
import { resolveChkSpec, resolveKeepalivedSpec } from '../../src/keepalived/resolveSpec.js';
import { shippedTemplatesDir } from '../../src/keepalived/renderFiles.js';
import { inspectScriptPath } from '../../src/keepalived/scriptPath.js';
import { silentLogger } from '../../src/log/logger.js';
import { ResourceError } from '../../src/resource/resourceError.js';
import { syncResource } from '../../src/resource/syncResource.js';
import { parseTemplateResource } from '../../src/resource/templateResource.js';
import { createTemplateEngine } from '../../src/template/engine.js';
import { HELPER_REGISTRATIONS } from '../../src/template/helperSet.js';
import { TemplateCache } from '../../src/template/templateCache.js';
import { createNetwork, type TestNetwork } from '../harness/netns.js';
import { freePorts, removeDir, requireBinary, startProcess, tempDir, waitFor } from '../harness/process.js';
import { captureIo } from '../harness/captureIo.js';

import { REPO } from '../harness/cli.js';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = captureIo();
  const code = await runKeepalivedCommand(args, c.io);
  return { code, out: c.out(), err: c.err() };
}

/** A namespace with eth0 and eth1, where keepalived -t can find the interfaces a config names. */
async function withNamespace(fn: (net: TestNetwork, ns: string) => Promise<void>): Promise<void> {
  const net = createNetwork('hc', ['a']);
  try {
    const ns = net.hosts['a']!.ns;
    net.exec(ns, 'ip', ['link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1p']);
    net.exec(ns, 'ip', ['link', 'set', 'eth1', 'up']);
    await fn(net, ns);
  } finally {
    await net.destroy();
  }
}

const SPECS: Record<string, string[]> = {
  'the issue example': ['--vip', '10.0.0.10/24', '--interface', 'eth0', '--peer', '10.0.0.2', '--priority', '101'],
  'backup, unicast, auth, router id': [
    '--vip', '10.0.0.10/24', '--interface', 'eth0', '--priority', '100', '--peer-priority', '101', '--peer', '10.0.0.1',
    '--unicast-src', '10.0.0.2', '--auth-pass', 'p4ss-wd', '--router-id', 'lb-2', '--virtual-router-id', '200',
  ],
  'nopreempt + weight 0 + preempt_delay-free BACKUP, multicast': ['--vip', '10.0.0.10/24', '--interface', 'eth0', '--priority', '150', '--peer-priority', '100', '--nopreempt'],
  'several VIPs with dev/label, track_interface, tcp probe': [
    '--vip', '10.0.0.10/24', '--vip', '10.0.1.10/24 dev eth1 label eth1:db', '--interface', 'eth0', '--priority', '101',
    '--track-interface', 'eth1', '--probe', 'tcp', '--check-port', '5000', '--check-port', '5001',
  ],
  'IPv6 VIP, master probe with restart': [
    '--vip', 'fd00:213::10/64', '--interface', 'eth0', '--priority', '101', '--weight', '-60', '--probe', 'master',
    '--master-socket', '127.0.0.1:9999', '--restart-cmd', 'systemctl restart haproxy', '--timeout', '12',
  ],
  'preempt_delay on BACKUP, advert_int 3, positive weight': [
    '--vip', '10.0.0.10/24', '--interface', 'eth0', '--priority', '90', '--peer-priority', '100', '--state', 'BACKUP',
    '--preempt-delay', '30', '--advert-int', '3', '--weight', '20',
  ],
};

test('every generated config passes keepalived -t -e -f (2.2.7) and every script bash -n', { timeout: 300_000 }, async () => {
  requireBinary('keepalived', 'keepalived');
  await withNamespace(async (net, ns) => {
    for (const [name, args] of Object.entries(SPECS)) {
      const dir = tempDir('kacfg');
      try {
        const r = await cli(['render', ...args, '-dest', dir]);
        assert.equal(r.code, 0, `${name}: ${r.err}`);
        const conf = join(dir, 'keepalived.conf');
        const check = net.tryExec(ns, 'keepalived', ['-t', '-e', '-f', conf]);
        assert.equal(check.code, 0, `${name}: keepalived -t exited ${check.code}: ${check.stderr}\n${readFileSync(conf, 'utf8')}`);
        const script = join(dir, 'chk_haproxy.sh');
        assert.equal(spawnSync('bash', ['-n', script]).status, 0, `${name}: bash -n`);
        assert.equal(statSync(script).mode & 0o777, 0o755);
      } finally {
        removeDir(dir);
      }
    }
    // Several instances (only reachable through [template.vars]) with a sync group and notify scripts.
    const dir = tempDir('kacfg');
    try {
      const notify = join(dir, 'notify.sh');
      writeFileSync(notify, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
      const engine = createTemplateEngine([...HELPER_REGISTRATIONS, registerKeepalivedHelpers]);
      const templates = new TemplateCache(engine);
      writeFileSync(join(dir, 'chk_haproxy.sh'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
      const resource = parseTemplateResource(
        join(dir, 'k.toml'),
        `[template]\nsrc = "keepalived.conf.hbs"\ndest = "${join(dir, 'keepalived.conf')}"\ncheck_cmd = "ip netns exec ${ns} keepalived -t -e -f {{.src}}"\n` +
          `[template.vars]\ninterface = "eth0"\npriority = 101\nchk_script = "${join(dir, 'chk_haproxy.sh')}"\nnotify = "${notify}"\nsync_group = "VG_PG"\n` +
          `[[template.vars.instances]]\nname = "VI_PRIMARY"\nvip = "10.0.0.10/24"\n[[template.vars.instances]]\nname = "VI_REPLICA"\ninterface = "eth1"\nvip = "10.0.1.10/24"\nnotify_master = "${notify}"\n`,
        { templatesDir: shippedTemplatesDir(), cwd: dir },
      );
      const res = await syncResource(resource, { revision: 1, pairs: new Map() }, templates, { noop: false, syncOnly: false, keepStageFile: false, log: silentLogger() });
      assert.equal(res.status, 'committed');
      const conf = readFileSync(join(dir, 'keepalived.conf'), 'utf8');
      assert.match(conf, /vrrp_sync_group VG_PG/);
      assert.match(conf, /sync_group_tracking_weight/, "weighted chk_haproxy is kept in a sync group");
      assert.match(conf, /notify_master "/);
    } finally {
      removeDir(dir);
    }
  });
});

test('script security: haconfd refuses the paths keepalived would refuse', { timeout: 150_000 }, async () => {
  requireBinary('keepalived', 'keepalived');
  await withNamespace(async (net, ns) => {
    const dir = tempDir('kasec');
    try {
      const open = join(dir, 'open');
      mkdirSync(open);
      chmodSync(open, 0o777);
      const owned = join(dir, 'owned');
      mkdirSync(owned, { mode: 0o755 });
      chownSync(owned, 65534, 65534);
      const safe = join(dir, 'safe');
      mkdirSync(safe, { mode: 0o755 });
      for (const [d, want] of [[open, /world-writable/], [owned, /owned by uid 65534/]] as const) {
        assert.match(inspectScriptPath(join(d, 'chk_haproxy.sh')).insecure ?? '', want);
        const r = await cli(['render', '--vip', '10.0.0.10/24', '--interface', 'eth0', '--priority', '101', '-dest', d]);
        assert.equal(r.code, 2, r.err);
        assert.match(r.err, /chk_script \(--script\): .* writable by non-root/);
        assert.deepEqual(readdirSync(d), [], 'nothing written');
        // keepalived itself agrees: render into the safe dir, then point the script at the bad one.
        const ok = await cli(['render', '--vip', '10.0.0.10/24', '--interface', 'eth0', '--priority', '101', '-dest', safe]);
        assert.equal(ok.code, 0, ok.err);
        const bad = join(d, 'chk_haproxy.sh');
        copyFileSync(join(safe, 'chk_haproxy.sh'), bad);
        chmodSync(bad, 0o755);
        const conf = readFileSync(join(safe, 'keepalived.conf'), 'utf8').replace(join(safe, 'chk_haproxy.sh'), bad);
        writeFileSync(join(safe, 'bad.conf'), conf);
        const check = net.tryExec(ns, 'keepalived', ['-t', '-e', '-f', join(safe, 'bad.conf')]);
        assert.notEqual(check.code, 0, `keepalived accepted ${bad}`);
        assert.match(check.stderr, /insecure/);
        const good = net.tryExec(ns, 'keepalived', ['-t', '-e', '-f', join(safe, 'keepalived.conf')]);
        assert.equal(good.code, 0, good.stderr);
      }
      assert.equal(inspectScriptPath(join(safe, 'chk_haproxy.sh')).insecure, undefined);
      assert.equal(inspectScriptPath('/tmp/does-not-exist/x.sh').insecure, undefined, '/tmp is sticky: keepalived accepts it');
    } finally {
      removeDir(dir);
    }
  });
});

function haproxyConfig(stats: number, listen: number): string {
  return `global\n    maxconn 50\ndefaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n` +
    `listen stats\n    bind 127.0.0.1:${stats}\n    stats enable\n    stats uri /\n` +
    `frontend web\n    bind 127.0.0.1:${listen}\n    http-request return status 200 content-type text/plain string ok\n`;
}

function runScript(path: string, env?: NodeJS.ProcessEnv): number {
  return spawnSync('bash', [path], { env: env ?? process.env, timeout: 20_000 }).status ?? -1;
}

async function renderScript(dir: string, args: string[]): Promise<string> {
  const r = await cli(['render', '--vip', '10.0.0.10/24', '--interface', 'eth0', '--priority', '101', ...args, '-dest', dir]);
  assert.equal(r.code, 0, r.err);
  return join(dir, 'chk_haproxy.sh');
}

test('chk_haproxy.sh probes a real HAProxy: http (curl and /dev/tcp), tcp ports, master CLI; one bounded restart', { timeout: 300_000 }, async () => {
  requireBinary('haproxy', 'haproxy');
  requireBinary('curl', 'curl');
  const dir = tempDir('kachk');
  const procs: { stop(): Promise<void> }[] = [];
  let daemonPidFile: string | undefined;
  try {
    const [stats, listen, master] = await freePorts(3) as [number, number, number];
    const cfg = join(dir, 'haproxy.cfg');
    writeFileSync(cfg, haproxyConfig(stats, listen));
    const dirs = ['http', 'tcp', 'master', 'nocurl', 'restart'].map((n) => {
      mkdirSync(join(dir, n), { mode: 0o755 });
      return join(dir, n);
    });
    const http = await renderScript(dirs[0]!, ['--stats-url', `http://127.0.0.1:${stats}/`]);
    const tcp = await renderScript(dirs[1]!, ['--probe', 'tcp', '--check-port', String(listen), '--check-port', String(stats)]);
    const mast = await renderScript(dirs[2]!, ['--probe', 'master', '--master-socket', `127.0.0.1:${master}`]);
    const nocurl = await renderScript(dirs[3]!, ['--stats-url', `http://127.0.0.1:${stats}/`]);
    // A PATH with everything the script needs except curl.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const tool of ['bash', 'timeout', 'grep', 'cat', 'date']) {
      const p = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
      execFileSync('ln', ['-s', p, join(bin, tool)]);
    }
    const noCurlEnv = { PATH: bin };

    for (const s of [http, tcp, mast]) assert.equal(runScript(s), 1, `${s} passes with no HAProxy running`);
    assert.equal(runScript(nocurl, noCurlEnv), 1);

    const hp = startProcess('haproxy', ['-W', '-db', '-S', `127.0.0.1:${master}`, '-f', cfg], { logFile: join(dir, 'haproxy.log') });
    procs.push(hp);
    await waitFor('haproxy stats', () => spawnSync('curl', ['-fsS', '-o', '/dev/null', `http://127.0.0.1:${stats}/`]).status === 0, 60_000, 100);
    assert.equal(runScript(http), 0, 'http probe');
    assert.equal(runScript(tcp), 0, 'tcp probe');
    await waitFor('master CLI probe', () => runScript(mast) === 0, 60_000, 200);
    assert.equal(runScript(nocurl, noCurlEnv), 0, 'http probe without curl (bash /dev/tcp)');
    await hp.stop();
    for (const s of [http, tcp, mast]) assert.equal(runScript(s), 1, `${s} still passes after HAProxy stopped`);

    // Restart: HAProxy is down; the script starts it once and passes; a second failure within the
    // interval does not restart again.
    daemonPidFile = join(dir, 'restart', 'haproxy.pid');
    const stamp = join(dir, 'restart', 'stamp');
    const restart = await renderScript(dirs[4]!, [
      '--stats-url', `http://127.0.0.1:${stats}/`, '--restart-cmd', `haproxy -D -p ${daemonPidFile} -f ${cfg}`, '--restart-timeout', '5',
      '--restart-interval', '60', '--timeout', '7',
    ]);
    writeFileSync(restart, readFileSync(restart, 'utf8').replaceAll('/run/chk_haproxy.restart', stamp));
    const t0 = Date.now();
    assert.equal(runScript(restart), 0, 'restarted HAProxy and passed');
    assert.ok(Date.now() - t0 < 7000, 'within the bound');
    assert.ok(existsSync(stamp));
    const pid = Number(readFileSync(daemonPidFile, 'utf8').trim());
    process.kill(pid, 'SIGKILL');
    await waitFor('restarted haproxy gone', () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 60_000, 50);
    assert.equal(runScript(restart), 1, 'no second restart within restart_interval');
    assert.equal(spawnSync('curl', ['-fsS', '-o', '/dev/null', `http://127.0.0.1:${stats}/`]).status === 0, false, 'HAProxy was not started again');
  } finally {
    for (const p of procs) await p.stop();
    if (daemonPidFile && existsSync(daemonPidFile)) {
      for (const pid of readFileSync(daemonPidFile, 'utf8').split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    removeDir(dir);
  }
});

test('pipeline: check_cmd keepalived -t keeps the old file on a broken template; a bad spec never reaches keepalived', { timeout: 300_000 }, async () => {
  requireBinary('keepalived', 'keepalived');
  await withNamespace(async (_net, ns) => {
    const dir = tempDir('kapipe');
    try {
      const tdir = join(dir, 'templates');
      mkdirSync(tdir);
      for (const t of ['keepalived.conf.hbs', 'chk_haproxy.sh.hbs']) copyFileSync(join(shippedTemplatesDir(), t), join(tdir, t));
      const engine = createTemplateEngine([...HELPER_REGISTRATIONS, registerKeepalivedHelpers]);
      const templates = new TemplateCache(engine);
      const opts = { noop: false, syncOnly: false, keepStageFile: false, log: silentLogger() };
      const ctx = { templatesDir: tdir, cwd: dir };
      // The shipped resources, with destinations and the check moved into the test's world.
      const shipped = (name: string): string =>
        readFileSync(join(REPO, 'examples', 'keepalived', 'conf.d', name), 'utf8')
          .replace('/etc/keepalived/keepalived.conf', join(dir, 'keepalived.conf'))
          .replaceAll('/etc/keepalived/chk_haproxy.sh', join(dir, 'chk_haproxy.sh'))
          .replace('check_cmd = "keepalived -t', `check_cmd = "ip netns exec ${ns} keepalived -t`);
      const chk = parseTemplateResource(join(dir, 'keepalived-chk.toml'), shipped('keepalived-chk.toml'), ctx);
      const kconf = parseTemplateResource(join(dir, 'keepalived.toml'), shipped('keepalived.toml'), ctx);
      assert.equal(chk.mode, 0o755);
      assert.equal((await syncResource(chk, { revision: 1, pairs: new Map() }, templates, opts)).status, 'committed');
      assert.equal(statSync(join(dir, 'chk_haproxy.sh')).mode & 0o777, 0o755);
      const etcd = (pairs: [string, string][]) => ({ revision: 2, pairs: new Map(pairs) });
      const first = await syncResource(kconf, etcd([['/haproxy/vip', '10.0.0.20/24']]), templates, opts);
      assert.equal(first.status, 'committed');
      const good = readFileSync(join(dir, 'keepalived.conf'), 'utf8');
      assert.match(good, /10\.0\.0\.20\/24/, 'the VIP from the store');

      // 1. A bad value in the store: refused while rendering, keepalived never runs, old file stays.
      await assert.rejects(
        syncResource(kconf, etcd([['/haproxy/vip', '10.0.0.20/24'], ['/haproxy/virtual_router_id', '256']]), templates, opts),
        (e: unknown) => e instanceof ResourceError && e.stage === 'render' && /virtual_router_id: must be 1–255/.test(e.message),
      );
      assert.equal(readFileSync(join(dir, 'keepalived.conf'), 'utf8'), good);

      // 2. A deliberately broken template (a misspelt keyword): keepalived -t fails, old file stays.
      const broken = readFileSync(join(tdir, 'keepalived.conf.hbs'), 'utf8').replace('    advert_int {{advertInt}}', '    advert_int {{advertInt}}\n    nopreemt');
      assert.notEqual(broken, readFileSync(join(tdir, 'keepalived.conf.hbs'), 'utf8'));
      writeFileSync(join(tdir, 'keepalived.conf.hbs'), broken);
      await assert.rejects(
        syncResource(kconf, etcd([['/haproxy/vip', '10.0.0.21/24']]), templates, opts),
        (e: unknown) => e instanceof ResourceError && e.stage === 'check' && /nopreemt/.test(e.message),
      );
      assert.equal(readFileSync(join(dir, 'keepalived.conf'), 'utf8'), good, 'the old keepalived.conf stays');
      assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.stage')), [], 'no stage file left behind');
    } finally {
      removeDir(dir);
    }
  });
});

test('the example keepalived resources (examples/keepalived/conf.d) parse and their vars are valid specs', () => {
  const ctx = { templatesDir: shippedTemplatesDir(), cwd: REPO };
  const k = parseTemplateResource('keepalived.toml', readFileSync(join(REPO, 'examples', 'keepalived', 'conf.d', 'keepalived.toml'), 'utf8'), ctx);
  const c = parseTemplateResource('keepalived-chk.toml', readFileSync(join(REPO, 'examples', 'keepalived', 'conf.d', 'keepalived-chk.toml'), 'utf8'), ctx);
  assert.equal(k.checkCmd, 'keepalived -t -e -f {{.src}}');
  assert.match(k.reloadCmd ?? '', /keepalived/);
  assert.equal(c.mode, 0o755);
  assert.deepEqual(resolveKeepalivedSpec(k.vars).errors, []);
  assert.deepEqual(resolveChkSpec(c.vars).errors, []);
  assert.ok(['keepalived-chk.toml', 'keepalived.toml'].sort()[0] === 'keepalived-chk.toml', 'the script resource runs first');
});
