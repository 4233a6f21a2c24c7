/**
 * ZooKeeper's wire encoding (jute): big-endian ints and longs, length-prefixed byte buffers and
 * UTF-8 strings (length -1 = null), vectors as a count then the items. Only what haconfd sends
 * and reads. Pure: no I/O.
 */

export class JuteWriter {
  private chunks: Buffer[] = [];
  private size = 0;

  private push(b: Buffer): this {
    this.chunks.push(b);
    this.size += b.length;
    return this;
  }

  int(v: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(v, 0);
    return this.push(b);
  }

  long(v: bigint): this {
    const b = Buffer.allocUnsafe(8);
    b.writeBigInt64BE(v, 0);
    return this.push(b);
  }

  bool(v: boolean): this {
    return this.push(Buffer.from([v ? 1 : 0]));
  }

  buffer(v: Buffer | null): this {
    if (v === null) return this.int(-1);
    this.int(v.length);
    return this.push(v);
  }

  string(v: string): this {
    return this.buffer(Buffer.from(v, 'utf8'));
  }

  /** The frame: a 4-byte length, then everything written. */
  frame(): Buffer {
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(this.size, 0);
    return Buffer.concat([len, ...this.chunks], this.size + 4);
  }
}

/** Thrown when a reply is shorter than its fields say: the stream is out of step. */
export class JuteDecodeError extends Error {
  override readonly name = 'JuteDecodeError';
}

export class JuteReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new JuteDecodeError(`reply truncated (${this.buf.length} bytes, needed ${this.pos + n})`);
  }

  remaining(): number {
    return this.buf.length - this.pos;
  }

  int(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  long(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  bool(): boolean {
    this.need(1);
    return this.buf[this.pos++] !== 0;
  }

  buffer(): Buffer | null {
    const len = this.int();
    if (len < 0) return null;
    this.need(len);
    const v = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return v;
  }

  string(): string {
    const b = this.buffer();
    return b === null ? '' : b.toString('utf8');
  }

  strings(): string[] {
    const n = this.int();
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.string());
    return out;
  }
}

/** The parts of a znode's Stat haconfd uses (the rest is read past). */
export interface ZnodeStat {
  readonly mzxid: bigint;
  readonly version: number;
  readonly ephemeralOwner: bigint;
  readonly dataLength: number;
  readonly numChildren: number;
}

export function readStat(r: JuteReader): ZnodeStat {
  r.long(); // czxid
  const mzxid = r.long();
  r.long(); // ctime
  r.long(); // mtime
  const version = r.int();
  r.int(); // cversion
  r.int(); // aversion
  const ephemeralOwner = r.long();
  const dataLength = r.int();
  const numChildren = r.int();
  r.long(); // pzxid
  return { mzxid, version, ephemeralOwner, dataLength, numChildren };
}
