/**
 * A real Patroni cluster for tests: Debian's patroni 3.0.2 + PostgreSQL 15, N nodes on 127.0.0.1 and
 * free ports, in a temp dir, against an etcd from test/harness/etcd.ts (Patroni's `etcd3:` section)
 * or a ZooKeeper from test/harness/zookeeper.ts (Patroni's `zookeeper:` section, python3-kazoo).
 * Patroni runs as the `postgres` user (Postgres refuses root). Everything is stopped by PID, and the
 * postmaster by its pid file when Patroni is gone (Patroni starts it in its own session).
 */
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EtcdInstance } from './etcd.js';
import type { ZookeeperInstance } from './zookeeper.js';
import { openZkClient } from './zookeeper.js';
import { freePorts, removeDir, requireBinary, sleep, startProcess, tempDir, waitFor, type RunningProcess } from './process.js';
import { PG_BIN_DIR, SYSTEM_PATH, postgresAccount, run } from './postgres.js';

export interface PatroniNode {
  readonly name: string;
  readonly pgPort: number;
  readonly apiPort: number;
  readonly dir: string;
  readonly configFile: string;
  /** True while this node's Patroni process runs. */
  running(): boolean;
  /** SIGTERM to Patroni (it stops Postgres), then makes sure the postmaster is gone too. */
  stop(): Promise<void>;
  /** SIGKILL to Patroni and to the postmaster's whole session (backends included). */
  kill9(): Promise<void>;
  /** Starts Patroni again on the same ports and data dir. */
  start(): Promise<void>;
  /** Patroni's log so far. */
  log(): string;
}

export interface PatroniCluster {
  readonly scope: string;
  readonly namespace: string;
  readonly dir: string;
  readonly nodes: PatroniNode[];
  /** Milliseconds from start to a leader plus every replica running. */
  readonly bootstrapMs: number;
  /** The name in the leader key now ('' when there is none). */
  leader(): Promise<string>;
  /** Waits for a leader key naming a running member; returns its name. */
  waitForLeader(timeoutMs?: number, not?: string): Promise<string>;
  /** Waits until `n` members say role replica, state running. */
  waitForReplicas(n: number, timeoutMs?: number): Promise<void>;
  /** `patronictl switchover --force`; returns the candidate's name. */
  switchover(candidate?: string): Promise<string>;
  /** Runs SQL through TCP as the superuser; returns psql's unaligned, tuples-only output, trimmed. */
  psql(port: number, sql: string): Promise<string>;
  /** Starts one more node (it joins as a replica); resolves when its Patroni runs. */
  addNode(): Promise<PatroniNode>;
  node(name: string): PatroniNode;
  /** Member keys (name → parsed JSON) as they are in etcd now. */
  members(): Promise<Map<string, Record<string, unknown>>>;
  stop(): Promise<void>;
}

export interface PatroniClusterOptions {
  /** The DCS: an etcd (etcd3:) … */
  etcd?: EtcdInstance;
  /** … or a ZooKeeper (zookeeper:). Exactly one of the two. */
  zookeeper?: ZookeeperInstance;
  scope: string;
  namespace?: string;
  nodes?: number;
  /** Name prefix for the nodes ('pg' → pg1, pg2 …). */
  namePrefix?: string;
  /** Extra Patroni tags per node index (0-based). */
  tags?: (index: number) => Record<string, unknown> | undefined;
}

export async function psql(port: number, sql: string, timeoutMs = 15_000): Promise<string> {
  const out = await run(
    'psql',
    ['-X', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql],
    { PGCONNECT_TIMEOUT: '3', PGPASSWORD: 'postgres' },
    timeoutMs,
  );
  return out.trim();
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** PIDs whose parent is `pid` (from /proc), for killing a postmaster together with its children. */
function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …; comm may contain spaces, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/**
 * PIDs of the processes working in `dir` (their cwd): every PostgreSQL process of a data directory
 * is, including a backend forked just before its postmaster was SIGKILLed (re-parented to init, so
 * no longer its child) — such a backend otherwise waits on its client long after the test.
 */
function pidsWorkingIn(dir: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) === dir) out.push(Number(entry));
    } catch {
      /* exited meanwhile, or not ours to read */
    }
  }
  return out;
}

function signalPids(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, signal);
    } catch {
      /* gone */
    }
  }
}

function nodeConfig(o: {
  scope: string;
  namespace: string;
  name: string;
  /** The DCS section of patroni.yml. */
  dcs: string;
  apiPort: number;
  pgPort: number;
  dir: string;
  tags: Record<string, unknown> | undefined;
}): string {
  const tags = o.tags ? `tags:\n${Object.entries(o.tags).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join('\n')}\n` : '';
  return `scope: ${o.scope}
namespace: ${o.namespace}
name: ${o.name}
log:
  level: INFO
restapi:
  listen: 127.0.0.1:${o.apiPort}
  connect_address: 127.0.0.1:${o.apiPort}
${o.dcs}
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 2
    retry_timeout: 5
    maximum_lag_on_failover: 1048576
    postgresql:
      use_pg_rewind: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        wal_log_hints: "on"
        fsync: "off"
        synchronous_commit: "off"
        full_page_writes: "off"
  initdb:
    - encoding: UTF8
    - locale: C
    - auth: trust
postgresql:
  listen: 127.0.0.1:${o.pgPort}
  connect_address: 127.0.0.1:${o.pgPort}
  data_dir: ${o.dir}/data
  bin_dir: ${PG_BIN_DIR}
  pgpass: ${o.dir}/pgpass
  authentication:
    replication:
      username: replicator
      password: rep
    superuser:
      username: postgres
      password: postgres
  parameters:
    unix_socket_directories: ${o.dir}
    shared_buffers: 16MB
    max_connections: 40
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 trust
    - host all all 127.0.0.1/32 trust
${tags}`;
}

/** Postmasters run in their own sessions: kill them too if the test process exits without stop(). */
const postmasterKillers = new Set<() => void>();
process.once('exit', () => {
  for (const kill of postmasterKillers) kill();
});
// A test runner that times out sends SIGTERM, which skips 'exit' handlers: turn it into an exit, so
// Patroni (process.ts's exit handler) and the postmasters (above) are killed too.
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => process.exit(sig === 'SIGINT' ? 130 : 143));
}

export async function startPatroniCluster(opts: PatroniClusterOptions): Promise<PatroniCluster> {
  const patroniBin = requireBinary('/usr/bin/patroni', 'patroni');
  requireBinary('/usr/bin/patronictl', 'patroni');
  requireBinary(join(PG_BIN_DIR, 'postgres'), 'postgresql-15');
  requireBinary('psql', 'postgresql-client-15');
  requireBinary('setpriv', 'util-linux');
  const pgUser = postgresAccount();
  const scope = opts.scope;
  const namespace = '/' + (opts.namespace ?? '/service').replace(/^\/+|\/+$/g, '');
  const namePrefix = opts.namePrefix ?? 'pg';
  const dir = tempDir(`patroni-${scope}`);
  chmodSync(dir, 0o755); // traversable by postgres
  if ((opts.etcd === undefined) === (opts.zookeeper === undefined)) throw new Error('startPatroniCluster: give etcd or zookeeper');
  if (opts.zookeeper) requireBinary('/usr/lib/python3/dist-packages/kazoo/client.py', 'python3-kazoo');
  const dcs = opts.etcd ? `etcd3:\n  hosts: 127.0.0.1:${opts.etcd.clientPort}` : `zookeeper:\n  hosts: ['${opts.zookeeper?.node}']`;
  const nodes: PatroniNode[] = [];
  const keyPrefix = `${namespace}/${scope}`;

  async function createNode(index: number): Promise<PatroniNode> {
    const name = `${namePrefix}${index + 1}`;
    let [pgPort, apiPort] = (await freePorts(2)) as [number, number];
    // A custom tag that proves the REST API answering on apiPort is this node's (ports picked as
    // free can be taken by another test's process before Patroni binds them).
    const token = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const nodeTags = (): Record<string, unknown> => ({ ...(opts.tags?.(index) ?? {}), haconfd_test_node: token });
    const ndir = join(dir, name);
    mkdirSync(ndir, { mode: 0o700 });
    chownSync(ndir, pgUser.uid, pgUser.gid);
    const configFile = join(ndir, 'patroni.yml');
    const writeConfig = (): void => {
      writeFileSync(configFile, nodeConfig({ scope, namespace, name, dcs, apiPort, pgPort, dir: ndir, tags: nodeTags() }));
      chmodSync(configFile, 0o644);
    };
    writeConfig();
    let proc: RunningProcess | undefined;

    const postmasterPid = (): number | undefined => {
      try {
        const first = readFileSync(join(ndir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0];
        const pid = Number(first);
        return Number.isInteger(pid) && pid > 0 && pidAlive(pid) ? pid : undefined;
      } catch {
        return undefined;
      }
    };
    /** Signals the postmaster (its backends and workers have their own sessions: SIGKILL reaches them by PID). */
    const killPostmaster = async (signal: NodeJS.Signals): Promise<void> => {
      const pid = postmasterPid();
      if (pid === undefined) return;
      const kids = signal === 'SIGKILL' ? childPids(pid) : [];
      signalPids([pid, ...kids], signal);
      await waitFor(`postmaster ${pid} of ${name} to exit`, () => !pidAlive(pid), 10_000, 20).catch(() => {
        signalPids([pid, ...childPids(pid)], 'SIGKILL');
      });
    };

    postmasterKillers.add(() => {
      const pm = postmasterPid();
      if (pm !== undefined) signalPids([pm, ...childPids(pm)], 'SIGKILL');
      signalPids(pidsWorkingIn(join(ndir, 'data')), 'SIGKILL');
    });
    const node: PatroniNode = {
      name,
      get pgPort() {
        return pgPort;
      },
      get apiPort() {
        return apiPort;
      },
      dir: ndir,
      configFile,
      running: () => proc !== undefined && !proc.exited(),
      log: () => proc?.log() ?? '',
      start: async () => {
        if (proc !== undefined && !proc.exited()) return;
        for (let attempt = 1; ; attempt++) {
          const logFile = join(dir, `${name}.log`);
          const p = startProcess(
            'setpriv',
            ['--reuid=postgres', '--regid=postgres', '--init-groups', patroniBin, configFile],
            { logFile, cwd: ndir, env: { PATH: SYSTEM_PATH, HOME: ndir, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } },
          );
          proc = p;
          const logStart = p.log().length;
          try {
            await waitFor(`Patroni REST API of ${name} on ${apiPort} (log: ${logFile})`, async () => {
              if (p.exited()) throw new Error(`patroni ${name} exited: ${p.log().slice(logStart).slice(-1500)}`);
              const r = await fetch(`http://127.0.0.1:${apiPort}/patroni`).catch(() => undefined);
              if (r === undefined) return false;
              const body = (await r.json().catch(() => ({}))) as { tags?: Record<string, unknown> };
              return body.tags?.['haconfd_test_node'] === token;
            }, 60_000, 100);
            return;
          } catch (e) {
            const conflict = /Address already in use/.test(p.log().slice(logStart));
            await p.stop(5000);
            if (!conflict || attempt >= 3) throw e;
            // Someone took a port between freePorts() and Patroni's bind: new ports, same data dir.
            [pgPort, apiPort] = (await freePorts(2)) as [number, number];
            writeConfig();
          }
        }
      },
      stop: async () => {
        if (proc !== undefined) await proc.stop(15_000);
        await killPostmaster('SIGINT');
        signalPids(pidsWorkingIn(join(ndir, 'data')), 'SIGKILL');
      },
      kill9: async () => {
        const pm = postmasterPid();
        const kids = pm === undefined ? [] : childPids(pm);
        proc?.kill('SIGKILL');
        if (pm !== undefined) signalPids([pm, ...kids], 'SIGKILL');
        if (proc !== undefined) await proc.stop(1000);
        if (pm !== undefined) await waitFor(`postmaster of ${name} to die`, () => !pidAlive(pm), 5000, 20).catch(() => undefined);
        // Postgres children that outlive a SIGKILLed postmaster exit on their own; make sure (and
        // catch one forked after `kids` was listed: it works in the data directory too).
        signalPids(kids.filter(pidAlive), 'SIGKILL');
        signalPids(pidsWorkingIn(join(ndir, 'data')), 'SIGKILL');
      },
    };
    return node;
  }

  /** Leader and member znodes through a short ZooKeeper session. */
  const zkRead = async <T>(fn: (c: Awaited<ReturnType<typeof openZkClient>>) => Promise<T>): Promise<T> => {
    const c = await openZkClient((opts.zookeeper as ZookeeperInstance).node);
    try {
      return await fn(c);
    } finally {
      await c.close();
    }
  };
  const members = async (): Promise<Map<string, Record<string, unknown>>> => {
    if (opts.zookeeper) {
      return zkRead(async (c) => {
        const m = new Map<string, Record<string, unknown>>();
        const kids = await c.getChildren(`${keyPrefix}/members`);
        for (const k of kids?.children ?? []) {
          const d = await c.getData(`${keyPrefix}/members/${k}`);
          try {
            if (d) m.set(k, JSON.parse(d.data.toString('utf8')) as Record<string, unknown>);
          } catch {
            /* not JSON: skip */
          }
        }
        return m;
      });
    }
    const etcd = opts.etcd as EtcdInstance;
    const out = await etcd.ctl(['get', '--prefix', `${keyPrefix}/members/`, '-w', 'json']);
    const parsed = JSON.parse(out) as { kvs?: { key: string; value: string }[] };
    const m = new Map<string, Record<string, unknown>>();
    for (const kv of parsed.kvs ?? []) {
      const key = Buffer.from(kv.key, 'base64').toString('utf8');
      const value = Buffer.from(kv.value, 'base64').toString('utf8');
      try {
        m.set(key.slice(key.lastIndexOf('/') + 1), JSON.parse(value) as Record<string, unknown>);
      } catch {
        /* not JSON: skip */
      }
    }
    return m;
  };
  const leader = async (): Promise<string> =>
    opts.zookeeper
      ? zkRead(async (c) => (await c.getData(`${keyPrefix}/leader`))?.data.toString('utf8').trim() ?? '')
      : ((await (opts.etcd as EtcdInstance).ctl(['get', '--print-value-only', `${keyPrefix}/leader`])).trim());

  const cluster: PatroniCluster = {
    scope,
    namespace,
    dir,
    nodes,
    bootstrapMs: 0,
    leader,
    members,
    node: (name) => {
      const n = nodes.find((x) => x.name === name);
      if (n === undefined) throw new Error(`no node ${name} in cluster ${scope}`);
      return n;
    },
    waitForLeader: async (timeoutMs = 60_000, not?: string) =>
      waitFor(`a leader of ${scope}${not ? ` other than ${not}` : ''}`, async () => {
        const l = await leader();
        if (l === '' || l === not) return undefined;
        const m = (await members()).get(l);
        const role = m?.['role'];
        return m !== undefined && m['state'] === 'running' && (role === 'master' || role === 'primary') ? l : undefined;
      }, timeoutMs, 200),
    waitForReplicas: async (n, timeoutMs = 90_000) => {
      await waitFor(`${n} running replicas in ${scope}`, async () => {
        const ms = [...(await members()).values()];
        return ms.filter((m) => m['role'] === 'replica' && m['state'] === 'running').length >= n;
      }, timeoutMs, 250);
    },
    switchover: async (candidate?: string) => {
      const current = await leader();
      if (current === '') throw new Error(`switchover in ${scope}: no leader`);
      const target = candidate ?? nodes.find((n) => n.name !== current && n.running())?.name;
      if (target === undefined) throw new Error(`switchover in ${scope}: no candidate`);
      const anyNode = nodes.find((n) => n.running()) ?? nodes[0];
      if (anyNode === undefined) throw new Error('no nodes');
      // patronictl refuses (and still exits 0, printing "Switchover failed") while the candidate is
      // not yet streaming, e.g. right after bootstrap: wait for it, then retry a refused attempt.
      const leaderNode = nodes.find((n) => n.name === current);
      if (leaderNode !== undefined) {
        await waitFor(`${target} streaming from ${current}`, async () => {
          const streaming = await psql(leaderNode.pgPort, "select application_name from pg_stat_replication where state = 'streaming'");
          return streaming.split('\n').includes(target);
        }, 30_000, 200);
      }
      let lastOutput = '';
      for (let attempt = 1; attempt <= 3; attempt++) {
        lastOutput = await run('/usr/bin/patronictl', ['-c', anyNode.configFile, 'switchover', '--leader', current, '--candidate', target, '--force', scope], {}, 60_000);
        if (!/switchover failed|failover failed|not healthy|is not a running/i.test(lastOutput)) return target;
        await sleep(2000);
      }
      throw new Error(`patronictl switchover ${current} → ${target} in ${scope} refused 3 times: ${lastOutput.trim()}`);
    },
    psql: (port, sql) => psql(port, sql),
    addNode: async () => {
      const node = await createNode(nodes.length);
      nodes.push(node);
      await node.start();
      return node;
    },
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
      removeDir(dir);
    },
  };

  const started = Date.now();
  try {
    const count = opts.nodes ?? 3;
    for (let i = 0; i < count; i++) nodes.push(await createNode(i));
    // The first node bootstraps; the others join once a leader exists (avoids racing initdb).
    await nodes[0]?.start();
    await cluster.waitForLeader(60_000);
    await Promise.all(nodes.slice(1).map((n) => n.start()));
    await cluster.waitForReplicas(count - 1, 90_000);
  } catch (e) {
    const logs = nodes.map((n) => `--- ${n.name}\n${n.log().slice(-1500)}`).join('\n');
    await cluster.stop();
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${logs}`);
  }
  (cluster as { bootstrapMs: number }).bootstrapMs = Date.now() - started;
  return cluster;
}

/** Waits until `probe` stops throwing, for SQL through a proxy that may still be switching. */
export async function retrySql<T>(what: string, probe: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await probe();
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${last instanceof Error ? last.message : String(last)}`);
    await sleep(250);
  }
}

