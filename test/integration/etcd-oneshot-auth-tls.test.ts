/**
 * The one-shot etcd reader against a real etcd with authentication enabled and against one serving
 * TLS with client certificates required: the same answers and the same error kinds and wording as
 * the etcd3-based backend.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { etcdctl, makeTestCerts, startEtcd, type EtcdInstance, type EtcdTlsFiles } from '../harness/etcd.js';
import { removeDir, tempDir } from '../harness/process.js';
import { createEtcdBackend, type EtcdBackendOptions } from '../../src/backends/etcd/etcd.js';
import { createEtcdOneShotBackend } from '../../src/backends/etcd/etcdOneShot.js';
import { BackendConfigError, BackendUnavailableError, type Backend } from '../../src/backends/backend.js';
import { silentLogger, type Logger } from '../../src/log/logger.js';
import { memoryLogger } from '../harness/memoryLogger.js';

const PASSWORD = 'Sup3r-s3cret-pw';

let plain: EtcdInstance;
let tlsEtcd: EtcdInstance;
let certDir: string;
let certs: EtcdTlsFiles & { otherCa: string };

before(async () => {
  certDir = tempDir('oneshot-certs');
  [plain, certs] = await Promise.all([startEtcd('oneshot-auth'), makeTestCerts(certDir)]);
  tlsEtcd = await startEtcd('oneshot-tls', { tls: certs });
  await plain.ctl(['put', '/auth/demo/leader', 'pg1']);
  await tlsEtcd.ctl(['put', '/tls/demo/leader', 'pg2']);
});

after(async () => {
  await Promise.all([plain?.stop(), tlsEtcd?.stop()]);
  if (certDir) removeDir(certDir);
});

type Opts = Partial<EtcdBackendOptions>;

/** Runs `fn` against the one-shot reader and against the etcd3 backend, with the same options. */
async function both<T>(opts: Opts, fn: (b: Backend, which: string) => Promise<T>, log: Logger = silentLogger()): Promise<T[]> {
  // A connect timeout far above what a fast failure takes, even on a loaded machine.
  const full = { nodes: [plain.clientUrl], connectTimeoutMs: 10_000, ...opts };
  const results: T[] = [];
  for (const [which, make] of [
    ['one-shot', () => createEtcdOneShotBackend(full, log)],
    ['etcd3', () => createEtcdBackend(full, log)],
  ] as const) {
    const b: Backend = await make();
    try {
      results.push(await fn(b, which));
    } finally {
      await b.close();
    }
  }
  return results;
}

/** The error a read ends in, and how long it took. */
async function readError(b: Backend, prefixes: readonly string[]): Promise<{ error: Error; ms: number }> {
  const t0 = Date.now();
  try {
    await b.read(prefixes);
  } catch (e) {
    return { error: e as Error, ms: Date.now() - t0 };
  }
  throw new Error('read succeeded');
}

test('credentials given while the server has auth disabled: read works, with a warning', async () => {
  const mem = memoryLogger();
  const [s] = await both({ auth: { username: 'root', password: PASSWORD } }, (b) => b.read(['/auth/demo']), mem.log);
  assert.equal(s!.pairs.get('/auth/demo/leader'), 'pg1');
  assert.match(mem.text(), /authentication is not enabled on the server/);
  assert.ok(!mem.text().includes(PASSWORD));
});

test('auth enabled: right password reads what etcd3 reads; wrong password, no credentials, no permission: same errors', async () => {
  await plain.ctl(['user', 'add', `root:${PASSWORD}`]);
  await plain.ctl(['user', 'add', 'alice:alicepw']);
  await plain.ctl(['auth', 'enable']);
  await etcdctl(plain.clientUrl, ['--user', `root:${PASSWORD}`, 'put', '/auth/demo/members/pg1', '{}']);

  const mem = memoryLogger();
  const [ours, theirs] = await both({ auth: { username: 'root', password: PASSWORD } }, (b) => b.read(['/auth/demo']), mem.log);
  assert.equal(ours!.pairs.get('/auth/demo/leader'), 'pg1');
  assert.equal(ours!.revision, theirs!.revision);
  assert.deepEqual(ours!.pairs, theirs!.pairs);

  const cases: [string, Opts, RegExp][] = [
    ['wrong password', { auth: { username: 'root', password: 'not-the-password' } }, /^etcd authentication failed for user "root" at http:\/\/127\.0\.0\.1:\d+: wrong username or password$/],
    ['no credentials', {}, /requires authentication: give -username and a password/],
    ['no permission', { auth: { username: 'alice', password: 'alicepw' } }, /permission denied for user "alice"/],
  ];
  for (const [what, opts, re] of cases) {
    const [a, b] = await both(opts, (be) => readError(be, ['/auth/demo']), mem.log);
    assert.ok(a!.error instanceof BackendConfigError, `${what}: ${String(a!.error)}`);
    assert.match(a!.error.message, re, what);
    assert.equal(a!.error.message, b!.error.message, `${what}: same wording as the etcd3 backend`);
    assert.ok(a!.ms < 6000, `${what} took ${a!.ms} ms: not retried until the 10 s timeout`);
    assert.ok(!a!.error.message.includes('not-the-password'));
  }
  assert.ok(!mem.text().includes(PASSWORD) && !mem.text().includes('not-the-password'), 'a password appears in a log line');
});

test('TLS with client certificates: https:// and scheme-less nodes read what etcd3 reads', async () => {
  const tls = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };
  for (const node of [tlsEtcd.clientUrl, tlsEtcd.clientUrl.replace('https://', ''), tlsEtcd.clientUrl.replace('127.0.0.1', 'localhost')]) {
    const [ours, theirs] = await both({ nodes: [node], tls }, (b) => b.read(['/tls/demo']));
    assert.equal(ours!.pairs.get('/tls/demo/leader'), 'pg2', node);
    assert.equal(ours!.revision, theirs!.revision);
    assert.deepEqual(ours!.pairs, theirs!.pairs);
  }
});

test('TLS failures are BackendConfigErrors at once: wrong CA, no client certificate, https against plain http', async () => {
  const cases: [string, Opts, RegExp][] = [
    ['wrong CA', { nodes: [tlsEtcd.clientUrl], tls: { ca: certs.otherCa, cert: certs.clientCert, key: certs.clientKey } }, /TLS connection to etcd at https:\/\/127\.0\.0\.1:\d+ failed: .*(verify|certificate)/],
    ['no client certificate', { nodes: [tlsEtcd.clientUrl], tls: { ca: certs.ca } }, /TLS connection .* failed: .*(certificate|handshake)/],
    ['https against http', { nodes: [plain.clientUrl.replace('http://', 'https://')], tls: { ca: certs.ca } }, /TLS connection .* failed/],
  ];
  for (const [what, opts, re] of cases) {
    const b = await createEtcdOneShotBackend({ nodes: [plain.clientUrl], connectTimeoutMs: 10_000, ...opts }, silentLogger());
    try {
      const { error, ms } = await readError(b, ['/tls/demo']);
      assert.ok(error instanceof BackendConfigError, `${what}: ${String(error)}`);
      assert.match(error.message, re, what);
      assert.ok(ms < 6000, `${what} took ${ms} ms: not retried until the 10 s timeout`);
    } finally {
      await b.close();
    }
  }
});

test('http:// against an etcd serving https: an outage naming the likely cause, within the timeout', async () => {
  const url = tlsEtcd.clientUrl.replace('https://', 'http://');
  const b = await createEtcdOneShotBackend({ nodes: [url], connectTimeoutMs: 3000 }, silentLogger());
  try {
    const { error, ms } = await readError(b, ['/tls/demo']);
    assert.ok(error instanceof BackendUnavailableError, String(error));
    assert.ok(error.message.includes(url), error.message);
    assert.match(error.message, /https endpoint given as http:\/\//);
    assert.ok(ms < 7000, `took ${ms} ms (timeout 3000 ms)`);
  } finally {
    await b.close();
  }
});

test('bad settings are rejected when the one-shot reader is created, as with etcd3', async () => {
  const bad: [string, Opts, RegExp][] = [
    ['missing CA file', { nodes: [tlsEtcd.clientUrl], tls: { ca: `${certDir}/missing.pem` } }, /-client-ca-keys.*missing\.pem/],
    ['cert without key', { nodes: [tlsEtcd.clientUrl], tls: { cert: certs.clientCert } }, /together/],
    ['TLS with http://', { nodes: [plain.clientUrl], tls: { ca: certs.ca } }, /http:\/\//],
    ['bad node', { nodes: ['ftp://x'] }, /unsupported scheme/],
    ['empty user', { auth: { username: '', password: 'x' } }, /needs -username/],
  ];
  for (const [what, opts, re] of bad) {
    await assert.rejects(
      createEtcdOneShotBackend({ nodes: [plain.clientUrl], connectTimeoutMs: 1000, ...opts }, silentLogger()),
      (e: unknown) => e instanceof BackendConfigError && re.test(e.message),
      what,
    );
  }
});
