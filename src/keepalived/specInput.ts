/**
 * Loosely typed input (`[template.vars]`, values read from the DCS, CLI flags) → the typed specs.
 * Numbers may arrive as strings (etcd, flags), lists as comma-separated strings. Type problems are
 * errors naming the field; the rules themselves live in spec.ts / chkSpec.ts.
 *
 * Only VRRP data may come from the store (VIPs, router id, priorities, auth …); paths, users and
 * commands come from the resource file alone.
 */
import type { Store } from '../store/store.js';
import type { ChkHaproxySpec, ProbeKind } from './chkSpec.js';
import type { KeepalivedSpec, NotifySpec, SpecError, VipSpec, VrrpInstanceSpec, VrrpState } from './spec.js';

export type SpecVars = Readonly<Record<string, unknown>>;

export const DEFAULTS = {
  virtualRouterId: 51,
  advertInt: 1,
  chkScript: '/etc/keepalived/chk_haproxy.sh',
  chkInterval: 2,
  chkTimeout: 2,
  chkRise: 2,
  chkFall: 2,
  /** With preemption: far beyond the usual 1–50 gap between the pair's priorities. */
  chkWeightPreempt: -50,
  /** With nopreempt: a failed check puts the instance in FAULT, the only way the VIP moves. */
  chkWeightNopreempt: 0,
  scriptUser: 'root',
  syncGroup: 'VG_1',
  statsUrl: 'http://127.0.0.1:7000/',
  tcpHost: '127.0.0.1',
  masterSocket: '/run/haproxy-master.sock',
  probeTimeout: 1,
  restartTimeout: 10,
  restartInterval: 60,
  restartStampFile: '/run/chk_haproxy.restart',
} as const;

/** Keys an instance may set (in `[[template.vars.instances]]` or at the top level as the default). */
export const INSTANCE_KEYS = [
  'name', 'state', 'interface', 'virtual_router_id', 'priority', 'peer_priority', 'advert_int', 'nopreempt',
  'preempt_delay', 'vip', 'vips', 'unicast_src_ip', 'unicast_peers', 'peer', 'auth_pass', 'track_interfaces',
  'notify', 'notify_master', 'notify_backup', 'notify_fault', 'notify_stop',
] as const;

export const GLOBAL_KEYS = [
  'router_id', 'enable_script_security', 'script_user', 'sync_group', 'instances',
  'chk_script', 'chk_interval', 'chk_timeout', 'chk_rise', 'chk_fall', 'chk_weight',
] as const;

export const CHK_KEYS = [
  'probe', 'stats_url', 'tcp_host', 'tcp_ports', 'master_socket', 'probe_timeout', 'restart_cmd', 'restart_timeout',
  'restart_interval', 'restart_stamp_file',
] as const;

/** Keys that may be read from the store under the resource's prefix (`/vip`, `/vips/*` …). */
export const STORE_SCALAR_KEYS = [
  'vip', 'virtual_router_id', 'advert_int', 'auth_pass', 'priority', 'peer_priority', 'state', 'nopreempt',
  'interface', 'unicast_src_ip', 'router_id', 'chk_weight', 'preempt_delay',
] as const;
export const STORE_LIST_KEYS = ['vips', 'unicast_peers', 'track_interfaces'] as const;

const ALL_KEYS: readonly string[] = [...INSTANCE_KEYS, ...GLOBAL_KEYS, ...CHK_KEYS];

class Reader {
  readonly errors: SpecError[] = [];

  str(field: string, v: unknown): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v.trim();
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    this.errors.push({ field, message: `must be a string (got ${JSON.stringify(v)})` });
    return undefined;
  }

  int(field: string, v: unknown): number | undefined {
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) return Number(v);
    this.errors.push({ field, message: `must be a whole number (got ${JSON.stringify(v)})` });
    return Number.NaN;
  }

  bool(field: string, v: unknown): boolean | undefined {
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string' && /^(true|1|yes|on)$/i.test(v.trim())) return true;
    if (typeof v === 'string' && /^(false|0|no|off)$/i.test(v.trim())) return false;
    this.errors.push({ field, message: `must be true or false (got ${JSON.stringify(v)})` });
    return undefined;
  }

  list(field: string, v: unknown): unknown[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v)) return v;
    if (typeof v === 'string') return v.split(/[\s,]+/).filter((s) => s !== '');
    return [v];
  }

  strList(field: string, v: unknown): string[] | undefined {
    const l = this.list(field, v);
    if (l === undefined) return undefined;
    const out: string[] = [];
    for (const x of l) {
      const s = this.str(field, x);
      if (s !== undefined && s !== '') out.push(s);
    }
    return out;
  }

  intList(field: string, v: unknown): number[] | undefined {
    const l = this.list(field, v);
    if (l === undefined) return undefined;
    return l.map((x) => this.int(field, x)).filter((x): x is number => x !== undefined);
  }
}

/** "10.0.0.10/24", "10.0.0.10/24 dev eth1 label eth1:vip" or {address, dev, label}. */
export function parseVip(v: unknown): VipSpec {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const base = parseVip(String(o['address'] ?? ''));
    return {
      ...base,
      ...(o['dev'] !== undefined ? { dev: String(o['dev']) } : {}),
      ...(o['label'] !== undefined ? { label: String(o['label']) } : {}),
    };
  }
  const text = String(v).trim();
  const tokens = text.split(/\s+/);
  const first = tokens[0] ?? '';
  const m = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(first);
  let address = m ? (m[1] as string) : '';
  const prefixLength = m && m[2] !== undefined ? Number(m[2]) : undefined;
  let dev: string | undefined;
  let label: string | undefined;
  for (let i = 1; i < tokens.length; i += 2) {
    const k = tokens[i];
    const val = tokens[i + 1];
    if (k === 'dev' && val !== undefined) dev = val;
    else if (k === 'label' && val !== undefined) label = val;
    else address = ''; // anything else makes the VIP unusable; reported by validateSpec
  }
  return { address, prefixLength, text, ...(dev !== undefined ? { dev } : {}), ...(label !== undefined ? { label } : {}) };
}

/** `[template.vars]` with the store's values (under the resource prefix) laid over them. */
export function mergeStoreValues(vars: SpecVars, store: Store | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...vars };
  if (store === undefined) return out;
  for (const k of STORE_SCALAR_KEYS) {
    if (store.exists(`/${k}`)) out[k] = store.getv(`/${k}`);
  }
  for (const k of STORE_LIST_KEYS) {
    const values = store.getvs(`/${k}/*`);
    if (values.length > 0) out[k] = values;
  }
  // The store's VIP(s) replace the vars' in either spelling (`vips` would otherwise win over `vip`).
  if (store.exists('/vip') && store.getvs('/vips/*').length === 0) delete out['vips'];
  else if (store.getvs('/vips/*').length > 0) delete out['vip'];
  return out;
}

function unknownKeys(vars: SpecVars, r: Reader): void {
  for (const k of Object.keys(vars)) {
    if (!ALL_KEYS.includes(k)) r.errors.push({ field: k, message: 'is not a keepalived setting haconfd knows (a typo?)' });
  }
}

function readInstance(
  r: Reader,
  top: SpecVars,
  own: SpecVars,
  index: number,
  prefix: string,
  nopreemptAny: { value: boolean },
): VrrpInstanceSpec {
  const pick = (k: string): unknown => (own[k] !== undefined ? own[k] : top[k]);
  const f = (k: string): string => `${prefix}${k}`;
  for (const k of own === top ? [] : Object.keys(own)) {
    if (!(INSTANCE_KEYS as readonly string[]).includes(k)) r.errors.push({ field: f(k), message: 'is not an instance setting' });
  }
  const priority = r.int(f('priority'), pick('priority'));
  if (priority === undefined) r.errors.push({ field: f('priority'), message: 'is missing: give this host a priority 1–254 (e.g. 101 on one host, 100 on the other)' });
  const p = priority ?? Number.NaN;
  const peerGiven = r.int(f('peer_priority'), pick('peer_priority'));
  const peerPriority = peerGiven ?? (p === 100 ? 101 : 100);
  const nopreempt = r.bool(f('nopreempt'), pick('nopreempt')) ?? false;
  if (nopreempt) nopreemptAny.value = true;
  const stateText = r.str(f('state'), pick('state'));
  const state: VrrpState =
    stateText !== undefined && stateText !== ''
      ? (stateText.toUpperCase() as VrrpState)
      : nopreempt
        ? 'BACKUP'
        : p > peerPriority
          ? 'MASTER'
          : 'BACKUP';
  const vipsRaw = own['vips'] ?? own['vip'] ?? top['vips'] ?? top['vip'];
  const vipList = vipsRaw === undefined ? [] : Array.isArray(vipsRaw) ? vipsRaw : typeof vipsRaw === 'string' ? vipsRaw.split(',').filter((s) => s.trim() !== '') : [vipsRaw];
  const peers = r.strList(f('unicast_peers'), pick('unicast_peers') ?? pick('peer')) ?? [];
  const notify: NotifySpec = {
    ...opt('notify', r.str(f('notify'), pick('notify'))),
    ...opt('master', r.str(f('notify_master'), pick('notify_master'))),
    ...opt('backup', r.str(f('notify_backup'), pick('notify_backup'))),
    ...opt('fault', r.str(f('notify_fault'), pick('notify_fault'))),
    ...opt('stop', r.str(f('notify_stop'), pick('notify_stop'))),
  };
  const topVrid = r.int('virtual_router_id', top['virtual_router_id']);
  const ownVrid = r.int(f('virtual_router_id'), own === top ? undefined : own['virtual_router_id']);
  const authPass = r.str(f('auth_pass'), pick('auth_pass'));
  const unicastSrc = r.str(f('unicast_src_ip'), pick('unicast_src_ip'));
  return {
    name: r.str(f('name'), own['name']) || `VI_${index + 1}`,
    state,
    interface: r.str(f('interface'), pick('interface')) ?? '',
    virtualRouterId: ownVrid ?? (topVrid ?? DEFAULTS.virtualRouterId) + (own === top ? 0 : index),
    priority: p,
    peerPriority,
    peerPriorityAssumed: peerGiven === undefined,
    advertInt: r.int(f('advert_int'), pick('advert_int')) ?? DEFAULTS.advertInt,
    nopreempt,
    preemptDelay: r.int(f('preempt_delay'), pick('preempt_delay')),
    vips: vipList.map(parseVip),
    unicastSrcIp: unicastSrc === '' ? undefined : unicastSrc,
    unicastPeers: peers,
    authPass: authPass === '' ? undefined : authPass,
    trackInterfaces: r.strList(f('track_interfaces'), pick('track_interfaces')) ?? [],
    notify,
  };
}

function opt<K extends string>(k: K, v: string | undefined): Partial<Record<K, string>> {
  return v === undefined || v === '' ? {} : ({ [k]: v } as Record<K, string>);
}

/** Builds the keepalived spec; `errors` are type problems (validateSpec adds the rules). */
export function keepalivedSpecFromVars(vars: SpecVars): { spec: KeepalivedSpec; errors: SpecError[] } {
  const r = new Reader();
  unknownKeys(vars, r);
  const nopreemptAny = { value: false };
  const listed = vars['instances'];
  let instances: VrrpInstanceSpec[];
  if (listed !== undefined) {
    if (!Array.isArray(listed) || !listed.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x))) {
      r.errors.push({ field: 'instances', message: 'must be a list of tables ([[template.vars.instances]])' });
      instances = [];
    } else {
      instances = (listed as SpecVars[]).map((own, i) => readInstance(r, vars, own, i, listed.length > 1 ? `instances[${i}].` : '', nopreemptAny));
    }
  } else {
    instances = [readInstance(r, vars, vars, 0, '', nopreemptAny)];
  }
  const routerId = r.str('router_id', vars['router_id']);
  const spec: KeepalivedSpec = {
    routerId: routerId === '' ? undefined : routerId,
    scriptSecurity: r.bool('enable_script_security', vars['enable_script_security']) ?? true,
    scriptUser: r.str('script_user', vars['script_user']) || DEFAULTS.scriptUser,
    check: {
      script: r.str('chk_script', vars['chk_script']) || DEFAULTS.chkScript,
      interval: r.int('chk_interval', vars['chk_interval']) ?? DEFAULTS.chkInterval,
      timeout: r.int('chk_timeout', vars['chk_timeout']) ?? DEFAULTS.chkTimeout,
      rise: r.int('chk_rise', vars['chk_rise']) ?? DEFAULTS.chkRise,
      fall: r.int('chk_fall', vars['chk_fall']) ?? DEFAULTS.chkFall,
      weight: r.int('chk_weight', vars['chk_weight']) ?? (nopreemptAny.value ? DEFAULTS.chkWeightNopreempt : DEFAULTS.chkWeightPreempt),
    },
    instances,
    syncGroup: r.str('sync_group', vars['sync_group']) || DEFAULTS.syncGroup,
  };
  return { spec, errors: r.errors };
}

/** Builds the chk_haproxy.sh spec from the same vars (only its keys and chk_timeout are read). */
export function chkSpecFromVars(vars: SpecVars): { spec: ChkHaproxySpec; errors: SpecError[] } {
  const r = new Reader();
  unknownKeys(vars, r);
  const probe = (r.str('probe', vars['probe']) || 'http').toLowerCase() as ProbeKind;
  const restart = r.str('restart_cmd', vars['restart_cmd']);
  const spec: ChkHaproxySpec = {
    probe,
    statsUrl: r.str('stats_url', vars['stats_url']) || DEFAULTS.statsUrl,
    tcpHost: r.str('tcp_host', vars['tcp_host']) || DEFAULTS.tcpHost,
    tcpPorts: r.intList('tcp_ports', vars['tcp_ports']) ?? [],
    masterSocket: r.str('master_socket', vars['master_socket']) || DEFAULTS.masterSocket,
    probeTimeout: r.int('probe_timeout', vars['probe_timeout']) ?? DEFAULTS.probeTimeout,
    keepalivedTimeout: r.int('chk_timeout', vars['chk_timeout']) ?? DEFAULTS.chkTimeout,
    restartCmd: restart === '' ? undefined : restart,
    restartTimeout: r.int('restart_timeout', vars['restart_timeout']) ?? DEFAULTS.restartTimeout,
    restartInterval: r.int('restart_interval', vars['restart_interval']) ?? DEFAULTS.restartInterval,
    restartStampFile: r.str('restart_stamp_file', vars['restart_stamp_file']) || DEFAULTS.restartStampFile,
  };
  return { spec, errors: r.errors };
}
