/**
 * The etcd backend against a real etcd with authentication enabled, and against one serving TLS
 * with client certificates required (a throwaway CA made with openssl).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { etcdctl, makeTestCerts, startEtcd, type EtcdInstance, type EtcdTlsFiles } from '../harness/etcd.js';
import { removeDir, tempDir, waitFor } from '../harness/process.js';
import { WatchRecorder } from '../harness/etcdWatchRecorder.js';
import { runReadWatchClose } from '../harness/etcdExitProbe.js';
import { createEtcdBackend, type EtcdBackendOptions } from '../../src/backends/etcd/etcd.js';
import { BackendConfigError } from '../../src/backends/backend.js';
import { silentLogger, type Logger } from '../../src/log/logger.js';
import { memoryLogger } from '../harness/memoryLogger.js';

const PASSWORD = 'Sup3r-s3cret-pw';

let plain: EtcdInstance;
let tlsEtcd: EtcdInstance;
let certDir: string;
let certs: EtcdTlsFiles & { otherCa: string };

const root = (args: readonly string[]): Promise<string> => etcdctl(plain.clientUrl, ['--user', `root:${PASSWORD}`, ...args]);

before(async () => {
  certDir = tempDir('etcd-certs');
  [plain, certs] = await Promise.all([startEtcd('etcd-auth'), makeTestCerts(certDir)]);
  tlsEtcd = await startEtcd('etcd-tls', { tls: certs });
  await plain.ctl(['put', '/auth/demo/leader', 'pg1']);
  await tlsEtcd.ctl(['put', '/tls/demo/leader', 'pg2']);
});

after(async () => {
  await Promise.all([plain?.stop(), tlsEtcd?.stop()]);
  if (certDir) removeDir(certDir);
});

async function withBackend<T>(opts: Partial<EtcdBackendOptions>, fn: (b: Awaited<ReturnType<typeof createEtcdBackend>>) => Promise<T>, log: Logger = silentLogger()): Promise<T> {
  const b = await createEtcdBackend({ nodes: [plain.clientUrl], connectTimeoutMs: 4000, ...opts }, log);
  try {
    return await fn(b);
  } finally {
    await b.close();
  }
}

test('credentials given while the server has auth disabled: works, as with etcd\'s Go client', async () => {
  await withBackend({ auth: { username: 'root', password: PASSWORD } }, async (b) => {
    const s = await b.read(['/auth/demo']);
    assert.equal(s.pairs.get('/auth/demo/leader'), 'pg1');
  });
});

test('auth enabled: the right password reads and watches, across an etcd restart', async () => {
  await plain.ctl(['user', 'add', `root:${PASSWORD}`]);
  await plain.ctl(['user', 'add', 'alice:alicepw']);
  // A backend that started while auth was still off takes its credentials up again once it is on.
  const early = await createEtcdBackend({ nodes: [plain.clientUrl], connectTimeoutMs: 4000, auth: { username: 'root', password: PASSWORD } }, silentLogger());
  try {
    await early.read(['/auth/demo']);
    await plain.ctl(['auth', 'enable']);
    assert.equal((await early.read(['/auth/demo'])).pairs.get('/auth/demo/leader'), 'pg1');
  } finally {
    await early.close();
  }
  const mem = memoryLogger();
  await withBackend({ auth: { username: 'root', password: PASSWORD } }, async (b) => {
    const s = await b.read(['/auth/demo']);
    assert.equal(s.pairs.get('/auth/demo/leader'), 'pg1');
    const rec = new WatchRecorder();
    const w = b.watch(['/auth/demo'], s.revision, rec);
    try {
      await waitFor('connected', () => rec.count('connected') === 1);
      await root(['put', '/auth/demo/leader', 'pg3']);
      await waitFor('event', () => rec.events.length === 1);
      // A restart forgets every issued token: the watch must log in again to resume.
      await plain.halt(true);
      await plain.restart();
      await root(['put', '/auth/demo/leader', 'pg4']);
      await root(['put', '/auth/demo/members/pg4', '{}']);
      await waitFor('events after the restart', () => rec.events.length >= 3, 60_000).catch((e: Error) => {
        throw new Error(`${e.message}; events ${JSON.stringify(rec.lines())}; statuses ${JSON.stringify(rec.statuses.map((x) => [x.status, x.error?.message]))}; log: ${mem.text().slice(-3000)}`);
      });
      assert.deepEqual(rec.lines(), ['put /auth/demo/leader=pg3', 'put /auth/demo/leader=pg4', 'put /auth/demo/members/pg4={}']);
      const again = await b.read(['/auth/demo']);
      assert.equal(again.pairs.get('/auth/demo/leader'), 'pg4');
    } finally {
      await w.close();
    }
  }, mem.log);
  assert.ok(mem.text().length > 0, 'something was logged');
  assert.ok(!mem.text().includes(PASSWORD), 'the password appears in a log line');
});

test('close() with auth and with TLS: the process exits by itself', async () => {
  const withAuth = await runReadWatchClose({ nodes: [plain.clientUrl], auth: { username: 'root', password: PASSWORD }, connectTimeoutMs: 20_000 }, ['/auth/demo']);
  assert.equal(withAuth.code, 0, `auth: child did not exit by itself: ${withAuth.output}`);
  const withTls = await runReadWatchClose({ nodes: [tlsEtcd.clientUrl], tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey }, connectTimeoutMs: 20_000 }, ['/tls/demo']);
  assert.equal(withTls.code, 0, `TLS: child did not exit by itself: ${withTls.output}`);
});

test('wrong password: BackendConfigError at once, naming the user, never the password; the watch reports it without a retry storm', async () => {
  const mem = memoryLogger();
  // "At once": well under the 10 s connect timeout a retrying client would wait out (the rest of the
  // margin is for a loaded machine).
  await withBackend({ auth: { username: 'root', password: 'not-the-password' }, connectTimeoutMs: 10_000 }, async (b) => {
    const t0 = Date.now();
    await assert.rejects(b.read(['/auth/demo']), (e: unknown) => {
      assert.ok(e instanceof BackendConfigError, String(e));
      assert.match(e.message, /authentication failed for user "root"/);
      assert.match(e.message, new RegExp(plain.clientUrl.replace(/[.:/]/g, '\\$&')));
      assert.ok(!e.message.includes('not-the-password'));
      return true;
    });
    assert.ok(Date.now() - t0 < 6000, `took ${Date.now() - t0} ms (connect timeout 10 s)`);
    const rec = new WatchRecorder();
    const w = b.watch(['/auth/demo'], 1, rec);
    try {
      await waitFor('disconnected with the error', () => rec.count('disconnected') > 0);
      assert.ok(rec.statuses[0]!.error instanceof BackendConfigError);
      assert.match(rec.statuses[0]!.error!.message, /authentication failed for user "root"/);
      // The watch has tried again (and failed the same way) since: it would have reported it by now.
      const attempts = (): number => mem.lines.filter((l) => l.includes('etcd watch: attempt failed')).length;
      await waitFor('a second failed watch attempt', () => attempts() >= 2, 60_000, 20);
      assert.equal(rec.count('disconnected'), 1, 'the same error is reported once');
    } finally {
      await w.close();
    }
  }, mem.log);
  assert.ok(!mem.text().includes('not-the-password'), 'the password appears in a log line');
});

test('no credentials, or a user without permission: BackendConfigError saying so', async () => {
  await withBackend({}, async (b) => {
    await assert.rejects(b.read(['/auth/demo']), (e: unknown) => e instanceof BackendConfigError && /requires authentication/.test(e.message));
  });
  await withBackend({ auth: { username: 'alice', password: 'alicepw' } }, async (b) => {
    await assert.rejects(b.read(['/auth/demo']), (e: unknown) => e instanceof BackendConfigError && /permission denied for user "alice"/.test(e.message));
    // etcd refuses the watch with watch_id -1, not the id asked for: still reported at once.
    const rec = new WatchRecorder();
    const w = b.watch(['/auth/demo'], 1, rec);
    try {
      await waitFor('refused watch reported', () => rec.count('disconnected') > 0, 60_000);
      assert.ok(rec.statuses[0]!.error instanceof BackendConfigError);
      assert.match(rec.statuses[0]!.error!.message, /permission denied for user "alice"/);
    } finally {
      await w.close();
    }
  });
});

test('TLS with client certificates: https:// and scheme-less nodes read and watch', async () => {
  const tls = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };
  for (const node of [tlsEtcd.clientUrl, tlsEtcd.clientUrl.replace('https://', '')]) {
    await withBackend({ nodes: [node], tls }, async (b) => {
      const s = await b.read(['/tls/demo']);
      assert.equal(s.pairs.get('/tls/demo/leader'), 'pg2');
      const rec = new WatchRecorder();
      const w = b.watch(['/tls/demo'], s.revision, rec);
      try {
        await waitFor('connected', () => rec.count('connected') === 1);
        await tlsEtcd.ctl(['put', '/tls/demo/members/x', node]);
        await waitFor('event', () => rec.events.length === 1);
        assert.deepEqual(rec.lines(), [`put /tls/demo/members/x=${node}`]);
      } finally {
        await w.close();
      }
    });
  }
});

test('TLS failures are BackendConfigErrors: wrong CA, no client certificate, https against plain http', async () => {
  const cases: [string, Partial<EtcdBackendOptions>, RegExp][] = [
    ['wrong CA', { nodes: [tlsEtcd.clientUrl], tls: { ca: certs.otherCa, cert: certs.clientCert, key: certs.clientKey } }, /TLS connection to etcd at https:\/\/127\.0\.0\.1:\d+ failed: .*(verify|certificate)/],
    ['no client certificate', { nodes: [tlsEtcd.clientUrl], tls: { ca: certs.ca } }, /TLS connection .* failed: .*(certificate|handshake)/],
    ['https against http', { nodes: [plain.clientUrl.replace('http://', 'https://')], tls: { ca: certs.ca } }, /TLS connection .* failed/],
  ];
  for (const [what, opts, re] of cases) {
    await withBackend({ connectTimeoutMs: 10_000, ...opts }, async (b) => {
      const t0 = Date.now();
      await assert.rejects(b.read(['/tls/demo']), (e: unknown) => {
        assert.ok(e instanceof BackendConfigError, `${what}: ${String(e)}`);
        assert.match(e.message, re, what);
        return true;
      });
      assert.ok(Date.now() - t0 < 6000, `${what} took ${Date.now() - t0} ms (connect timeout 10 s: no waiting it out)`);
    });
  }
});

test('bad TLS settings are rejected when the backend is created', async () => {
  await assert.rejects(
    createEtcdBackend({ nodes: [tlsEtcd.clientUrl], tls: { ca: join(certDir, 'missing.pem') }, connectTimeoutMs: 1000 }, silentLogger()),
    (e: unknown) => e instanceof BackendConfigError && e.message.includes('-client-ca-keys') && e.message.includes('missing.pem'),
  );
  await assert.rejects(
    createEtcdBackend({ nodes: [tlsEtcd.clientUrl], tls: { cert: certs.clientCert }, connectTimeoutMs: 1000 }, silentLogger()),
    (e: unknown) => e instanceof BackendConfigError && /together/.test(e.message),
  );
  await assert.rejects(
    createEtcdBackend({ nodes: [plain.clientUrl], tls: { ca: certs.ca }, connectTimeoutMs: 1000 }, silentLogger()),
    (e: unknown) => e instanceof BackendConfigError && /http:\/\//.test(e.message),
  );
});
