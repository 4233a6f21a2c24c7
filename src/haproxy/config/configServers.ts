/**
 * A rendered haproxy.cfg split into its sections (`global`, `defaults`, `listen`, `backend` …), and
 * the `server <name> <addr>:<port>` lines of every `listen`/`backend`. Pure; only what the
 * server-state file filter and the runtime membership diff need, not a config parser.
 */

export interface ConfigServer {
  readonly backend: string;
  readonly server: string;
  /** Address as written (IP or host name), without brackets or `ipv4@`/`ipv6@` prefix. */
  readonly addr: string;
  /** Port, or undefined when the line has none. */
  readonly port: number | undefined;
}

export interface ConfigLine {
  /** The line without its indentation and trailing blanks (comments kept, except whole-line ones). */
  readonly text: string;
  /** Whitespace-separated words with a trailing ` # comment` removed. */
  readonly words: readonly string[];
}

export interface ConfigSection {
  /** `global`, `defaults`, `listen`, `backend`, `frontend` …; '' for lines before any section. */
  readonly kind: string;
  /** The section's name ('' when it has none). */
  readonly name: string;
  /** `from <defaults>` on the header (HAProxy ≥ 2.4 named defaults), if given. */
  readonly from: string | undefined;
  readonly header: string;
  /** Every non-blank, non-comment line after the header. */
  readonly lines: readonly ConfigLine[];
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

export function parseConfigSections(configText: string): ConfigSection[] {
  const out: ConfigSection[] = [];
  let current: { kind: string; name: string; from: string | undefined; header: string; lines: ConfigLine[] } = { kind: '', name: '', from: undefined, header: '', lines: [] };
  out.push(current);
  for (const raw of configText.split('\n')) {
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) continue;
    const words = text.replace(/(^|\s)#.*$/, '').trim().split(/\s+/);
    const sec = SECTION.exec(text);
    if (sec && (!/^\s/.test(raw) || SECTION.test(text))) {
      const fromAt = words.indexOf('from');
      current = { kind: sec[1] as string, name: sec[2] === 'from' ? '' : (sec[2] as string), from: fromAt > 0 ? words[fromAt + 1] : undefined, header: text, lines: [] };
      out.push(current);
      continue;
    }
    current.lines.push({ text, words });
  }
  return out.filter((s) => s.kind !== '' || s.lines.length > 0);
}

/** True for a section that holds servers (`listen`, `backend`). */
export function isProxyWithServers(s: Pick<ConfigSection, 'kind'>): boolean {
  return s.kind === 'listen' || s.kind === 'backend';
}

export function extractConfigServers(configText: string): ConfigServer[] {
  const out: ConfigServer[] = [];
  for (const s of parseConfigSections(configText)) {
    if (!isProxyWithServers(s)) continue;
    for (const l of s.lines) {
      if (l.words[0] !== 'server' || l.words.length < 3) continue;
      const { addr, port } = splitServerAddress(l.words[2] as string);
      out.push({ backend: s.name, server: l.words[1] as string, addr, port });
    }
  }
  return out;
}
