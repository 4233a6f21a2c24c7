/**
 * The protobuf bytes of etcd's Authenticate call, by hand (see etcdWire.ts for the Txn). Pure.
 *   AuthenticateRequest  { string name = 1; string password = 2; }
 *   AuthenticateResponse { ResponseHeader header = 1; string token = 2; }
 */

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function stringField(field: number, text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...varint(body.length)]), body]);
}

export function encodeAuthenticateRequest(name: string, password: string): Buffer {
  return Buffer.concat([stringField(1, name), stringField(2, password)]);
}

/** The token of an AuthenticateResponse ('' if absent). */
export function decodeAuthenticateToken(buf: Buffer): string {
  let pos = 0;
  const readVarint = (): number => {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) throw new Error('protobuf: truncated varint');
      const b = buf[pos++] as number;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new Error('protobuf: varint too long');
  };
  let token = '';
  while (pos < buf.length) {
    const tag = readVarint();
    const wire = tag & 7;
    if (wire === 2) {
      const len = readVarint();
      if (pos + len > buf.length) throw new Error('protobuf: truncated field');
      if (tag >> 3 === 2) token = buf.toString('utf8', pos, pos + len);
      pos += len;
    } else if (wire === 0) readVarint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }
  return token;
}
