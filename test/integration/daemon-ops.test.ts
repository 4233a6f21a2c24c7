/**
 * Operating the daemon, against real etcd: /healthz /readyz /metrics over real HTTP, SIGHUP with a
 * broken and a good configuration, SIGTERM finishing the pass in flight, Patroni's own invocation,
 * credentials (never logged) and TLS failures.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { runCli } from '../harness/cli.js';
import { makeTestCerts, startEtcd, type EtcdInstance } from '../harness/etcd.js';
import { freePort, removeDir, tempDir, waitFor } from '../harness/process.js';
import { etcdClient, httpGet, makeWorkspace, memberLines, metric, startDaemon, waitExit, type Daemon, type Workspace } from './daemon-fixture.js';

let etcd: EtcdInstance;
let client: Etcd3;

before(async () => {
  etcd = await startEtcd('daemon-ops');
  client = etcdClient(etcd.clientUrl);
});

after(async () => {
  client?.close();
  await etcd?.stop();
});

async function finish(d: Daemon | undefined, ws: Workspace, failed: boolean): Promise<void> {
  if (failed && d) console.error(`--- haconfd log ---\n${d.text().slice(-5000)}`);
  await d?.stop();
  ws.cleanup();
}

describe('operating haconfd', () => {
  test('/healthz, /readyz and /metrics over HTTP', async () => {
    const ws = makeWorkspace('http');
    let d: Daemon | undefined;
    let failed = true;
    try {
      await client.put('/o1/demo/members/pg1').value('a');
      const port = await freePort();
      ws.writeResource('m.toml', { dest: ws.path('m.conf'), prefix: '/o1/demo' });
      ws.writeResource('bad-check.toml', { dest: ws.path('c.conf'), prefix: '/o1/demo', checkCmd: 'echo nope >&2; exit 1' });
      d = startDaemon(ws, ['-watch', '-backend', 'etcdv3', '-node', etcd.clientUrl, '-listen', `127.0.0.1:${port}`]);
      await waitFor('rendered', () => ws.read('m.conf') === memberLines({ pg1: 'a' }));
      assert.deepEqual(JSON.parse((await httpGet(port, '/healthz')).body), { status: 'ok' });
      // The resource whose check fails keeps the daemon not ready, and says why.
      const notReady = await waitFor('check failure reported', async () => {
        const r = await httpGet(port, '/readyz');
        return r.status === 503 && /bad-check\.toml.*check failed/.test(r.body) ? r : undefined;
      });
      assert.match(notReady.body, /nope/, 'the checker\'s stderr is quoted');
      assert.equal(ws.read('c.conf'), undefined, 'a failed check writes nothing');
      const m = await httpGet(port, '/metrics');
      assert.equal(m.status, 200);
      for (const name of [
        'haconfd_renders_total', 'haconfd_render_errors_total', 'haconfd_check_failures_total', 'haconfd_reload_failures_total',
        'haconfd_last_success_timestamp_seconds', 'haconfd_watch_reconnects_total', 'haconfd_backend_read_duration_seconds',
        'haconfd_backend_revision', 'haconfd_backend_up', 'haconfd_resource_failing',
      ]) {
        assert.match(m.body, new RegExp(`^# TYPE ${name} `, 'm'), `metric ${name}`);
      }
      assert.ok(((await metric(port, 'haconfd_check_failures_total', { resource: 'bad-check.toml' })) ?? 0) >= 1);
      assert.ok(((await metric(port, 'haconfd_last_success_timestamp_seconds', { resource: 'm.toml' })) ?? 0) > Date.now() / 1000 - 60);
      assert.ok(((await metric(port, 'haconfd_backend_read_duration_seconds_count')) ?? 0) >= 1);
      const put = await client.put('/o1/demo/members/pg2').value('b');
      await waitFor('revision follows the watch', async () => (await metric(port, 'haconfd_backend_revision')) === Number(put.header.revision));
      // Fix the resource: ready.
      ws.writeResource('bad-check.toml', { dest: ws.path('c.conf'), prefix: '/o1/demo', checkCmd: 'true' });
      await waitFor('ready', async () => (await httpGet(port, '/readyz')).status === 200);
      assert.equal((await httpGet(port, '/nope')).status, 404);
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`, { method: 'POST' })).status, 405);
      failed = false;
    } finally {
      await finish(d, ws, failed);
    }
  });

  test('SIGHUP: a broken config file or resource keeps the running one; a good one is applied', async () => {
    const ws = makeWorkspace('hup');
    let d: Daemon | undefined;
    let failed = true;
    try {
      await client.put('/o2/a/members/pg1').value('a');
      await client.put('/o2/b/members/pgb').value('b');
      const cfg = join(ws.dir, 'haconfd.toml');
      writeFileSync(cfg, 'prefix = "/o2/a"\n');
      ws.writeResource('m.toml', { dest: ws.path('m.conf') });
      d = startDaemon(ws, ['-watch', '-config-file', cfg, '-backend', 'etcdv3', '-node', etcd.clientUrl]);
      await waitFor('rendered', () => ws.read('m.conf') === memberLines({ pg1: 'a' }));

      // Broken config file: rejected, the old one keeps working.
      writeFileSync(cfg, 'prefix = "/o2/b\n');
      d.proc.kill('SIGHUP');
      await d.waitLog('rejection', (l) => /SIGHUP: new configuration rejected/.test(String(l.msg)));
      await client.put('/o2/a/members/pg2').value('a2');
      await waitFor('still watching /o2/a', () => ws.read('m.conf') === memberLines({ pg1: 'a', pg2: 'a2' }));

      // Broken resource file: reported, the previous version of that resource keeps working.
      ws.writeResource('m.toml', '[template]\nsrc = "members.hbs"\ndest = 42\nchek_cmd = "x"\n');
      d.proc.kill('SIGHUP');
      await d.waitLog('resource error', (l) => String(l['file'] ?? '').endsWith('m.toml') && (l.level ?? 0) >= 50);
      await client.put('/o2/a/members/pg3').value('a3');
      await waitFor('old resource still renders', () => ws.read('m.conf') === memberLines({ pg1: 'a', pg2: 'a2', pg3: 'a3' }));

      // Good config: applied (new prefix, new watch).
      ws.writeResource('m.toml', { dest: ws.path('m.conf') });
      writeFileSync(cfg, 'prefix = "/o2/b"\n');
      d.proc.kill('SIGHUP');
      await waitFor('new prefix applied', () => ws.read('m.conf') === memberLines({ pgb: 'b' }), 60_000);
      await client.put('/o2/b/members/pgc').value('c');
      await waitFor('watching the new prefix', () => ws.read('m.conf') === memberLines({ pgb: 'b', pgc: 'c' }));
      failed = false;
    } finally {
      await finish(d, ws, failed);
    }
  });

  test('SIGTERM finishes the pass in flight and exits 0', async () => {
    const ws = makeWorkspace('term');
    let d: Daemon | undefined;
    let failed = true;
    try {
      const marks = ws.path('marks');
      ws.writeResource('m.toml', { dest: ws.path('m.conf'), prefix: '/o3/demo', reloadCmd: `echo start >> ${marks}; sleep 0.8; echo done >> ${marks}` });
      d = startDaemon(ws, ['-watch', '-backend', 'etcdv3', '-node', etcd.clientUrl]);
      await client.put('/o3/demo/members/pg1').value('a');
      await waitFor('reload started', () => ws.lines('marks').includes('start'));
      d.proc.kill('SIGTERM');
      assert.equal(await waitExit(d, 60_000), 0);
      assert.deepEqual(ws.lines('marks'), ['start', 'done'], 'the reload in flight was allowed to finish');
      failed = false;
    } finally {
      await finish(d, ws, failed);
    }
  });

  test("Patroni's invocation unchanged apart from the binary name (-interval and -watch, a dead second node)", async () => {
    const ws = makeWorkspace('patroni-args');
    const daemons: Daemon[] = [];
    let failed = true;
    try {
      await client.put('/service/pinv/members/pg1').value('a');
      const dead = await freePort();
      ws.writeResource('m.toml', { dest: ws.path('m.conf') });
      const nodeArgs = ['-backend', 'etcdv3', '-node', etcd.clientUrl, '-node', `http://127.0.0.1:${dead}`];
      const a = startDaemon(ws, ['-prefix=/service/pinv', '-interval=10', ...nodeArgs]);
      daemons.push(a);
      await waitFor('interval mode renders', () => ws.read('m.conf') === memberLines({ pg1: 'a' }));
      assert.equal(await a.stop(), 0);
      const b = startDaemon(ws, ['-prefix=/service/pinv', '-watch', ...nodeArgs]);
      daemons.push(b);
      await b.waitLog('watch started', (l) => l.msg === 'haconfd started' && l['mode'] === 'watch');
      await client.put('/service/pinv/members/pg2').value('b');
      await waitFor('watch mode follows', () => ws.read('m.conf') === memberLines({ pg1: 'a', pg2: 'b' }));
      failed = false;
    } finally {
      if (failed) for (const d of daemons) console.error(d.text().slice(-3000));
      for (const d of daemons) await d.stop();
      ws.cleanup();
    }
  });
});

describe('credentials and TLS', () => {
  test('a password given by flag or environment never appears in a log line; a wrong one is a distinct error (exit 2)', async () => {
    const authEtcd = await startEtcd('daemon-auth');
    const ws = makeWorkspace('auth');
    const password = 'Pw-7f3e9c2a-secret';
    const wrong = 'Wrong-1b2c3d-secret';
    const daemons: Daemon[] = [];
    let failed = true;
    try {
      await authEtcd.ctl(['user', 'add', 'root', '--new-user-password', password]);
      await authEtcd.ctl(['user', 'grant-role', 'root', 'root']);
      await authEtcd.ctl(['auth', 'enable']);
      await authEtcd.ctl(['--user', `root:${password}`, 'put', '/auth/demo/members/pg1', 'a']);
      ws.writeResource('m.toml', { dest: ws.path('m.conf'), prefix: '/auth/demo' });
      const base = ['-watch', '-backend', 'etcdv3', '-node', authEtcd.clientUrl, '-log-level', 'debug'];

      const byFlag = startDaemon(ws, [...base, '-basic-auth', '-username', 'root', '-password', password]);
      daemons.push(byFlag);
      await waitFor('rendered with flag credentials', () => ws.read('m.conf') === memberLines({ pg1: 'a' }));
      await byFlag.stop();

      const byEnv = startDaemon(ws, [...base, '-basic-auth'], { HACONFD_USERNAME: 'root', HACONFD_PASSWORD: password });
      daemons.push(byEnv);
      await authEtcd.ctl(['--user', `root:${password}`, 'put', '/auth/demo/members/pg2', 'b']);
      await waitFor('rendered with env credentials', () => ws.read('m.conf') === memberLines({ pg1: 'a', pg2: 'b' }));
      await byEnv.stop();

      const bad = startDaemon(ws, [...base, '-basic-auth', '-username', 'root', '-password', wrong]);
      daemons.push(bad);
      assert.equal(await waitExit(bad, 60_000), 2, 'wrong credentials end the daemon with exit 2');
      assert.match(bad.text(), /auth|password|credential/i);

      const once = await runCli(['-onetime', '-confdir', ws.confdir, '-log-format', 'json', '-backend', 'etcdv3', '-node', authEtcd.clientUrl, '-basic-auth', '-log-level', 'debug'], {
        cwd: ws.dir,
        env: { HACONFD_USERNAME: 'root', HACONFD_PASSWORD: wrong },
      });
      assert.equal(once.code, 2, once.stderr);

      for (const d of daemons) {
        assert.ok(d.lines().length > 0);
        assert.ok(!d.text().includes(password), 'the password appeared in a log line');
        assert.ok(!d.text().includes(wrong), 'the wrong password appeared in a log line');
      }
      assert.ok(!once.stderr.includes(wrong) && !once.stdout.includes(wrong));
      failed = false;
    } finally {
      if (failed) for (const d of daemons) console.error(d.text().slice(-3000));
      for (const d of daemons) await d.stop();
      await authEtcd.stop();
      ws.cleanup();
    }
  });

  test('credentials rejected mid-run: loud, not ready, retried, and recovered once they work again', async () => {
    const authEtcd = await startEtcd('daemon-auth-mid');
    const ws = makeWorkspace('auth-mid');
    const password = 'Pw-mid-91c2-secret';
    const changed = 'Changed-77aa-secret';
    let d: Daemon | undefined;
    let failed = true;
    const ctl = (args: string[], pw: string): Promise<string> => authEtcd.ctl(['--user', `root:${pw}`, ...args]);
    const setPassword = async (from: string, to: string): Promise<void> => {
      const c = etcdClient(authEtcd.clientUrl, { username: 'root', password: from });
      try {
        await c.user('root').setPassword(to);
      } finally {
        c.close();
      }
    };
    try {
      await authEtcd.ctl(['user', 'add', 'root', '--new-user-password', password]);
      await authEtcd.ctl(['user', 'grant-role', 'root', 'root']);
      await authEtcd.ctl(['auth', 'enable']);
      await ctl(['put', '/authm/demo/members/pg1', 'a'], password);
      const port = await freePort();
      ws.writeResource('m.toml', { dest: ws.path('m.conf'), prefix: '/authm/demo' });
      d = startDaemon(ws, ['-watch', '-backend', 'etcdv3', '-node', authEtcd.clientUrl, '-listen', `127.0.0.1:${port}`, '-connect-timeout', '1500', '-log-level', 'debug'], {
        HACONFD_USERNAME: 'root',
        HACONFD_PASSWORD: password,
      });
      await waitFor('rendered', () => ws.read('m.conf') === memberLines({ pg1: 'a' }));
      await waitFor('ready', async () => (await httpGet(port, '/readyz')).status === 200);
      // The password changes under the running daemon; a restart forces it to authenticate again.
      await setPassword(password, changed);
      await authEtcd.halt();
      await authEtcd.restart();
      await d.waitLog('credentials error', (l) => (l.level ?? 0) >= 50 && l['kind'] === 'BackendConfigError', 60_000);
      await waitFor('not ready', async () => (await httpGet(port, '/readyz')).status === 503, 60_000);
      assert.equal(d.proc.exited(), false, 'a running daemon keeps going and retries');
      assert.equal(ws.read('m.conf'), memberLines({ pg1: 'a' }), 'last good file stays');
      // The operator puts the old password back: the daemon recovers by itself.
      await setPassword(changed, password);
      await ctl(['put', '/authm/demo/members/pg2', 'b'], password);
      await waitFor('recovered', () => ws.read('m.conf') === memberLines({ pg1: 'a', pg2: 'b' }), 60_000);
      await waitFor('ready again', async () => (await httpGet(port, '/readyz')).status === 200, 60_000);
      assert.ok(!d.text().includes(password) && !d.text().includes(changed), 'a password appeared in a log line');
      failed = false;
    } finally {
      if (failed && d) console.error(d.text().slice(-4000));
      await d?.stop();
      await authEtcd.stop();
      ws.cleanup();
    }
  });

  test('a TLS failure (server certificate from an unknown CA) is a distinct error: exit 2 at start-up', async () => {
    const certDir = tempDir('daemon-certs');
    const ws = makeWorkspace('tls');
    let tlsEtcd: EtcdInstance | undefined;
    let d: Daemon | undefined;
    let failed = true;
    try {
      const certs = await makeTestCerts(certDir);
      tlsEtcd = await startEtcd('daemon-tls', { tls: certs });
      await tlsEtcd.ctl(['put', '/tls/demo/members/pg1', 'a']);
      ws.writeResource('m.toml', { dest: ws.path('m.conf'), prefix: '/tls/demo' });
      const tlsArgs = ['-backend', 'etcdv3', '-node', tlsEtcd.clientUrl, '-client-cert', certs.clientCert, '-client-key', certs.clientKey];
      const ok = await runCli(['-onetime', '-confdir', ws.confdir, '-log-format', 'json', ...tlsArgs, '-client-ca-keys', certs.ca], { cwd: ws.dir });
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ws.read('m.conf'), memberLines({ pg1: 'a' }));
      d = startDaemon(ws, ['-watch', ...tlsArgs, '-client-ca-keys', certs.otherCa, '-connect-timeout', '1500']);
      assert.equal(await waitExit(d, 60_000), 2, 'a TLS failure ends the daemon with exit 2');
      assert.match(d.text(), /certificate|TLS|SSL/i);
      failed = false;
    } finally {
      if (failed && d) console.error(d.text().slice(-3000));
      await d?.stop();
      await tlsEtcd?.stop();
      ws.cleanup();
      removeDir(certDir);
    }
  });
});
