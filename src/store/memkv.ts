/**
 * confd's own store queries, to the letter (kelseyhightower/memkv, which confd's Go templates call):
 * keys are matched exactly as given (no normalising), `gets` uses Go's path.Match, and `ls` /
 * `lsdir` keep memkv's quirks (`ls` of a key lists its own base name; `ls "/"` lists only
 * top-level keys). The Go engine uses these so that confd templates render byte for byte; they
 * read a Store's pairs (relative to its prefix, as confd strips its prefix).
 */
import type { KeyValue, Store } from './store.js';

/** memkv's KeyError: "key does not exist: /nope". */
export class MemkvKeyError extends Error {
  override readonly name = 'MemkvKeyError';
  constructor(readonly key: string) {
    super(`key does not exist: ${key}`);
  }
}

/** path.ErrBadPattern. */
export class BadPatternError extends Error {
  override readonly name = 'BadPatternError';
  constructor() {
    super('syntax error in pattern');
  }
}

/** Compiles Go's path.Match pattern to a RegExp; throws BadPatternError when malformed. */
export function compilePathPattern(pattern: string): RegExp {
  let re = '^';
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      i++;
      if (i >= chars.length) throw new BadPatternError();
      re += escapeRe(chars[i] as string);
    } else if (c === '[') {
      i++;
      let cls = '[';
      if (chars[i] === '^') {
        cls += '^';
        i++;
      }
      let n = 0;
      for (;;) {
        if (i >= chars.length) throw new BadPatternError();
        if (chars[i] === ']' && n > 0) break;
        let lo = chars[i] as string;
        if (lo === '\\') {
          i++;
          if (i >= chars.length) throw new BadPatternError();
          lo = chars[i] as string;
        } else if (lo === '-' || lo === ']') throw new BadPatternError();
        i++;
        let hi = lo;
        if (chars[i] === '-') {
          i++;
          if (i >= chars.length) throw new BadPatternError();
          hi = chars[i] as string;
          if (hi === '\\') {
            i++;
            if (i >= chars.length) throw new BadPatternError();
            hi = chars[i] as string;
          } else if (hi === '-' || hi === ']') throw new BadPatternError();
          i++;
          if ((hi.codePointAt(0) as number) < (lo.codePointAt(0) as number)) throw new BadPatternError();
        }
        cls += escapeClass(lo) + (hi !== lo ? '-' + escapeClass(hi) : '');
        n++;
      }
      re += cls + ']';
    } else re += escapeRe(c);
  }
  return new RegExp(re + '$', 'su');
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
function escapeClass(c: string): string {
  return c.replace(/[\]\\^-]/g, '\\$&');
}

function pathClean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return '/' + joined;
  return joined === '' ? '.' : joined;
}

function pathDir(p: string): string {
  return pathClean(p.slice(0, p.lastIndexOf('/') + 1));
}

function pathBase(p: string): string {
  if (p === '') return '.';
  const t = p.replace(/\/+$/, '');
  if (t === '') return '/';
  return t.slice(t.lastIndexOf('/') + 1);
}

function terms(p: string): string[] {
  return pathClean(p).split('/');
}

function samePrefixTerms(prefix: readonly string[], test: readonly string[]): boolean {
  if (test.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== test[i]) return false;
  return true;
}

function sorted(values: Iterable<string>): string[] {
  return [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** confd's view of a store: exact keys, relative to the prefix. */
export class Memkv {
  private readonly map: Map<string, string>;

  constructor(pairs: readonly KeyValue[]) {
    this.map = new Map(pairs.map((p) => [p.key, p.value]));
  }

  static of(store: Store): Memkv {
    return new Memkv(store.pairs());
  }

  exists(key: string): boolean {
    return this.map.has(key);
  }

  get(key: string): KeyValue {
    const value = this.map.get(key);
    if (value === undefined) throw new MemkvKeyError(key);
    return { key, value };
  }

  getv(key: string, fallback?: string): string {
    const value = this.map.get(key);
    if (value !== undefined) return value;
    if (fallback !== undefined) return fallback;
    throw new MemkvKeyError(key);
  }

  /** Pairs whose key matches the path.Match pattern, sorted by key. */
  gets(pattern: string): KeyValue[] {
    if (this.map.size === 0) return [];
    const re = compilePathPattern(pattern);
    const out: KeyValue[] = [];
    for (const [key, value] of this.map) if (re.test(key)) out.push({ key, value });
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  getvs(pattern: string): string[] {
    return sorted(this.gets(pattern).map((kv) => kv.value));
  }

  ls(filePath: string): string[] {
    const names = new Set<string>();
    const prefix = terms(filePath);
    for (const key of this.map.keys()) {
      if (key === filePath) {
        names.add(pathBase(key));
        continue;
      }
      if (samePrefixTerms(prefix, terms(pathDir(key)))) {
        let stripped = key.startsWith(filePath) ? key.slice(filePath.length) : key;
        if (stripped.startsWith('/')) stripped = stripped.slice(1);
        names.add(stripped.split('/')[0] as string);
      }
    }
    return sorted(names);
  }

  lsdir(filePath: string): string[] {
    const names = new Set<string>();
    const prefix = terms(filePath);
    for (const key of this.map.keys()) {
      if (!key.startsWith(filePath)) continue;
      const items = terms(pathDir(key));
      if (samePrefixTerms(prefix, items) && items.length - prefix.length >= 1) names.add(items[prefix.length] as string);
    }
    return sorted(names);
  }
}
