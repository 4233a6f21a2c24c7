/**
 * The keepalived pair as typed data, and the rules that keep a VRRP pair able to fail over.
 * Pure: the file system facts the script-security rule needs are passed in (see scriptPath.ts).
 *
 * Every error names the field it is about, spelled as in `[template.vars]`
 * (`instances[1].priority` when there are several instances).
 */
import { isIP } from 'node:net';

export type VrrpState = 'MASTER' | 'BACKUP';

export interface SpecError {
  readonly field: string;
  readonly message: string;
}

export interface ValidationResult {
  readonly ok: boolean;
  readonly errors: SpecError[];
}

export interface VipSpec {
  /** The address without prefix, e.g. "10.0.0.10". */
  readonly address: string;
  /** Prefix length; undefined when the VIP was given without one (an error). */
  readonly prefixLength: number | undefined;
  /** The text as given (for messages). */
  readonly text: string;
  readonly dev?: string;
  readonly label?: string;
}

export interface NotifySpec {
  readonly notify?: string;
  readonly master?: string;
  readonly backup?: string;
  readonly fault?: string;
  readonly stop?: string;
}

export interface VrrpInstanceSpec {
  readonly name: string;
  readonly state: VrrpState;
  readonly interface: string;
  readonly virtualRouterId: number;
  /** This host's priority. */
  readonly priority: number;
  /** The other host's priority for this instance (the pair-level rules need it). */
  readonly peerPriority: number;
  /** True when peerPriority was not given and the default was assumed (said in messages). */
  readonly peerPriorityAssumed: boolean;
  readonly advertInt: number;
  readonly nopreempt: boolean;
  readonly preemptDelay: number | undefined;
  readonly vips: readonly VipSpec[];
  readonly unicastSrcIp: string | undefined;
  readonly unicastPeers: readonly string[];
  readonly authPass: string | undefined;
  readonly trackInterfaces: readonly string[];
  readonly notify: NotifySpec;
}

/** `vrrp_script chk_haproxy`. */
export interface VrrpScriptSpec {
  readonly script: string;
  readonly interval: number;
  readonly timeout: number;
  readonly rise: number;
  readonly fall: number;
  /** 0: FAULT when the check fails; non-zero: the priority moves by this much. */
  readonly weight: number;
}

export interface KeepalivedSpec {
  readonly routerId: string | undefined;
  readonly scriptSecurity: boolean;
  readonly scriptUser: string;
  readonly check: VrrpScriptSpec;
  readonly instances: readonly VrrpInstanceSpec[];
  /** Name of the vrrp_sync_group written when there are several instances. */
  readonly syncGroup: string;
}

/** What the file system says about a script path (from scriptPath.ts; absent → not checked). */
export interface PathFacts {
  /** The path itself or a directory above it that a non-root user could write, with the reason. */
  readonly insecure?: string;
}

export interface ValidationContext {
  /** Looks up a script path; without it the script-security rule is not checked. */
  readonly pathFacts?: (path: string) => PathFacts;
}

export const LIMITS = {
  virtualRouterId: [1, 255],
  priority: [1, 254],
  weight: [-253, 253],
  authPassMax: 8,
  advertInt: [1, 255],
} as const;

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const USER = /^[a-z_][a-z0-9_-]{0,31}\$?$/;
/** A plain absolute path: letters, digits, . _ @ + - and /, nothing a shell would read as syntax. */
export const PLAIN_PATH = /^\/[A-Za-z0-9._@+\/-]*$/;
const AUTH_PASS = /^[\x21-\x7e]+$/;

/** Checks an absolute, plain script path (no spaces, quotes or shell syntax). */
export function scriptPathProblem(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (!path.startsWith('/')) return `"${path}" is not an absolute path`;
  if (!PLAIN_PATH.test(path) || path.includes('/../') || path.endsWith('/..')) {
    return `"${path}" must be a plain absolute path (letters, digits, . _ @ + - /)`;
  }
  return undefined;
}

function intIn(v: number, [lo, hi]: readonly [number, number]): boolean {
  return Number.isInteger(v) && v >= lo && v <= hi;
}

function familyOf(address: string): 4 | 6 | 0 {
  return isIP(address) as 4 | 6 | 0;
}

function validateVip(vip: VipSpec, iface: string, field: string, errors: SpecError[]): void {
  const fam = familyOf(vip.address);
  if (fam === 0 || vip.prefixLength === undefined) {
    errors.push({ field, message: `"${vip.text}" is not an IP address with a prefix length (e.g. 10.0.0.10/24)` });
    return;
  }
  const max = fam === 4 ? 32 : 128;
  if (!Number.isInteger(vip.prefixLength) || vip.prefixLength < 0 || vip.prefixLength > max) {
    errors.push({ field, message: `"${vip.text}": prefix length must be 0–${max}` });
  }
  if (vip.dev !== undefined && !IFNAME.test(vip.dev)) {
    errors.push({ field, message: `dev "${vip.dev}" is not an interface name` });
  }
  if (vip.label !== undefined) {
    const dev = vip.dev ?? iface;
    if (!vip.label.startsWith(`${dev}:`) || vip.label.length > 15 || !/^[A-Za-z0-9_.:-]+$/.test(vip.label)) {
      errors.push({ field, message: `label "${vip.label}" must be "${dev}:<suffix>" and at most 15 characters (the kernel's rule)` });
    }
  }
}

/**
 * A script keepalived runs (chk_script, notify*): a plain absolute path and, with script security
 * on and the file system consulted, writable by root alone.
 */
function checkScript(spec: KeepalivedSpec, ctx: ValidationContext, field: string, path: string, errors: SpecError[]): void {
  const problem = scriptPathProblem(path);
  if (problem) errors.push({ field, message: problem });
  else if (spec.scriptSecurity && ctx.pathFacts) {
    const facts = ctx.pathFacts(path);
    if (facts.insecure) errors.push({ field, message: `${path} is writable by non-root (${facts.insecure}); with enable_script_security keepalived would refuse it` });
  }
}

function validateCheck(spec: KeepalivedSpec, ctx: ValidationContext, errors: SpecError[]): void {
  const c = spec.check;
  checkScript(spec, ctx, 'chk_script', c.script, errors);
  for (const [field, v] of [['chk_interval', c.interval], ['chk_timeout', c.timeout], ['chk_rise', c.rise], ['chk_fall', c.fall]] as const) {
    if (!intIn(v, [1, 3600])) errors.push({ field, message: `must be a whole number of at least 1 (got ${v})` });
  }
  if (!intIn(c.weight, LIMITS.weight)) {
    errors.push({ field: 'chk_weight', message: `must be a whole number in ${LIMITS.weight[0]}..${LIMITS.weight[1]} (got ${c.weight})` });
  }
}

function validateInstance(spec: KeepalivedSpec, inst: VrrpInstanceSpec, prefix: string, ctx: ValidationContext, errors: SpecError[]): void {
  const f = (name: string): string => `${prefix}${name}`;
  const weight = spec.check.weight;
  if (!NAME.test(inst.name)) errors.push({ field: f('name'), message: `"${inst.name}" is not a valid instance name (letters, digits, . _ -)` });
  if (inst.state !== 'MASTER' && inst.state !== 'BACKUP') {
    errors.push({ field: f('state'), message: `must be MASTER or BACKUP (got ${JSON.stringify(inst.state)})` });
  }
  if (inst.interface === '') errors.push({ field: f('interface'), message: 'is missing: name the interface that carries VRRP (e.g. eth0)' });
  else if (!IFNAME.test(inst.interface)) errors.push({ field: f('interface'), message: `"${inst.interface}" is not an interface name` });
  if (!intIn(inst.virtualRouterId, LIMITS.virtualRouterId)) {
    errors.push({ field: f('virtual_router_id'), message: `must be 1–255 (got ${inst.virtualRouterId})` });
  }
  const priorityOk = intIn(inst.priority, LIMITS.priority);
  const peerOk = intIn(inst.peerPriority, LIMITS.priority);
  if (!priorityOk) errors.push({ field: f('priority'), message: `must be 1–254 (got ${inst.priority}; 255 is reserved for the address owner)` });
  if (!peerOk) errors.push({ field: f('peer_priority'), message: `must be 1–254 (got ${inst.peerPriority})` });
  const peerText = `peer_priority ${inst.peerPriority}${inst.peerPriorityAssumed ? ', assumed: set peer_priority' : ''}`;
  if (priorityOk && peerOk && inst.priority === inst.peerPriority) {
    errors.push({ field: f('priority'), message: `${inst.priority} is the same as the peer's (${peerText}): give the two hosts different priorities` });
  }
  if (!intIn(inst.advertInt, LIMITS.advertInt)) errors.push({ field: f('advert_int'), message: `must be a whole number of seconds 1–255 (got ${inst.advertInt})` });
  if (inst.nopreempt && inst.state === 'MASTER') {
    errors.push({ field: f('nopreempt'), message: 'only works with state BACKUP (keepalived ignores it with state MASTER): set state BACKUP on both hosts' });
  }
  if (inst.preemptDelay !== undefined) {
    if (inst.state === 'MASTER') errors.push({ field: f('preempt_delay'), message: 'only works with state BACKUP' });
    if (!intIn(inst.preemptDelay, [0, 1000])) errors.push({ field: f('preempt_delay'), message: `must be 0–1000 seconds (got ${inst.preemptDelay})` });
  }
  if (Number.isInteger(weight) && weight !== 0) {
    if (inst.nopreempt) {
      errors.push({
        field: 'chk_weight',
        message: `${weight} with ${prefix}nopreempt: the VIP would never move off a host whose HAProxy died; use chk_weight 0 (FAULT) with nopreempt, or drop nopreempt`,
      });
    } else if (priorityOk && peerOk) {
      const gap = Math.abs(inst.priority - inst.peerPriority);
      if (Math.abs(weight) <= gap) {
        errors.push({
          field: 'chk_weight',
          message: `|${weight}| does not exceed the priority gap ${gap} between ${prefix}priority ${inst.priority} and ${peerText}: the VIP would not move when HAProxy fails; use a weight beyond ${gap}`,
        });
      }
    }
  }
  if (inst.vips.length === 0) errors.push({ field: f('vip'), message: 'is missing: give at least one virtual IP with its prefix (e.g. 10.0.0.10/24)' });
  inst.vips.forEach((v, i) => validateVip(v, inst.interface, inst.vips.length > 1 ? f(`vips[${i}]`) : f('vip'), errors));
  const families = new Set(inst.vips.map((v) => familyOf(v.address)).filter((x) => x !== 0));
  if (families.size > 1) errors.push({ field: f('vips'), message: 'mixes IPv4 and IPv6 addresses: use one instance per address family' });
  const family = [...families][0];
  if (inst.unicastSrcIp !== undefined) {
    if (familyOf(inst.unicastSrcIp) === 0) errors.push({ field: f('unicast_src_ip'), message: `"${inst.unicastSrcIp}" is not an IP address` });
    else if (family !== undefined && familyOf(inst.unicastSrcIp) !== family) errors.push({ field: f('unicast_src_ip'), message: 'is not of the VIPs\' address family' });
  }
  inst.unicastPeers.forEach((p, i) => {
    const field = f(inst.unicastPeers.length > 1 ? `unicast_peers[${i}]` : 'unicast_peers');
    if (familyOf(p) === 0) errors.push({ field, message: `"${p}" is not an IP address` });
    else if (family !== undefined && familyOf(p) !== family) errors.push({ field, message: `"${p}" is not of the VIPs' address family` });
    else if (p === inst.unicastSrcIp) errors.push({ field, message: `"${p}" is this host's own unicast_src_ip` });
  });
  if (inst.authPass !== undefined) {
    if (inst.authPass.length > LIMITS.authPassMax) {
      errors.push({ field: f('auth_pass'), message: `is ${inst.authPass.length} characters; keepalived uses only the first 8, so give at most 8` });
    } else if (!AUTH_PASS.test(inst.authPass) || /["'#!{}\\]/.test(inst.authPass)) {
      errors.push({ field: f('auth_pass'), message: 'must be 1–8 printable characters without spaces, quotes, # ! { } or \\' });
    }
  }
  inst.trackInterfaces.forEach((t) => {
    if (!IFNAME.test(t)) errors.push({ field: f('track_interfaces'), message: `"${t}" is not an interface name` });
  });
  for (const [key, path] of Object.entries(inst.notify) as [keyof NotifySpec, string | undefined][]) {
    if (path === undefined) continue;
    checkScript(spec, ctx, f(key === 'notify' ? 'notify' : `notify_${key}`), path, errors);
  }
}

/** Checks every rule; `ok` is true only when there are no errors. */
export function validateSpec(spec: KeepalivedSpec, ctx: ValidationContext = {}): ValidationResult {
  const errors: SpecError[] = [];
  if (spec.routerId !== undefined && !NAME.test(spec.routerId)) {
    errors.push({ field: 'router_id', message: `"${spec.routerId}" is not a valid router id (letters, digits, . _ -)` });
  }
  if (!USER.test(spec.scriptUser)) errors.push({ field: 'script_user', message: `"${spec.scriptUser}" is not a user name` });
  if (!NAME.test(spec.syncGroup)) errors.push({ field: 'sync_group', message: `"${spec.syncGroup}" is not a valid group name` });
  validateCheck(spec, ctx, errors);
  if (spec.instances.length === 0) errors.push({ field: 'instances', message: 'there is no vrrp_instance: give a vip and an interface' });
  const several = spec.instances.length > 1;
  spec.instances.forEach((inst, i) => validateInstance(spec, inst, several ? `instances[${i}].` : '', ctx, errors));
  const names = new Set<string>();
  const vrids = new Set<string>();
  spec.instances.forEach((inst, i) => {
    const prefix = several ? `instances[${i}].` : '';
    if (names.has(inst.name)) errors.push({ field: `${prefix}name`, message: `"${inst.name}" is used by another instance` });
    names.add(inst.name);
    const key = `${inst.interface}/${inst.virtualRouterId}`;
    if (vrids.has(key)) errors.push({ field: `${prefix}virtual_router_id`, message: `${inst.virtualRouterId} is used by another instance on ${inst.interface}` });
    vrids.add(key);
  });
  return { ok: errors.length === 0, errors: dedupe(errors) };
}

function dedupe(errors: SpecError[]): SpecError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = `${e.field}\0${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** One line per error: "field: message". */
export function formatSpecErrors(errors: readonly SpecError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join('\n');
}
