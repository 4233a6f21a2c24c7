/**
 * `haconfd keepalived render …` — one host's keepalived.conf and chk_haproxy.sh for deploy scripts.
 * Prints both files, or writes them into -dest DIR (temp file + fsync + rename; the script 0755,
 * root-owned when run as root). A refused spec writes nothing and exits 2, naming every bad field.
 *
 * Exit: 0 ok, 1 could not write, 2 usage error or refused spec.
 */
import { resolve } from 'node:path';
import { commitStageFile, removeStageFile, writeStageFile, type StagedFile } from '../resource/stageFile.js';
import { resolveChkSpec, resolveKeepalivedSpec } from '../keepalived/resolveSpec.js';
import { assumptionsOf } from '../keepalived/helpers.js';
import { renderKeepalivedFiles } from '../keepalived/renderFiles.js';
import { inspectScriptPath } from '../keepalived/scriptPath.js';
import type { SpecError } from '../keepalived/spec.js';
import { parseArgs, UsageError, type FlagSet } from '../config/flags.js';

export interface KeepalivedCommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const USAGE = `usage:
  haconfd keepalived render --vip 10.0.0.10/24 --interface eth0 --priority 101 [options] [-dest DIR]

  VRRP instance
    --vip CIDR              virtual IP with prefix (repeat for several; "CIDR dev IF label IF:x" allowed)
    --interface IF          interface that carries VRRP (required)
    --priority N            this host's priority, 1-254 (required)
    --peer-priority N       the other host's priority (default 100, or 101 when --priority is 100)
    --peer IP               unicast peer (repeat for several); without it VRRP uses multicast
    --unicast-src IP        this host's unicast source address
    --virtual-router-id N   1-255 (default 51)
    --state MASTER|BACKUP   initial state (default: MASTER on the higher priority; BACKUP with --nopreempt)
    --nopreempt             a recovered host does not take the VIP back (needs --weight 0: FAULT)
    --preempt-delay N       seconds to wait before preempting (state BACKUP only)
    --advert-int N          seconds between adverts (default 1)
    --auth-pass P           VRRP PASS authentication, at most 8 characters
    --track-interface IF    go to FAULT when IF is down (repeat for several)
    --notify PATH, --notify-master PATH, --notify-backup PATH, --notify-fault PATH, --notify-stop PATH
    --router-id NAME        global_defs router_id (default: keepalived uses the host name)
  chk_haproxy
    --weight N              -253..253: priority change when the check fails; 0 = FAULT
                            (default -50, or 0 with --nopreempt)
    --script PATH           where the script lives (default DIR/chk_haproxy.sh or /etc/keepalived/chk_haproxy.sh)
    --interval N --timeout N --rise N --fall N   vrrp_script timing (default 2 2 2 2)
    --probe http|tcp|master how the script checks HAProxy (default http)
    --stats-url URL         http probe (default http://127.0.0.1:7000/)
    --check-port N          tcp probe: a port HAProxy listens on (repeat), with --tcp-host (default 127.0.0.1)
    --master-socket ADDR    master probe: unix socket path or host:port of HAProxy's master CLI
    --probe-timeout N       seconds per probe (default 1)
    --restart-cmd CMD       try this once before failing (e.g. "systemctl restart haproxy")
    --restart-timeout N     seconds the restart may take (default 10)
    --restart-interval N    at most one restart attempt per N seconds (default 60)
  output
    -dest DIR               write DIR/keepalived.conf and the script instead of printing them
`;

/** flag → [template.vars] key; `list` flags repeat. */
const VALUE_FLAGS: Record<string, { key: string; list?: boolean }> = {
  vip: { key: 'vips', list: true },
  interface: { key: 'interface' },
  priority: { key: 'priority' },
  'peer-priority': { key: 'peer_priority' },
  peer: { key: 'unicast_peers', list: true },
  'unicast-src': { key: 'unicast_src_ip' },
  'virtual-router-id': { key: 'virtual_router_id' },
  state: { key: 'state' },
  'preempt-delay': { key: 'preempt_delay' },
  'advert-int': { key: 'advert_int' },
  'auth-pass': { key: 'auth_pass' },
  'track-interface': { key: 'track_interfaces', list: true },
  notify: { key: 'notify' },
  'notify-master': { key: 'notify_master' },
  'notify-backup': { key: 'notify_backup' },
  'notify-fault': { key: 'notify_fault' },
  'notify-stop': { key: 'notify_stop' },
  'router-id': { key: 'router_id' },
  'script-user': { key: 'script_user' },
  weight: { key: 'chk_weight' },
  script: { key: 'chk_script' },
  interval: { key: 'chk_interval' },
  timeout: { key: 'chk_timeout' },
  rise: { key: 'chk_rise' },
  fall: { key: 'chk_fall' },
  probe: { key: 'probe' },
  'stats-url': { key: 'stats_url' },
  'check-port': { key: 'tcp_ports', list: true },
  'tcp-host': { key: 'tcp_host' },
  'master-socket': { key: 'master_socket' },
  'probe-timeout': { key: 'probe_timeout' },
  'restart-cmd': { key: 'restart_cmd' },
  'restart-timeout': { key: 'restart_timeout' },
  'restart-interval': { key: 'restart_interval' },
  dest: { key: '' },
};
const BOOL_FLAGS: Record<string, string> = { nopreempt: 'nopreempt', help: '' };

const FLAG_OF: Record<string, string> = Object.fromEntries([
  ...Object.entries(VALUE_FLAGS).filter(([, v]) => v.key !== '').map(([flag, v]) => [v.key, flag]),
  ['vip', 'vip'],
  ['nopreempt', 'nopreempt'],
]);

interface Parsed {
  vars: Record<string, unknown>;
  dest: string | undefined;
  help: boolean;
}

const FLAG_SET: FlagSet = {
  kindOf: (name) => (name === 'help' ? 'switch' : name === 'nopreempt' ? 'bool' : VALUE_FLAGS[name]?.list ? 'list' : VALUE_FLAGS[name] ? 'string' : undefined),
  names: [...Object.keys(VALUE_FLAGS), ...Object.keys(BOOL_FLAGS)],
  subcommand: true,
};

export function parseKeepalivedArgs(argv: readonly string[]): Parsed {
  const { flags, rest } = parseArgs(argv, FLAG_SET);
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  const vars: Record<string, unknown> = {};
  for (const [name, value] of flags) {
    if (name === 'help' || name === 'dest') continue;
    vars[BOOL_FLAGS[name] ?? (VALUE_FLAGS[name] as { key: string }).key] = value;
  }
  return { vars, dest: flags.get('dest') as string | undefined, help: flags.has('help') };
}

function describe(e: SpecError): string {
  const base = e.field.replace(/^instances\[\d+\]\./, '').replace(/\[\d+\]$/, '');
  const flag = FLAG_OF[base];
  return `  ${e.field}${flag ? ` (--${flag})` : ''}: ${e.message}\n`;
}

async function writeFiles(files: { path: string; content: string; mode: number }[]): Promise<void> {
  const uid = process.getuid?.() ?? 0;
  const gid = uid === 0 ? 0 : (process.getgid?.() ?? 0);
  const staged: StagedFile[] = [];
  try {
    for (const f of files) staged.push(await writeStageFile(f.path, Buffer.from(f.content, 'utf8'), { mode: f.mode, uid, gid }));
    // The script first: the config that runs it never exists without it.
    for (const s of staged) await commitStageFile(s);
    staged.length = 0;
  } finally {
    for (const s of staged) await removeStageFile(s);
  }
}

export async function runKeepalivedCommand(argv: readonly string[], io: KeepalivedCommandIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '-help' || sub === '--help' || sub === '-h') {
    io.stdout.write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'render') {
    io.stderr.write(`haconfd keepalived: unknown command "${sub}"\n${USAGE}`);
    return 2;
  }
  let parsed: Parsed;
  try {
    parsed = parseKeepalivedArgs(rest);
  } catch (e) {
    // One line that says what is wrong and what to type, not the whole usage.
    io.stderr.write(`haconfd keepalived render: ${(e as Error).message}; see haconfd keepalived render --help\n`);
    return 2;
  }
  if (parsed.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const vars = { ...parsed.vars };
  const destDir = parsed.dest === undefined ? undefined : resolve(parsed.dest);
  if (destDir !== undefined && vars['chk_script'] === undefined) vars['chk_script'] = resolve(destDir, 'chk_haproxy.sh');

  const k = resolveKeepalivedSpec(vars, { pathFacts: inspectScriptPath });
  const c = resolveChkSpec(vars);
  const errors = [...k.errors, ...c.errors.filter((e) => !k.errors.some((x) => x.field === e.field && x.message === e.message))];
  if (errors.length > 0) {
    io.stderr.write(`haconfd keepalived render: refused, nothing written (${errors.length} error${errors.length > 1 ? 's' : ''}):\n`);
    for (const e of errors) io.stderr.write(describe(e));
    return 2;
  }
  for (const w of assumptionsOf(k.spec)) io.stderr.write(`haconfd keepalived render: note: ${w.message} (--peer-priority)\n`);
  let files;
  try {
    files = renderKeepalivedFiles(vars);
  } catch (e) {
    io.stderr.write(`haconfd keepalived render: ${(e as Error).message}\n`);
    return 2;
  }
  if (destDir === undefined) {
    io.stdout.write(`# ==> keepalived.conf <==\n${files.keepalivedConf}\n# ==> ${k.spec.check.script} <==\n${files.chkScript}`);
    return 0;
  }
  const confPath = resolve(destDir, 'keepalived.conf');
  try {
    await writeFiles([
      { path: k.spec.check.script, content: files.chkScript, mode: 0o755 },
      { path: confPath, content: files.keepalivedConf, mode: 0o644 },
    ]);
  } catch (e) {
    io.stderr.write(`haconfd keepalived render: ${(e as Error).message}\n`);
    return 1;
  }
  io.stdout.write(`wrote ${k.spec.check.script} (0755) and ${confPath}\n`);
  return 0;
}
