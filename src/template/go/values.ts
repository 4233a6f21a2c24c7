/**
 * Go values as the template executor sees them, with their Go types (for `%T`, for argument
 * checks, and for `eq`/`lt` rules):
 *
 *   string → string        int → bigint (int64 wrap-around)     float64 → number
 *   bool → boolean         nil → null                           "no value" (invalid) → undefined
 *   []T → GoSlice          map[string]T → GoMap                 structs (KVPair, time.Time, *net.SRV) → GoStruct
 *   uint8 / uint16 → GoUint                                     functions → GoFunc
 *
 * JSON from `json`/`jsonArray` becomes map[string]interface {} / []interface {} / float64 / string /
 * bool / nil, exactly as Go's encoding/json decodes into interface{}.
 */

export type GoValue = string | bigint | number | boolean | null | undefined | GoSlice | GoMap | GoStruct | GoUint | GoFunc | GoComplex | GoNamedInt;

/** A Go slice: its element type ("string", "interface {}", "int", "memkv.KVPair" …) and items. */
export class GoSlice {
  constructor(
    readonly elem: string,
    readonly items: GoValue[],
    /** A nil slice (prints as [] but is nil for eq/not). */
    readonly isNil = false,
    /** A named slice type ("memkv.KVPairs"); the type is []elem otherwise. */
    readonly named?: string,
  ) {}
  get type(): string {
    return this.named ?? `[]${this.elem}`;
  }
}

/** What a GoMap reads its entries through: a Map, or a decoded JSON object (converted on access). */
export interface MapEntries {
  get(key: string): GoValue | undefined;
  readonly size: number;
  keys(): Iterable<string>;
}

/** A decoded JSON object as map entries; values become Go values when read. */
class JsonObjectEntries implements MapEntries {
  constructor(private readonly obj: Record<string, unknown>) {}
  get(key: string): GoValue | undefined {
    return Object.prototype.hasOwnProperty.call(this.obj, key) ? fromJson(this.obj[key]) : undefined;
  }
  get size(): number {
    return Object.keys(this.obj).length;
  }
  keys(): Iterable<string> {
    return Object.keys(this.obj);
  }
}

/** A Go map with string keys. */
export class GoMap {
  constructor(
    readonly elem: string,
    readonly entries: MapEntries,
    readonly isNil = false,
  ) {}
  get type(): string {
    return `map[string]${this.elem}`;
  }
}

/** An unsigned integer of a sized type (uint8 from indexing a string, uint16 SRV ports). */
export class GoUint {
  constructor(
    readonly type: 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'uint',
    readonly value: bigint,
  ) {}
}

/** A signed integer of another type than int (int64 from Time.Unix, time.Month with its String()). */
export class GoNamedInt {
  constructor(
    readonly type: string,
    readonly value: bigint,
    /** What %v and %s print when the type has a String() method. */
    readonly text?: string,
  ) {}
}

/** A complex128 constant such as 1i or 1+2i. */
export class GoComplex {
  readonly type = 'complex128';
  constructor(
    readonly re: number,
    readonly im: number,
  ) {}
}

/** The Go signature of a function: parameter types, variadic element type, error result. */
export interface GoSignature {
  /** Fixed parameter types; "any" is interface {}, "value" is reflect.Value (sees missing values). */
  readonly params: readonly string[];
  /** Element type of the trailing variadic parameter, if any. */
  readonly variadic?: string;
  /** The result type (for %T of func values); "value" for reflect.Value. */
  readonly result: string;
  /** True when the Go function returns (T, error). */
  readonly returnsError?: boolean;
}

/** Raised by a function to return a Go error (the executor wraps it: `error calling NAME: ...`). */
export class GoError extends Error {
  override readonly name = 'GoError';
}

export class GoFunc {
  constructor(
    readonly sig: GoSignature,
    readonly call: (args: GoValue[]) => GoValue,
  ) {}
  get type(): string {
    const ps = this.sig.params.map(typeName);
    if (this.sig.variadic !== undefined) ps.push('...' + typeName(this.sig.variadic));
    const res = this.sig.returnsError ? `(${typeName(this.sig.result)}, error)` : typeName(this.sig.result);
    return `func(${ps.join(', ')}) ${res}`;
  }
}

/** A Go struct value (or pointer to one, when `pointer`). */
export abstract class GoStruct {
  /** e.g. "memkv.KVPair", "*net.SRV", "time.Time". */
  abstract readonly type: string;
  /** Exported fields in declaration order. */
  abstract fieldNames(): readonly string[];
  abstract field(name: string): GoValue;
  hasField(name: string): boolean {
    return this.fieldNames().includes(name);
  }
  /** A method by name, bound to this value; undefined when there is none. */
  method(_name: string): GoFunc | undefined {
    return undefined;
  }
  /** When the type has a String() method, what fmt prints for %v and %s. */
  stringer(): string | undefined {
    return undefined;
  }
  get pointer(): boolean {
    return this.type.startsWith('*');
  }
}

export function typeName(t: string): string {
  if (t === 'any') return 'interface {}';
  if (t === 'value') return 'reflect.Value';
  return t;
}

/** The Go type of a value, as %T prints it; "<nil>" for nil and no value. */
export function typeOf(v: GoValue): string {
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    case 'undefined':
      return '<nil>';
    case 'object':
      if (v === null) return '<nil>';
      return v.type;
  }
  return '<nil>';
}

export type Kind = 'invalid' | 'bool' | 'int' | 'uint' | 'float' | 'complex' | 'string' | 'slice' | 'map' | 'struct' | 'ptr' | 'func' | 'interface';

export function kindOf(v: GoValue): Kind {
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float';
    case 'boolean':
      return 'bool';
    case 'undefined':
      return 'invalid';
    case 'object':
      if (v === null) return 'invalid';
      if (v instanceof GoSlice) return 'slice';
      if (v instanceof GoMap) return 'map';
      if (v instanceof GoUint) return 'uint';
      if (v instanceof GoFunc) return 'func';
      if (v instanceof GoComplex) return 'complex';
      if (v instanceof GoNamedInt) return 'int';
      return v.pointer ? 'ptr' : 'struct';
  }
  return 'invalid';
}

/** Go's truth: non-zero numbers, non-empty strings/slices/maps, true, non-nil; structs are true. */
export function isTrue(v: GoValue): boolean {
  switch (typeof v) {
    case 'string':
      return v.length > 0;
    case 'bigint':
      return v !== 0n;
    case 'number':
      return v !== 0;
    case 'boolean':
      return v;
    case 'undefined':
      return false;
    case 'object':
      if (v === null) return false;
      if (v instanceof GoSlice) return v.items.length > 0;
      if (v instanceof GoMap) return v.entries.size > 0;
      if (v instanceof GoUint) return v.value !== 0n;
      if (v instanceof GoComplex) return v.re !== 0 || v.im !== 0;
      if (v instanceof GoNamedInt) return v.value !== 0n;
      return true;
  }
  return false;
}

/** int64 arithmetic wraps around as Go's does. */
export function wrapInt(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

/**
 * Go strings are bytes and may hold invalid UTF-8 (`slice "héllo" 1 2`). Such a byte b is kept in
 * a JS string as the lone surrogate U+DC80+b (Python's "surrogateescape"), so len, %q, %x and
 * further slicing see the original byte.
 */
export function goBytes(s: string): Buffer {
  if (!/[\uDC80-\uDCFF]/.test(s)) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  let run = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const prev = i > 0 ? s.charCodeAt(i - 1) : 0;
    if (c >= 0xdc80 && c <= 0xdcff && !(prev >= 0xd800 && prev <= 0xdbff)) {
      if (run !== '') parts.push(Buffer.from(run, 'utf8'));
      run = '';
      parts.push(Buffer.from([c - 0xdc00]));
    } else run += s[i];
  }
  if (run !== '') parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}

/** Bytes back to a Go string: valid UTF-8 decoded, every invalid byte kept as U+DC80+b. */
export function goString(b: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    let n = 0;
    let cp = 0;
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      cp = c & 0x07;
    }
    let ok = n > 0 && i + n < b.length + 0 && i + n <= b.length - 0;
    if (ok) {
      for (let k = 1; k <= n; k++) {
        const x = b[i + k];
        if (x === undefined || (x & 0xc0) !== 0x80) {
          ok = false;
          break;
        }
        cp = (cp << 6) | (x & 0x3f);
      }
    }
    if (ok && ((n === 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n === 3 && (cp < 0x10000 || cp > 0x10ffff)))) ok = false;
    if (ok) {
      out += String.fromCodePoint(cp);
      i += n + 1;
    } else {
      out += String.fromCharCode(0xdc00 + c);
      i++;
    }
  }
  return out;
}

/** Go's len of a string is its length in bytes. */
export function byteLength(s: string): number {
  if (!/[\uDC80-\uDCFF]/.test(s)) return Buffer.byteLength(s, 'utf8');
  return goBytes(s).length;
}

/** A []string over `items` (taken, not copied: pass a fresh array). */
export function stringSlice(items: string[], isNil = false): GoSlice {
  return new GoSlice('string', items, isNil);
}

/** A JSON value decoded as Go's encoding/json decodes into interface{}. */
export function fromJson(v: unknown): GoValue {
  if (v === null) return null;
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
  if (Array.isArray(v)) return new GoSlice('interface {}', v.map(fromJson));
  if (typeof v === 'object') return new GoMap('interface {}', new JsonObjectEntries(v as Record<string, unknown>));
  return null;
}

/** Plain JS data (e.g. a resource's vars) as Go values: objects → maps, arrays → []interface {}, integers → float64. */
export function fromPlain(v: unknown): GoValue {
  if (v === undefined) return undefined;
  if (v instanceof GoSlice || v instanceof GoMap || v instanceof GoStruct || v instanceof GoUint || v instanceof GoFunc || v instanceof GoComplex) return v;
  if (typeof v === 'bigint') return v;
  return fromJson(v);
}

/** Go's assignability for the types the function map uses: identical types, or a named slice to its unnamed []elem. */
export function assignable(v: GoValue, typ: string): boolean {
  if (typ === 'any' || typ === 'value') return true;
  const t = typeOf(v);
  if (t === typ) return true;
  if (v instanceof GoSlice && v.named !== undefined && typ === `[]${v.elem}`) return true;
  return false;
}

/** Whether values of type `typ` can be nil (slices, maps, pointers, interfaces, funcs). */
export function canBeNil(typ: string): boolean {
  return typ === 'any' || typ === 'value' || typ.startsWith('[]') || typ.startsWith('map[') || typ.startsWith('*') || typ.startsWith('func') || typ === 'memkv.KVPairs';
}

/** The zero value of a type that can be nil. */
export function nilOf(typ: string): GoValue {
  if (typ === 'value') return undefined;
  if (typ.startsWith('[]')) return new GoSlice(typ.slice(2), [], true);
  if (typ === 'memkv.KVPairs') return new GoSlice('memkv.KVPair', [], true, 'memkv.KVPairs');
  if (typ.startsWith('map[string]')) return new GoMap(typ.slice('map[string]'.length), new Map(), true);
  return null;
}
