/**
 * The real-cluster rig for the controller's acceptance test and benchmark: etcd (or ZooKeeper), a 3-node Patroni
 * cluster, HAProxy 2.6 master-worker with the shipped haproxy.cfg.hbs (reloads keep state through
 * the master socket), and `haconfd -watch` with or without `[controller]`. Plus the instruments:
 *
 * - a write client: every 20 ms a fresh connection through the write port (a minimal pg-wire
 *   client on node:net, trust auth) running `select inet_server_port(); insert …`, recording when
 *   it started/ended, which node answered and whether the write succeeded;
 * - a watch on the leader key, in etcd or ZooKeeper (arrival time of every change);
 * - failover drivers (patronictl switchover, kill -9 of the leader's Patroni + Postgres, restart)
 *   and the analysis of one failover from those records.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3, type Watcher } from 'etcd3';
import { startEtcd, type EtcdInstance } from '../harness/etcd.js';
import { startZookeeper, type ZookeeperInstance } from '../harness/zookeeper.js';
import { ZkSession } from '../../src/backends/zookeeper/session.js';
import { EVENT } from '../../src/backends/zookeeper/protocol.js';
import { startPatroniCluster, type PatroniCluster } from '../harness/patroni.js';
import { startHaproxy, type HaproxyInstance } from '../harness/haproxy.js';
import { runCli, startCli } from '../harness/cli.js';
import { freePorts, removeDir, requireBinary, sleep, tempDir, waitFor, type RunningProcess } from '../harness/process.js';
import { writeHaproxyResource } from '../harness/haproxyResource.js';
import { exchange } from '../../src/haproxy/runtime/socketTransport.js';
import { startTcpProxy, type TcpProxy } from '../harness/tcpProxy.js';

// ---- a minimal PostgreSQL wire client (startup, trust auth, one simple query) ----

export interface PgResult {
  /** The TCP connection to the port was accepted and the server spoke. */
  readonly answered: boolean;
  /** inet_server_port() of the node that answered, when the first statement ran. */
  readonly serverPort: number | undefined;
  /** The client's own port of the connection (HAProxy's log names it), once connected. */
  readonly localPort?: number | undefined;
  /** When the server's first byte arrived (epoch ms): a held connection has reached a server by then. */
  readonly firstByteAt?: number | undefined;
  readonly ok: boolean;
  readonly error: string | undefined;
}

function startupMessage(): Buffer {
  const params = Buffer.from('user\0postgres\0database\0postgres\0application_name\0probe\0\0', 'utf8');
  const b = Buffer.alloc(8 + params.length);
  b.writeInt32BE(b.length, 0);
  b.writeInt32BE(196608, 4);
  params.copy(b, 8);
  return b;
}

function queryMessage(sql: string): Buffer {
  const q = Buffer.from(`${sql}\0`, 'utf8');
  const b = Buffer.alloc(5 + q.length);
  b.write('Q', 0, 'latin1');
  b.writeInt32BE(4 + q.length, 1);
  q.copy(b, 5);
  return b;
}

const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4]);

/** Connects to 127.0.0.1:port, runs `sql` (simple protocol), returns what happened. Never throws. */
export function pgQuery(port: number, sql: string, timeoutMs: number): Promise<PgResult> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    let answered = false;
    let serverPort: number | undefined;
    let error: string | undefined;
    let phase: 'startup' | 'query' = 'startup';
    let connected = false;
    let localPort: number | undefined;
    let firstByteAt: number | undefined;
    let done = false;
    const finish = (ok: boolean, err?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err !== undefined && error === undefined) error = err;
      try {
        s.end(TERMINATE);
      } catch {
        /* closed */
      }
      s.destroy();
      resolve({ answered, serverPort, localPort, firstByteAt, ok: ok && error === undefined, error });
    };
    // Where it stalled tells HAProxy (no answer: queued, connecting) from PostgreSQL (query running).
    const stage = (): string => (!connected ? 'connecting to HAProxy' : !answered ? 'no byte from the server' : phase === 'startup' ? 'in the startup' : 'in the query');
    const timer = setTimeout(() => finish(false, `timeout after ${timeoutMs} ms ${stage()}`), timeoutMs);
    s.on('connect', () => {
      connected = true;
      localPort = s.localPort;
      s.write(startupMessage());
    });
    s.on('error', (e) => finish(false, e.message));
    s.on('close', () => finish(false, 'connection closed'));
    s.on('data', (d: Buffer) => {
      answered = true;
      firstByteAt ??= Date.now();
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 5) {
        const type = String.fromCharCode(buf[0] as number);
        const len = buf.readInt32BE(1);
        if (buf.length < 1 + len) return;
        const body = buf.subarray(5, 1 + len);
        buf = buf.subarray(1 + len);
        if (type === 'R') {
          const code = body.readInt32BE(0);
          if (code !== 0) return finish(false, `authentication method ${code} not supported by the probe`);
        } else if (type === 'E') {
          const fields = body.toString('utf8').split('\0');
          error ??= (fields.find((f) => f.startsWith('M')) ?? 'Merror').slice(1);
          if (phase === 'startup') return finish(false);
        } else if (type === 'D' && serverPort === undefined) {
          const n = body.readInt16BE(0);
          if (n >= 1) {
            const l = body.readInt32BE(2);
            if (l > 0) serverPort = Number(body.subarray(6, 6 + l).toString('utf8'));
          }
        } else if (type === 'Z') {
          if (phase === 'startup') {
            phase = 'query';
            s.write(queryMessage(sql));
          } else {
            return finish(true);
          }
        }
      }
    });
  });
}

export const WRITE_SQL = 'select inet_server_port(); insert into probe default values';

// ---- the write client ----

export interface Attempt {
  readonly start: number;
  readonly end: number;
  readonly serverPort: number | undefined;
  readonly localPort?: number | undefined;
  /** The server's first byte (a held attempt has reached a server by then). */
  readonly firstByteAt?: number | undefined;
  readonly ok: boolean;
  readonly error: string | undefined;
}

export class WriteClient {
  readonly attempts: Attempt[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  skipped = 0;

  /**
   * `timeoutMs` bounds one attempt (longer than the write listens' hold_timeout, so a held attempt
   * is measured, not cut); attempts overlap (a held one, or one HAProxy keeps retrying against a
   * stopping node, can take seconds) so a new one still starts every `everyMs`.
   */
  constructor(private readonly port: number, private readonly everyMs = 20, private readonly timeoutMs = 35_000, private readonly maxInFlight = 2000) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.inFlight >= this.maxInFlight) {
        this.skipped++;
        return;
      }
      this.inFlight++;
      const start = Date.now();
      void pgQuery(this.port, WRITE_SQL, this.timeoutMs).then((r) => {
        this.inFlight--;
        this.attempts.push({ start, end: Date.now(), serverPort: r.serverPort, localPort: r.localPort, firstByteAt: r.firstByteAt, ok: r.ok, error: r.error });
      });
    }, this.everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await waitFor('write client to drain', () => this.inFlight === 0, this.timeoutMs + 5000, 10).catch(() => undefined);
  }
}

// ---- the leader key, as etcd reports it ----

export interface KeyChange {
  readonly at: number;
  /** The member the key names, or null when deleted. */
  readonly value: string | null;
}

/** The leader key's changes as observed (etcd watch or ZooKeeper persistent watch). */
export interface KeyLog {
  readonly changes: KeyChange[];
  start(): Promise<void>;
  at(t: number): string | null;
  stop(): Promise<void>;
}

/** The key's value at time t, from its recorded changes. */
function valueAt(changes: readonly KeyChange[], t: number): string | null {
  let v: string | null = null;
  for (const c of changes) {
    if (c.at > t) break;
    v = c.value;
  }
  return v;
}

/** True when `node` held the key at some moment in [from, to]. */
export function heldDuring(log: KeyLog, node: string | undefined, from: number, to: number): boolean {
  if (node === undefined) return false;
  if (log.at(from) === node) return true;
  return log.changes.some((c) => c.at > from && c.at <= to && c.value === node);
}

/** The leader znode through a persistent watch on it (its data fetched on every event). */
export class ZkLeaderKeyLog implements KeyLog {
  readonly changes: KeyChange[] = [];
  private session: ZkSession | undefined;

  constructor(private readonly node: string, private readonly path: string) {}

  private record(value: string | null): void {
    const last = this.changes[this.changes.length - 1];
    if (last === undefined || last.value !== value) this.changes.push({ at: Date.now(), value });
  }

  async start(): Promise<void> {
    const [host, port] = this.node.split(':');
    const s = await ZkSession.open({ host: host as string, port: Number(port), label: this.node }, {
      connectTimeoutMs: 5000,
      sessionTimeoutMs: 30_000,
      onNotification: (ev) => {
        if (ev.path !== this.path) return;
        if (ev.type === EVENT.nodeDeleted) this.record(null);
        else void s.getData(this.path).then((d) => this.record(d ? d.data.toString('utf8') : null), () => undefined);
      },
    });
    this.session = s;
    await s.addRecursiveWatch(this.path);
    const now = await s.getData(this.path);
    this.record(now ? now.data.toString('utf8') : null);
  }

  at(t: number): string | null {
    return valueAt(this.changes, t);
  }

  async stop(): Promise<void> {
    await this.session?.close();
  }
}

export class LeaderKeyLog implements KeyLog {
  readonly changes: KeyChange[] = [];
  private client: Etcd3 | undefined;
  private watcher: Watcher | undefined;

  constructor(private readonly endpoint: string, private readonly key: string) {}

  async start(): Promise<void> {
    this.client = new Etcd3({ hosts: this.endpoint });
    const now = await this.client.get(this.key).string();
    this.changes.push({ at: Date.now(), value: now ?? null });
    this.watcher = await this.client.watch().key(this.key).create();
    this.watcher.on('put', (kv) => {
      const v = kv.value.toString('utf8');
      const last = this.changes[this.changes.length - 1];
      if (last?.value !== v) this.changes.push({ at: Date.now(), value: v });
    });
    this.watcher.on('delete', () => this.changes.push({ at: Date.now(), value: null }));
  }

  /** The key's value at time t. */
  at(t: number): string | null {
    return valueAt(this.changes, t);
  }

  async stop(): Promise<void> {
    await this.watcher?.cancel().catch(() => undefined);
    this.client?.close();
  }
}

// ---- the rig ----

export interface FailoverRig {
  /** The DCS (one of the two). */
  readonly etcd: EtcdInstance | undefined;
  readonly zookeeper: ZookeeperInstance | undefined;
  readonly cluster: PatroniCluster;
  readonly haproxy: HaproxyInstance;
  /** The haconfd running now (a new one after startHaconfd). */
  readonly haconfd: RunningProcess;
  readonly dir: string;
  readonly ports: { write: number; read: number; stats: number };
  readonly controller: boolean;
  readonly keyLog: KeyLog;
  /** Patroni's failover key (a switchover request), as the DCS reports it. */
  readonly failoverLog: KeyLog;
  /** Node name by Postgres port. */
  nodeOfPort(port: number | undefined): string | undefined;
  /** haconfd's log records (JSON lines) so far. */
  haconfdLog(): Record<string, unknown>[];
  /** Ends haconfd with `signal` (SIGKILL: a crash; SIGTERM: a clean stop); resolves once it is gone. */
  stopHaconfd(signal: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Starts haconfd again (same flags, same log file); resolves once its controller confirmed the leader. */
  startHaconfd(): Promise<void>;
  /** haconfd's etcd endpoint is a TCP proxy (etcdProxy): cut it off / give it back. Patroni keeps its own. */
  cutEtcd(): Promise<void>;
  restoreEtcd(): Promise<void>;
  stop(): Promise<void>;
}

export interface FailoverRigOptions {
  readonly controller: boolean;
  /** HAProxy check interval (shipped default 3s). */
  readonly checkInter?: string;
  readonly scope?: string;
  /** haconfd reaches etcd through a TCP proxy the test can cut (Patroni does not). */
  readonly etcdProxy?: boolean;
  /**
   * true: new connections held around a failover (the shipped write listens' hold_timeout 30s and
   * [controller] hold_on_switchover = true). Default false: no hold (hold_timeout "0",
   * hold_on_switchover = false), so that a failover's failed attempts measure routing alone.
   */
  readonly hold?: boolean;
  /** With `hold`: [controller] switchover_hold_from (default: the controller's, "request"). */
  readonly holdFrom?: 'shutdown' | 'request';
  /** Patroni's DCS and haconfd's backend (default etcd). */
  readonly dcs?: 'etcd' | 'zookeeper';
}

const logRecords = (logFile: string): Record<string, unknown>[] =>
  readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes('{'))
    .map((l) => {
      try {
        return JSON.parse(l.slice(l.indexOf('{'))) as Record<string, unknown>;
      } catch {
        return {};
      }
    });

const loggedSince = (logFile: string, text: string, since: number): boolean =>
  logRecords(logFile).some((l) => String(l['msg']).includes(text) && typeof l['time'] === 'number' && (l['time'] as number) >= since);

export async function startFailoverRig(opts: FailoverRigOptions): Promise<FailoverRig> {
  requireBinary('haproxy', 'haproxy');
  requireBinary('psql', 'postgresql-client-15');
  const dir = tempDir('controller-e2e');
  const scope = opts.scope ?? 'demo';
  let etcd: EtcdInstance | undefined;
  let zookeeper: ZookeeperInstance | undefined;
  let cluster: PatroniCluster | undefined;
  let haproxy: HaproxyInstance | undefined;
  let haconfd: RunningProcess | undefined;
  let proxy: TcpProxy | undefined;
  const keyLog: { v?: KeyLog; failover?: KeyLog } = {};
  const cleanup = async (): Promise<void> => {
    await keyLog.v?.stop().catch(() => undefined);
    await keyLog.failover?.stop().catch(() => undefined);
    await Promise.allSettled([haconfd?.stop(), haproxy?.stop(), cluster?.stop(), proxy?.stop()]);
    await etcd?.stop().catch(() => undefined);
    await zookeeper?.stop().catch(() => undefined);
    removeDir(dir);
  };
  try {
    if (opts.dcs === 'zookeeper') {
      zookeeper = await startZookeeper({ tickTimeMs: 1000 });
      cluster = await startPatroniCluster({ zookeeper, scope, nodes: 3 });
    } else {
      etcd = await startEtcd('controller-e2e');
      cluster = await startPatroniCluster({ etcd, scope, nodes: 3 });
    }
    const leader = await cluster.leader();
    await cluster.psql(cluster.node(leader).pgPort, 'create table if not exists probe (id bigserial primary key, at timestamptz default now())');
    const [write, read, stats] = (await freePorts(3)) as [number, number, number];
    const { confdir, cfgFile, adminSocket: admin, masterSocket: master } = writeHaproxyResource({
      dir,
      statsPort: stats,
      checkInter: opts.checkInter ?? '3s',
      hardStopAfter: '30s',
      wait: { min: '100ms', max: '1s' },
      // HAProxy's view goes to its log file: a failed write is matched with its session's line.
      logTarget: 'stdout',
      clusters: { [scope]: { write, read } },
      holdTimeout: opts.hold === true ? '30s' : '0',
    });
    if (opts.controller) {
      writeFileSync(
        join(confdir, 'haconfd.toml'),
        `[controller]\nsocket = ${JSON.stringify(admin)}\nnamespace = "/service"\noverrides_file = ${JSON.stringify(join(dir, 'overrides.json'))}\n${opts.hold === true ? (opts.holdFrom === undefined ? '' : `switchover_hold_from = "${opts.holdFrom}"\n`) : 'hold_on_switchover = false\n'}`,
      );
    }
    if (opts.etcdProxy) {
      if (etcd === undefined) throw new Error('etcdProxy needs dcs etcd');
      const u = new URL(etcd.clientUrl);
      proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port) });
    }
    const backend = zookeeper ? ['-backend', 'zookeeper', '-node', zookeeper.node] : ['-backend', 'etcdv3', '-node', proxy?.url ?? (etcd as EtcdInstance).clientUrl];
    const common = [...backend, '-confdir', confdir, '-log-format', 'json'];
    const first = await runCli(['-onetime', '-sync-only', ...common], { cwd: dir });
    if (first.code !== 0) throw new Error(`haconfd -onetime failed: ${first.stderr}`);
    haproxy = await startHaproxy({ dir, configFile: cfgFile, masterSocket: master });
    const logFile = join(dir, 'haconfd.log');
    haconfd = startCli(['-watch', ...common], { logFile, cwd: dir });
    keyLog.v = zookeeper ? new ZkLeaderKeyLog(zookeeper.node, `/service/${scope}/leader`) : new LeaderKeyLog((etcd as EtcdInstance).clientUrl, `/service/${scope}/leader`);
    await keyLog.v.start();
    keyLog.failover = zookeeper ? new ZkLeaderKeyLog(zookeeper.node, `/service/${scope}/failover`) : new LeaderKeyLog((etcd as EtcdInstance).clientUrl, `/service/${scope}/failover`);
    await keyLog.failover.start();
    const c = cluster;
    const portToNode = (): Map<number, string> => new Map(c.nodes.map((n) => [n.pgPort, n.name] as const));
    const ready = opts.controller ? 'confirmed as a running primary' : zookeeper ? 'haconfd started' : 'etcd watch: connected';
    const rig: FailoverRig = {
      etcd,
      zookeeper,
      cluster,
      haproxy,
      get haconfd(): RunningProcess {
        return haconfd as RunningProcess;
      },
      dir,
      ports: { write, read, stats },
      controller: opts.controller,
      keyLog: keyLog.v,
      failoverLog: keyLog.failover,
      nodeOfPort: (p) => (p === undefined ? undefined : portToNode().get(p)),
      haconfdLog: () => logRecords(logFile),
      stopHaconfd: async (signal) => {
        const h = haconfd as RunningProcess;
        h.kill(signal);
        await waitFor(`haconfd gone after ${signal}`, () => h.exited(), 20_000, 20);
      },
      startHaconfd: async () => {
        const since = Date.now();
        haconfd = startCli(['-watch', ...common], { logFile, cwd: dir });
        await waitFor(`haconfd restarted: "${ready}"`, () => loggedSince(logFile, ready, since), 30_000, 20);
      },
      cutEtcd: async () => {
        if (proxy === undefined) throw new Error('startFailoverRig({ etcdProxy: true }) to cut haconfd off from etcd');
        await proxy.cut();
      },
      restoreEtcd: async () => {
        await proxy?.restore();
      },
      stop: cleanup,
    };
    // Writes through HAProxy reach the leader, and haconfd watches (and steers), before anything is measured.
    await waitFor('a write through the write port', async () => (await pgQuery(write, WRITE_SQL, 1000)).ok, 60_000, 200);
    await waitFor(`haconfd: "${ready}" (log ${logFile})`, () => rig.haconfdLog().some((l) => String(l['msg']).includes(ready)), 60_000, 50);
    return rig;
  } catch (e) {
    await cleanup();
    throw e;
  }
}

// ---- failovers and their analysis ----

export type FailoverKind = 'switchover' | 'kill9';

/**
 * haconfd taken away just before the failover, for `downMs`, then given back:
 * - `kill`: SIGKILL (a crash, an OOM kill); `term`: SIGTERM (a clean stop), both restarted after;
 * - `etcd-cut`: its etcd endpoint cut (a TCP proxy closed) while Patroni keeps its own, restored after.
 */
export type OrphanHow = 'kill' | 'term' | 'etcd-cut';

export interface Orphan {
  readonly how: OrphanHow;
  readonly downMs: number;
}

export interface FailoverResult {
  readonly kind: FailoverKind;
  readonly from: string;
  readonly to: string;
  /** The key first changed (deleted or renamed). */
  readonly keyChangedAt: number;
  /** The key named the new leader. */
  readonly newKeyAt: number;
  /**
   * When the first write straight to the new leader that succeeded had completed (polled every
   * 10 ms). Its end, like viaHaproxyAt's: the routing delay compares two completed writes, not a
   * write's start with another's end (which would add one write's own duration to it).
   */
  readonly directAt: number | undefined;
  /** When that first direct write started (Patroni's own gap is measured start to start). */
  readonly directStartAt: number | undefined;
  /** When the first write through HAProxy that succeeded on the new leader completed (after the key changed). */
  readonly viaHaproxyAt: number | undefined;
  /** The controller confirmed / routed the new leader (from haconfd's log), when it runs. */
  readonly routedAt: number | undefined;
  /** Connections through the write port answered by a node that did not hold the key when they started, after the key changed. */
  readonly misrouted: Attempt[];
  /** Writes that failed after the controller routed the new leader. */
  readonly failedAfterRouted: Attempt[];
  /** Failed after the routing, but HAProxy's log shows them handed to the new leader: they timed out in PostgreSQL. */
  readonly timedOutInLeader: Attempt[];
  /** Longest gap between successful writes through HAProxy around the failover (ms). */
  readonly outageMs: number;
  /** The key changed → first successful write through HAProxy (the part of the outage a proxy can act on). */
  readonly outageAfterKeyMs: number | undefined;
  /**
   * Patroni's own write gap, no proxy involved: the last write the old leader accepted directly
   * (polled every 10 ms) → the first the new leader accepted directly. No proxy can do better.
   */
  readonly directGapMs: number | undefined;
  readonly attempts: Attempt[];
  /** Patroni wrote the failover key naming the old leader (switchovers), when seen. */
  readonly requestAt: number | undefined;
  /** Write attempts through the write port that failed: all, started after the failover key, started after the leader key changed. */
  readonly failed: { readonly total: number; readonly afterRequest: number; readonly afterKey: number };
  /** Longest time one attempt took, failed or not (a held one waits). */
  readonly longestAttemptMs: number;
  /**
   * Longest time from an attempt's start to the server's first byte: the wait before a server took
   * it (held, queued, connecting, the backend starting), without the query's own time.
   */
  readonly longestToServerMs: number;
  /** Longest time HAProxy kept one attempt before a server had it (its log's Tw + Tc: the hold's wait, queues, the connect). */
  readonly longestProxyWaitMs: number;
  /** Orphaned runs: when haconfd was taken away and when it was back (steering again). */
  readonly orphan?: { readonly how: OrphanHow; readonly goneAt: number; readonly backAt: number; readonly failedAfterBack: Attempt[]; readonly failedBeforeBack: Attempt[] };
  /** The outside reload done after healing: how, when, and how many writes started from then on. */
  readonly outsideReload?: { readonly how: string; readonly at: number; readonly writes: number };
}

/** The first write straight to `port` started at or after `since` that succeeds: its start and end. */
async function pollDirect(port: number, since: number, deadlineMs: number): Promise<{ start: number; end: number } | undefined> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    const t = Date.now();
    const r = await pgQuery(port, WRITE_SQL, 300);
    if (r.ok && t >= since) return { start: t, end: Date.now() };
    await sleep(10);
  }
  return undefined;
}

/** Writes straight to `port` every 10 ms until stopped; resolves to the start of the last that succeeded. */
function probeDirect(port: number): { stop(): Promise<number | undefined> } {
  let running = true;
  let lastOk: number | undefined;
  const loop = (async () => {
    while (running) {
      const t = Date.now();
      if ((await pgQuery(port, WRITE_SQL, 300)).ok) lastOk = t;
      await sleep(10);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return lastOk;
    },
  };
}

/**
 * Runs one failover while the write client runs, waits until writes through HAProxy succeed on the
 * new leader, and (for kill9) restarts the killed node so the cluster is back at 3.
 */
/** Names of the replicas streaming from the leader now (its pg_stat_replication). */
async function streamingReplicas(rig: FailoverRig): Promise<string[]> {
  const leader = await rig.cluster.leader();
  if (leader === '') return [];
  const out = await rig.cluster.psql(rig.cluster.node(leader).pgPort, "select application_name from pg_stat_replication where state = 'streaming'");
  return out.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

function patronictl(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/patronictl', args, { env: { ...process.env, PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' }, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`patronictl ${args.join(' ')}: ${String(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
  });
}

/**
 * Waits until both replicas stream from the leader. Under write load an asynchronous replica can be
 * ahead of the node promoted after a kill -9 ("timeline is not a child"): Patroni 3.0.2 then leaves
 * it broken, so such a replica is rebuilt with `patronictl reinit` (a harness remedy; the failover
 * being measured is over by then). On timeout the error carries every member's state and log tail.
 */
export async function waitHealed(rig: FailoverRig, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const reinited = new Set<string>();
  try {
    await waitFor('2 replicas streaming from the leader', async () => {
      const streaming: string[] = await streamingReplicas(rig).catch(() => []);
      if (streaming.length >= 2) return true;
      if (Date.now() > deadline - timeoutMs + 12_000) {
        const leader = await rig.cluster.leader();
        for (const n of rig.cluster.nodes) {
          if (n.name === leader || streaming.includes(n.name) || reinited.has(n.name) || !n.running()) continue;
          reinited.add(n.name);
          await patronictl(['-c', n.configFile, 'reinit', rig.cluster.scope, n.name, '--force']).catch(() => reinited.delete(n.name));
        }
      }
      return false;
    }, timeoutMs, 250);
    await rig.cluster.waitForReplicas(2, Math.max(1000, deadline - Date.now()));
  } catch (e) {
    const members = [...(await rig.cluster.members()).entries()].map(([n, m]) => `${n}: ${String(m['role'])}/${String(m['state'])}`).join(', ');
    const logs = rig.cluster.nodes.map((n) => `--- ${n.name}\n${n.log().slice(-1200)}`).join('\n');
    throw new Error(`${(e as Error).message}; members: ${members}\n${logs}`);
  }
}

export interface FailoverOptions {
  /**
   * Bound of one write attempt (default 5000 ms: a connection made during an HAProxy reload on a
   * loaded machine can take over a second; an attempt still running then counts as failed).
   */
  attemptTimeoutMs?: number;
  /**
   * Reload HAProxy from outside haconfd once the cluster has healed, while the writes go on (issue 14:
   * systemd, logrotate or an operator): `reload` on the master socket, or SIGUSR2 to the master.
   * The new worker starts from the server-state file, which must say where the controller put each
   * server last; the misrouted check covers its writes.
   */
  outsideReload?: 'master-socket' | 'sigusr2';
}

/** Waits until `n` write attempts started after `t` have ended (ok or not): a window of writes, counted. */
async function attemptsSince(client: WriteClient, t: number, n: number, what: string): Promise<void> {
  await waitFor(`${n} ${what}`, () => client.attempts.filter((a) => a.start >= t).length >= n, 60_000, 20);
}

export async function runFailover(rig: FailoverRig, kind: FailoverKind, orphan?: Orphan, opts: FailoverOptions = {}): Promise<FailoverResult> {
  const cluster = rig.cluster;
  const from = await cluster.leader();
  await waitHealed(rig);
  const attemptTimeoutMs = opts.attemptTimeoutMs ?? 5000;
  // Attempts overlap: room for every one started within the bound.
  const client = new WriteClient(rig.ports.write, 20, attemptTimeoutMs, Math.max(80, Math.ceil(attemptTimeoutMs / 20) + 20));
  const beginAt = Date.now();
  client.start();
  const oldProbe = probeDirect(cluster.node(from).pgPort);
  // A baseline of writes before anything happens.
  await attemptsSince(client, beginAt, 15, 'writes before the failover');
  let goneAt = 0;
  if (orphan !== undefined) {
    goneAt = Date.now();
    if (orphan.how === 'etcd-cut') await rig.cutEtcd();
    else await rig.stopHaconfd(orphan.how === 'kill' ? 'SIGKILL' : 'SIGTERM');
  }
  let to: string;
  let newKeyAt = 0;
  const waitNewKey = async (): Promise<{ to: string; at: number }> =>
    waitFor('a new leader key', () => {
      const c = rig.keyLog.changes.find((x) => x.at > beginAt && x.value !== null && x.value !== from);
      return c ? { to: c.value as string, at: c.at } : undefined;
    }, 60_000, 5);
  let direct: { start: number; end: number } | undefined;
  let oldLastOk: number | undefined;
  if (kind === 'switchover') {
    const sw = cluster.switchover();
    const k = await waitNewKey();
    oldLastOk = await oldProbe.stop();
    to = k.to;
    newKeyAt = k.at;
    direct = await pollDirect(cluster.node(to).pgPort, k.at, 15_000);
    await sw;
  } else {
    await cluster.node(from).kill9();
    const k = await waitNewKey();
    oldLastOk = await oldProbe.stop();
    to = k.to;
    newKeyAt = k.at;
    direct = await pollDirect(cluster.node(to).pgPort, k.at, 15_000);
  }
  const directAt = direct?.end;
  const directStartAt = direct?.start;
  const toPort = cluster.node(to).pgPort;
  try {
    await waitFor('a write through HAProxy on the new leader', () => client.attempts.some((a) => a.start > newKeyAt && a.ok && a.serverPort === toPort), 60_000, 20);
  } catch (e) {
    await client.stop();
    const after = client.attempts.filter((a) => a.start > newKeyAt);
    const byOutcome = new Map<string, number>();
    for (const a of after) {
      const k = `${rig.nodeOfPort(a.serverPort) ?? '-'} ${a.ok ? 'ok' : a.error}`;
      byOutcome.set(k, (byOutcome.get(k) ?? 0) + 1);
    }
    throw new Error(`${kind} ${from}→${to}: ${(e as Error).message}; write-port attempts since the new key: ${JSON.stringify(Object.fromEntries(byOutcome))}; HAProxy's log (tail):\n${rig.haproxy.log().slice(-3000)}`);
  }
  // The write client keeps running while the cluster heals (the old primary rejoins as a replica;
  // after kill -9 it is restarted, its member key comes back, haproxy.cfg is re-rendered and
  // HAProxy reloaded): routing must stay right through that too.
  if (kind === 'kill9') await cluster.node(from).start();
  await waitHealed(rig);
  let outsideReloadAt: number | undefined;
  if (opts.outsideReload !== undefined) {
    const oldWorker = await rig.haproxy.workerPid();
    outsideReloadAt = Date.now();
    if (opts.outsideReload === 'master-socket') await exchange({ kind: 'unix', path: rig.haproxy.masterSocket }, 'reload', 10_000, 'master');
    else process.kill(rig.haproxy.masterPid, 'SIGUSR2');
    await waitFor(`a new HAProxy worker after the outside reload (${opts.outsideReload})`, async () => (await rig.haproxy.workerPid().catch(() => oldWorker)) !== oldWorker, 30_000, 20);
    // Writes go on through the new worker (accepted by it, not by the old one finishing its sessions).
    const workerUp = Date.now();
    await waitFor('writes through the new worker', () => client.attempts.filter((a) => a.start > workerUp && a.ok).length >= 25, 30_000, 20);
  }
  let back: { goneAt: number; backAt: number } | undefined;
  if (orphan !== undefined) {
    const wait = goneAt + orphan.downMs - Date.now();
    if (wait > 0) await sleep(wait);
    const since = Date.now();
    if (orphan.how === 'etcd-cut') {
      await rig.restoreEtcd();
      await waitFor('haconfd steering again after etcd came back', () => rig.haconfdLog().some((l) => String(l['msg']).includes('HAProxy controller acting again') && (l['time'] as number) >= since), 60_000, 20);
    } else {
      await rig.startHaconfd();
    }
    back = { goneAt, backAt: Date.now() };
    // Writes keep going while the controller takes over again (~3 s of them).
    await attemptsSince(client, back.backAt, 150, 'writes after haconfd was back');
  }
  // The last writes, through the settled cluster (~3 s after a kill -9, ~1 s after a switchover).
  await attemptsSince(client, Date.now(), kind === 'kill9' ? 150 : 50, 'writes after healing');
  await client.stop();
  const keyChangedAt = rig.keyLog.changes.find((c) => c.at > beginAt && c.value !== from)?.at ?? newKeyAt;
  const attempts = [...client.attempts].sort((a, b) => a.start - b.start);
  // When the first write through HAProxy landed on the new leader (a held one may have started earlier).
  const landed = attempts.filter((a) => a.end > keyChangedAt && a.ok && a.serverPort === toPort).map((a) => a.end);
  const viaHaproxyAt = landed.length === 0 ? undefined : Math.min(...landed);
  let routedAt: number | undefined;
  if (rig.controller) {
    const rec = rig.haconfdLog().find((r) => typeof r['msg'] === 'string' && (r['msg'] as string).startsWith(`writes routed to ${to}`) && typeof r['time'] === 'number' && (r['time'] as number) >= keyChangedAt);
    routedAt = rec ? (rec['time'] as number) : undefined;
  }
  // A held connection reaches its node later than it started: it is misrouted only when that node
  // held the key at no moment of the attempt.
  const misrouted = attempts.filter((a) => {
    if (a.start <= keyChangedAt || a.serverPort === undefined) return false;
    return !heldDuring(rig.keyLog, rig.nodeOfPort(a.serverPort), a.start, a.end);
  });
  // A write that HAProxy handed to the new leader and that then timed out inside PostgreSQL (a node
  // being rebuilt by pg_basebackup loads a small machine's disk) was routed right: it is counted
  // apart, with HAProxy's line as the proof; every other failure after the routing counts.
  const sessions = haproxySessions(rig.haproxy.log());
  // How long HAProxy kept each attempt before a server had it (the hold's wait is in Tw), its connect included.
  const longestProxyWaitMs = Math.max(0, ...attempts.map((a) => sessionOf(sessions, a)).map((x) => (x === undefined || x.tw < 0 ? 0 : x.tw + Math.max(0, x.tc))));
  const stalledInLeader = (a: Attempt): boolean => /^timeout/.test(a.error ?? '') && !/connecting to HAProxy/.test(a.error ?? '') && sessionOf(sessions, a)?.server === to;
  const afterRouted = routedAt === undefined ? [] : attempts.filter((a) => !a.ok && a.start > routedAt);
  const failedAfterRouted = afterRouted.filter((a) => !stalledInLeader(a));
  const timedOutInLeader = afterRouted.filter(stalledInLeader);
  const requestAt = rig.failoverLog.changes.find((c) => c.at > beginAt && c.value !== null && c.value.includes(`"${from}"`))?.at;
  const failedAttempts = attempts.filter((a) => !a.ok);
  const failed = {
    total: failedAttempts.length,
    afterRequest: requestAt === undefined ? 0 : failedAttempts.filter((a) => a.start > requestAt).length,
    afterKey: failedAttempts.filter((a) => a.start > keyChangedAt).length,
  };
  const longestAttemptMs = Math.max(0, ...attempts.map((a) => a.end - a.start));
  const longestToServerMs = Math.max(0, ...attempts.map((a) => (a.firstByteAt === undefined ? 0 : a.firstByteAt - a.start)));
  let outageMs = 0;
  let lastOk = attempts.filter((a) => a.ok && a.start < keyChangedAt).pop()?.start ?? beginAt;
  for (const a of attempts) {
    if (!a.ok || a.start < lastOk) continue;
    outageMs = Math.max(outageMs, a.start - lastOk);
    lastOk = a.start;
  }
  const outageAfterKeyMs = viaHaproxyAt === undefined ? undefined : viaHaproxyAt - keyChangedAt;
  const directGapMs = directStartAt === undefined || oldLastOk === undefined ? undefined : directStartAt - oldLastOk;
  const orphaned = orphan === undefined || back === undefined ? {} : { orphan: { how: orphan.how, goneAt: back.goneAt, backAt: back.backAt, failedAfterBack: attempts.filter((a) => !a.ok && a.start >= back.backAt), failedBeforeBack: attempts.filter((a) => !a.ok && viaHaproxyAt !== undefined && a.start > viaHaproxyAt && a.start < back.backAt) } };
  const afterOutsideReload = outsideReloadAt === undefined ? {} : { outsideReload: { how: opts.outsideReload as string, at: outsideReloadAt, writes: attempts.filter((a) => a.start >= (outsideReloadAt as number)).length } };
  return { kind, from, to, keyChangedAt, newKeyAt, directAt, directStartAt, viaHaproxyAt, routedAt, misrouted, failedAfterRouted, timedOutInLeader, outageMs, outageAfterKeyMs, directGapMs, attempts, requestAt, failed, longestAttemptMs, longestToServerMs, longestProxyWaitMs, ...orphaned, ...afterOutsideReload };
}

/** One session as HAProxy's tcplog line tells it: accepted when, handed to which server. */
export interface HaproxySession {
  readonly at: number;
  readonly backend: string;
  readonly server: string;
  /** Tw: time before a server was chosen (the hold's wait, queues), ms; -1 when it never got that far. */
  readonly tw: number;
  /** Tc: time to connect to that server, ms; -1 when it never connected. */
  readonly tc: number;
  readonly line: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** HAProxy's tcplog lines (`127.0.0.1:port [dd/Mon/yyyy:hh:mm:ss.mmm] frontend backend/server …`) by client port. */
export function haproxySessions(log: string): Map<number, HaproxySession[]> {
  const out = new Map<number, HaproxySession[]>();
  const re = /127\.0\.0\.1:(\d+) \[(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})\.(\d{3})\] \S+ ([^/\s]+)\/(\S+) (-?\d+)\/(-?\d+)\//;
  for (const line of log.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const [, port, d, mon, y, h, mi, sec, ms, backend, server, tw, tc] = m as unknown as string[];
    // HAProxy writes local time, as this process reads it.
    const at = new Date(Number(y), MONTHS.indexOf(mon as string), Number(d), Number(h), Number(mi), Number(sec), Number(ms)).getTime();
    const list = out.get(Number(port)) ?? [];
    list.push({ at, backend: backend as string, server: server as string, tw: Number(tw), tc: Number(tc), line });
    out.set(Number(port), list);
  }
  return out;
}

/** The session of an attempt: its client port, accepted within 2 s of its start (ports get reused). */
export function sessionOf(sessions: Map<number, HaproxySession[]>, a: Attempt): HaproxySession | undefined {
  if (a.localPort === undefined) return undefined;
  let best: HaproxySession | undefined;
  for (const x of sessions.get(a.localPort) ?? []) {
    if (Math.abs(x.at - a.start) > 2000) continue;
    if (best === undefined || Math.abs(x.at - a.start) < Math.abs(best.at - a.start)) best = x;
  }
  return best;
}

/** "a write straight to the new primary has succeeded" → "a write through HAProxy has succeeded on it" (ms, end to end). */
export function routingDelay(r: FailoverResult): number | undefined {
  if (r.viaHaproxyAt === undefined || r.directAt === undefined) return undefined;
  return Math.max(0, r.viaHaproxyAt - r.directAt);
}

/** Last successful write through HAProxy before the key changed → the key changed (ms). */
export function writesStoppedBeforeKey(r: FailoverResult): number | undefined {
  const lastOk = r.attempts.filter((a) => a.ok && a.start < r.keyChangedAt).pop();
  return lastOk === undefined ? undefined : r.keyChangedAt - lastOk.start;
}

export function describeFailover(r: FailoverResult): string {
  const direct = r.directStartAt === undefined ? '?' : r.directStartAt - r.newKeyAt;
  const o =
    (r.orphan === undefined ? '' : ` [haconfd ${r.orphan.how}: away ${Math.round((r.orphan.backAt - r.orphan.goneAt) / 1000)} s, writes failed after it was back ${r.orphan.failedAfterBack.length} (between the checks routing and its return ${r.orphan.failedBeforeBack.length})]`) +
    (r.outsideReload === undefined ? '' : ` [then reloaded from outside (${r.outsideReload.how}), ${r.outsideReload.writes} writes from then on]`);
  return `${r.kind}${o} ${r.from}→${r.to}: last write before key change ${writesStoppedBeforeKey(r) ?? '?'} ms earlier, key deleted→named ${r.newKeyAt - r.keyChangedAt} ms, key→direct ${direct} ms, routing delay ${routingDelay(r) ?? '?'} ms, outage ${r.outageMs} ms (${r.outageAfterKeyMs ?? '?'} ms after the key changed; Patroni's own direct gap ${r.directGapMs ?? '?'} ms), misrouted ${r.misrouted.length}, failed after routed ${r.failedAfterRouted.length} (timed out inside the new leader ${r.timedOutInLeader.length}), attempts ${r.attempts.length}`;
}

/**
 * The acceptance of one failover (both DCS e2e files): no connection through the write port reached a
 * node not holding the leader key; the controller logged the routing; no write started after it
 * failed (each with haconfd's log around it); the routing delay measured, under the checks' own.
 */
export function assertFailoverAccepted(rig: FailoverRig, r: FailoverResult): void {
  const where = describeFailover(r);
  assert.deepEqual(
    r.misrouted.map((a) => `${a.start - r.keyChangedAt} ms: ${rig.nodeOfPort(a.serverPort)} ${a.ok ? 'ok' : a.error}`),
    [],
    `connections reached a node not holding the leader key (${where})`,
  );
  assert.ok(r.routedAt !== undefined, `the controller logged the routing (${where})`);
  const context = (t: number): string =>
    (rig.haconfdLog() ?? [])
      .filter((l) => typeof l['time'] === 'number' && Math.abs((l['time'] as number) - t) < 1500)
      .map((l) => `${(l['time'] as number) - t} ms: ${String(l['msg'])}`)
      .join('\n');
  // HAProxy's line for the session (its client port), and its own events (servers DOWN/UP) then:
  // read only when something failed.
  const haproxyLog = r.failedAfterRouted.length > 0 ? rig.haproxy.log() : '';
  const sessions = haproxySessions(haproxyLog);
  const session = (a: Attempt): string => sessionOf(sessions, a)?.line ?? '(no HAProxy line)';
  if (r.failedAfterRouted.length > 0) {
    const events = haproxyLog.split('\n').filter((l) => !/127\.0\.0\.1:\d+ \[/.test(l) && l.trim() !== '').slice(-40).join('\n');
    console.log(`# HAProxy events (tail):\n${events}`);
  }
  assert.deepEqual(
    r.failedAfterRouted.map((a) => `${a.start - (r.routedAt as number)} ms after routed: ${a.error}\nHAProxy: ${session(a)}\n${context(a.start)}`),
    [],
    `writes failed after the new primary was routed (${where})`,
  );
  const delay = routingDelay(r);
  assert.ok(delay !== undefined, `routing delay measured (${where})`);
  // Routed by the controller, not by the checks (4.4–5.8 s alone). How fast is the bench's business
  // (target: median ≤ 200 ms, max ≤ 500 ms); the margin here is for a loaded machine.
  assert.ok(delay < 4000, `routing delay ${delay} ms (${where}); health checks alone take 4.4–5.8 s (target: median ≤ 200 ms, max ≤ 500 ms, see the bench)`);
}
