/**
 * Throw-away networks made of Linux network namespaces: one namespace holding a bridge, and hosts
 * joined to it by veth pairs (each host sees its end as `eth0`). Addresses come from a private test
 * range (10.213.0.0/16) that exists only inside these namespaces. Everything is removed by name,
 * and every process still inside is killed by PID, in destroy().
 *
 * If the machine does not allow `ip netns add` (not root, no CAP_SYS_ADMIN), createNetwork throws
 * an error saying so: the test fails, it is never skipped.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { requireBinary, startProcess, type RunningProcess } from './process.js';

export interface NetHost {
  /** The namespace name. */
  readonly ns: string;
  /** The host's address on the bridge (without prefix). */
  readonly address: string;
  /** Its interface, always "eth0". */
  readonly iface: string;
}

export interface TestNetwork {
  /** "10.213.N" — the /24 the hosts live in. */
  readonly subnet: string;
  readonly prefixLength: 24;
  readonly hosts: Record<string, NetHost>;
  /** Runs a command inside a namespace, returning stdout; throws with stderr on failure. */
  exec(ns: string, cmd: string, args: readonly string[], timeoutMs?: number): string;
  /** Same, but never throws: { code, stdout, stderr }. */
  tryExec(ns: string, cmd: string, args: readonly string[], timeoutMs?: number): { code: number; stdout: string; stderr: string };
  /** Starts a long-running program inside a namespace (its own process group). */
  start(ns: string, cmd: string, args: readonly string[], logFile: string): RunningProcess;
  /** IPv4 addresses on a host's eth0. */
  addresses(host: string): string[];
  destroy(): Promise<void>;
}

function ip(args: readonly string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
}

function errText(e: unknown): string {
  const err = e as { stderr?: Buffer | string; message?: string };
  const stderr = err.stderr === undefined ? '' : String(err.stderr).trim();
  return stderr || err.message || String(e);
}

/** Creates namespaces `<tag>-br` plus one per host name, hosts numbered .1, .2 … in 10.213.N.0/24. */
export function createNetwork(tag: string, hostNames: readonly string[]): TestNetwork {
  requireBinary('ip', 'iproute2');
  const id = `${tag}${process.pid % 10000}${randomBytes(2).toString('hex')}`;
  const subnet = `10.213.${1 + (randomBytes(1)[0] as number) % 250}`;
  const brNs = `${id}-br`;
  const created: string[] = [];
  const started: RunningProcess[] = [];
  const hosts: Record<string, NetHost> = {};

  const destroy = async (): Promise<void> => {
    for (const p of started) await p.stop(2000).catch(() => undefined);
    for (const ns of created) {
      // Anything still running inside (a forked child) is killed by PID before the namespace goes.
      let pids: string[] = [];
      try {
        pids = ip(['netns', 'pids', ns]).split(/\s+/).filter((p) => /^\d+$/.test(p));
      } catch {
        pids = [];
      }
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      try {
        ip(['netns', 'del', ns]);
      } catch {
        /* already gone */
      }
    }
  };

  try {
    try {
      ip(['netns', 'add', brNs]);
    } catch (e) {
      throw new Error(
        `network namespaces are not permitted on this machine ('ip netns add' failed: ${errText(e)}); ` +
          'this test needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN), as CI provides',
      );
    }
    created.push(brNs);
    ip(['-n', brNs, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', brNs, 'link', 'set', 'br0', 'up']);
    hostNames.forEach((name, i) => {
      const ns = `${id}-${name}`;
      ip(['netns', 'add', ns]);
      created.push(ns);
      const peer = `v${i}`;
      ip(['link', 'add', 'name', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', peer, 'netns', brNs]);
      ip(['-n', brNs, 'link', 'set', peer, 'master', 'br0']);
      ip(['-n', brNs, 'link', 'set', peer, 'up']);
      const address = `${subnet}.${i + 1}`;
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      hosts[name] = { ns, address, iface: 'eth0' };
    });
  } catch (e) {
    void destroy();
    throw e;
  }

  const tryExec = (ns: string, cmd: string, args: readonly string[], timeoutMs = 10_000): { code: number; stdout: string; stderr: string } => {
    try {
      const stdout = execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: timeoutMs,
      });
      return { code: 0, stdout, stderr: '' };
    } catch (e) {
      const err = e as { status?: number | null; stdout?: string; stderr?: string };
      return { code: err.status ?? -1, stdout: String(err.stdout ?? ''), stderr: String(err.stderr ?? errText(e)) };
    }
  };

  return {
    subnet,
    prefixLength: 24,
    hosts,
    tryExec,
    exec(ns, cmd, args, timeoutMs) {
      const r = tryExec(ns, cmd, args, timeoutMs);
      if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} in ${ns} exited ${r.code}: ${r.stderr.trim()}`);
      return r.stdout;
    },
    start(ns, cmd, args, logFile) {
      const p = startProcess('ip', ['netns', 'exec', ns, cmd, ...args], { logFile });
      started.push(p);
      return p;
    },
    addresses(host) {
      const h = hosts[host];
      if (h === undefined) throw new Error(`no host ${host}`);
      const out = ip(['-n', h.ns, '-4', '-o', 'addr', 'show', 'dev', h.iface]);
      return [...out.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1] as string);
    },
    destroy,
  };
}
