/**
 * Validated specs → what the templates lay out. All decisions (which lines exist, how a VIP or a
 * shell word is spelled) are made here; the templates only place them.
 */
import { parseMasterAddress, type ChkHaproxySpec } from './chkSpec.js';
import type { KeepalivedSpec, NotifySpec, VipSpec } from './spec.js';

export interface InstanceView {
  readonly name: string;
  readonly state: string;
  readonly interface: string;
  readonly virtualRouterId: number;
  readonly priority: number;
  readonly peerPriority: number;
  readonly advertInt: number;
  readonly nopreempt: boolean;
  readonly preemptDelay: number | undefined;
  /** One `virtual_ipaddress` line each, e.g. "10.0.0.10/24 dev eth0 label eth0:vip". */
  readonly vips: readonly string[];
  readonly unicastSrcIp: string | undefined;
  readonly unicastPeers: readonly string[];
  readonly authPass: string | undefined;
  readonly trackInterfaces: readonly string[];
  /** `notify_master "/path"` … lines (keyword and quoted path). */
  readonly notify: readonly { keyword: string; path: string }[];
}

export interface KeepalivedView {
  readonly routerId: string | undefined;
  readonly scriptSecurity: boolean;
  readonly scriptUser: string;
  readonly check: KeepalivedSpec['check'];
  readonly instances: readonly InstanceView[];
  /** Present when there are several instances: they move together. */
  readonly syncGroup: { name: string; instances: readonly string[] } | undefined;
}

function vipLine(v: VipSpec): string {
  return [`${v.address}/${v.prefixLength}`, v.dev ? `dev ${v.dev}` : '', v.label ? `label ${v.label}` : ''].filter(Boolean).join(' ');
}

const NOTIFY_KEYWORDS: readonly [keyof NotifySpec, string][] = [
  ['master', 'notify_master'],
  ['backup', 'notify_backup'],
  ['fault', 'notify_fault'],
  ['stop', 'notify_stop'],
  ['notify', 'notify'],
];

export function keepalivedView(spec: KeepalivedSpec): KeepalivedView {
  const instances = spec.instances.map(
    (i): InstanceView => ({
      name: i.name,
      state: i.state,
      interface: i.interface,
      virtualRouterId: i.virtualRouterId,
      priority: i.priority,
      peerPriority: i.peerPriority,
      advertInt: i.advertInt,
      nopreempt: i.nopreempt,
      preemptDelay: i.preemptDelay,
      vips: i.vips.map(vipLine),
      unicastSrcIp: i.unicastSrcIp,
      unicastPeers: i.unicastPeers,
      authPass: i.authPass,
      trackInterfaces: i.trackInterfaces,
      notify: NOTIFY_KEYWORDS.flatMap(([k, keyword]) => (i.notify[k] ? [{ keyword, path: i.notify[k] as string }] : [])),
    }),
  );
  return {
    routerId: spec.routerId,
    scriptSecurity: spec.scriptSecurity,
    scriptUser: spec.scriptUser,
    check: spec.check,
    instances,
    syncGroup: instances.length > 1 ? { name: spec.syncGroup, instances: instances.map((i) => i.name) } : undefined,
  };
}

/** A POSIX shell word: single-quoted, with embedded quotes spelled '\''. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface ChkView {
  readonly probe: string;
  readonly http: { url: string; host: string; port: number; path: string; tls: boolean } | undefined;
  readonly tcp: { host: string; ports: string } | undefined;
  readonly masterTcp: { host: string; port: number } | undefined;
  readonly masterUnix: { path: string } | undefined;
  readonly probeTimeout: number;
  readonly restart: { cmd: string; timeout: number; interval: number; stampFile: string } | undefined;
}

export function chkView(spec: ChkHaproxySpec): ChkView {
  let http: ChkView['http'];
  if (spec.probe === 'http') {
    const u = new URL(spec.statsUrl);
    const tls = u.protocol === 'https:';
    http = {
      url: shellQuote(spec.statsUrl),
      host: shellQuote(u.hostname.replace(/^\[|\]$/g, '')),
      port: u.port === '' ? (tls ? 443 : 80) : Number(u.port),
      path: shellQuote(`${u.pathname}${u.search}`),
      tls,
    };
  }
  const master = spec.probe === 'master' ? parseMasterAddress(spec.masterSocket) : undefined;
  return {
    probe: spec.probe,
    http,
    tcp: spec.probe === 'tcp' ? { host: shellQuote(spec.tcpHost), ports: spec.tcpPorts.join(' ') } : undefined,
    masterTcp: master?.kind === 'tcp' ? { host: master.host, port: master.port } : undefined,
    masterUnix: master?.kind === 'unix' ? { path: master.path } : undefined,
    probeTimeout: spec.probeTimeout,
    restart:
      spec.restartCmd === undefined
        ? undefined
        : { cmd: shellQuote(spec.restartCmd), timeout: spec.restartTimeout, interval: spec.restartInterval, stampFile: spec.restartStampFile },
  };
}
