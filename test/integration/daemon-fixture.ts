/**
 * Shared pieces of the daemon integration tests: a confdir in a temp dir, the CLI started as a
 * real process (JSON log lines parsed), HTTP probes of -listen, and an etcd3 client for writes.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { startCli } from '../harness/cli.js';
import { removeDir, tempDir, waitFor, type RunningProcess } from '../harness/process.js';

/** One line per member: "<name> <value>". */
export const MEMBER_TEMPLATE = '{{#each (gets "/members/*")}}{{base key}} {{value}}\n{{/each}}';

export interface ResourceSpec {
  readonly src?: string;
  readonly dest: string;
  readonly prefix?: string;
  readonly keys?: readonly string[];
  readonly reloadCmd?: string;
  readonly checkCmd?: string;
  readonly wait?: string;
  readonly minKeys?: number;
}

export function resourceToml(r: ResourceSpec): string {
  const lines = ['[template]', `src = ${JSON.stringify(r.src ?? 'members.hbs')}`, `dest = ${JSON.stringify(r.dest)}`];
  if (r.prefix !== undefined) lines.push(`prefix = ${JSON.stringify(r.prefix)}`);
  lines.push(`keys = ${JSON.stringify(r.keys ?? ['/members'])}`);
  if (r.reloadCmd !== undefined) lines.push(`reload_cmd = ${JSON.stringify(r.reloadCmd)}`);
  if (r.checkCmd !== undefined) lines.push(`check_cmd = ${JSON.stringify(r.checkCmd)}`);
  if (r.wait !== undefined) lines.push(`wait = ${JSON.stringify(r.wait)}`);
  if (r.minKeys !== undefined) lines.push(`min_keys = ${r.minKeys}`);
  return lines.join('\n') + '\n';
}

export interface Workspace {
  readonly dir: string;
  readonly confdir: string;
  readonly out: string;
  path(name: string): string;
  writeResource(name: string, spec: ResourceSpec | string): void;
  writeTemplate(name: string, text: string): void;
  read(name: string): string | undefined;
  /** Lines of a file the reload_cmd appends to ([] when absent). */
  lines(name: string): string[];
  cleanup(): void;
}

export function makeWorkspace(tag: string): Workspace {
  const dir = tempDir(tag);
  const confdir = join(dir, 'etc');
  const out = join(dir, 'out');
  mkdirSync(join(confdir, 'conf.d'), { recursive: true });
  mkdirSync(join(confdir, 'templates'), { recursive: true });
  mkdirSync(out, { recursive: true });
  writeFileSync(join(confdir, 'templates', 'members.hbs'), MEMBER_TEMPLATE);
  const ws: Workspace = {
    dir,
    confdir,
    out,
    path: (name) => join(out, name),
    writeResource: (name, spec) => writeFileSync(join(confdir, 'conf.d', name), typeof spec === 'string' ? spec : resourceToml(spec)),
    writeTemplate: (name, text) => writeFileSync(join(confdir, 'templates', name), text),
    read: (name) => {
      const p = join(out, name);
      return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
    },
    lines: (name) => (ws.read(name) ?? '').split('\n').filter((l) => l !== ''),
    cleanup: () => removeDir(dir),
  };
  return ws;
}

export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

export interface Daemon {
  readonly proc: RunningProcess;
  /** Every JSON log line so far (non-JSON lines are kept as {msg: line}). */
  lines(): LogLine[];
  text(): string;
  waitLog(what: string, pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM and wait; resolves the exit code. */
  stop(): Promise<number | null>;
  exitCode(): number | null;
}

export function startDaemon(ws: Workspace, args: readonly string[], env: NodeJS.ProcessEnv = {}): Daemon {
  const logFile = join(ws.dir, `haconfd-${Date.now()}-${Math.random().toString(36).slice(2, 6)}.log`);
  const proc = startCli(['-confdir', ws.confdir, '-log-format', 'json', ...args], { logFile, cwd: ws.dir, env });
  const d: Daemon = {
    proc,
    text: () => proc.log(),
    lines: () =>
      proc
        .log()
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => {
          try {
            return JSON.parse(l) as LogLine;
          } catch {
            return { msg: l };
          }
        }),
    waitLog: (what, pred, timeoutMs = 60_000) =>
      waitFor(what, () => {
        const hit = d.lines().find(pred);
        if (hit) return hit;
        if (proc.exited()) throw new Error(`haconfd exited (${String(proc.child.exitCode)}): ${proc.log().slice(-3000)}`);
        return undefined;
      }, timeoutMs, 20),
    stop: async () => {
      await proc.stop(8000);
      return proc.child.exitCode;
    },
    exitCode: () => proc.child.exitCode,
  };
  return d;
}

/** Waits for the process to exit by itself; resolves its exit code. */
export async function waitExit(d: Daemon, timeoutMs: number): Promise<number | null> {
  await waitFor('haconfd to exit', () => d.proc.exited(), timeoutMs, 20);
  return d.proc.child.exitCode;
}

export async function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, body: await r.text() };
}

/** A metric's value from Prometheus text (first series whose labels contain `labels`). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const ls = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => ls.includes(`${k}="${v}"`))) return Number(m[3]);
  }
  return undefined;
}

export async function metric(port: number, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const { body } = await httpGet(port, '/metrics');
  return metricValue(body, name, labels);
}

/**
 * Waits until `resource` has finished a pass (ending in sync) after `sinceSeconds` (Unix time,
 * seconds, e.g. `Date.now() / 1000` taken before the event that triggers it). The positive signal
 * that lets a test then assert what that pass did not do (no reload, file unchanged).
 */
export async function waitPassAfter(port: number, resource: string, sinceSeconds: number, timeoutMs = 60_000): Promise<void> {
  await waitFor(`a pass of ${resource} after ${sinceSeconds}`, async () => ((await metric(port, 'haconfd_last_success_timestamp_seconds', { resource })) ?? 0) > sinceSeconds, timeoutMs, 20);
}

/**
 * Waits until the pass that last wrote `dest` has ended (reload included): `resource`'s last pass in
 * sync ended after the file was written. Then a test can assert that nothing more happened.
 */
export async function waitSettled(port: number, resource: string, dest: string, timeoutMs = 60_000): Promise<void> {
  const writtenAt = Math.floor(statSync(dest).mtimeMs) / 1000;
  await waitFor(`the pass that wrote ${dest} to end`, async () => ((await metric(port, 'haconfd_last_success_timestamp_seconds', { resource })) ?? 0) >= writtenAt, timeoutMs, 20);
}

export function etcdClient(urls: string | readonly string[], auth?: { username: string; password: string }): Etcd3 {
  return new Etcd3({ hosts: typeof urls === 'string' ? [urls] : [...urls], ...(auth ? { auth } : {}) });
}

/** Expected content of MEMBER_TEMPLATE for name → value pairs. */
export function memberLines(members: Record<string, string>): string {
  return Object.keys(members)
    .sort()
    .map((k) => `${k} ${members[k]}\n`)
    .join('');
}

/** Remote ports of the established TCP connections of process `pid` (from /proc, no ss needed). */
export function connectedPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1] as string);
    } catch {
      /* closed meanwhile */
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '01' || !inodes.has(f[9] as string)) continue;
      ports.push(parseInt((f[2] as string).split(':')[1] as string, 16));
    }
  }
  return ports;
}
