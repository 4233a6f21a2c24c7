/**
 * Go's builtin template functions (funcs.go): and/or (special-cased by the executor), not, len,
 * index, slice, print, printf, println, html, js, urlquery, eq, ne, lt, le, gt, ge, call. Same
 * argument rules and error messages as Go's.
 */
import { formatValue, sprint, sprintf, sprintln } from './fmt.js';
import {
  assignable,
  byteLength,
  canBeNil,
  GoComplex,
  GoError,
  GoFunc,
  GoMap,
  GoNamedInt,
  GoSlice,
  GoStruct,
  GoUint,
  goBytes,
  goString,
  isTrue,
  kindOf,
  nilOf,
  typeOf,
  type GoValue,
} from './values.js';

/** Go's indirectInterface: an interface holding nil is no value at all. */
function indirectInterface(v: GoValue): GoValue {
  return v === null ? undefined : v;
}

function vString(v: GoValue): string {
  return formatValue(v, 'v', { plus: false, minus: false, sharp: false, space: false, zero: false, plusV: false, sharpV: false, wid: undefined, prec: undefined }, 0);
}

function indexArg(index: GoValue, cap: number): number {
  let x: bigint;
  if (typeof index === 'bigint') x = index;
  else if (index instanceof GoUint) x = index.value;
  else if (index === undefined || index === null) throw new GoError('cannot index slice/array with nil');
  else throw new GoError(`cannot index slice/array with type ${typeOf(index)}`);
  if (x < 0n || x > BigInt(cap)) throw new GoError(`index out of range: ${x}`);
  return Number(x);
}

function index(args: GoValue[]): GoValue {
  let item = indirectInterface(args[0]);
  if (item === undefined) throw new GoError('index of untyped nil');
  for (const raw of args.slice(1)) {
    const idx = indirectInterface(raw);
    if (item === undefined || item === null) throw new GoError('index of nil pointer');
    if (typeof item === 'string') {
      const bytes = goBytes(item);
      const x = indexArg(idx, bytes.length);
      if (x === bytes.length) throw new GoError('reflect: string index out of range');
      item = new GoUint('uint8', BigInt(bytes[x] as number));
    } else if (item instanceof GoSlice) {
      const x = indexArg(idx, item.items.length);
      if (x === item.items.length) throw new GoError('reflect: slice index out of range');
      item = item.items[x];
      if (item === undefined) item = null;
    } else if (item instanceof GoMap) {
      let key: string;
      if (idx === undefined) throw new GoError('value is nil; should be of type string');
      if (typeof idx === 'string') key = idx;
      else throw new GoError(`value has type ${typeOf(idx)}; should be string`);
      const found = item.entries.get(key);
      item = found !== undefined ? found : zeroOf(item.elem);
    } else {
      throw new GoError(`can't index item of type ${typeOf(item)}`);
    }
  }
  return item;
}

function zeroOf(typ: string): GoValue {
  switch (typ) {
    case 'string':
      return '';
    case 'int':
      return 0n;
    case 'float64':
      return 0;
    case 'bool':
      return false;
    case 'interface {}':
      return null;
  }
  return nilOf(typ);
}

function slice(args: GoValue[]): GoValue {
  const item = indirectInterface(args[0]);
  const indexes = args.slice(1);
  if (item === undefined) throw new GoError('slice of untyped nil');
  if (indexes.length > 3) throw new GoError(`too many slice indexes: ${indexes.length}`);
  let cap: number;
  let len: number;
  if (typeof item === 'string') {
    if (indexes.length === 3) throw new GoError('cannot 3-index slice a string');
    cap = len = byteLength(item);
  } else if (item instanceof GoSlice) {
    cap = len = item.items.length;
  } else {
    throw new GoError(`can't slice item of type ${typeOf(item)}`);
  }
  const idx = [0, len, 0];
  indexes.forEach((x, i) => {
    idx[i] = indexArg(indirectInterface(x), cap);
  });
  const [a, b] = idx as [number, number, number];
  if (a > b) throw new GoError(`invalid slice index: ${a} > ${b}`);
  if (indexes.length === 3 && b > (idx[2] as number)) throw new GoError(`invalid slice index: ${b} > ${idx[2]}`);
  if (typeof item === 'string') return goString(goBytes(item).subarray(a, b));
  return new GoSlice(item.elem, item.items.slice(a, b), false, item.named);
}

function length(args: GoValue[]): GoValue {
  const item = args[0];
  if (item === null) throw new GoError('len of nil pointer');
  if (item === undefined) throw new GoError('reflect: call of reflect.Value.Type on zero Value');
  if (typeof item === 'string') return BigInt(byteLength(item));
  if (item instanceof GoSlice) return BigInt(item.items.length);
  if (item instanceof GoMap) return BigInt(item.entries.size);
  throw new GoError(`len of type ${typeOf(item)}`);
}

// ---------- comparison ----------

type BasicKind = 'invalid' | 'bool' | 'int' | 'uint' | 'float' | 'complex' | 'string';

function basicKind(v: GoValue): BasicKind {
  switch (kindOf(v)) {
    case 'bool':
      return 'bool';
    case 'int':
      return 'int';
    case 'uint':
      return 'uint';
    case 'float':
      return 'float';
    case 'complex':
      return 'complex';
    case 'string':
      return 'string';
  }
  return 'invalid';
}

const errBadComparisonType = 'invalid type for comparison';
const errBadComparison = 'incompatible types for comparison';

function asBig(v: GoValue): bigint {
  if (typeof v === 'bigint') return v;
  if (v instanceof GoNamedInt) return v.value;
  if (v instanceof GoUint) return v.value;
  return 0n;
}

function isNilValue(v: GoValue): boolean {
  if (v === undefined || v === null) return true;
  if (v instanceof GoSlice || v instanceof GoMap) return v.isNil;
  return false;
}

function structEqual(a: GoStruct, b: GoStruct): boolean {
  if (a.type !== b.type) return false;
  if (a.pointer) return a === b;
  return a.fieldNames().every((n) => {
    const x = a.field(n);
    const y = b.field(n);
    return x instanceof GoStruct && y instanceof GoStruct ? structEqual(x, y) : x === y;
  });
}

function eq(args: GoValue[]): GoValue {
  const arg1 = indirectInterface(args[0]);
  const rest = args.slice(1);
  if (rest.length === 0) throw new GoError('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (const raw of rest) {
    const arg = indirectInterface(raw);
    const k2 = basicKind(arg);
    let truth = false;
    if (k1 !== k2) {
      if (k1 === 'int' && k2 === 'uint') truth = asBig(arg1) >= 0n && asBig(arg1) === asBig(arg);
      else if (k1 === 'uint' && k2 === 'int') truth = asBig(arg) >= 0n && asBig(arg1) === asBig(arg);
      else if (arg1 !== undefined && arg !== undefined) throw new GoError(errBadComparison);
    } else {
      switch (k1) {
        case 'bool':
        case 'float':
        case 'string':
          truth = arg1 === arg;
          break;
        case 'int':
        case 'uint':
          truth = asBig(arg1) === asBig(arg);
          break;
        case 'complex':
          truth = (arg1 as GoComplex).re === (arg as GoComplex).re && (arg1 as GoComplex).im === (arg as GoComplex).im;
          break;
        default: {
          const ka = kindOf(arg1);
          const kb = kindOf(arg);
          if (ka !== kb && ka !== 'invalid' && kb !== 'invalid') {
            throw new GoError(`non-comparable types ${vString(arg1)}: ${typeOf(arg1)}, ${typeOf(arg)}: ${vString(arg)}`);
          }
          if (isNilValue(arg1) || isNilValue(arg)) {
            truth = isNilValue(arg) === isNilValue(arg1);
          } else if (arg instanceof GoSlice || arg instanceof GoMap || arg instanceof GoFunc) {
            throw new GoError(`non-comparable type ${vString(arg)}: ${typeOf(arg)}`);
          } else if (arg1 instanceof GoStruct && arg instanceof GoStruct) {
            truth = structEqual(arg1, arg);
          } else truth = arg1 === arg;
        }
      }
    }
    if (truth) return true;
  }
  return false;
}

function lt(a0: GoValue, b0: GoValue): boolean {
  const a = indirectInterface(a0);
  const k1 = basicKind(a);
  if (k1 === 'invalid') throw new GoError(errBadComparisonType);
  const b = indirectInterface(b0);
  const k2 = basicKind(b);
  if (k2 === 'invalid') throw new GoError(errBadComparisonType);
  if (k1 !== k2) {
    if (k1 === 'int' && k2 === 'uint') return asBig(a) < 0n || asBig(a) < asBig(b);
    if (k1 === 'uint' && k2 === 'int') return asBig(b) >= 0n && asBig(a) < asBig(b);
    throw new GoError(errBadComparison);
  }
  switch (k1) {
    case 'bool':
    case 'complex':
      throw new GoError(errBadComparisonType);
    case 'float':
      return (a as number) < (b as number);
    case 'string':
      return (a as string) < (b as string);
    default:
      return asBig(a) < asBig(b);
  }
}

function le(a: GoValue, b: GoValue): boolean {
  return lt(a, b) || (eq([a, b]) as boolean);
}

// ---------- escapers ----------

function evalArgs(args: GoValue[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args.map((a) => (a === undefined || a === null ? '<no value>' : a)));
}

export function htmlEscape(s: string): string {
  if (!/['"&<>\0]/.test(s)) return s;
  return s.replace(/['"&<>\0]/g, (c) => {
    switch (c) {
      case '\0':
        return '\uFFFD';
      case '"':
        return '&#34;';
      case "'":
        return '&#39;';
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      default:
        return '&gt;';
    }
  });
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}\u0020]$/u;

export function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    switch (ch) {
      case '\\':
        out += '\\\\';
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case '<':
        out += '\\u003C';
        continue;
      case '>':
        out += '\\u003E';
        continue;
      case '&':
        out += '\\u0026';
        continue;
      case '=':
        out += '\\u003D';
        continue;
    }
    if (cp < 0x20) out += '\\u00' + cp.toString(16).toUpperCase().padStart(2, '0');
    else if (cp < 0x80) out += ch;
    else if (PRINTABLE.test(ch)) out += ch;
    else out += '\\u' + cp.toString(16).toUpperCase().padStart(4, '0');
  }
  return out;
}

/** Go's url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

// ---------- call ----------

function prepareArg(value: GoValue, typ: string): GoValue {
  if (value === undefined) {
    if (!canBeNil(typ)) throw new GoError(`value is nil; should be of type ${typ}`);
    return nilOf(typ);
  }
  if (assignable(value, typ)) return value;
  throw new GoError(`value has type ${typeOf(value)}; should be ${typ}`);
}

function call(args: GoValue[]): GoValue {
  const fn = indirectInterface(args[0]);
  const rest = args.slice(1);
  if (fn === undefined) throw new GoError('call of nil');
  if (!(fn instanceof GoFunc)) throw new GoError(`non-function of type ${typeOf(fn)}`);
  const { params, variadic } = fn.sig;
  if (variadic !== undefined) {
    if (rest.length < params.length) throw new GoError(`wrong number of args: got ${rest.length} want at least ${params.length}`);
  } else if (rest.length !== params.length) {
    throw new GoError(`wrong number of args: got ${rest.length} want ${params.length}`);
  }
  const argv = rest.map((a, i) => {
    const t = i < params.length ? (params[i] as string) : (variadic as string);
    try {
      return prepareArg(indirectInterface(a), t === 'any' ? 'any' : t);
    } catch (e) {
      throw new GoError(`arg ${i}: ${(e as Error).message}`);
    }
  });
  return fn.call(argv);
}

const V = 'value';

/** The builtin functions by name. `and` and `or` are evaluated lazily by the executor. */
export const BUILTINS: ReadonlyMap<string, GoFunc> = new Map<string, GoFunc>([
  ['and', new GoFunc({ params: [V], variadic: V, result: V }, (a) => a[a.length - 1])],
  ['or', new GoFunc({ params: [V], variadic: V, result: V }, (a) => a[a.length - 1])],
  ['call', new GoFunc({ params: [V], variadic: V, result: V, returnsError: true }, call)],
  ['html', new GoFunc({ params: [], variadic: 'any', result: 'string' }, (a) => htmlEscape(evalArgs(a)))],
  ['index', new GoFunc({ params: [V], variadic: V, result: V, returnsError: true }, index)],
  ['slice', new GoFunc({ params: [V], variadic: V, result: V, returnsError: true }, slice)],
  ['js', new GoFunc({ params: [], variadic: 'any', result: 'string' }, (a) => jsEscape(evalArgs(a)))],
  ['len', new GoFunc({ params: [V], result: 'int', returnsError: true }, length)],
  ['not', new GoFunc({ params: [V], result: 'bool' }, (a) => !isTrue(indirectInterface(a[0])))],
  ['print', new GoFunc({ params: [], variadic: 'any', result: 'string' }, (a) => sprint(a))],
  ['printf', new GoFunc({ params: ['string'], variadic: 'any', result: 'string' }, (a) => sprintf(a[0] as string, a.slice(1)))],
  ['println', new GoFunc({ params: [], variadic: 'any', result: 'string' }, (a) => sprintln(a))],
  ['urlquery', new GoFunc({ params: [], variadic: 'any', result: 'string' }, (a) => queryEscape(evalArgs(a)))],
  ['eq', new GoFunc({ params: [V], variadic: V, result: 'bool', returnsError: true }, eq)],
  ['ge', new GoFunc({ params: [V, V], result: 'bool', returnsError: true }, (a) => !lt(a[0], a[1]))],
  ['gt', new GoFunc({ params: [V, V], result: 'bool', returnsError: true }, (a) => !le(a[0], a[1]))],
  ['le', new GoFunc({ params: [V, V], result: 'bool', returnsError: true }, (a) => le(a[0], a[1]))],
  ['lt', new GoFunc({ params: [V, V], result: 'bool', returnsError: true }, (a) => lt(a[0], a[1]))],
  ['ne', new GoFunc({ params: [V, V], result: 'bool', returnsError: true }, (a) => !(eq([a[0], a[1]]) as boolean))],
]);
