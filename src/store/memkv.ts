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
  // The u flag only when needed: it makes V8's matching of plain ASCII keys markedly slower.
  return new RegExp(re + '$', /[\uD800-\uDFFF]/.test(pattern) ? 'u' : '');
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

/** The literal text of a path.Match pattern before its first special character. */
function literalPrefix(pattern: string): string {
  const i = pattern.search(/[*?[\\]/);
  return i < 0 ? pattern : pattern.slice(0, i);
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** confd's view of a store: exact keys, relative to the prefix. */
export class Memkv {
  /** Absolute keys, sorted. */
  private readonly abs: readonly string[];
  private readonly values: ReadonlyMap<string, string>;
  /** What is cut off an absolute key to make it relative ('' for the prefix '/'). */
  private readonly cut: string;

  private constructor(abs: readonly string[], values: ReadonlyMap<string, string>, prefix: string) {
    this.abs = abs;
    this.values = values;
    this.cut = prefix === '/' ? '' : prefix;
  }

  /** A store seen as confd sees it: its keys relative to its prefix. */
  static of(store: Store): Memkv {
    return new Memkv(store.absoluteKeys(), store.snapshot.pairs, store.prefix);
  }

  /** A store of exactly these pairs (keys as given). */
  static fromPairs(pairs: readonly KeyValue[]): Memkv {
    const values = new Map(pairs.map((p) => [p.key, p.value]));
    return new Memkv([...values.keys()].sort(compareKeys), values, '/');
  }

  private rel(abs: string): string {
    if (this.cut === '') return abs;
    const r = abs.slice(this.cut.length);
    return r === '' ? '/' : r;
  }

  private lookup(key: string): string | undefined {
    if (this.cut === '') return this.values.get(key);
    if (key === '/') return this.values.get(this.cut);
    if (!key.startsWith('/')) return undefined;
    return this.values.get(this.cut + key);
  }

  exists(key: string): boolean {
    return this.lookup(key) !== undefined;
  }

  get(key: string): KeyValue {
    const value = this.lookup(key);
    if (value === undefined) throw new MemkvKeyError(key);
    return { key, value };
  }

  getv(key: string, fallback?: string): string {
    const value = this.lookup(key);
    if (value !== undefined) return value;
    if (fallback !== undefined) return fallback;
    throw new MemkvKeyError(key);
  }

  /** Pairs whose key matches the path.Match pattern, sorted by key, each made by `make`. */
  gets<T = KeyValue>(pattern: string, make: (key: string, value: string) => T = (key, value) => ({ key, value }) as T): T[] {
    if (this.abs.length === 0) return [];
    const relRe = compilePathPattern(pattern);
    // Matched against absolute keys: the prefix, then the pattern (the same test, no slicing per key).
    const re = this.cut === '' ? relRe : new RegExp('^' + escapeRe(this.cut) + relRe.source.slice(1), relRe.flags);
    const lit = literalPrefix(pattern);
    // Only keys starting with the pattern's literal text can match: start there (keys are sorted).
    const start = this.cut === '' || lit.startsWith('/') ? this.cut + lit : this.cut;
    const abs = this.abs;
    let lo = 0;
    let hi = abs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((abs[mid] as string) < start) lo = mid + 1;
      else hi = mid;
    }
    const out: T[] = [];
    for (let i = lo; i < abs.length; i++) {
      const a = abs[i] as string;
      if (!a.startsWith(start)) break;
      if (re.test(a)) out.push(make(this.rel(a), this.values.get(a) as string));
    }
    return out;
  }

  getvs(pattern: string): string[] {
    return sorted(this.gets(pattern, (_k, v) => v));
  }

  private get keys(): string[] {
    return this.abs.map((a) => this.rel(a));
  }

  ls(filePath: string): string[] {
    const names = new Set<string>();
    const prefix = terms(filePath);
    for (const key of this.keys) {
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
    for (const key of this.keys) {
      if (!key.startsWith(filePath)) continue;
      const items = terms(pathDir(key));
      if (samePrefixTerms(prefix, items) && items.length - prefix.length >= 1) names.add(items[prefix.length] as string);
    }
    return sorted(names);
  }
}
