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
