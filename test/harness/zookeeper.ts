/**
 * A private ZooKeeper (Debian's zookeeper/zookeeperd, 3.8) on a free loopback port in a temp dir,
 * standalone, stopped by PID. The JVM is started directly (QuorumPeerMain with a temp zoo.cfg;
 * the same class zkServer.sh start-foreground runs), admin server off, a short tick so session
 * timeouts are short (tick 200 ms: sessions live 0.4–4 s). Start takes a few seconds: share one
 * instance per test file. `client()` opens a writer session (haconfd's own wire code, tested
 * against the real server).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, removeDir, requireBinary, startProcess, tempDir, waitFor, type RunningProcess } from './process.js';
import { ZkSession } from '../../src/backends/zookeeper/session.js';
import { ZkCodeError } from '../../src/backends/zookeeper/errors.js';
import { ERR } from '../../src/backends/zookeeper/protocol.js';

const ZK_JAR = '/usr/share/java/zookeeper.jar';
const LOG_JAR = '/usr/share/java/slf4j-simple.jar';

export interface ZookeeperOptions {
  tickTimeMs?: number;
}

export interface ZookeeperInstance {
  readonly port: number;
  /** "127.0.0.1:PORT", as -node takes it. */
  readonly node: string;
  readonly dir: string;
  readonly process: RunningProcess;
  /** A new session for writing test data (close it when done; its ephemerals go with it). */
  client(): Promise<ZkSession>;
  stop(): Promise<void>;
  /** Stops (SIGKILL when hard) keeping the data dir, for restart(). */
  halt(hard?: boolean): Promise<void>;
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT the JVM: the server stays bound but answers nothing. */
  pause(): void;
  resume(): void;
}

export function openZkClient(node: string, sessionTimeoutMs = 4000): Promise<ZkSession> {
  const [host, port] = node.split(':');
  return ZkSession.open({ host: host as string, port: Number(port), label: node }, { connectTimeoutMs: 5000, sessionTimeoutMs });
}

/** Creates `path` and any missing parents (empty data), then sets `data` on it. */
export async function putZnode(c: ZkSession, path: string, data: string | Buffer): Promise<void> {
  try {
    await c.setData(path, data);
    return;
  } catch (e) {
    if (!(e instanceof ZkCodeError && e.code === ERR.noNode)) throw e;
  }
  const parts = path.split('/').filter(Boolean);
  for (let i = 1; i < parts.length; i++) {
    await c.create('/' + parts.slice(0, i).join('/'), '').catch((e: unknown) => {
      if (!(e instanceof ZkCodeError && e.code === ERR.nodeExists)) throw e;
    });
  }
  try {
    await c.create(path, data);
  } catch (e) {
    if (!(e instanceof ZkCodeError && e.code === ERR.nodeExists)) throw e;
    await c.setData(path, data);
  }
}

/** Deletes `path` and everything below it (missing is fine). */
export async function deleteTree(c: ZkSession, path: string): Promise<void> {
  const kids = await c.getChildren(path);
  if (!kids) return;
  await Promise.all(kids.children.map((k) => deleteTree(c, `${path === '/' ? '' : path}/${k}`)));
  await c.delete(path).catch((e: unknown) => {
    if (!(e instanceof ZkCodeError && e.code === ERR.noNode)) throw e;
  });
}

export async function startZookeeper(opts: ZookeeperOptions = {}): Promise<ZookeeperInstance> {
  const java = requireBinary('java', 'zookeeperd');
  if (!existsSync(ZK_JAR)) requireBinary(ZK_JAR, 'zookeeperd');
  const dir = tempDir('zk');
  const port = await freePort();
  const cfg = join(dir, 'zoo.cfg');
  mkdirSync(join(dir, 'data'));
  writeFileSync(
    cfg,
    [
      `tickTime=${opts.tickTimeMs ?? 200}`,
      `dataDir=${join(dir, 'data')}`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      'admin.enableServer=false',
      '4lw.commands.whitelist=ruok,isro,srvr,stat',
      'maxClientCnxns=0',
      'jute.maxbuffer=4194304',
      '',
    ].join('\n'),
  );
  const logFile = join(dir, 'zookeeper.log');
  const node = `127.0.0.1:${port}`;
  let proc: RunningProcess | undefined;
  const classpath = [ZK_JAR, ...(existsSync(LOG_JAR) ? [LOG_JAR] : [])].join(':');
  const launch = async (): Promise<void> => {
    const p = startProcess(
      java,
      ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djute.maxbuffer=4194304', `-Dzookeeper.log.dir=${dir}`, '-cp', classpath, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg],
      { logFile, cwd: dir },
    );
    proc = p;
    await waitFor(`ZooKeeper on ${node} (log: ${logFile})`, async () => {
      if (p.exited()) throw new Error(`ZooKeeper exited: ${p.log().slice(-2000)}`);
      const s = await openZkClient(node).catch(() => undefined);
      if (!s) return false;
      await s.close();
      return true;
    }, 60_000, 100);
  };
  await launch();
  const inst: ZookeeperInstance = {
    port,
    node,
    dir,
    get process() {
      return proc as RunningProcess;
    },
    client: () => openZkClient(node),
    stop: async () => {
      await proc?.stop();
      removeDir(dir);
    },
    halt: async (hard = false) => {
      if (hard) proc?.kill('SIGKILL');
      await proc?.stop();
    },
    restart: launch,
    pause: () => proc?.kill('SIGSTOP'),
    resume: () => proc?.kill('SIGCONT'),
  };
  return inst;
}

export interface ZookeeperMember {
  readonly id: number;
  /** "127.0.0.1:PORT" */
  readonly node: string;
  running(): boolean;
  /** Stops the JVM (SIGKILL when hard); data kept for restart(). */
  halt(hard?: boolean): Promise<void>;
  /** Starts it again; resolves once its JVM runs (not waiting for a quorum). */
  restart(): Promise<void>;
}

export interface ZookeeperEnsemble {
  readonly members: readonly ZookeeperMember[];
  /** Every member, comma-separated, as -node takes it. */
  readonly nodes: string;
  /** A writer session on the first member that serves. */
  client(): Promise<ZkSession>;
  stop(): Promise<void>;
}

/**
 * A ZooKeeper ensemble of `n` members on loopback (quorum and election on free ports), read-only
 * mode enabled (a member cut from its quorum serves reads flagged read-only). Resolves once every
 * member serves sessions.
 */
export async function startZookeeperEnsemble(n = 3, opts: ZookeeperOptions = {}): Promise<ZookeeperEnsemble> {
  const java = requireBinary('java', 'zookeeperd');
  if (!existsSync(ZK_JAR)) requireBinary(ZK_JAR, 'zookeeperd');
  const dir = tempDir('zk-ensemble');
  const ports = await Promise.all(Array.from({ length: n }, async () => ({ client: await freePort(), peer: await freePort(), election: await freePort() })));
  const servers = ports.map((p, i) => `server.${i + 1}=127.0.0.1:${p.peer}:${p.election}`);
  const classpath = [ZK_JAR, ...(existsSync(LOG_JAR) ? [LOG_JAR] : [])].join(':');
  const members: (ZookeeperMember & { proc?: RunningProcess })[] = [];
  for (let i = 0; i < n; i++) {
    const id = i + 1;
    const mdir = join(dir, `zk${id}`);
    mkdirSync(join(mdir, 'data'), { recursive: true });
    writeFileSync(join(mdir, 'data', 'myid'), `${id}\n`);
    const cfg = join(mdir, 'zoo.cfg');
    const port = (ports[i] as { client: number }).client;
    writeFileSync(
      cfg,
      [
        `tickTime=${opts.tickTimeMs ?? 200}`,
        'initLimit=50',
        'syncLimit=25',
        `dataDir=${join(mdir, 'data')}`,
        `clientPort=${port}`,
        'clientPortAddress=127.0.0.1',
        'admin.enableServer=false',
        '4lw.commands.whitelist=ruok,isro,srvr,stat',
        'maxClientCnxns=0',
        ...servers,
        '',
      ].join('\n'),
    );
    const m: ZookeeperMember & { proc?: RunningProcess } = {
      id,
      node: `127.0.0.1:${port}`,
      running: () => m.proc !== undefined && !m.proc.exited(),
      halt: async (hard = false) => {
        if (hard) m.proc?.kill('SIGKILL');
        await m.proc?.stop();
      },
      restart: async () => {
        m.proc = startProcess(
          java,
          ['-Xmx192m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Dreadonlymode.enabled=true', `-Dzookeeper.log.dir=${mdir}`, '-cp', classpath, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg],
          { logFile: join(mdir, 'zookeeper.log'), cwd: mdir },
        );
      },
    };
    members.push(m);
  }
  const stopAll = async (): Promise<void> => {
    await Promise.all(members.map((m) => m.proc?.stop()));
    removeDir(dir);
  };
  try {
    await Promise.all(members.map((m) => m.restart()));
    for (const m of members) {
      await waitFor(`ZooKeeper member ${m.id} on ${m.node} serving (log: ${join(dir, `zk${m.id}`, 'zookeeper.log')})`, async () => {
        if (m.proc?.exited()) throw new Error(`member ${m.id} exited: ${m.proc.log().slice(-2000)}`);
        const s = await openZkClient(m.node).catch(() => undefined);
        if (!s) return false;
        await s.close();
        return true;
      }, 90_000, 200);
    }
  } catch (e) {
    await stopAll();
    throw e;
  }
  return {
    members,
    nodes: members.map((m) => m.node).join(','),
    client: async () => {
      for (const m of members) {
        const s = await openZkClient(m.node).catch(() => undefined);
        if (s) return s;
      }
      throw new Error('no ZooKeeper member serves');
    },
    stop: stopAll,
  };
}
