/**
 * Extracts `server <name> <addr>:<port>` lines per backend (`listen` or `backend` section) from a
 * rendered haproxy.cfg. Pure; only what the server-state file filter needs, not a config parser.
 */

export interface ConfigServer {
  readonly backend: string;
  readonly server: string;
  /** Address as written (IP or host name), without brackets or `ipv4@`/`ipv6@` prefix. */
  readonly addr: string;
  /** Port, or undefined when the line has none. */
  readonly port: number | undefined;
}

const SECTION = /^(listen|backend|frontend|defaults|global|peers|resolvers|userlist|program|http-errors|ring|mailers|cache)\b\s*(\S*)/;

/** Splits `addr:port` (also `[v6]:port`, `ipv4@…`, `ipv6@…`, and a bare v6 address). */
export function splitServerAddress(text: string): { addr: string; port: number | undefined } {
  let t = text.replace(/^(ipv4|ipv6)@/, '');
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (bracket) return { addr: bracket[1] as string, port: bracket[2] === undefined ? undefined : Number(bracket[2]) };
  const colons = (t.match(/:/g) ?? []).length;
  if (colons === 0) return { addr: t, port: undefined };
  if (colons === 1) {
    const [a, p] = t.split(':') as [string, string];
    return { addr: a, port: p === '' ? undefined : Number(p) };
  }
  // Bare IPv6 with a trailing :port (HAProxy reads the last colon as the port separator).
  const i = t.lastIndexOf(':');
  const p = t.slice(i + 1);
  if (/^\d+$/.test(p)) return { addr: t.slice(0, i), port: Number(p) };
  t = t.replace(/:$/, '');
  return { addr: t, port: undefined };
}

export function extractConfigServers(configText: string): ConfigServer[] {
  const out: ConfigServer[] = [];
  let backend: string | undefined;
  for (const raw of configText.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    const startsSection = !/^\s/.test(raw) || SECTION.test(line);
    const sec = SECTION.exec(line);
    if (sec && startsSection) {
      const kind = sec[1];
      backend = kind === 'listen' || kind === 'backend' ? (sec[2] as string) : undefined;
      continue;
    }
    if (backend === undefined) continue;
    const f = line.split(/\s+/);
    if (f[0] !== 'server' || f.length < 3) continue;
    const { addr, port } = splitServerAddress(f[2] as string);
    out.push({ backend, server: f[1] as string, addr, port });
  }
  return out;
}
