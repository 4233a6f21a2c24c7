/**
 * Private etcd instances (Debian's etcd-server) on free loopback ports in temp dirs, stopped by PID:
 * a single member (startEtcd), optionally with TLS (client certificates required), and a cluster of
 * members on loopback (startEtcdCluster). makeTestCerts() makes a throwaway CA with openssl.
 */
import { execFile } from 'node:child_process';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts, removeDir, requireBinary, retryOnAddressInUse, startProcess, tempDir, waitFor, WaitAborted, type RunningProcess } from './process.js';

/** PEM file paths. */
export interface EtcdTlsFiles {
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

export interface EtcdOptions {
  /** Serve clients on https, require client certificates signed by `tls.ca`. */
  tls?: EtcdTlsFiles;
}

export interface EtcdInstance {
  readonly clientUrl: string; // http://127.0.0.1:PORT (https:// with tls)
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  readonly process: RunningProcess;
  readonly name: string;
  /** Runs etcdctl (v3) against this instance; returns stdout. */
  ctl(args: readonly string[]): Promise<string>;
  stop(): Promise<void>;
  /** Stops (SIGKILL when `hard`) and keeps the data dir, for restart(). */
  halt(hard?: boolean): Promise<void>;
  /** Starts again on the same ports and data dir. */
  restart(): Promise<void>;
}

interface MemberSpec {
  name: string;
  dir: string;
  clientPort: number;
  peerPort: number;
  initialCluster: string;
  tls?: EtcdTlsFiles;
  /** Wait for /health (needs a leader) before launch() resolves. */
  waitHealthy: boolean;
}

function clientUrlOf(spec: { clientPort: number; tls?: EtcdTlsFiles }): string {
  return `${spec.tls ? 'https' : 'http'}://127.0.0.1:${spec.clientPort}`;
}

async function healthy(url: string, tls: EtcdTlsFiles | undefined): Promise<boolean> {
  if (!tls) {
    const r = await fetch(`${url}/health`).catch(() => undefined);
    return r !== undefined && r.ok;
  }
  return new Promise((resolve) => {
    const req = request(
      `${url}/health`,
      { ca: readFileSync(tls.ca), cert: readFileSync(tls.clientCert), key: readFileSync(tls.clientKey), timeout: 1000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function memberArgs(spec: MemberSpec): string[] {
  const clientUrl = clientUrlOf(spec);
  const peerUrl = `http://127.0.0.1:${spec.peerPort}`;
  const args = [
    '--name', spec.name,
    '--data-dir', join(spec.dir, 'data'),
    '--listen-client-urls', clientUrl,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', spec.initialCluster,
    '--initial-cluster-state', 'new',
    '--logger', 'zap',
    '--log-outputs', 'stderr',
  ];
  if (spec.tls) {
    args.push(
      '--cert-file', spec.tls.serverCert,
      '--key-file', spec.tls.serverKey,
      '--trusted-ca-file', spec.tls.ca,
      '--client-cert-auth',
    );
  }
  return args;
}

function makeMember(spec: MemberSpec, etcdBin: string): { inst: EtcdInstance; launch: (waitHealthy: boolean) => Promise<void> } {
  const clientUrl = clientUrlOf(spec);
  const logFile = join(spec.dir, `${spec.name}.log`);
  let proc: RunningProcess | undefined;

  async function launch(waitHealthy: boolean): Promise<void> {
    const p = startProcess(etcdBin, memberArgs(spec), { logFile, env: { ...process.env, ETCD_UNSUPPORTED_ARCH: '' } });
    proc = p;
    if (!waitHealthy) return;
    await waitFor(`etcd ${spec.name} on ${clientUrl} (log: ${logFile})`, async () => {
      if (p.exited()) throw new WaitAborted(`etcd exited: ${p.log().slice(-2000)}`);
      return healthy(clientUrl, spec.tls);
    }, 60_000);
  }

  const inst: EtcdInstance = {
    name: spec.name,
    clientUrl,
    clientPort: spec.clientPort,
    peerPort: spec.peerPort,
    dataDir: spec.dir,
    get process() {
      if (!proc) throw new Error(`etcd ${spec.name} not started`);
      return proc;
    },
    ctl: (ctlArgs) => etcdctl(clientUrl, [...tlsCtlArgs(spec.tls), ...ctlArgs]),
    stop: async () => {
      await proc?.stop();
      removeDir(spec.dir);
    },
    halt: async (hard = false) => {
      if (hard) proc?.kill('SIGKILL');
      await proc?.stop();
    },
    restart: async () => {
      await launch(spec.waitHealthy);
    },
  };
  return { inst, launch };
}

function tlsCtlArgs(tls: EtcdTlsFiles | undefined): string[] {
  return tls ? ['--cacert', tls.ca, '--cert', tls.clientCert, '--key', tls.clientKey] : [];
}

/** One etcd member; started again on new ports when one was taken by a program outside the harness. */
export async function startEtcd(name = 'etcd', opts: EtcdOptions = {}): Promise<EtcdInstance> {
  const etcd = requireBinary('etcd', 'etcd-server');
  requireBinary('etcdctl', 'etcd-client');
  return retryOnAddressInUse(`etcd ${name}`, () => startEtcdOnce(etcd, name, opts));
}

async function startEtcdOnce(etcd: string, name: string, opts: EtcdOptions): Promise<EtcdInstance> {
  const dir = tempDir(name);
  const [clientPort, peerPort] = (await freePorts(2)) as [number, number];
  const spec: MemberSpec = {
    name,
    dir,
    clientPort,
    peerPort,
    initialCluster: `${name}=http://127.0.0.1:${peerPort}`,
    waitHealthy: true,
    ...(opts.tls ? { tls: opts.tls } : {}),
  };
  const { inst, launch } = makeMember(spec, etcd);
  try {
    await launch(true);
  } catch (e) {
    await inst.stop();
    throw e;
  }
  return inst;
}

export interface EtcdCluster {
  readonly members: readonly EtcdInstance[];
  /** Client URLs of every member. */
  readonly endpoints: readonly string[];
  /** etcdctl against every member's endpoint. */
  ctl(args: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

/**
 * `size` members on loopback, one temp dir each; resolves once every member reports healthy.
 * Started again on new ports when one was taken by a program outside the harness.
 */
export async function startEtcdCluster(size = 3, name = 'etcdc'): Promise<EtcdCluster> {
  const etcd = requireBinary('etcd', 'etcd-server');
  requireBinary('etcdctl', 'etcd-client');
  return retryOnAddressInUse(`etcd cluster ${name}`, () => startEtcdClusterOnce(etcd, size, name));
}

async function startEtcdClusterOnce(etcd: string, size: number, name: string): Promise<EtcdCluster> {
  const ports = await freePorts(size * 2);
  const specs: MemberSpec[] = Array.from({ length: size }, (_, i) => ({
    name: `${name}${i}`,
    dir: tempDir(`${name}${i}`),
    clientPort: ports[2 * i] as number,
    peerPort: ports[2 * i + 1] as number,
    initialCluster: '',
    waitHealthy: false,
  }));
  const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peerPort}`).join(',');
  for (const s of specs) s.initialCluster = initialCluster;
  const built = specs.map((s) => makeMember(s, etcd));
  const members = built.map((b) => b.inst);
  const endpoints = members.map((m) => m.clientUrl);
  const cluster: EtcdCluster = {
    members,
    endpoints,
    ctl: (args) => etcdctl(endpoints.join(','), args),
    stop: async () => {
      await Promise.all(members.map((m) => m.stop()));
    },
  };
  try {
    await Promise.all(built.map((b) => b.launch(false)));
    await Promise.all(
      members.map((m, i) =>
        waitFor(`etcd cluster member ${m.name} healthy (log: ${join(specs[i]!.dir, `${m.name}.log`)})`, async () => {
          if (m.process.exited()) throw new WaitAborted(`etcd exited: ${m.process.log().slice(-2000)}`);
          return healthy(m.clientUrl, undefined);
        }, 60_000),
      ),
    );
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

export async function etcdctl(endpoints: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('etcdctl', ['--endpoints', endpoints, ...args], { env: { ...process.env, ETCDCTL_API: '3', ...env } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`etcdctl ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

function openssl(args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd }, (err, _out, stderr) => {
      if (err) reject(new Error(`openssl ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve();
    });
  });
}

/**
 * A throwaway CA with a server certificate for 127.0.0.1/localhost and a client certificate, plus
 * an unrelated CA (`otherCa`) for "wrong CA" tests. Files go into `dir`.
 */
export async function makeTestCerts(dir: string): Promise<EtcdTlsFiles & { otherCa: string }> {
  requireBinary('openssl', 'openssl');
  const days = ['-days', '2'];
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', ...days, '-subj', '/CN=haconfd test CA'], dir);
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other-ca.key', '-out', 'other-ca.pem', ...days, '-subj', '/CN=unrelated CA'], dir);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=haconfd'], dir);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  await openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', ...days, '-extfile', 'server.ext'], dir);
  await openssl(['x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', ...days, '-extfile', 'client.ext'], dir);
  return {
    ca: join(dir, 'ca.pem'),
    otherCa: join(dir, 'other-ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
  };
}
