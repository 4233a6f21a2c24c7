/**
 * The protobuf bytes of etcd's read-only transaction of Range requests, encoded and decoded by hand.
 * The generic decoder (protobufjs via proto-loader) turns every KeyValue into an object with four
 * int64 fields converted to strings and two copied buffers; for a 10,000-key prefix that is most of
 * the read's time. Here keys and values are views into the response and only the revision is parsed.
 *
 * Field numbers (etcd/api/etcdserverpb/rpc.proto, mvccpb/kv.proto):
 *   TxnRequest   { repeated RequestOp success = 2; }
 *   RequestOp    { RangeRequest request_range = 1; }
 *   RangeRequest { bytes key = 1; bytes range_end = 2; int64 revision = 4; }
 *   TxnResponse  { ResponseHeader header = 1; bool succeeded = 2; repeated ResponseOp responses = 3; }
 *   ResponseHeader { int64 revision = 3; }   ResponseOp { RangeResponse response_range = 1; }
 *   RangeResponse  { ResponseHeader header = 1; repeated KeyValue kvs = 2; bool more = 3; int64 count = 4; }
 *   KeyValue       { bytes key = 1; int64 mod_revision = 3; bytes value = 5; … }
 */

export interface RangeSpec {
  readonly key: Buffer;
  readonly rangeEnd?: Buffer | undefined;
  /** Read at this revision; absent = the current one. */
  readonly revision?: number | undefined;
}

const VARINT = 0;
const FIXED64 = 1;
const BYTES = 2;
const FIXED32 = 5;

function varintBytes(n: number): number[] {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`cannot encode ${n} as a varint`);
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function lengthDelimited(field: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | BYTES, ...varintBytes(body.length)]), body]);
}

function encodeRangeRequest(r: RangeSpec): Buffer {
  const parts = [lengthDelimited(1, r.key)];
  if (r.rangeEnd) parts.push(lengthDelimited(2, r.rangeEnd));
  if (r.revision !== undefined && r.revision > 0) parts.push(Buffer.from([(4 << 3) | VARINT, ...varintBytes(r.revision)]));
  return Buffer.concat(parts);
}

/** TxnRequest with no compares and one RequestOp{request_range} per range. */
export function encodeReadTxn(ranges: readonly RangeSpec[]): Buffer {
  return Buffer.concat(ranges.map((r) => lengthDelimited(2, lengthDelimited(1, encodeRangeRequest(r)))));
}

/** A cursor over protobuf bytes. */
class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('protobuf: truncated varint');
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new Error('protobuf: varint too long');
  }

  /** A length-delimited field's [start, end). */
  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    const end = start + len;
    if (end > this.end) throw new Error('protobuf: truncated field');
    this.pos = end;
    return [start, end];
  }

  skip(wire: number): void {
    if (wire === VARINT) this.varint();
    else if (wire === BYTES) this.span();
    else if (wire === FIXED64) this.pos += 8;
    else if (wire === FIXED32) this.pos += 4;
    else throw new Error(`protobuf: unsupported wire type ${wire}`);
    if (this.pos > this.end) throw new Error('protobuf: truncated field');
  }
}

function headerRevision(buf: Buffer, start: number, end: number): number {
  const r = new Reader(buf, start, end);
  let revision = 0;
  while (!r.done()) {
    const tag = r.varint();
    if (tag === ((3 << 3) | VARINT)) revision = r.varint();
    else r.skip(tag & 7);
  }
  return revision;
}

/** Called with the [start, end) spans of one KeyValue's key and value in the response buffer. */
type OnSpans = (keyStart: number, keyEnd: number, valueStart: number, valueEnd: number) => void;

function decodeKeyValue(buf: Buffer, start: number, end: number, onSpans: OnSpans): void {
  const r = new Reader(buf, start, end);
  let ks = 0;
  let ke = 0;
  let vs = 0;
  let ve = 0;
  while (!r.done()) {
    const tag = r.varint();
    if (tag === ((1 << 3) | BYTES)) [ks, ke] = r.span();
    else if (tag === ((5 << 3) | BYTES)) [vs, ve] = r.span();
    else r.skip(tag & 7);
  }
  onSpans(ks, ke, vs, ve);
}

function decodeRangeResponse(buf: Buffer, start: number, end: number, onSpans: OnSpans): void {
  const r = new Reader(buf, start, end);
  while (!r.done()) {
    const tag = r.varint();
    if (tag === ((2 << 3) | BYTES)) {
      const [s, e] = r.span();
      decodeKeyValue(buf, s, e, onSpans);
    } else r.skip(tag & 7);
  }
}

function walkReadTxn(buf: Buffer, onSpans: OnSpans): { revision: number } {
  const r = new Reader(buf);
  let revision = 0;
  while (!r.done()) {
    const tag = r.varint();
    if (tag === ((1 << 3) | BYTES)) {
      const [s, e] = r.span();
      revision = headerRevision(buf, s, e);
    } else if (tag === ((3 << 3) | BYTES)) {
      const [s, e] = r.span();
      const op = new Reader(buf, s, e);
      while (!op.done()) {
        const t = op.varint();
        if (t === ((1 << 3) | BYTES)) {
          const [rs, re] = op.span();
          decodeRangeResponse(buf, rs, re, onSpans);
        } else op.skip(t & 7);
      }
    } else r.skip(tag & 7);
  }
  return { revision };
}

/**
 * Decodes a TxnResponse of range responses: calls `onPair` for every key-value (views into `buf`,
 * valid while `buf` is) and returns the header revision.
 */
export function decodeReadTxn(buf: Buffer, onPair: (key: Buffer, value: Buffer) => void): { revision: number } {
  return walkReadTxn(buf, (ks, ke, vs, ve) => onPair(buf.subarray(ks, ke), buf.subarray(vs, ve)));
}

/**
 * As decodeReadTxn, with keys and values as text (UTF-8, invalid sequences replaced by U+FFFD,
 * as decodeBytes does), sliced straight from `buf`: no Buffer view per key and value.
 */
export function decodeReadTxnText(buf: Buffer, onPair: (key: string, value: string) => void): { revision: number } {
  return walkReadTxn(buf, (ks, ke, vs, ve) => onPair(buf.toString('utf8', ks, ke), buf.toString('utf8', vs, ve)));
}
