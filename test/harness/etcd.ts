/** A private etcd (Debian's etcd-server) on free loopback ports in a temp dir, stopped by PID. */
import { join } from 'node:path';
import { freePorts, removeDir, requireBinary, startProcess, tempDir, waitFor, type RunningProcess } from './process.js';

export interface EtcdInstance {
  readonly clientUrl: string; // http://127.0.0.1:PORT
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  readonly process: RunningProcess;
  /** Runs etcdctl (v3) against this instance; returns stdout. */
  ctl(args: readonly string[]): Promise<string>;
  stop(): Promise<void>;
  /** Stops (SIGKILL when `hard`) and keeps the data dir, for restart(). */
  halt(hard?: boolean): Promise<void>;
  /** Starts again on the same ports and data dir. */
  restart(): Promise<void>;
}

export async function startEtcd(name = 'etcd'): Promise<EtcdInstance> {
  const etcd = requireBinary('etcd', 'etcd-server');
  requireBinary('etcdctl', 'etcd-client');
  const dir = tempDir(name);
  const [clientPort, peerPort] = (await freePorts(2)) as [number, number];
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name', name,
    '--data-dir', join(dir, 'data'),
    '--listen-client-urls', clientUrl,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `${name}=${peerUrl}`,
    '--initial-cluster-state', 'new',
    '--logger', 'zap',
    '--log-outputs', 'stderr',
  ];
  let proc = await launch();

  async function launch(): Promise<RunningProcess> {
    const p = startProcess(etcd, args, { logFile: join(dir, 'etcd.log'), env: { ...process.env, ETCD_UNSUPPORTED_ARCH: '' } });
    await waitFor(`etcd on ${clientUrl} (log: ${join(dir, 'etcd.log')})`, async () => {
      if (p.exited()) throw new Error(`etcd exited: ${p.log().slice(-2000)}`);
      const r = await fetch(`${clientUrl}/health`).catch(() => undefined);
      return r !== undefined && r.ok;
    }, 20_000);
    return p;
  }

  const inst: EtcdInstance = {
    clientUrl,
    clientPort,
    peerPort,
    dataDir: dir,
    get process() {
      return proc;
    },
    ctl: (ctlArgs) => etcdctl(clientUrl, ctlArgs),
    stop: async () => {
      await proc.stop();
      removeDir(dir);
    },
    halt: async (hard = false) => {
      if (hard) proc.kill('SIGKILL');
      await proc.stop();
    },
    restart: async () => {
      proc = await launch();
    },
  };
  return inst;
}

export async function etcdctl(endpoints: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile('etcdctl', ['--endpoints', endpoints, ...args], { env: { ...process.env, ETCDCTL_API: '3', ...env } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`etcdctl ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}
