/**
 * A confdir for the e2e tests: the shipped templates/haproxy.cfg.hbs and a resource that renders it
 * for Patroni clusters on loopback ports and reloads HAProxy through its master socket, keeping
 * runtime state. Paths of the sockets and the state file live in `dir`.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './cli.js';

export interface HaproxyResourceOptions {
  readonly dir: string;
  readonly statsPort: number;
  /** Write and read port per Patroni scope. */
  readonly clusters: Readonly<Record<string, { readonly write: number; readonly read: number }>>;
  readonly checkInter: string;
  readonly hardStopAfter: string;
  /** Optional resource `wait` (quiescence), e.g. { min: '100ms', max: '1s' }. */
  readonly wait?: { readonly min: string; readonly max: string };
  /** `hold_timeout` of the write listens; unset = the shipped default ('30s'). */
  readonly holdTimeout?: string;
  /**
   * `server_maxconn`: keep it below the Postgres nodes' max_connections so that a burst (held
   * connections released at once) queues in HAProxy instead of failing in Postgres.
   */
  readonly serverMaxconn?: number;
  /** `log_target`, e.g. "stdout": HAProxy's own log (servers going DOWN/UP, one tcplog line per session). */
  readonly logTarget?: string;
}

export interface HaproxyResourcePaths {
  readonly confdir: string;
  readonly cfgFile: string;
  readonly adminSocket: string;
  readonly masterSocket: string;
  readonly stateFile: string;
}

export function writeHaproxyResource(o: HaproxyResourceOptions): HaproxyResourcePaths {
  const confdir = join(o.dir, 'etc');
  mkdirSync(join(confdir, 'conf.d'), { recursive: true });
  mkdirSync(join(confdir, 'templates'), { recursive: true });
  // The shipped pair: the template and the Lua hold it loads from beside itself.
  for (const f of ['haproxy.cfg.hbs', 'haconfd-hold.lua']) copyFileSync(join(REPO, 'templates', f), join(confdir, 'templates', f));
  const paths: HaproxyResourcePaths = {
    confdir,
    cfgFile: join(o.dir, 'haproxy.cfg'),
    adminSocket: join(o.dir, 'admin.sock'),
    masterSocket: join(o.dir, 'master.sock'),
    stateFile: join(o.dir, 'server-state'),
  };
  const q = (v: string): string => JSON.stringify(v);
  const clusters = Object.entries(o.clusters)
    .map(([scope, p]) => `[template.vars.clusters.${scope}]\nprimary_port = ${p.write}\nreplica_port = ${p.read}\n`)
    .join('\n');
  writeFileSync(
    join(confdir, 'conf.d/haproxy.toml'),
    `[template]
src = "haproxy.cfg.hbs"
dest = ${q(paths.cfgFile)}
prefix = "/service"
keys = ["/"]
check_cmd = "haproxy -c -f {{.src}}"
min_keys = 1
${o.wait ? `wait = { min = ${q(o.wait.min)}, max = ${q(o.wait.max)} }\n` : ''}
# Reload through the master socket, saving runtime state first and confirming the new worker.
[template.haproxy]
reload = "master-socket"
master_socket = ${q(paths.masterSocket)}
admin_socket = ${q(paths.adminSocket)}
state_file = ${q(paths.stateFile)}

[template.vars]
bind_address = "127.0.0.1"
stats_address = "127.0.0.1"
stats_port = ${o.statsPort}
check_inter = ${q(o.checkInter)}
runtime_socket = ${q(paths.adminSocket)}
server_state_file = ${q(paths.stateFile)}
hard_stop_after = ${q(o.hardStopAfter)}
${o.holdTimeout !== undefined ? `hold_timeout = ${q(o.holdTimeout)}\n` : ''}${o.serverMaxconn !== undefined ? `server_maxconn = ${o.serverMaxconn}\n` : ''}${o.logTarget !== undefined ? `log_target = ${q(o.logTarget)}\n` : ''}
${clusters}`,
  );
  return paths;
}
