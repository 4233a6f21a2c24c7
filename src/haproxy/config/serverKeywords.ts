/**
 * The keywords a `server` line really has: HAProxy applies the `default-server` lines of the
 * proxy's defaults section (a `defaults … from` chain resolved), then those of the proxy that come
 * before the server, then the server's own — later ones win. Pure.
 */
import { isProxyWithServers, parseConfigSections, splitServerAddress, type ConfigLine, type ConfigSection } from './configServers.js';

/** Keywords dynamic servers refuse that only matter at start-up, with how many arguments follow. */
const STARTUP_ONLY: Readonly<Record<string, number>> = { 'init-addr': 1 };

export interface Proxy {
  readonly section: ConfigSection;
  /** The lines of the defaults section it inherits from (a `defaults … from` chain resolved). */
  readonly defaults: readonly ConfigLine[];
}

export function proxiesOf(sections: readonly ConfigSection[]): Map<string, Proxy> {
  const named = new Map<string, readonly ConfigLine[]>();
  let last: readonly ConfigLine[] = [];
  const out = new Map<string, Proxy>();
  for (const s of sections) {
    if (s.kind === 'defaults') {
      last = [...(s.from !== undefined ? (named.get(s.from) ?? []) : []), ...s.lines];
      if (s.name !== '') named.set(s.name, last);
      continue;
    }
    if (isProxyWithServers(s)) out.set(s.name, { section: s, defaults: s.from !== undefined ? (named.get(s.from) ?? []) : last });
  }
  return out;
}

export function defaultServerWords(lines: readonly ConfigLine[]): string[] {
  return lines.filter((l) => l.words[0] === 'default-server').flatMap((l) => l.words.slice(1));
}

/** Drops the keywords that only govern start-up (`init-addr …`), which dynamic servers refuse. */
export function withoutStartupOnly(words: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    const skip = STARTUP_ONLY[w];
    if (skip !== undefined) {
      i += skip;
      continue;
    }
    out.push(w);
  }
  return out;
}

/** Whether a flag keyword is on: its last occurrence wins over its `no-` form. */
export function flagOn(words: readonly string[], flag: string): boolean {
  for (let i = words.length - 1; i >= 0; i--) {
    if (words[i] === flag) return true;
    if (words[i] === `no-${flag}`) return false;
  }
  return false;
}

/** The argument of the last occurrence of `keyword`, or undefined. */
export function lastArgument(words: readonly string[], keyword: string): string | undefined {
  for (let i = words.length - 2; i >= 0; i--) if (words[i] === keyword) return words[i + 1];
  return undefined;
}

/** Every keyword of the server line at `index` of `p`, defaults first. */
export function keywordsOf(p: Proxy, index: number): string[] {
  const line = p.section.lines[index] as ConfigLine;
  return [...defaultServerWords(p.defaults), ...defaultServerWords(p.section.lines.slice(0, index)), ...line.words.slice(3)];
}

export interface EffectiveServer {
  readonly backend: string;
  readonly server: string;
  readonly addr: string;
  readonly port: number | undefined;
  readonly keywords: readonly string[];
}

/** Every server of every listen/backend with its effective keywords. */
export function effectiveServers(configText: string): EffectiveServer[] {
  const out: EffectiveServer[] = [];
  for (const p of proxiesOf(parseConfigSections(configText)).values()) {
    p.section.lines.forEach((l, index) => {
      if (l.words[0] !== 'server' || l.words.length < 3) return;
      const { addr, port } = splitServerAddress(l.words[2] as string);
      out.push({ backend: p.section.name, server: l.words[1] as string, addr, port, keywords: keywordsOf(p, index) });
    });
  }
  return out;
}
