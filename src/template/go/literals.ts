/**
 * Go's literal syntax as strconv reads it: quoted and raw strings (Unquote), character constants
 * (UnquoteChar) and numbers (ParseInt / ParseUint / ParseFloat with base prefixes and `_`).
 */

export class SyntaxError_ extends Error {
  constructor(message = 'invalid syntax') {
    super(message);
  }
}

function lower(c: string): string {
  return c.toLowerCase();
}

/** Go's underscoreOK: `_` only between digits (or after a base prefix). */
export function underscoreOK(text: string): boolean {
  let s = text;
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'box'.includes(lower(s[1] as string))) {
    i = 2;
    saw = '0';
    hex = lower(s[1] as string) === 'x';
  }
  for (; i < s.length; i++) {
    const c = s[i] as string;
    if ((c >= '0' && c <= '9') || (hex && lower(c) >= 'a' && lower(c) <= 'f')) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

function parseUnsignedDigits(s0: string, base0: boolean): bigint | undefined {
  let s = s0;
  if (s === '') return undefined;
  let base = 10;
  if (base0) {
    if (s[0] === '0') {
      if (s.length >= 3 && lower(s[1] as string) === 'b') {
        base = 2;
        s = s.slice(2);
      } else if (s.length >= 3 && lower(s[1] as string) === 'o') {
        base = 8;
        s = s.slice(2);
      } else if (s.length >= 3 && lower(s[1] as string) === 'x') {
        base = 16;
        s = s.slice(2);
      } else {
        base = 8;
        s = s.slice(1);
      }
    }
  }
  let n = 0n;
  const b = BigInt(base);
  let underscores = false;
  for (const c of s) {
    if (c === '_' && base0) {
      underscores = true;
      continue;
    }
    const d = parseInt(c, 36);
    if (Number.isNaN(d) || d >= base) return undefined;
    n = n * b + BigInt(d);
    if (n > UINT64_MAX) return undefined;
  }
  if (underscores && !underscoreOK(s0)) return undefined;
  return n;
}

/** strconv.ParseUint(text, 0, 64); undefined on any error. */
export function parseUint(text: string): bigint | undefined {
  if (text === '' || text[0] === '+' || text[0] === '-') return undefined;
  return parseUnsignedDigits(text, true);
}

/** strconv.ParseInt(text, 0, 64); undefined on any error. */
export function parseInt64(text: string): bigint | undefined {
  let s = text;
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  const u = parseUnsignedDigits(s, true);
  if (u === undefined) return undefined;
  const v = neg ? -u : u;
  if (v < INT64_MIN || v > INT64_MAX) return undefined;
  return v;
}

/** strconv.ParseFloat(text, 64) for the forms the lexer produces; undefined on any error. */
export function parseFloat64(text: string): number | undefined {
  let s = text;
  if (s.includes('_')) {
    if (!underscoreOK(s)) return undefined;
    s = s.replace(/_/g, '');
  }
  let sign = 1;
  if (s[0] === '+' || s[0] === '-') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  let v: number;
  const hex = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/.exec(s);
  if (hex) {
    const intPart = hex[1] ?? '';
    const frac = hex[2] ?? '';
    if (intPart === '' && frac === '') return undefined;
    let mant = 0;
    for (const c of intPart + frac) mant = mant * 16 + parseInt(c, 16);
    v = mant * Math.pow(2, Number(hex[3]) - 4 * frac.length);
  } else if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) {
    v = Number(s);
  } else {
    return undefined;
  }
  if (!Number.isFinite(v)) return undefined;
  return sign * v;
}

function hexVal(c: string | undefined): number {
  if (c === undefined) return -1;
  const d = parseInt(c, 16);
  return Number.isNaN(d) ? -1 : d;
}

/**
 * One (possibly escaped) character of a Go literal starting at `s[i]`, quoted by `quote`.
 * Returns the code point (or a byte value, with `isByte`) and the index after it.
 */
function unquoteChar(s: string, i: number, quote: string): { value: number; isByte: boolean; next: number } {
  const c = s[i];
  if (c === undefined) throw new SyntaxError_();
  if (c === quote && (quote === "'" || quote === '"')) throw new SyntaxError_();
  if (c !== '\\') {
    const cp = s.codePointAt(i) as number;
    return { value: cp, isByte: false, next: i + (cp > 0xffff ? 2 : 1) };
  }
  const e = s[i + 1];
  switch (e) {
    case 'a':
      return { value: 7, isByte: false, next: i + 2 };
    case 'b':
      return { value: 8, isByte: false, next: i + 2 };
    case 'f':
      return { value: 12, isByte: false, next: i + 2 };
    case 'n':
      return { value: 10, isByte: false, next: i + 2 };
    case 'r':
      return { value: 13, isByte: false, next: i + 2 };
    case 't':
      return { value: 9, isByte: false, next: i + 2 };
    case 'v':
      return { value: 11, isByte: false, next: i + 2 };
    case 'x':
    case 'u':
    case 'U': {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      let v = 0;
      for (let j = 0; j < n; j++) {
        const d = hexVal(s[i + 2 + j]);
        if (d < 0) throw new SyntaxError_();
        v = v * 16 + d;
      }
      if (e === 'x') return { value: v, isByte: true, next: i + 2 + n };
      if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) throw new SyntaxError_();
      return { value: v, isByte: false, next: i + 2 + n };
    }
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': {
      let v = 0;
      for (let j = 0; j < 3; j++) {
        const d = s.charCodeAt(i + 1 + j) - 48;
        if (!(d >= 0 && d <= 7)) throw new SyntaxError_();
        v = v * 8 + d;
      }
      if (v > 255) throw new SyntaxError_();
      return { value: v, isByte: true, next: i + 4 };
    }
    case '\\':
      return { value: 92, isByte: false, next: i + 2 };
    case "'":
    case '"':
      if (e !== quote) throw new SyntaxError_();
      return { value: e.charCodeAt(0), isByte: false, next: i + 2 };
    default:
      throw new SyntaxError_();
  }
}

/** strconv.Unquote for "..." and `...`; throws SyntaxError_ ("invalid syntax"). */
export function unquote(s: string): string {
  if (s.length < 2) throw new SyntaxError_();
  const q = s[0];
  if (q !== s[s.length - 1]) throw new SyntaxError_();
  const body = s.slice(1, -1);
  if (q === '`') {
    if (body.includes('`')) throw new SyntaxError_();
    return body.replace(/\r/g, '');
  }
  if (q !== '"') throw new SyntaxError_();
  if (!body.includes('\\') && !body.includes('"') && !body.includes('\n')) return body;
  const bytes: number[] = [];
  let i = 0;
  while (i < body.length) {
    if (body[i] === '\n') throw new SyntaxError_();
    const { value, isByte, next } = unquoteChar(body, i, '"');
    if (isByte) bytes.push(value);
    else for (const b of Buffer.from(String.fromCodePoint(value), 'utf8')) bytes.push(b);
    i = next;
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The code point of a character constant such as 'a' or '\n'; throws SyntaxError_ or a malformed error. */
export function unquoteCharConstant(text: string): number {
  const { value, next } = unquoteChar(text, 1, "'");
  if (text.slice(next) !== "'") throw new SyntaxError_(`malformed character constant: ${text}`);
  return value;
}
