/**
 * Go's fmt for template output: Sprint, Sprintln, Sprintf over Go values (values.ts). Verbs
 * %v %+v %#v %s %d %q %x %X %o %O %b %f %F %e %E %g %G %t %c %U %T %%, width, precision, `*`,
 * argument indexes, flags `-+0 #`, and Go's error forms (%!d(string=x), %!v(MISSING), %!(EXTRA …)).
 * Floats print as Go's strconv does: shortest digits, exact rounding (half to even) with a precision.
 */
import { goQuote } from './lex.js';
import { GoComplex, GoFunc, GoMap, GoNamedInt, GoSlice, GoStruct, GoUint, goBytes, typeOf, type GoValue } from './values.js';

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid: number | undefined;
  prec: number | undefined;
}

function noFlags(): Flags {
  return { plus: false, minus: false, sharp: false, space: false, zero: false, plusV: false, sharpV: false, wid: undefined, prec: undefined };
}

function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

function pad(f: Flags, s: string): string {
  if (f.wid === undefined || f.wid === 0) return s;
  const width = f.wid - runeCount(s);
  if (width <= 0) return s;
  if (f.minus) return s + ' '.repeat(width);
  return (f.zero ? '0' : ' ').repeat(width) + s;
}

function padSpaces(f: Flags, s: string): string {
  const z = f.zero;
  f.zero = false;
  const r = pad(f, s);
  f.zero = z;
  return r;
}

// ---------- integers ----------

function fmtInteger(f: Flags, v: bigint, base: number, verb: string, upper: boolean): string {
  const negative = v < 0n;
  let u = negative ? -v : v;
  let prec = 0;
  if (f.prec !== undefined) {
    prec = f.prec;
    if (prec === 0 && u === 0n) return padSpaces(f, '');
  } else if (f.zero && f.wid !== undefined && !f.minus) {
    prec = f.wid;
    if (negative || f.plus || f.space) prec--;
  }
  let digits = u.toString(base);
  if (upper) digits = digits.toUpperCase();
  u = 0n;
  if (digits.length < prec) digits = '0'.repeat(prec - digits.length) + digits;
  if (f.sharp) {
    if (base === 2) digits = '0b' + digits;
    else if (base === 8 && digits[0] !== '0') digits = '0' + digits;
    else if (base === 16) digits = (upper ? '0X' : '0x') + digits;
  }
  if (verb === 'O') digits = '0o' + digits;
  if (negative) digits = '-' + digits;
  else if (f.plus) digits = '+' + digits;
  else if (f.space) digits = ' ' + digits;
  return padSpaces(f, digits);
}

function quoteRune(cp: number, asciiOnly: boolean): string {
  if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) cp = 0xfffd;
  const ch = String.fromCodePoint(cp);
  if (ch === "'") return "'\\''";
  if (ch === '"') return `'"'`;
  const q = quoteWith(ch, asciiOnly);
  return `'${q.slice(1, -1)}'`;
}

function fmtIntVerb(f: Flags, v: bigint, verb: string, typeName: string, signed: boolean): string {
  switch (verb) {
    case 'v':
      if (f.sharpV && !signed) {
        const s = f.sharp;
        f.sharp = true;
        const r = fmtInteger(f, v, 16, verb, false);
        f.sharp = s;
        return r;
      }
      return fmtInteger(f, v, 10, verb, false);
    case 'd':
      return fmtInteger(f, v, 10, verb, false);
    case 'b':
      return fmtInteger(f, v, 2, verb, false);
    case 'o':
    case 'O':
      return fmtInteger(f, v, 8, verb, false);
    case 'x':
      return fmtInteger(f, v, 16, verb, false);
    case 'X':
      return fmtInteger(f, v, 16, verb, true);
    case 'c':
      return pad(f, String.fromCodePoint(validRune(v)));
    case 'q':
      return pad(f, f.sharp && canBackquoteRune(v) ? '`' + String.fromCodePoint(Number(v)) + '`' : quoteRune(validRune(v), f.plus));
    case 'U': {
      let s = 'U+' + (v < 0n ? (BigInt.asUintN(64, v)) : v).toString(16).toUpperCase().padStart(4, '0');
      if (f.prec !== undefined && s.length - 2 < f.prec) s = 'U+' + s.slice(2).padStart(f.prec, '0');
      if (f.sharp && v >= 0n && v <= 0x10ffffn && isPrint(Number(v))) s += ` '${String.fromCodePoint(Number(v))}'`;
      return padSpaces(f, s);
    }
    default:
      return badVerb(verb, typeName, formatValue(v, 'v', noFlags(), 0));
  }
}

function validRune(v: bigint): number {
  if (v < 0n || v > 0x10ffffn) return 0xfffd;
  const n = Number(v);
  if (n >= 0xd800 && n < 0xe000) return 0xfffd;
  return n;
}

function canBackquoteRune(v: bigint): boolean {
  const n = validRune(v);
  return n !== 0x60 && n !== 0xfffd && (n === 9 || (n >= 0x20 && n !== 0x7f));
}

// ---------- floats ----------

/** The exact decimal expansion of a finite double: digits (no leading zeros) and decimal point position. */
function exactDecimal(x: number): { digits: string; dp: number } {
  if (x === 0) return { digits: '0', dp: 1 };
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, Math.abs(x));
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (exp === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = exp - 1075;
  }
  let digits: string;
  let dp: number;
  if (e >= 0) {
    digits = (mant << BigInt(e)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-e)).toString();
    dp = digits.length + e;
  }
  const stripped = digits.replace(/0+$/, '');
  return { digits: stripped === '' ? '0' : stripped, dp };
}

/** Rounds a digit string to n digits (half to even on exact ties, as Go's decimal rounding). */
function roundDigits(d: { digits: string; dp: number }, n: number): { digits: string; dp: number } {
  const { digits } = d;
  let { dp } = d;
  if (n < 0) return { digits: '0', dp };
  if (digits.length <= n) return { digits: digits.padEnd(n, '0'), dp };
  let up: boolean;
  const next = digits.charCodeAt(n) - 48;
  if (next > 5) up = true;
  else if (next < 5) up = false;
  else if (digits.length > n + 1) up = true;
  else up = n > 0 && (digits.charCodeAt(n - 1) - 48) % 2 === 1;
  let kept = digits.slice(0, n);
  if (up) {
    const arr = kept.split('');
    let i = arr.length - 1;
    while (i >= 0 && arr[i] === '9') {
      arr[i] = '0';
      i--;
    }
    if (i < 0) {
      arr.unshift('1');
      dp++;
      arr.pop();
      if (n === 0) return { digits: '1', dp };
    } else arr[i] = String.fromCharCode((arr[i] as string).charCodeAt(0) + 1);
    kept = arr.join('');
  } else if (n === 0) {
    return { digits: '', dp };
  }
  return { digits: kept, dp };
}

/** Shortest digits that read back as x (as Go's strconv with precision -1). */
function shortestDigits(x: number): { digits: string; dp: number } {
  if (x === 0) return { digits: '0', dp: 1 };
  const s = Math.abs(x).toExponential();
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) throw new Error(`unexpected float text ${s}`);
  const digits = ((m[1] ?? '') + (m[2] ?? '')).replace(/0+$/, '') || '0';
  return { digits, dp: Number(m[3]) + 1 };
}

function expString(exp: number, upper: boolean): string {
  const sign = exp < 0 ? '-' : '+';
  const a = Math.abs(exp);
  return (upper ? 'E' : 'e') + sign + (a < 10 ? '0' + a : String(a));
}

function fmtE(d: { digits: string; dp: number }, prec: number, upper: boolean, zero: boolean): string {
  // d.digits has prec+1 digits (or shortest when prec < 0)
  const digs = d.digits === '' ? '0' : d.digits;
  let s = digs[0] as string;
  const rest = prec < 0 ? digs.slice(1) : digs.slice(1).padEnd(prec, '0');
  if (rest.length > 0) s += '.' + rest;
  const exp = zero ? 0 : d.dp - 1;
  return s + expString(exp, upper);
}

function fmtF(d: { digits: string; dp: number }, prec: number): string {
  // integer part
  let s = '';
  if (d.dp > 0) {
    s = d.digits.slice(0, d.dp).padEnd(d.dp, '0');
  } else s = '0';
  if (s === '') s = '0';
  if (prec > 0) {
    let frac = '';
    for (let i = 0; i < prec; i++) {
      const j = d.dp + i;
      frac += j < 0 || j >= d.digits.length ? '0' : d.digits[j];
    }
    s += '.' + frac;
  }
  return s;
}

/** strconv.FormatFloat(x, verb, prec, 64) for verbs e E f g G (x finite, ≥ 0 handled by caller). */
function formatFloatAbs(x: number, verb: string, prec: number): string {
  const upper = verb === 'E' || verb === 'G';
  const isZero = x === 0;
  switch (verb) {
    case 'e':
    case 'E': {
      const d = prec < 0 ? shortestDigits(x) : isZero ? { digits: '0'.repeat(prec + 1), dp: 1 } : roundDigits(exactDecimal(x), prec + 1);
      return fmtE(d, prec, upper, isZero);
    }
    case 'f': {
      if (prec < 0) {
        const d = shortestDigits(x);
        return fmtF(d, Math.max(d.digits.length - d.dp, 0));
      }
      if (isZero) return fmtF({ digits: '0', dp: 1 }, prec);
      const ex = exactDecimal(x);
      const d = roundDigits(ex, ex.dp + prec);
      return fmtF(d, prec);
    }
    case 'g':
    case 'G': {
      let eprec = prec;
      let d: { digits: string; dp: number };
      const shortest = prec < 0;
      if (shortest) {
        d = shortestDigits(x);
        eprec = 6;
      } else {
        if (prec === 0) prec = 1;
        eprec = prec;
        d = isZero ? { digits: '0', dp: 1 } : roundDigits(exactDecimal(x), prec);
        d = { digits: d.digits.replace(/0+$/, '') || '0', dp: d.dp };
        if (eprec > d.digits.length && d.digits.length >= d.dp) eprec = d.digits.length;
      }
      if (isZero) d = { digits: '0', dp: 1 };
      const exp = d.dp - 1;
      if (exp < -4 || exp >= eprec) {
        const p = shortest ? -1 : d.digits.length - 1;
        return fmtE(d, p === -1 ? -1 : p, upper, isZero);
      }
      const p = shortest ? Math.max(d.digits.length - d.dp, 0) : Math.max(d.digits.length - d.dp, 0);
      return fmtF(d, p);
    }
  }
  return String(x);
}

/** The bits of a finite double: mantissa with the implicit bit, unbiased exponent (strconv's view). */
function floatBits(x: number): { mant: bigint; exp: number } {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, Math.abs(x));
  const hi = buf.getUint32(0);
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(buf.getUint32(4));
  let exp = (hi >>> 20) & 0x7ff;
  if (exp === 0) exp++;
  else mant |= 1n << 52n;
  return { mant, exp: exp - 1023 };
}

/** strconv's %b: decimal mantissa, binary exponent ("4503599627370496p-51"). */
function formatFloatB(x: number): string {
  const { mant, exp } = floatBits(x);
  const e = exp - 52;
  return `${mant}p${e >= 0 ? '+' : ''}${e}`;
}

/** strconv's %x / %X with shortest digits ("0x1.8p+00"). */
function formatFloatX(x: number, upper: boolean): string {
  let { mant, exp } = floatBits(x);
  if (mant === 0n) exp = 0;
  const MASK = (1n << 64n) - 1n;
  mant = (mant << 8n) & MASK;
  while (mant !== 0n && (mant & (1n << 60n)) === 0n) {
    mant = (mant << 1n) & MASK;
    exp--;
  }
  const hex = upper ? '0123456789ABCDEF' : '0123456789abcdef';
  let out = '0' + (upper ? 'X' : 'x') + String((mant >> 60n) & 1n);
  mant = (mant << 4n) & MASK;
  if (mant !== 0n) {
    out += '.';
    while (mant !== 0n) {
      out += hex[Number((mant >> 60n) & 15n)];
      mant = (mant << 4n) & MASK;
    }
  }
  out += upper ? 'P' : 'p';
  out += exp < 0 ? '-' : '+';
  const a = Math.abs(exp);
  out += a < 10 ? '0' + a : String(a);
  return out;
}

export function formatFloat(x: number, verb: string, prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const s = verb === 'b' ? formatFloatB(x) : verb === 'x' || verb === 'X' ? formatFloatX(x, verb === 'X') : formatFloatAbs(Math.abs(x), verb, prec);
  return neg ? '-' + s : s;
}

function fmtFloat(f: Flags, v: number, verb: string, defPrec: number): string {
  const prec = f.prec !== undefined ? f.prec : defPrec;
  let num = formatFloat(v, verb, prec);
  if (num[0] !== '-' && num[0] !== '+') num = '+' + num;
  if (f.space && num[0] === '+' && !f.plus) num = ' ' + num.slice(1);
  if (num[1] === 'I' || num[1] === 'N') {
    if (num[1] === 'N' && !f.space && !f.plus) num = num.slice(1);
    return padSpaces(f, num);
  }
  if (f.sharp) {
    let digits = 0;
    if (verb === 'g' || verb === 'G') digits = prec === -1 ? 6 : prec;
    let tail = '';
    const ei = num.search(/[eE]/);
    let body = num;
    if (ei >= 0) {
      tail = num.slice(ei);
      body = num.slice(0, ei);
    }
    let sawNonzero = false;
    for (let i = 1; i < body.length; i++) {
      const c = body[i];
      if (c === '.') continue;
      if (c !== '0') sawNonzero = true;
      if (sawNonzero) digits--;
    }
    if (!body.includes('.')) {
      if (body.length === 2 && body[1] === '0') digits--;
      body += '.';
    }
    while (digits > 0) {
      body += '0';
      digits--;
    }
    num = body + tail;
  }
  if (f.plus || num[0] !== '+') {
    if (f.zero && !f.minus && f.wid !== undefined && f.wid > num.length) {
      return num[0] + '0'.repeat(f.wid - num.length) + num.slice(1);
    }
    return pad(f, num);
  }
  return pad(f, num.slice(1));
}

function fmtFloatVerb(f: Flags, v: number, verb: string): string {
  switch (verb) {
    case 'v':
      return fmtFloat(f, v, 'g', -1);
    case 'g':
    case 'G':
    case 'b':
    case 'x':
    case 'X':
      return fmtFloat(f, v, verb, -1);
    case 'f':
    case 'e':
    case 'E':
      return fmtFloat(f, v, verb, 6);
    case 'F':
      return fmtFloat(f, v, 'f', 6);
    default:
      return badVerb(verb, 'float64', formatValue(v, 'v', noFlags(), 0));
  }
}

// ---------- strings ----------

function isPrint(cp: number): boolean {
  if (cp < 0x20 || cp === 0x7f) return false;
  if (cp >= 0x80 && cp < 0xa0) return false;
  if (cp === 0xad) return false;
  if (cp >= 0xd800 && cp < 0xe000) return false;
  if (cp === 0xfffe || cp === 0xffff) return false;
  return /[\p{L}\p{M}\p{N}\p{P}\p{S}\u0020]/u.test(String.fromCodePoint(cp));
}

/** strconv.Quote (asciiOnly: QuoteToASCII). */
export function quoteWith(s: string, asciiOnly: boolean): string {
  if (!asciiOnly) {
    let simple = true;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c === 0x7f || c === 0x22 || c === 0x5c || c >= 0x80) {
        simple = false;
        break;
      }
    }
    if (simple) return '"' + s + '"';
  }
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '"' || ch === '\\') {
      out += '\\' + ch;
      continue;
    }
    if (asciiOnly ? cp < 0x80 && isPrint(cp) : isPrint(cp)) {
      out += ch;
      continue;
    }
    switch (cp) {
      case 7:
        out += '\\a';
        continue;
      case 8:
        out += '\\b';
        continue;
      case 12:
        out += '\\f';
        continue;
      case 10:
        out += '\\n';
        continue;
      case 13:
        out += '\\r';
        continue;
      case 9:
        out += '\\t';
        continue;
      case 11:
        out += '\\v';
        continue;
    }
    if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp >= 0xdc80 && cp <= 0xdcff) out += '\\x' + (cp - 0xdc00).toString(16).padStart(2, '0');
    else if (cp >= 0xd800 && cp < 0xe000) out += '\\ufffd';
    else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
}

function canBackquote(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '`' || cp === 0xfeff || cp === 0xfffd) return false;
    if (cp < 0x20 && cp !== 9) return false;
    if (cp === 0x7f) return false;
  }
  return true;
}

function truncate(f: Flags, s: string): string {
  if (f.prec === undefined) return s;
  let n = f.prec;
  let i = 0;
  for (const ch of s) {
    if (n-- <= 0) return s.slice(0, i);
    i += ch.length;
  }
  return s;
}

function hexBytes(f: Flags, bytes: Uint8Array, upper: boolean): string {
  let length = bytes.length;
  if (f.prec !== undefined && f.prec < length) length = f.prec;
  let out = '';
  const digits = upper ? '0123456789ABCDEF' : '0123456789abcdef';
  for (let i = 0; i < length; i++) {
    if (f.space && i > 0) out += ' ';
    if (f.sharp && (f.space || i === 0)) out += upper ? '0X' : '0x';
    const b = bytes[i] as number;
    out += (digits[b >> 4] as string) + (digits[b & 15] as string);
  }
  return padSpaces(f, out);
}

function fmtStringVerb(f: Flags, s: string, verb: string): string {
  switch (verb) {
    case 'v':
      if (f.sharpV) return pad(f, quoteWith(s, false));
      return pad(f, truncate(f, s));
    case 's':
      return pad(f, truncate(f, s));
    case 'x':
    case 'X':
      return hexBytes(f, goBytes(s), verb === 'X');
    case 'q': {
      const t = truncate(f, s);
      if (f.sharp && canBackquote(t)) return pad(f, '`' + t + '`');
      return pad(f, quoteWith(t, f.plus));
    }
    default:
      return badVerb(verb, 'string', s);
  }
}

function fmtBoolVerb(f: Flags, v: boolean, verb: string): string {
  if (verb === 't' || verb === 'v') return pad(f, v ? 'true' : 'false');
  return badVerb(verb, 'bool', v ? 'true' : 'false');
}

function badVerb(verb: string, type: string | undefined, value: string): string {
  if (type === undefined) return `%!${verb}(<nil>)`;
  return `%!${verb}(${type}=${value})`;
}

// ---------- composite values ----------

function sortedKeys(m: GoMap): string[] {
  return [...m.entries.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Formats one operand with one verb (Go's printArg / printValue). `depth` > 0 inside composites. */
export function formatValue(v: GoValue, verb: string, f: Flags, depth: number): string {
  if (verb === 'T') return pad(f, typeOf(v));
  if (v === null || v === undefined) {
    if (depth > 0) {
      if (f.sharpV) return 'interface {}(nil)';
      return '<nil>';
    }
    if (verb === 'v') return pad(f, '<nil>');
    return badVerb(verb, undefined, '');
  }
  switch (typeof v) {
    case 'string':
      return fmtStringVerb(f, v, verb);
    case 'bigint':
      return fmtIntVerb(f, v, verb, 'int', true);
    case 'number':
      return fmtFloatVerb(f, v, verb);
    case 'boolean':
      return fmtBoolVerb(f, v, verb);
  }
  if (v instanceof GoUint) return fmtIntVerb(f, v.value, verb, v.type, false);
  if (v instanceof GoNamedInt) {
    if (v.text !== undefined && !f.sharpV && (verb === 'v' || verb === 's' || verb === 'q' || verb === 'x' || verb === 'X')) return fmtStringVerb(f, v.text, verb === 'v' ? 's' : verb);
    return fmtIntVerb(f, v.value, verb, v.type, true);
  }
  if (v instanceof GoComplex) {
    if (!'vbgGxXfFeE'.includes(verb)) return badVerb(verb, 'complex128', formatValue(v, 'v', noFlags(), 0));
    const plus = f.plus;
    let out = '(' + fmtFloatVerb(f, v.re, verb);
    f.plus = true;
    out += fmtFloatVerb(f, v.im, verb) + 'i)';
    f.plus = plus;
    return out;
  }
  if (v instanceof GoSlice) {
    if (f.sharpV) {
      if (v.isNil) return `${v.type}(nil)`;
      return v.type + '{' + v.items.map((x) => formatValue(x, verb, f, depth + 1)).join(', ') + '}';
    }
    return '[' + v.items.map((x) => formatValue(x, verb, f, depth + 1)).join(' ') + ']';
  }
  if (v instanceof GoMap) {
    if (f.sharpV) {
      if (v.isNil) return `${v.type}(nil)`;
      return v.type + '{' + sortedKeys(v).map((k) => `${formatValue(k, verb, f, depth + 1)}:${formatValue(v.entries.get(k), verb, f, depth + 1)}`).join(', ') + '}';
    }
    return 'map[' + sortedKeys(v).map((k) => `${formatValue(k, verb, f, depth + 1)}:${formatValue(v.entries.get(k), verb, f, depth + 1)}`).join(' ') + ']';
  }
  if (v instanceof GoStruct) {
    if (!f.sharpV && (verb === 'v' || verb === 's' || verb === 'q' || verb === 'x' || verb === 'X')) {
      const str = v.stringer();
      if (str !== undefined) return fmtStringVerb(f, str, verb === 'v' ? 's' : verb);
    }
    if (v.pointer && depth > 0) return fmtPointer(f, verb);
    const fields = v.fieldNames();
    let body: string;
    if (f.sharpV) {
      body = fields.map((n) => `${n}:${formatValue(v.field(n), verb, f, depth + 1)}`).join(', ');
      return (v.pointer ? '&' + v.type.slice(1) : v.type) + '{' + body + '}';
    }
    body = fields.map((n) => (f.plusV ? `${n}:` : '') + formatValue(v.field(n), verb, f, depth + 1)).join(' ');
    return (v.pointer ? '&' : '') + '{' + body + '}';
  }
  if (v instanceof GoFunc) {
    if (f.sharpV) return `(${v.type})(0xc000010000)`;
    return fmtPointer(f, verb);
  }
  return '?';
}

function fmtPointer(f: Flags, verb: string): string {
  if (verb === 'v' || verb === 'p') return pad(f, '0xc000010000');
  return badVerb(verb, 'pointer', '0xc000010000');
}

// ---------- Sprint / Sprintln / Sprintf ----------

function formatArg(v: GoValue, verb: string, f: Flags): string {
  return formatValue(v, verb, f, 0);
}

/** fmt.Sprint: operands formatted with %v, a space between two operands when neither is a string. */
export function sprint(args: readonly GoValue[]): string {
  let out = '';
  let prevString = false;
  args.forEach((a, i) => {
    const isString = typeof a === 'string';
    if (i > 0 && !isString && !prevString) out += ' ';
    out += formatArg(a, 'v', noFlags());
    prevString = isString;
  });
  return out;
}

/** fmt.Sprintln: operands with %v, always separated by spaces, and a newline. */
export function sprintln(args: readonly GoValue[]): string {
  return args.map((a) => formatArg(a, 'v', noFlags())).join(' ') + '\n';
}

/** The value printed by `{{...}}`: fmt.Fprint of one value. */
export function printOne(v: GoValue): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
  }
  return formatArg(v, 'v', noFlags());
}

function parseArgNumber(format: string, i: number, numArgs: number): { index: number; next: number; ok: boolean; found: boolean } {
  if (format[i] !== '[') return { index: 0, next: i, ok: true, found: false };
  const close = format.indexOf(']', i + 1);
  if (close < 0) return { index: 0, next: format.length, ok: false, found: true };
  const text = format.slice(i + 1, close);
  if (!/^\d+$/.test(text)) return { index: 0, next: close + 1, ok: false, found: true };
  const n = Number(text) - 1;
  if (n < 0 || n >= numArgs) return { index: 0, next: close + 1, ok: false, found: true };
  return { index: n, next: close + 1, ok: true, found: true };
}

function intFromArg(v: GoValue): number | undefined {
  if (typeof v === 'bigint') {
    if (v > 1000000n || v < -1000000n) return undefined;
    return Number(v);
  }
  if (v instanceof GoUint) return v.value > 1000000n ? undefined : Number(v.value);
  return undefined;
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly GoValue[]): string {
  let out = '';
  let argNum = 0;
  let afterIndex = false;
  let reordered = false;
  const end = format.length;
  let i = 0;
  while (i < end) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const f = noFlags();
    afterIndex = false;
    // flags
    for (; i < end; i++) {
      const c = format[i];
      if (c === '#') f.sharp = true;
      else if (c === '0') f.zero = !f.minus;
      else if (c === '+') f.plus = true;
      else if (c === '-') {
        f.minus = true;
        f.zero = false;
      } else if (c === ' ') f.space = true;
      else break;
    }
    // argument index, width
    let a = parseArgNumber(format, i, args.length);
    let goodArgNum = a.ok;
    if (a.found) {
      i = a.next;
      if (a.ok) {
        argNum = a.index;
        afterIndex = true;
      }
      reordered = true;
    }
    if (format[i] === '*') {
      i++;
      const w = argNum < args.length ? intFromArg(args[argNum]) : undefined;
      if (w === undefined) out += '%!(BADWIDTH)';
      else {
        f.wid = w;
        if (w < 0) {
          f.minus = true;
          f.zero = false;
          f.wid = -w;
        }
      }
      argNum++;
      afterIndex = false;
    } else {
      const m = /^\d+/.exec(format.slice(i));
      if (m) {
        if (afterIndex) goodArgNum = false;
        f.wid = Number(m[0]);
        i += m[0].length;
      }
    }
    // precision
    if (format[i] === '.') {
      i++;
      if (afterIndex) goodArgNum = false;
      a = parseArgNumber(format, i, args.length);
      if (a.found) {
        i = a.next;
        if (a.ok) {
          argNum = a.index;
          afterIndex = true;
        } else goodArgNum = false;
        reordered = true;
      }
      if (format[i] === '*') {
        i++;
        const p = argNum < args.length ? intFromArg(args[argNum]) : undefined;
        if (p === undefined || p < 0) {
          f.prec = undefined;
          if (p === undefined) out += '%!(BADPREC)';
        } else f.prec = p;
        argNum++;
        afterIndex = false;
      } else {
        const m = /^\d+/.exec(format.slice(i));
        f.prec = m ? Number(m[0]) : 0;
        if (m) i += m[0].length;
      }
    }
    if (!afterIndex) {
      a = parseArgNumber(format, i, args.length);
      if (a.found) {
        i = a.next;
        if (a.ok) argNum = a.index;
        else goodArgNum = false;
        reordered = true;
      }
    }
    if (i >= end) {
      out += '%!(NOVERB)';
      break;
    }
    const cp = format.codePointAt(i) as number;
    const verb = String.fromCodePoint(cp);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (!goodArgNum) {
      out += `%!${verb}(BADINDEX)`;
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    if (verb === 'w') {
      out += badVerb(verb, typeOf(args[argNum]) === '<nil>' ? undefined : typeOf(args[argNum]), formatArg(args[argNum], 'v', noFlags()));
      argNum++;
      continue;
    }
    if (verb === 'v') {
      if (f.sharp) {
        f.sharp = false;
        f.sharpV = true;
      }
      if (f.plus) {
        f.plus = false;
        f.plusV = true;
      }
    }
    out += formatArg(args[argNum], verb, f);
    argNum++;
  }
  if (!reordered && argNum < args.length) {
    out += '%!(EXTRA ';
    out += args
      .slice(argNum)
      .map((x) => (x === null || x === undefined ? '<nil>' : `${typeOf(x)}=${formatArg(x, 'v', noFlags())}`))
      .join(', ');
    out += ')';
  }
  return out;
}

export { goQuote };
