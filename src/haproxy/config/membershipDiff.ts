/**
 * Can a new haproxy.cfg be applied to the running worker without a reload? Pure.
 *
 * Yes when the config HAProxy runs (`loaded`) and the new one differ only in `server` lines of
 * `listen`/`backend` sections: servers added (→ `add server`) or removed (→ `del server`). Anything
 * else — a changed server line, a new backend, a timeout, a comment on a directive — needs a reload,
 * and the reason says which line.
 *
 * `add server` (HAProxy ≥ 2.5) inherits nothing from `default-server`, so every keyword is spelled
 * out (serverKeywords.ts: the defaults section's `default-server` lines, then the proxy's before the
 * server, then the server's own). `init-addr` is dropped (it only governs start-up
 * resolution and dynamic servers refuse it). A backend with a map-based algorithm (`static-rr`, or
 * a hash without `hash-type consistent`) cannot take dynamic servers: reload.
 *
 * Also a reload: a config with HAProxy's conditional blocks (`.if` … `.endif`, HAProxy ≥ 2.4), whose
 * server lines may be inactive; and a server using `resolvers` (its own or via `default-server`),
 * which HAProxy 2.6 can neither delete nor add at runtime.
 */
import { isProxyWithServers, parseConfigSections, splitServerAddress, type ConfigLine, type ConfigSection } from './configServers.js';
import { flagOn, keywordsOf, lastArgument, proxiesOf, withoutStartupOnly, type Proxy } from './serverKeywords.js';
import { isHaproxyIdentifier, serverKey } from '../runtime/names.js';
import { addServerLine } from '../runtime/runtimeCommand.js';

export interface AddedServer {
  readonly backend: string;
  readonly server: string;
  /** The address as written on the server line (`10.0.0.4:5432`, `[::1]:5432`). */
  readonly address: string;
  readonly addr: string;
  readonly port: number | undefined;
  /** Every keyword for `add server`, defaults first (later ones win, as in HAProxy). */
  readonly keywords: readonly string[];
  /** `check` is on: health checks must be enabled after the add (`enable health`). */
  readonly health: boolean;
  /** `agent-check` is on (`enable agent`). */
  readonly agent: boolean;
  /** The server line as written (words joined by one space), to compare with a removed one. */
  readonly text: string;
}

export interface RemovedServer {
  readonly backend: string;
  readonly server: string;
  /** Its server line in the loaded config (words joined by one space). */
  readonly text: string;
}

export type MembershipDiff =
  | { readonly kind: 'same' }
  | { readonly kind: 'runtime'; readonly added: readonly AddedServer[]; readonly removed: readonly RemovedServer[] }
  | { readonly kind: 'reload'; readonly reason: string };

/** A word that can go on a runtime API line as it is (no `;`, quote, backslash or comment). */
const SAFE_WORD = /^[^\s;\\#'"]+$/;

/** Balance algorithms whose default hashing is map-based (static), unless `hash-type consistent`. */
const HASHED = new Set(['source', 'uri', 'url_param', 'hdr', 'rdp-cookie', 'hash']);

const isServerLine = (l: ConfigLine): boolean => l.words[0] === 'server';

/** HAProxy's conditional-block directives (HAProxy ≥ 2.4). */
const CONDITIONAL = new Set(['.if', '.elif', '.else', '.endif']);

/** The first conditional directive among the parsed lines (kept in whatever section precedes it). */
function conditionalDirective(sections: readonly ConfigSection[]): string | undefined {
  for (const s of sections) for (const l of s.lines) if (CONDITIONAL.has(l.words[0] ?? '')) return l.words[0];
  return undefined;
}

/**
 * Whether effective server keywords name a DNS `resolvers` section. HAProxy 2.6 marks such a server
 * non-purgeable, and refuses the keyword on a dynamic server. Measured with HAProxy 2.6.12:
 *   `del server b/s1` (server s1 localhost:5432 resolvers r1 init-addr none, in MAINT) →
 *     "This server cannot be removed at runtime due to other configuration elements pointing to it."
 *   (the same when `resolvers r1` comes from the backend's `default-server`);
 *   `add server b/s4 localhost:5432 resolvers r1` → "'resolvers' option is not accepted for dynamic server".
 * There is no `no-resolvers` to cancel an inherited one.
 */
const usesResolvers = (keywords: readonly string[]): boolean => lastArgument(keywords, 'resolvers') !== undefined;

/** The config without its server lines, one string per section, to compare. */
function skeleton(sections: readonly ConfigSection[]): string[] {
  return sections.map((s) => [s.header, ...s.lines.filter((l) => !(isProxyWithServers(s) && isServerLine(l))).map((l) => l.text)].join('\n'));
}

function lastValue(lines: readonly ConfigLine[], directive: string): readonly string[] | undefined {
  let v: readonly string[] | undefined;
  for (const l of lines) if (l.words[0] === directive) v = l.words.slice(1);
  return v;
}

/** Why `p` cannot take dynamic servers, or undefined. */
function dynamicRefusal(p: Proxy): string | undefined {
  const balance = lastValue(p.section.lines, 'balance') ?? lastValue(p.defaults, 'balance') ?? ['roundrobin'];
  const algo = (balance[0] ?? 'roundrobin').replace(/\(.*$/, '');
  const hashType = lastValue(p.section.lines, 'hash-type') ?? lastValue(p.defaults, 'hash-type') ?? ['map-based'];
  if (algo === 'static-rr') return `backend ${p.section.name} uses balance static-rr, which cannot take servers at runtime`;
  if (HASHED.has(algo) && hashType[0] !== 'consistent') return `backend ${p.section.name} uses balance ${algo} with map-based hashing, which cannot take servers at runtime`;
  return undefined;
}

function added(p: Proxy, index: number): AddedServer | string {
  const s = p.section;
  const line = s.lines[index] as ConfigLine;
  const [, server, address] = line.words as [string, string, string];
  const keywords = withoutStartupOnly(keywordsOf(p, index));
  if (usesResolvers(keywords)) return `server ${serverKey(s.name, server)} uses resolvers, which a server added at runtime cannot`;
  const bad = [address, ...keywords].find((w) => !SAFE_WORD.test(w));
  if (bad !== undefined) return `server ${serverKey(s.name, server)} has ${JSON.stringify(bad)}, which cannot go through the runtime API`;
  const { addr, port } = splitServerAddress(address);
  return { backend: s.name, server, address, addr, port, keywords, health: flagOn(keywords, 'check'), agent: flagOn(keywords, 'agent-check'), text: line.words.join(' ') };
}

/** Server lines of a proxy by name (the line text), or a reason it cannot be diffed. */
function serversOf(p: Proxy): Map<string, { index: number; text: string }> | string {
  const out = new Map<string, { index: number; text: string }>();
  let sawServer = false;
  for (const [index, l] of p.section.lines.entries()) {
    if (!isServerLine(l)) {
      // A default-server after a server line applies only to the servers after it: moving servers
      // around it would change their keywords, so such a section is not diffed line by line.
      if (sawServer && l.words[0] === 'default-server') return `backend ${p.section.name} has default-server after a server line`;
      continue;
    }
    sawServer = true;
    const name = l.words[1];
    if (name === undefined || l.words.length < 3) return `backend ${p.section.name}: incomplete server line ${JSON.stringify(l.text)}`;
    if (out.has(name)) return `backend ${p.section.name} declares server ${name} twice`;
    out.set(name, { index, text: l.words.join(' ') });
  }
  return out;
}

export function diffMembership(loaded: string, next: string): MembershipDiff {
  const a = parseConfigSections(loaded);
  const b = parseConfigSections(next);
  const directive = conditionalDirective(a) ?? conditionalDirective(b);
  if (directive !== undefined) return { kind: 'reload', reason: `conditional block (${directive}) in the config: cannot tell which servers are active` };
  const ka = skeleton(a);
  const kb = skeleton(b);
  if (ka.length !== kb.length) return { kind: 'reload', reason: 'sections were added or removed' };
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i]) {
      const la = (ka[i] as string).split('\n');
      const lb = (kb[i] as string).split('\n');
      const j = la.findIndex((l, k) => l !== lb[k]);
      const where = (b[i] as ConfigSection).header;
      return { kind: 'reload', reason: `"${where}": ${JSON.stringify(lb[j === -1 ? la.length : j] ?? la[j] ?? '')} changed (not a server line)` };
    }
  }
  const pa = proxiesOf(a);
  const pb = proxiesOf(b);
  const add: AddedServer[] = [];
  const remove: RemovedServer[] = [];
  for (const [name, proxy] of pb) {
    const before = serversOf(pa.get(name) as Proxy);
    const after = serversOf(proxy);
    if (typeof before === 'string') return { kind: 'reload', reason: before };
    if (typeof after === 'string') return { kind: 'reload', reason: after };
    const changedHere: AddedServer[] = [];
    for (const [server, { index, text }] of after) {
      const old = before.get(server);
      if (old !== undefined) {
        if (old.text !== text) return { kind: 'reload', reason: `server ${serverKey(name, server)} changed: ${JSON.stringify(text)}` };
        continue;
      }
      const s = added(proxy, index);
      if (typeof s === 'string') return { kind: 'reload', reason: s };
      changedHere.push(s);
    }
    const gone = [...before.keys()].filter((s) => !after.has(s));
    const pinned = gone.find((s) => usesResolvers(keywordsOf(pa.get(name) as Proxy, (before.get(s) as { index: number }).index)));
    if (pinned !== undefined) return { kind: 'reload', reason: `server ${serverKey(name, pinned)} uses resolvers and cannot be deleted at runtime` };
    if (changedHere.length + gone.length === 0) continue;
    if (!isHaproxyIdentifier(name)) return { kind: 'reload', reason: `backend name ${JSON.stringify(name)} cannot go through the runtime API` };
    const bad = [...changedHere.map((s) => s.server), ...gone].find((s) => !isHaproxyIdentifier(s));
    if (bad !== undefined) return { kind: 'reload', reason: `server name ${JSON.stringify(bad)} cannot go through the runtime API` };
    if (changedHere.length > 0) {
      const refusal = dynamicRefusal(proxy);
      if (refusal !== undefined) return { kind: 'reload', reason: refusal };
    }
    add.push(...changedHere);
    for (const server of gone) remove.push({ backend: name, server, text: (before.get(server) as { text: string }).text });
  }
  if (add.length === 0 && remove.length === 0) return { kind: 'same' };
  return { kind: 'runtime', added: add, removed: remove };
}

/** The runtime API line that adds `s` (it starts in MAINT, checks off): runtimeCommand.ts builds it. */
export function addServerLineOf(s: AddedServer): string {
  return addServerLine(s.backend, s.server, s.address, s.keywords);
}
