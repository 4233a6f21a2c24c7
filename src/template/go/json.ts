/**
 * JSON decoding as Go's encoding/json does it into map[string]interface{} / []interface{}: the
 * same grammar, and the same error messages ("invalid character 'x' looking for beginning of
 * value", "unexpected end of JSON input", "json: cannot unmarshal array into Go value of type
 * map[string]interface {}"), so confd's `json` / `jsonArray` fail as confd's do.
 */
import { GoError, GoMap, GoSlice, fromJson, type GoValue } from './values.js';
import { quoteWith } from './fmt.js';

function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return `'"'`;
  const q = quoteWith(c, false);
  return "'" + q.slice(1, -1) + "'";
}

class Scan {
  i = 0;
  /** The first number literal too large for a float64 (Go refuses it). */
  overflow: string | undefined;
  constructor(readonly s: string) {}
  fail(context: string): never {
    const c = this.s[this.i];
    if (c === undefined) throw new GoError('unexpected end of JSON input');
    throw new GoError(`invalid character ${quoteChar(c)} ${context}`);
  }
  skipSpace(): void {
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.i++;
      else break;
    }
  }
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function scanValue(sc: Scan): void {
  sc.skipSpace();
  const c = sc.s[sc.i];
  switch (c) {
    case '{':
      sc.i++;
      sc.skipSpace();
      if (sc.s[sc.i] === '}') {
        sc.i++;
        return;
      }
      for (;;) {
        sc.skipSpace();
        if (sc.s[sc.i] !== '"') sc.fail('looking for beginning of object key string');
        scanString(sc);
        sc.skipSpace();
        if (sc.s[sc.i] !== ':') sc.fail('after object key');
        sc.i++;
        scanValue(sc);
        sc.skipSpace();
        if (sc.s[sc.i] === ',') {
          sc.i++;
          continue;
        }
        if (sc.s[sc.i] === '}') {
          sc.i++;
          return;
        }
        sc.fail('after object key:value pair');
      }
    // eslint-disable-next-line no-fallthrough
    case '[':
      sc.i++;
      sc.skipSpace();
      if (sc.s[sc.i] === ']') {
        sc.i++;
        return;
      }
      for (;;) {
        scanValue(sc);
        sc.skipSpace();
        if (sc.s[sc.i] === ',') {
          sc.i++;
          continue;
        }
        if (sc.s[sc.i] === ']') {
          sc.i++;
          return;
        }
        sc.fail('after array element');
      }
    // eslint-disable-next-line no-fallthrough
    case '"':
      scanString(sc);
      return;
    case 't':
      scanLiteral(sc, 'true');
      return;
    case 'f':
      scanLiteral(sc, 'false');
      return;
    case 'n':
      scanLiteral(sc, 'null');
      return;
  }
  if (c === '-' || isDigit(c)) {
    scanNumber(sc);
    return;
  }
  sc.fail('looking for beginning of value');
}

function scanLiteral(sc: Scan, word: string): void {
  sc.i++;
  for (let k = 1; k < word.length; k++) {
    if (sc.s[sc.i] !== word[k]) sc.fail(`in literal ${word} (expecting '${word[k]}')`);
    sc.i++;
  }
}

function scanString(sc: Scan): void {
  sc.i++;
  for (;;) {
    const c = sc.s[sc.i];
    if (c === undefined) sc.fail('');
    if (c === '"') {
      sc.i++;
      return;
    }
    if (c === '\\') {
      sc.i++;
      const e = sc.s[sc.i];
      if (e === 'u') {
        sc.i++;
        for (let k = 0; k < 4; k++) {
          if (!/[0-9a-fA-F]/.test(sc.s[sc.i] ?? '')) sc.fail('in \\u hexadecimal character escape');
          sc.i++;
        }
        continue;
      }
      if (e !== undefined && '"\\/bfnrt'.includes(e)) {
        sc.i++;
        continue;
      }
      sc.fail('in string escape code');
    }
    if (c.charCodeAt(0) < 0x20) sc.fail('in string literal');
    sc.i++;
  }
}

function scanNumber(sc: Scan): void {
  const start = sc.i;
  scanNumberText(sc);
  if (sc.overflow === undefined) {
    const lit = sc.s.slice(start, sc.i);
    if (!Number.isFinite(Number(lit))) sc.overflow = lit;
  }
}

function scanNumberText(sc: Scan): void {
  if (sc.s[sc.i] === '-') {
    sc.i++;
    if (!isDigit(sc.s[sc.i])) sc.fail('in numeric literal');
  }
  if (sc.s[sc.i] === '0') sc.i++;
  else while (isDigit(sc.s[sc.i])) sc.i++;
  if (sc.s[sc.i] === '.') {
    sc.i++;
    if (!isDigit(sc.s[sc.i])) sc.fail('after decimal point in numeric literal');
    while (isDigit(sc.s[sc.i])) sc.i++;
  }
  if (sc.s[sc.i] === 'e' || sc.s[sc.i] === 'E') {
    sc.i++;
    if (sc.s[sc.i] === '+' || sc.s[sc.i] === '-') sc.i++;
    if (!isDigit(sc.s[sc.i])) sc.fail('in exponent of numeric literal');
    while (isDigit(sc.s[sc.i])) sc.i++;
  }
}

/** Checks `text` is one JSON value (Go's checkValid); throws GoError with Go's message. */
function checkValid(text: string): string | undefined {
  const sc = new Scan(text);
  scanValue(sc);
  sc.skipSpace();
  if (sc.i < text.length) sc.fail('after top-level value');
  return sc.overflow;
}

function kindWord(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  return 'string';
}

function hasNonFinite(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some(hasNonFinite);
  for (const k in v) if (hasNonFinite((v as Record<string, unknown>)[k])) return true;
  return false;
}

/** json.Unmarshal into map[string]interface{} (`object`) or []interface{} (`array`). */
export function unmarshalJson(text: string, target: 'object' | 'array'): GoValue {
  // JSON.parse accepts exactly the JSON grammar Go's decoder accepts; Go's scanner is run only to
  // word an error as Go does (a syntax error, or a number too large for a float64).
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    checkValid(text);
    throw new GoError('invalid JSON');
  }
  if (v === null) return target === 'object' ? new GoMap('interface {}', new Map(), true) : new GoSlice('interface {}', [], true);
  const ok = target === 'object' ? typeof v === 'object' && !Array.isArray(v) : Array.isArray(v);
  if (!ok) {
    const type = target === 'object' ? 'map[string]interface {}' : '[]interface {}';
    throw new GoError(`json: cannot unmarshal ${kindWord(v)} into Go value of type ${type}`);
  }
  if (hasNonFinite(v)) {
    const overflow = checkValid(text);
    throw new GoError(`json: cannot unmarshal number ${overflow ?? ''} into Go value of type float64`);
  }
  return fromJson(v);
}
