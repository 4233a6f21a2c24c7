/**
 * DNS lookups for templates. Handlebars helpers are synchronous and name resolution is not, so a
 * render works in rounds: a helper asks the cache; a miss is recorded as pending and the helper
 * renders an empty list; the engine then awaits `resolvePending()` and renders again, now with
 * every answer in the cache.
 *
 * Results are sorted as confd sorts them, so a DNS server that shuffles its answers does not cause
 * a reload: addresses as strings, SRV records by target+port+priority+weight.
 */
import { promises as dns } from 'node:dns';

export type LookupKind = 'ip' | 'ipv4' | 'ipv6' | 'srv';

export interface SrvRecord {
  readonly target: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

export type LookupResult<K extends LookupKind> = K extends 'srv' ? readonly SrvRecord[] : readonly string[];

export interface LookupFailure {
  readonly kind: LookupKind;
  readonly name: string;
  readonly message: string;
}

export interface LookupCacheOptions {
  /** Entries older than this are looked up again (as if missing). Default: kept for the cache's life. */
  readonly ttlMs?: number;
  /** Time bound for one lookup; a lookup that takes longer fails. Default 5000 ms. */
  readonly timeoutMs?: number;
  /** DNS servers for SRV queries ("127.0.0.1:5353"); default: the system's resolv.conf servers. */
  readonly srvServers?: readonly string[];
  /** Clock, for tests of ttlMs. */
  readonly now?: () => number;
}

interface Entry {
  readonly value: readonly string[] | readonly SrvRecord[];
  readonly at: number;
  readonly error?: string;
}

const DEFAULT_TIMEOUT_MS = 5000;

function cacheKey(kind: LookupKind, name: string): string {
  return `${kind}\u0000${name}`;
}

/** confd's address order: plain string order of the printed addresses. Duplicates dropped. */
export function sortAddresses(addresses: readonly string[]): string[] {
  return [...new Set(addresses)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** confd's SRV order: by the string target+port+priority+weight (Go's `%s%d%d%d`). */
export function sortSrvRecords(records: readonly SrvRecord[]): SrvRecord[] {
  const keyOf = (r: SrvRecord): string => `${r.target}${r.port}${r.priority}${r.weight}`;
  return [...records].sort((a, b) => {
    const ka = keyOf(a);
    const kb = keyOf(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/** The SRV query name for lookupSRV "service" "proto" "name": `_service._proto.name`, or `name` alone. */
export function srvQueryName(service: string, proto: string, name: string): string {
  if (service === '' && proto === '') return name;
  return `_${service}._${proto}.${name}`;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class LookupCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, { kind: LookupKind; name: string }>();
  private readonly ttlMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly srvServers: readonly string[] | undefined;
  private resolver: dns.Resolver | undefined;

  constructor(options: LookupCacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? Number.POSITIVE_INFINITY;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
    this.srvServers = options.srvServers;
  }

  /**
   * The cached answer for (kind, name), or undefined — in which case the request is recorded as
   * pending for the next `resolvePending()`.
   */
  get<K extends LookupKind>(kind: K, name: string): LookupResult<K> | undefined {
    const key = cacheKey(kind, name);
    const entry = this.entries.get(key);
    if (entry !== undefined && this.now() - entry.at < this.ttlMs) return entry.value as LookupResult<K>;
    this.pending.set(key, { kind, name });
    return undefined;
  }

  /** The error message of the cached lookup of (kind, name), if it failed. */
  errorOf(kind: LookupKind, name: string): string | undefined {
    return this.entries.get(cacheKey(kind, name))?.error;
  }

  /** Every cached lookup that failed (its cached result is an empty list). */
  failures(): LookupFailure[] {
    const out: LookupFailure[] = [];
    for (const [key, entry] of this.entries) {
      if (entry.error === undefined) continue;
      const [kind, name] = key.split('\u0000') as [LookupKind, string];
      out.push({ kind, name, message: entry.error });
    }
    return out;
  }

  hasPending(): boolean {
    return this.pending.size > 0;
  }

  /** Resolves every pending request (concurrently) and caches the answers; failures cache []. */
  async resolvePending(): Promise<void> {
    const batch = [...this.pending.entries()];
    this.pending.clear();
    await Promise.all(
      batch.map(async ([key, { kind, name }]) => {
        try {
          const value = await withTimeout(this.resolve(kind, name), this.timeoutMs, `lookup ${name}`);
          this.entries.set(key, { value, at: this.now() });
        } catch (e) {
          this.entries.set(key, { value: [], at: this.now(), error: `${kindLabel(kind)} ${name}: ${messageOf(e)}` });
        }
      }),
    );
  }

  /** The DNS client for SRV queries, made on first use (most renders never need one). */
  private srvResolver(): dns.Resolver {
    if (this.resolver === undefined) {
      this.resolver = new dns.Resolver({ timeout: Math.min(this.timeoutMs, 2000), tries: 2 });
      if (this.srvServers !== undefined) this.resolver.setServers([...this.srvServers]);
    }
    return this.resolver;
  }

  private async resolve(kind: LookupKind, name: string): Promise<readonly string[] | readonly SrvRecord[]> {
    if (kind === 'srv') {
      const records = await this.srvResolver().resolveSrv(name);
      return sortSrvRecords(records.map((r) => ({ target: r.name, port: r.port, priority: r.priority, weight: r.weight })));
    }
    // The system resolver (getaddrinfo): /etc/hosts, nsswitch, then DNS — like Go's net.LookupIP.
    const found = await dns.lookup(name, { all: true, verbatim: true });
    const all = sortAddresses(found.map((a) => a.address));
    if (kind === 'ipv4') return all.filter((a) => a.includes('.'));
    if (kind === 'ipv6') return all.filter((a) => a.includes(':'));
    return all;
  }
}

function kindLabel(kind: LookupKind): string {
  switch (kind) {
    case 'ip':
      return 'lookupIP';
    case 'ipv4':
      return 'lookupIPV4';
    case 'ipv6':
      return 'lookupIPV6';
    case 'srv':
      return 'lookupSRV';
  }
}
