/**
 * The read side of a snapshot with confd's query semantics. Keys given to a Store are relative to
 * its prefix ("/members/pg1" under prefix "/service/demo"); results carry relative keys too.
 */
import type { Snapshot } from './snapshot.js';
import { isUnderPrefix, joinKeys, normalizeKey } from './keys.js';

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

/** Thrown by `get` for a key that is not there; the message names the key. */
export class MissingKeyError extends Error {
  override readonly name = 'MissingKeyError';
  constructor(readonly key: string) {
    super(`key not found: ${key}`);
  }
}

/** Compiles a confd glob ('*' matches within one path segment, '?' one character) to a RegExp. */
export function globToRegExp(pattern: string): RegExp {
  let re = '^';
  for (const ch of normalizeKey(pattern)) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

export class Store {
  private sortedKeys: string[] | undefined;

  constructor(
    readonly snapshot: Snapshot,
    /** Absolute prefix that relative keys are joined to. '/' for none. */
    readonly prefix: string = '/',
  ) {
    this.prefix = normalizeKey(prefix);
  }

  get revision(): number {
    return this.snapshot.revision;
  }

  /** The same snapshot seen under another prefix. */
  withPrefix(prefix: string): Store {
    return new Store(this.snapshot, prefix);
  }

  private abs(key: string): string {
    return joinKeys(this.prefix, key);
  }

  private rel(abs: string): string {
    if (this.prefix === '/') return abs;
    const r = abs.slice(this.prefix.length);
    return r === '' ? '/' : r;
  }

  /** Absolute keys under this store's prefix, sorted. */
  private keysUnderPrefix(): string[] {
    if (this.sortedKeys === undefined) {
      this.sortedKeys = [...this.snapshot.pairs.keys()].filter((k) => isUnderPrefix(k, this.prefix)).sort();
    }
    return this.sortedKeys;
  }

  /** Absolute keys under this store's prefix, sorted (computed once per Store; do not modify). */
  absoluteKeys(): readonly string[] {
    return this.keysUnderPrefix();
  }

  /** Number of keys under this store's prefix. */
  size(): number {
    return this.keysUnderPrefix().length;
  }

  exists(key: string): boolean {
    return this.snapshot.pairs.has(this.abs(key));
  }

  /** The pair at `key`; throws MissingKeyError naming the key when absent. */
  get(key: string): KeyValue {
    const abs = this.abs(key);
    const value = this.snapshot.pairs.get(abs);
    if (value === undefined) throw new MissingKeyError(normalizeKey(key));
    return { key: this.rel(abs), value };
  }

  /** The value at `key`, or `fallback` when given; throws naming the key otherwise. */
  getv(key: string, fallback?: string): string {
    const value = this.snapshot.pairs.get(this.abs(key));
    if (value !== undefined) return value;
    if (fallback !== undefined) return fallback;
    throw new MissingKeyError(normalizeKey(key));
  }

  /** Pairs whose key matches the glob, sorted by key. No match → []. */
  gets(pattern: string): KeyValue[] {
    const re = globToRegExp(this.abs(pattern));
    const out: KeyValue[] = [];
    for (const k of this.keysUnderPrefix()) {
      if (re.test(k)) out.push({ key: this.rel(k), value: this.snapshot.pairs.get(k) as string });
    }
    return out;
  }

  /** Values whose key matches the glob, sorted by value. */
  getvs(pattern: string): string[] {
    return this.gets(pattern)
      .map((kv) => kv.value)
      .sort();
  }

  /** Names of the immediate children of `dir` (keys and directories), sorted, unique. */
  ls(dir: string): string[] {
    return this.children(dir, false);
  }

  /** Names of the immediate children of `dir` that have children of their own, sorted, unique. */
  lsdir(dir: string): string[] {
    return this.children(dir, true);
  }

  private children(dir: string, dirsOnly: boolean): string[] {
    const base = this.abs(dir);
    const start = base === '/' ? '/' : base + '/';
    const names = new Set<string>();
    for (const k of this.keysUnderPrefix()) {
      if (!k.startsWith(start)) continue;
      const rest = k.slice(start.length);
      const slash = rest.indexOf('/');
      if (slash < 0) {
        if (!dirsOnly && rest !== '') names.add(rest);
      } else if (slash > 0) {
        names.add(rest.slice(0, slash));
      }
    }
    return [...names].sort();
  }
}
