/**
 * A rig for the controller's integration tests: a real HAProxy 2.6 (master-worker) running the
 * shipped templates/haproxy.cfg.hbs rendered from Patroni-shaped keys, and three stand-in nodes —
 * each a TCP listener in place of Postgres (it answers with its name) and a small HTTP server in
 * place of Patroni's REST API (GET /patroni → role/state; OPTIONS /primary, /replica for HAProxy's
 * checks), whose answers the test sets, or makes hang.
 */
import { createServer as createHttpServer, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, connect, type Server as TcpServer, type Socket } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { createTemplateEngine } from '../../src/template/engine.js';
import { renderTemplate } from '../../src/template/renderTemplate.js';
import { registerPatroniHelpers } from '../../src/template/helpers/patroni.js';
import { Store } from '../../src/store/store.js';
import { createLogger, type Logger } from '../../src/log/logger.js';
import type { Snapshot } from '../../src/backends/backend.js';
import { RuntimeClient } from '../../src/haproxy/runtime/runtimeClient.js';
import { stateNameOf, type ActualServer } from '../../src/haproxy/runtime/serversState.js';
import { HaproxyController } from '../../src/haproxy/controller/controller.js';
import { parseControllerConfig } from '../../src/haproxy/controller/controllerConfig.js';
import { startHaproxy, type HaproxyInstance } from '../harness/haproxy.js';
import { freePorts, listenOn, removeDir, requireBinary, retryOnAddressInUse, tempDir, waitFor } from '../harness/process.js';
import { clusterPairs, snapshotOf, type MemberSpec } from '../harness/patroniKeys.js';
import { memoryLogger } from '../harness/memoryLogger.js';

const TEMPLATE = join(import.meta.dirname, '../../templates/haproxy.cfg.hbs');

export class FakeNode {
  role: 'master' | 'replica' | 'demoted' = 'replica';
  state = 'running';
  /** GET /patroni never answers (the connection stays open). */
  hang = false;
  /** The stand-in Postgres keeps connections open after answering (a long session). */
  hold = false;
  tags: Record<string, unknown> | undefined;
  /** Answer only once the client has sent something (as Postgres waits for the startup packet). */
  startupFirst = false;
  /** Shutting down: every new connection gets a FATAL line and is closed (see shutdown()). */
  shuttingDown = false;
  readonly apiRequests: string[] = [];
  private tcp: TcpServer | undefined;
  private http: HttpServer | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly hung = new Set<ServerResponse>();
  /** Connections that have sent nothing yet (startupFirst). */
  private readonly silent = new Set<Socket>();

  constructor(readonly name: string, readonly pgPort: number, readonly apiPort: number) {}

  async start(): Promise<void> {
    this.tcp = createTcpServer((s) => {
      this.sockets.add(s);
      s.on('close', () => {
        this.sockets.delete(s);
        this.silent.delete(s);
      });
      s.on('error', () => undefined);
      const greet = (): void => {
        if (this.shuttingDown) s.end('FATAL: the database system is shutting down\n');
        else if (this.hold) s.write(`${this.name}\n`);
        else s.end(`${this.name}\n`);
      };
      if (!this.startupFirst || this.shuttingDown) {
        greet();
        return;
      }
      this.silent.add(s);
      s.once('data', () => {
        this.silent.delete(s);
        greet();
      });
    });
    this.http = createHttpServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      this.apiRequests.push(`${req.method} ${path}`);
      if (req.method === 'GET' && path === '/patroni') {
        if (this.hang) {
          this.hung.add(res);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ state: this.state, role: this.role, server_version: 150000, patroni: { version: '3.0.2', scope: 'demo' } }));
        return;
      }
      const ok = path === '/primary' ? this.role === 'master' : path === '/replica' ? this.role === 'replica' && this.state === 'running' : false;
      res.writeHead(ok ? 200 : 503);
      res.end();
    });
    await listenOn(this.tcp, this.pgPort);
    await listenOn(this.http, this.apiPort);
  }

  /** Open connections that have sent nothing (startupFirst): a shutdown watch, for one. */
  silentConnections(): number {
    return this.silent.size;
  }

  /** Postgres's fast shutdown: every open connection is closed; new ones get a FATAL line. */
  shutdown(): void {
    this.shuttingDown = true;
    for (const s of this.sockets) s.destroy();
  }

  /** Postgres gone: connections to its port are refused. */
  async refuse(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.tcp?.listening ? this.tcp.close(() => r()) : r()));
  }

  member(): MemberSpec {
    return { name: this.name, port: this.pgPort, apiPort: this.apiPort, role: this.role, state: this.state, ...(this.tags ? { tags: this.tags } : {}) };
  }

  async stop(): Promise<void> {
    for (const r of this.hung) r.destroy();
    this.http?.closeAllConnections();
    await Promise.all([new Promise<void>((r) => (this.http?.listening ? this.http.close(() => r()) : r())), this.refuse()]);
  }
}

export interface ControllerTestOptions {
  dcsReachable?: () => boolean;
  registry?: Registry;
  /** The controller's clock (default Date.now). */
  now?: () => number;
}

export interface RigOptions {
  /** Extra lines for haproxy.cfg's global section (e.g. an operator-level socket), given the rig's dir. */
  extraGlobal?: (dir: string) => string[];
  /** More sections appended to haproxy.cfg, given the rig's dir and a free port of their own. */
  extraSections?: (dir: string, port: number) => string[];
  checkInter?: string;
  /**
   * hold_timeout of the shipped template's write listens; when set the render knows its template
   * path, so haconfd-hold.lua beside it is loaded. Unset: no hold (HAProxy's own behaviour).
   */
  holdTimeout?: string;
  /** More [template.vars] for the shipped template. */
  vars?: Record<string, unknown>;
}

export interface Rig {
  readonly dir: string;
  readonly nodes: FakeNode[];
  /** write and read: the demo cluster's listens; extra: the port handed to extraSections. */
  readonly ports: { write: number; read: number; stats: number; extra: number };
  readonly socket: string;
  readonly cfgFile: string;
  haproxy: HaproxyInstance;
  readonly client: RuntimeClient;
  readonly logs: string[];
  readonly log: Logger;
  node(name: string): FakeNode;
  /** Snapshot of cluster `demo` under /service from the nodes' roles (leader as given). */
  snapshot(leader: string | null, extra?: [string, string][], revision?: number, only?: readonly string[]): Snapshot;
  /** `name → state word` of every server of a backend (maint, drain, up, down …). */
  states(backend: string): Promise<Record<string, string>>;
  servers(): Promise<ActualServer[]>;
  /** Who answers through a port (the node's name), or an error text. */
  through(port: number): Promise<string>;
  controller(table?: Record<string, unknown>, opts?: ControllerTestOptions): HaproxyController;
  restartHaproxy(): Promise<void>;
  close(): Promise<void>;
}

let revisionCounter = 10;

/** A rig on reserved ports; built again on new ones when a program outside the harness took one. */
export async function startRig(opts: RigOptions = {}): Promise<Rig> {
  requireBinary('haproxy', 'haproxy');
  return retryOnAddressInUse('controller rig', () => startRigOnce(opts));
}

async function startRigOnce(opts: RigOptions): Promise<Rig> {
  const dir = tempDir('controller');
  const ports = await freePorts(10);
  const [write, read, stats] = ports as [number, number, number];
  const extraPort = ports[9] as number;
  const nodes = [0, 1, 2].map((i) => new FakeNode(`pg${i + 1}`, ports[3 + i] as number, ports[6 + i] as number));
  const first = nodes[0] as FakeNode;
  first.role = 'master';
  const socket = join(dir, 'admin.sock');
  const cfgFile = join(dir, 'haproxy.cfg');
  const { log, lines: logs } = memoryLogger('debug');
  const controllers: HaproxyController[] = [];
  try {
    for (const n of nodes) await n.start();
  } catch (e) {
    await Promise.all(nodes.map((n) => n.stop()));
    removeDir(dir);
    throw e;
  }

  const snapshot = (leader: string | null, extra: [string, string][] = [], revision?: number, only?: readonly string[]): Snapshot => {
    const members = nodes.filter((n) => only === undefined || only.includes(n.name)).map((n) => n.member());
    const pairs = new Map(clusterPairs('/service', 'demo', members, leader));
    for (const [k, v] of extra) pairs.set(k, v);
    return snapshotOf(pairs, revision ?? ++revisionCounter);
  };

  const compiled = createTemplateEngine([registerPatroniHelpers]).compile('haproxy.cfg.hbs', readFileSync(TEMPLATE, 'utf8'));
  const { content } = await renderTemplate(compiled, {
    store: new Store(snapshot('pg1'), '/service'),
    vars: {
      bind_address: '127.0.0.1',
      stats_address: '127.0.0.1',
      stats_port: stats,
      runtime_socket: socket,
      server_state_file: join(dir, 'server-state'),
      check_inter: opts.checkInter ?? '2s',
      timeout_check: '1s',
      hard_stop_after: '5s',
      clusters: { demo: { primary_port: write, replica_port: read } },
      ...(opts.holdTimeout !== undefined ? { hold_timeout: opts.holdTimeout } : {}),
      ...opts.vars,
    },
    resource: 'haproxy',
    ...(opts.holdTimeout !== undefined ? { templatePath: TEMPLATE } : {}),
    log: createLogger({ level: 'silent', format: 'json' }),
  });
  const withGlobal = opts.extraGlobal ? content.replace(/^global\n/m, `global\n${opts.extraGlobal(dir).map((l) => `    ${l}\n`).join('')}`) : content;
  const withSections = opts.extraSections ? `${withGlobal.replace(/\n*$/, '\n')}\n${opts.extraSections(dir, extraPort).join('\n')}\n` : withGlobal;
  writeFileSync(cfgFile, withSections);
  let haproxy: HaproxyInstance;
  try {
    haproxy = await startHaproxy({ dir, configFile: cfgFile });
  } catch (e) {
    await Promise.all(nodes.map((n) => n.stop()));
    removeDir(dir);
    throw e;
  }
  const client = new RuntimeClient(socket, { timeoutMs: 2000 });

  const rig: Rig = {
    dir,
    nodes,
    ports: { write, read, stats, extra: extraPort },
    socket,
    cfgFile,
    haproxy,
    client,
    logs,
    log,
    node: (name) => {
      const n = nodes.find((x) => x.name === name);
      if (!n) throw new Error(`no node ${name}`);
      return n;
    },
    snapshot,
    servers: () => client.showServersState(),
    states: async (backend) => {
      const out: Record<string, string> = {};
      for (const s of await client.showServersState(backend)) out[s.server] = stateNameOf(s);
      return out;
    },
    through: (port) =>
      new Promise((resolve) => {
        const s = connect({ host: '127.0.0.1', port });
        let data = '';
        const t = setTimeout(() => {
          s.destroy();
          resolve('timeout');
        }, 10_000);
        s.on('data', (d: Buffer) => (data += d.toString('utf8')));
        s.on('close', () => {
          clearTimeout(t);
          resolve(data.trim() === '' ? 'closed' : data.trim());
        });
        s.on('error', (e) => {
          clearTimeout(t);
          resolve(`error ${e.message}`);
        });
      }),
    controller: (table = {}, o = {}) => {
      const c = new HaproxyController({
        config: parseControllerConfig({ socket, overrides_file: join(dir, 'overrides.json'), interval: '200ms', confirm_timeout: '1s', ...table }),
        log,
        registry: o.registry ?? new Registry(),
        ...(o.dcsReachable ? { dcsReachable: o.dcsReachable } : {}),
        ...(o.now ? { now: o.now } : {}),
      });
      controllers.push(c);
      return c;
    },
    restartHaproxy: async () => {
      await rig.haproxy.stop();
      rig.haproxy = await startHaproxy({ dir, configFile: cfgFile });
    },
    close: async () => {
      await Promise.allSettled(controllers.map((c) => c.stop()));
      await rig.haproxy.stop().catch(() => undefined);
      await Promise.all(nodes.map((n) => n.stop()));
      removeDir(dir);
    },
  };
  return rig;
}

/** Runs `fn` with a fresh rig, always torn down. */
export async function withRig(fn: (rig: Rig) => Promise<void>, opts: RigOptions = {}): Promise<void> {
  const rig = await startRig(opts);
  try {
    await fn(rig);
  } finally {
    await rig.close();
  }
}

export const W = 'demo_primary';
export const R = 'demo_replicas';

/** Waits until `backend`'s servers are in the states wanted (`timeoutMs` is a ceiling for a loaded machine, not a speed). */
export async function waitStates(rig: Rig, backend: string, want: Record<string, string>, timeoutMs = 60_000): Promise<void> {
  let last: Record<string, string> = {};
  await waitFor(`${backend} to be ${JSON.stringify(want)}`, async () => {
    last = await rig.states(backend);
    return Object.entries(want).every(([s, st]) => last[s] === st);
  }, timeoutMs, 10).catch((e: Error) => {
    throw new Error(`${e.message}; last: ${JSON.stringify(last)}`);
  });
}

export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return NaN;
  const data = await m.get();
  return data.values
    .filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x))
    .reduce((a, v) => a + v.value, 0);
}

/** The rig's cluster led by pg1 and the controller settled on it. */
export async function steady(rig: Rig, table: Record<string, unknown> = {}, o: ControllerTestOptions = {}): Promise<HaproxyController> {
  const settled = (): number => rig.logs.filter((l) => /leader pg1 (confirmed as a running primary|not confirmed in time)/.test(l)).length;
  const before = settled();
  const c = rig.controller(table, o);
  c.setSnapshot(rig.snapshot('pg1'));
  c.start();
  // HAProxy's own checks reach these states by themselves (servers start UP; one failed check takes
  // pg2 and pg3 DOWN), so the states alone do not say the controller has routed pg1. Wait for its
  // REST confirmation to settle and for a pass after it: a test then starts from a routed leader.
  await waitFor("the controller's confirmation of pg1", () => settled() > before, 60_000, 10);
  await c.reconcileNow();
  await waitStates(rig, W, { pg1: 'up', pg2: 'down', pg3: 'down' });
  await waitStates(rig, R, { pg1: 'down', pg2: 'up', pg3: 'up' });
  return c;
}

/**
 * Writes `confdir`/haconfd.toml with a [controller] table steering the rig's HAProxy (every 200 ms,
 * overrides in the rig's dir); `keys` override or add string keys, `extra` lines go at the end.
 */
export function writeControllerToml(confdir: string, rig: Rig, keys: Record<string, string> = {}, extra = ''): void {
  const table = { socket: rig.socket, overrides_file: join(rig.dir, 'overrides.json'), interval: '200ms', ...keys };
  const lines = Object.entries(table).map(([k, v]) => `${k} = ${JSON.stringify(v)}`);
  writeFileSync(join(confdir, 'haconfd.toml'), `[controller]\n${lines.join('\n')}\n${extra}\n`);
}
