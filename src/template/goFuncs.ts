/**
 * confd's function map for the Go engine, with confd's Go signatures (argument order, types,
 * results, errors): the memkv store functions (get getv gets getvs exists ls lsdir) and
 * newFuncMap's (base dir split join … seq atoi). The work is done by the same pure helpers the
 * Handlebars engine registers (helpers/*.ts, lookups.ts, store/); this file only gives them Go types.
 */
import { Memkv } from '../store/memkv.js';
import type { KeyValue, Store } from '../store/store.js';
import { unmarshalJson } from './go/json.js';
import { goQuote } from './go/lex.js';
import { GoError, GoFunc, GoMap, GoNamedInt, GoSlice, GoStruct, GoUint, stringSlice, type GoSignature, type GoValue } from './go/values.js';
import { parseGoBool } from './helpers/conversions.js';
import { fileExists } from './helpers/system.js';
import { basePath, dirPath } from './helpers/paths.js';
import { replaceString, splitString } from './helpers/strings.js';
import { DEFAULT_LAYOUT, formatGoTime } from './helpers/timeLayout.js';
import type { LookupCache, SrvRecord } from './lookups.js';

const KV_FIELDS: readonly string[] = ['Key', 'Value'];
const SRV_FIELDS: readonly string[] = ['Target', 'Port', 'Priority', 'Weight'];
const NO_FIELDS: readonly string[] = [];

/** memkv.KVPair: `.Key`, `.Value`; prints as {key value}. */
export class KVPair extends GoStruct {
  constructor(
    readonly key: string,
    readonly value: string,
  ) {
    super();
  }
  get type(): string {
    return 'memkv.KVPair';
  }
  fieldNames(): readonly string[] {
    return KV_FIELDS;
  }
  override hasField(name: string): boolean {
    return name === 'Key' || name === 'Value';
  }
  field(name: string): GoValue {
    return name === 'Key' ? this.key : this.value;
  }
}

/** *net.SRV from lookupSRV. */
export class SrvValue extends GoStruct {
  readonly type = '*net.SRV';
  constructor(readonly srv: SrvRecord) {
    super();
  }
  fieldNames(): readonly string[] {
    return SRV_FIELDS;
  }
  field(name: string): GoValue {
    switch (name) {
      case 'Target':
        return this.srv.target;
      case 'Port':
        return new GoUint('uint16', BigInt(this.srv.port));
      case 'Priority':
        return new GoUint('uint16', BigInt(this.srv.priority));
      default:
        return new GoUint('uint16', BigInt(this.srv.weight));
    }
  }
}

/** time.Time from datetime: `.Format LAYOUT`, `.Unix`, `.UTC`, `.Year` …; prints as Go prints time.Now(). */
export class TimeValue extends GoStruct {
  readonly type = 'time.Time';
  constructor(
    readonly date: Date,
    readonly zone: 'local' | 'utc' = 'local',
  ) {
    super();
  }
  fieldNames(): readonly string[] {
    return NO_FIELDS;
  }
  field(): GoValue {
    return undefined;
  }
  override stringer(): string {
    return formatGoTime(this.date, DEFAULT_LAYOUT, this.zone);
  }
  override method(name: string): GoFunc | undefined {
    const d = this.date;
    const num = (f: () => number): GoFunc => new GoFunc({ params: [], result: 'int' }, () => BigInt(f()));
    const utc = this.zone === 'utc';
    switch (name) {
      case 'Format':
        return new GoFunc({ params: ['string'], result: 'string' }, (a) => formatGoTime(d, a[0] as string, this.zone));
      case 'String':
        return new GoFunc({ params: [], result: 'string' }, () => this.stringer());
      case 'IsZero':
        return new GoFunc({ params: [], result: 'bool' }, () => false);
      case 'UTC':
        return new GoFunc({ params: [], result: 'time.Time' }, () => new TimeValue(d, 'utc'));
      case 'Local':
        return new GoFunc({ params: [], result: 'time.Time' }, () => new TimeValue(d, 'local'));
      case 'Unix':
        return new GoFunc({ params: [], result: 'int64' }, () => new GoNamedInt('int64', BigInt(Math.floor(d.getTime() / 1000))));
      case 'UnixNano':
        return new GoFunc({ params: [], result: 'int64' }, () => new GoNamedInt('int64', BigInt(d.getTime()) * 1_000_000n));
      case 'Month': {
        const m = utc ? d.getUTCMonth() : d.getMonth();
        return new GoFunc({ params: [], result: 'time.Month' }, () => new GoNamedInt('time.Month', BigInt(m + 1), MONTHS[m]));
      }
      case 'Location':
        return new GoFunc({ params: [], result: '*time.Location' }, () => new LocationValue(utc ? 'UTC' : 'Local'));
      case 'Year':
        return num(() => (utc ? d.getUTCFullYear() : d.getFullYear()));
      case 'Day':
        return num(() => (utc ? d.getUTCDate() : d.getDate()));
      case 'Hour':
        return num(() => (utc ? d.getUTCHours() : d.getHours()));
      case 'Minute':
        return num(() => (utc ? d.getUTCMinutes() : d.getMinutes()));
      case 'Second':
        return num(() => (utc ? d.getUTCSeconds() : d.getSeconds()));
    }
    return undefined;
  }
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** *time.Location: prints its name. */
class LocationValue extends GoStruct {
  readonly type = '*time.Location';
  constructor(readonly name: string) {
    super();
  }
  fieldNames(): readonly string[] {
    return NO_FIELDS;
  }
  field(): GoValue {
    return undefined;
  }
  override stringer(): string {
    return this.name;
  }
}

/** What the function map reads besides its arguments. */
export interface GoFuncContext {
  readonly store: Store;
  readonly lookups: LookupCache;
  /** Environment for getenv (default: process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Clock for datetime. */
  readonly now?: () => Date;
}

/** The function names, known at parse time (a name not here nor a builtin is a parse error). */
export const GO_FUNC_NAMES: readonly string[] = [
  'exists', 'ls', 'lsdir', 'get', 'gets', 'getv', 'getvs',
  'base', 'split', 'json', 'jsonArray', 'dir', 'map', 'getenv', 'join', 'datetime', 'toUpper', 'toLower',
  'contains', 'replace', 'trimSuffix', 'lookupIP', 'lookupIPV4', 'lookupIPV6', 'lookupSRV', 'fileExists',
  'base64Encode', 'base64Decode', 'parseBool', 'reverse', 'sortByLength', 'sortKVByLength',
  'add', 'sub', 'div', 'mod', 'mul', 'seq', 'atoi',
];

/** Refuse `seq` lists longer than this (a typo like `seq 1 1000000000` must not eat memory). */
export const SEQ_MAX_LENGTH = 10_000_000;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function fn(sig: GoSignature, call: (a: GoValue[]) => GoValue): GoFunc {
  return new GoFunc(sig, call);
}

const S = 'string';

function byteLen(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Go's sort.Sort by a length; Go 1.19's pdqsort is an insertion sort up to 12 items (stable), a stable sort stands in beyond. */
function sortInPlace(items: GoValue[], len: (v: GoValue) => number): void {
  const sorted = items.map((v, i) => ({ v, i, n: len(v) })).sort((a, b) => a.n - b.n || a.i - b.i);
  sorted.forEach((x, i) => {
    items[i] = x.v;
  });
}

/** Go's strconv.Atoi. */
export function goAtoi(text: string): bigint {
  const err = (why: string): never => {
    throw new GoError(`strconv.Atoi: parsing ${goQuote(text)}: ${why}`);
  };
  if (!/^[+-]?[0-9]+$/.test(text)) return err('invalid syntax');
  const v = BigInt(text);
  if (v < INT64_MIN || v > INT64_MAX) return err('value out of range');
  return v;
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Go's base64.StdEncoding.DecodeString, with its "illegal base64 data at input byte N" errors. */
export function goBase64Decode(src: string): string {
  const bytes = Buffer.from(src, 'latin1');
  const out: number[] = [];
  const corrupt = (n: number): never => {
    throw new GoError(`illegal base64 data at input byte ${n}`);
  };
  const isNl = (b: number | undefined): boolean => b === 10 || b === 13;
  let si = 0;
  for (;;) {
    const dbuf = [0, 0, 0, 0];
    let dlen = 4;
    let j = 0;
    let end = false;
    for (; j < 4; j++) {
      if (si === bytes.length) {
        if (j === 0) return Buffer.from(out).toString('utf8');
        corrupt(si - j);
      }
      const inb = bytes[si] as number;
      si++;
      const d = BASE64_ALPHABET.indexOf(String.fromCharCode(inb));
      if (d >= 0 && inb < 128) {
        dbuf[j] = d;
        continue;
      }
      if (isNl(inb)) {
        j--;
        continue;
      }
      if (inb !== 61) corrupt(si - 1);
      if (j === 0 || j === 1) corrupt(si - 1);
      if (j === 2) {
        while (si < bytes.length && isNl(bytes[si])) si++;
        if (si === bytes.length) corrupt(bytes.length);
        if (bytes[si] !== 61) corrupt(si - 1);
        si++;
      }
      while (si < bytes.length && isNl(bytes[si])) si++;
      if (si < bytes.length) corrupt(si);
      dlen = j;
      end = true;
      break;
    }
    const val = (dbuf[0] as number) << 18 | (dbuf[1] as number) << 12 | (dbuf[2] as number) << 6 | (dbuf[3] as number);
    const b = [(val >> 16) & 0xff, (val >> 8) & 0xff, val & 0xff];
    if (dlen >= 2) out.push(b[0] as number);
    if (dlen >= 3) out.push(b[1] as number);
    if (dlen >= 4) out.push(b[2] as number);
    if (end) return Buffer.from(out).toString('utf8');
  }
}

/** Go's strings.ToUpper/ToLower map rune to rune: a character with no single-rune case mapping (ß) stays. */
function mapRunes(s: string, f: (c: string) => string): string {
  if (/^[\x00-\x7f]*$/.test(s)) return f(s);
  let out = '';
  for (const c of s) {
    if (c === '\u0130' && f('A') === 'a') {
      out += 'i'; // Go: unicode.ToLower('İ') is 'i'
      continue;
    }
    const m = f(c);
    out += [...m].length === 1 ? m : c;
  }
  return out;
}

function makeKVPair(key: string, value: string): GoValue {
  return new KVPair(key, value);
}

const memkvCache = new WeakMap<Store, Memkv>();

function memkvOf(store: Store): Memkv {
  let m = memkvCache.get(store);
  if (m === undefined) {
    m = Memkv.of(store);
    memkvCache.set(store, m);
  }
  return m;
}

function lookupList(lookups: LookupCache, kind: 'ip' | 'ipv4' | 'ipv6', name: string): GoSlice {
  const found = lookups.get(kind, name);
  if (found === undefined || found.length === 0) return new GoSlice('string', [], true);
  return stringSlice([...found]);
}

/** confd's function map bound to one render. */
export function goFuncMap(ctx: GoFuncContext): Map<string, GoFunc> {
  const kv = (): Memkv => memkvOf(ctx.store);
  const env = ctx.env ?? process.env;
  const guard = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof GoError) throw e;
      throw new GoError((e as Error).message);
    }
  };
  const intOp = (op: (a: bigint, b: bigint) => bigint): GoFunc =>
    fn({ params: ['int', 'int'], result: 'int' }, (a) => BigInt.asIntN(64, op(a[0] as bigint, a[1] as bigint)));
  const divide = (kind: 'div' | 'mod'): GoFunc =>
    fn({ params: ['int', 'int'], result: 'int' }, (a) => {
      const x = a[0] as bigint;
      const y = a[1] as bigint;
      if (y === 0n) throw new GoError('runtime error: integer divide by zero');
      return BigInt.asIntN(64, kind === 'div' ? x / y : x % y);
    });

  return new Map<string, GoFunc>([
    ['exists', fn({ params: [S], result: 'bool' }, (a) => kv().exists(a[0] as string))],
    ['ls', fn({ params: [S], result: '[]string' }, (a) => stringSlice(kv().ls(a[0] as string)))],
    ['lsdir', fn({ params: [S], result: '[]string' }, (a) => stringSlice(kv().lsdir(a[0] as string)))],
    ['get', fn({ params: [S], result: 'memkv.KVPair', returnsError: true }, (a) => guard(() => {
      const p = kv().get(a[0] as string);
      return new KVPair(p.key, p.value);
    }))],
    ['gets', fn({ params: [S], result: 'memkv.KVPairs', returnsError: true }, (a) => guard(() => new GoSlice('memkv.KVPair', kv().gets<GoValue>(a[0] as string, makeKVPair), false, 'memkv.KVPairs')))],
    ['getv', fn({ params: [S], variadic: S, result: S, returnsError: true }, (a) => guard(() => kv().getv(a[0] as string, a[1] as string | undefined)))],
    ['getvs', fn({ params: [S], result: '[]string', returnsError: true }, (a) => guard(() => stringSlice(kv().getvs(a[0] as string))))],

    ['base', fn({ params: [S], result: S }, (a) => basePath(a[0] as string))],
    ['dir', fn({ params: [S], result: S }, (a) => dirPath(a[0] as string))],
    ['split', fn({ params: [S, S], result: '[]string' }, (a) => stringSlice(splitString(a[0] as string, a[1] as string)))],
    ['join', fn({ params: ['[]string', S], result: S }, (a) => ((a[0] as GoSlice).items as string[]).join(a[1] as string))],
    ['toUpper', fn({ params: [S], result: S }, (a) => mapRunes(a[0] as string, (c) => c.toUpperCase()))],
    ['toLower', fn({ params: [S], result: S }, (a) => mapRunes(a[0] as string, (c) => c.toLowerCase()))],
    ['contains', fn({ params: [S, S], result: 'bool' }, (a) => (a[0] as string).includes(a[1] as string))],
    ['replace', fn({ params: [S, S, S, 'int'], result: S }, (a) => replaceString(a[0] as string, a[1] as string, a[2] as string, Number(a[3] as bigint)))],
    ['trimSuffix', fn({ params: [S, S], result: S }, (a) => {
      const s = a[0] as string;
      const suf = a[1] as string;
      return suf !== '' && s.endsWith(suf) ? s.slice(0, s.length - suf.length) : s;
    })],
    ['json', fn({ params: [S], result: 'map[string]interface {}', returnsError: true }, (a) => unmarshalJson(a[0] as string, 'object'))],
    ['jsonArray', fn({ params: [S], result: '[]interface {}', returnsError: true }, (a) => unmarshalJson(a[0] as string, 'array'))],
    ['map', fn({ params: [], variadic: 'any', result: 'map[string]interface {}', returnsError: true }, (a) => {
      if (a.length % 2 !== 0) throw new GoError('invalid map call');
      const m = new Map<string, GoValue>();
      for (let i = 0; i < a.length; i += 2) {
        const k = a[i];
        if (typeof k !== 'string') throw new GoError('map keys must be strings');
        m.set(k, a[i + 1] ?? null);
      }
      return new GoMap('interface {}', m);
    })],
    ['getenv', fn({ params: [S], variadic: S, result: S }, (a) => {
      const value = env[a[0] as string] ?? '';
      if (value === '') return a.length > 1 ? (a[1] as string) : '';
      return value;
    })],
    ['datetime', fn({ params: [], result: 'time.Time' }, () => new TimeValue(ctx.now ? ctx.now() : new Date()))],
    ['lookupIP', fn({ params: [S], result: '[]string' }, (a) => lookupList(ctx.lookups, 'ip', a[0] as string))],
    ['lookupIPV4', fn({ params: [S], result: '[]string' }, (a) => lookupList(ctx.lookups, 'ipv4', a[0] as string))],
    ['lookupIPV6', fn({ params: [S], result: '[]string' }, (a) => lookupList(ctx.lookups, 'ipv6', a[0] as string))],
    ['lookupSRV', fn({ params: [S, S, S], result: '[]*net.SRV' }, (a) => {
      const [service, proto, name] = a as [string, string, string];
      const q = service === '' && proto === '' ? name : `_${service}._${proto}.${name}`;
      const found = ctx.lookups.get('srv', q) ?? [];
      return new GoSlice('*net.SRV', found.map((r) => new SrvValue(r)));
    })],
    ['fileExists', fn({ params: [S], result: 'bool' }, (a) => fileExists(a[0] as string))],
    ['base64Encode', fn({ params: [S], result: S }, (a) => Buffer.from(a[0] as string, 'utf8').toString('base64'))],
    ['base64Decode', fn({ params: [S], result: S, returnsError: true }, (a) => goBase64Decode(a[0] as string))],
    ['parseBool', fn({ params: [S], result: 'bool', returnsError: true }, (a) => {
      const b = parseGoBool(a[0] as string);
      if (b === undefined) throw new GoError(`strconv.ParseBool: parsing ${goQuote(a[0] as string)}: invalid syntax`);
      return b;
    })],
    ['reverse', fn({ params: ['any'], result: 'interface {}' }, (a) => {
      const v = a[0] ?? null;
      if (v instanceof GoSlice && v.named === undefined && (v.elem === 'string' || v.elem === 'memkv.KVPair')) v.items.reverse();
      return v;
    })],
    ['sortByLength', fn({ params: ['[]string'], result: '[]string' }, (a) => {
      const v = a[0] as GoSlice;
      sortInPlace(v.items, (x) => byteLen(x as string));
      return v;
    })],
    ['sortKVByLength', fn({ params: ['[]memkv.KVPair'], result: '[]memkv.KVPair' }, (a) => {
      const v = a[0] as GoSlice;
      sortInPlace(v.items, (x) => byteLen((x as KVPair).key));
      return new GoSlice('memkv.KVPair', v.items, v.isNil);
    })],
    ['add', intOp((x, y) => x + y)],
    ['sub', intOp((x, y) => x - y)],
    ['mul', intOp((x, y) => x * y)],
    ['div', divide('div')],
    ['mod', divide('mod')],
    ['seq', fn({ params: ['int', 'int'], result: '[]int' }, (a) => {
      const first = a[0] as bigint;
      const last = a[1] as bigint;
      if (last < first) return new GoSlice('int', [], true);
      if (last - first + 1n > BigInt(SEQ_MAX_LENGTH)) throw new GoError(`seq: ${last - first + 1n} numbers is more than ${SEQ_MAX_LENGTH}`);
      const items: GoValue[] = [];
      for (let i = first; i <= last; i++) items.push(i);
      return new GoSlice('int', items);
    })],
    ['atoi', fn({ params: [S], result: 'int', returnsError: true }, (a) => goAtoi(a[0] as string))],
  ]);
}
