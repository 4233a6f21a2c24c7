/**
 * One TCP connection to one ZooKeeper server carrying one new session. Requests are pipelined
 * (written at once, matched to replies by xid); replies and watch notifications are numbered in
 * the order they arrive (`seq`), which is the order the server processed them. Pings keep the
 * session alive; a server silent for 2/3 of the session timeout is given up. A session is never
 * resumed: after any loss the owner opens a new one (haconfd owns no ephemeral znodes), which
 * makes "session expired while disconnected" the same path as any reconnect.
 */
import { connect, type Socket } from 'node:net';
import { JuteReader } from './jute.js';
import {
  OP,
  ERR,
  XID_NOTIFICATION,
  XID_PING,
  OP_ERROR,
  bodies,
  decodeChildren,
  decodeMultiHeader,
  multiReadBody,
  decodeConnect,
  decodeGetData,
  decodeReplyHeader,
  decodeWatcherEvent,
  encodeConnect,
  encodeRequest,
  type WatcherEvent,
} from './protocol.js';
import type { ZnodeStat } from './jute.js';
import { ZkCodeError, ZkConnectionError, describeSocketError } from './errors.js';
import type { ZkServer } from './nodes.js';

/** Replies larger than this are refused (ZooKeeper's own default limit is ~1 MB of data). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

const READ_ONLY = 'the server is in read-only mode: it has lost contact with the rest of its ensemble';

let seqCounter = 0;
/** Order of arrival across all sessions of the process. */
function nextSeq(): number {
  return ++seqCounter;
}

export interface SessionOptions {
  /** Session timeout asked for (the server clamps it to 2–20 ticks). */
  readonly sessionTimeoutMs: number;
  /** Connect + handshake must finish within this. */
  readonly connectTimeoutMs: number;
  onNotification?(event: WatcherEvent, seq: number): void;
  /** The connection ended (not called after close()). */
  onLost?(error: ZkConnectionError): void;
}

/** Called in the order replies arrive, synchronously as each is read. */
export type ReplyCallback = (err: Error | undefined, seq: number, reader: JuteReader | undefined) => void;

interface Pending {
  readonly path: string;
  readonly cb: ReplyCallback;
}

export class ZkSession {
  private buf: Buffer = Buffer.alloc(0);
  private readonly pending = new Map<number, Pending>();
  private nextXid = 1;
  private pingTimer: NodeJS.Timeout | undefined;
  private lastHeard = Date.now();
  private ended: ZkConnectionError | undefined;
  private closing = false;

  private constructor(
    readonly server: ZkServer,
    private readonly socket: Socket,
    readonly sessionId: bigint,
    readonly timeoutMs: number,
    private readonly opts: SessionOptions,
  ) {}

  /** Connects and opens a new session; rejects with a ZkConnectionError in plain words. */
  static open(server: ZkServer, opts: SessionOptions): Promise<ZkSession> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: server.host, port: server.port, noDelay: true });
      let settled = false;
      let acc = Buffer.alloc(0);
      const fail = (why: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(new ZkConnectionError(`${server.label}: ${why}`));
      };
      const timer = setTimeout(() => fail(`no answer within ${opts.connectTimeoutMs} ms`), opts.connectTimeoutMs);
      socket.on('error', (e) => fail(describeSocketError(e)));
      socket.on('close', () => fail('the server closed the connection during the handshake (it may have no quorum)'));
      socket.on('connect', () => socket.write(encodeConnect({ timeoutMs: opts.sessionTimeoutMs, readOnly: true })));
      const onData = (chunk: Buffer): void => {
        acc = Buffer.concat([acc, chunk]);
        if (acc.length < 4) return;
        const len = acc.readInt32BE(0);
        if (len < 0 || len > 4096) return fail('the answer is not a ZooKeeper handshake (wrong port?)');
        if (acc.length < 4 + len) return;
        // A server in read-only mode may answer with a bare reply header carrying NotReadOnly.
        if (len === 16 && acc.readInt32BE(16) === ERR.notReadOnly) return fail(READ_ONLY);
        let res;
        try {
          res = decodeConnect(acc.subarray(4, 4 + len));
        } catch {
          return fail('the answer is not a ZooKeeper handshake (wrong port?)');
        }
        if (res.timeoutMs <= 0) return fail('the server refused the session');
        if (res.readOnly) return fail(READ_ONLY);
        settled = true;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.removeAllListeners('error');
        socket.removeAllListeners('close');
        const s = new ZkSession(server, socket, res.sessionId, res.timeoutMs, opts);
        s.attach(acc.subarray(4 + len));
        resolve(s);
      };
      socket.on('data', onData);
    });
  }

  private attach(rest: Buffer): void {
    this.socket.on('data', (c: Buffer) => this.onData(c));
    this.socket.on('error', (e) => this.end(describeSocketError(e)));
    this.socket.on('close', () => this.end('the connection was closed'));
    const every = Math.max(50, Math.floor(this.timeoutMs / 3));
    this.pingTimer = setInterval(() => {
      const silent = Date.now() - this.lastHeard;
      if (silent > (this.timeoutMs * 2) / 3) {
        this.end(`no answer for ${silent} ms (server stopped or network cut)`);
        return;
      }
      this.socket.write(encodeRequest(XID_PING, OP.ping));
    }, every);
    this.pingTimer.unref();
    if (rest.length > 0) this.onData(rest);
  }

  /** Why the session ended, or undefined while it is usable. */
  get endedBecause(): ZkConnectionError | undefined {
    return this.ended;
  }

  private onData(chunk: Buffer): void {
    this.lastHeard = Date.now();
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 4 && !this.ended) {
      const len = this.buf.readInt32BE(0);
      if (len < 0 || len > MAX_FRAME_BYTES) {
        this.end(`a reply of ${len} bytes is larger than the ${MAX_FRAME_BYTES} bytes accepted`, true);
        return;
      }
      if (this.buf.length < 4 + len) return;
      const frame = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      this.onFrame(frame);
    }
  }

  private onFrame(frame: Buffer): void {
    let r: JuteReader;
    let header;
    try {
      r = new JuteReader(frame);
      header = decodeReplyHeader(r);
    } catch {
      this.end('the server sent a reply that could not be read');
      return;
    }
    const seq = nextSeq();
    if (header.xid === XID_PING) return;
    if (header.xid === XID_NOTIFICATION) {
      let ev: WatcherEvent;
      try {
        ev = decodeWatcherEvent(r);
      } catch {
        this.end('the server sent a watch event that could not be read');
        return;
      }
      this.opts.onNotification?.(ev, seq);
      return;
    }
    const p = this.pending.get(header.xid);
    if (!p) return;
    this.pending.delete(header.xid);
    if (header.err !== ERR.ok) p.cb(new ZkCodeError(header.err, p.path), seq, undefined);
    else p.cb(undefined, seq, r);
  }

  private end(why: string, tooLarge = false): void {
    if (this.ended) return;
    this.ended = new ZkConnectionError(`${this.server.label}: ${why}`);
    this.ended.tooLarge = tooLarge;
    clearInterval(this.pingTimer);
    this.socket.destroy();
    const ended = this.ended;
    for (const p of this.pending.values()) p.cb(ended, 0, undefined);
    this.pending.clear();
    if (!this.closing) this.opts.onLost?.(this.ended);
  }

  /** Sends one request (pipelined); `cb` runs synchronously when its reply is read. */
  send(op: number, path: string, body: Parameters<typeof encodeRequest>[2], cb: ReplyCallback): void {
    if (this.ended) {
      const ended = this.ended;
      queueMicrotask(() => cb(ended, 0, undefined));
      return;
    }
    const xid = this.nextXid++;
    if (this.nextXid > 0x7fff_fff0) this.nextXid = 1;
    this.pending.set(xid, { path, cb });
    this.queueWrite(encodeRequest(xid, op, body));
  }

  private outbox: Buffer[] = [];

  /** Requests sent in one turn go out in one write (a 10,000-znode read is a few syscalls, not 10,000). */
  private queueWrite(frame: Buffer): void {
    this.outbox.push(frame);
    if (this.outbox.length > 1) return;
    queueMicrotask(() => {
      const frames = this.outbox;
      this.outbox = [];
      if (!this.ended) this.socket.write(frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames));
    });
  }

  /**
   * Several getData/getChildren in one multiRead request (ZooKeeper 3.6+). `each` runs once per
   * operation, in order, synchronously with the reader at that operation's result; a failed
   * operation gets its error (the others still run). A refused request (older server) calls
   * `each` with that error for every operation.
   */
  multiRead(ops: readonly { readonly op: number; readonly path: string }[], each: (i: number, err: Error | undefined, seq: number, reader: JuteReader | undefined) => void): void {
    this.send(OP.multiRead, ops[0]?.path ?? '', multiReadBody(ops), (err, seq, r) => {
      if (err || !r) {
        ops.forEach((_o, i) => each(i, err ?? new Error('no reply'), seq, undefined));
        return;
      }
      for (let i = 0; i < ops.length; i++) {
        const o = ops[i] as { op: number; path: string };
        let h;
        try {
          h = decodeMultiHeader(r);
          if (h.done) throw new Error('multi reply ended early');
          if (h.type === OP_ERROR) {
            const code = r.int();
            each(i, new ZkCodeError(code, o.path), seq, undefined);
            continue;
          }
        } catch (e) {
          for (let j = i; j < ops.length; j++) each(j, e as Error, seq, undefined);
          return;
        }
        each(i, undefined, seq, r);
      }
    });
  }

  /** Sends one request (pipelined); resolves with its reply's arrival number and body. */
  request(op: number, path: string, body?: Parameters<typeof encodeRequest>[2]): Promise<{ seq: number; reader: JuteReader }> {
    return new Promise((resolve, reject) => {
      this.send(op, path, body, (err, seq, reader) => (err || !reader ? reject(err ?? new Error('no reply')) : resolve({ seq, reader })));
    });
  }

  /** The znode's data and stat; undefined when it does not exist. */
  async getData(path: string): Promise<{ seq: number; data: Buffer; stat: ZnodeStat } | undefined> {
    try {
      const { seq, reader } = await this.request(OP.getData, path, bodies.path(path));
      return { seq, ...decodeGetData(reader) };
    } catch (e) {
      if (e instanceof ZkCodeError && e.code === ERR.noNode) return undefined;
      throw e;
    }
  }

  /** The znode's child names; undefined when it does not exist. */
  async getChildren(path: string): Promise<{ seq: number; children: string[] } | undefined> {
    try {
      const { seq, reader } = await this.request(OP.getChildren, path, bodies.path(path));
      return { seq, children: decodeChildren(reader) };
    } catch (e) {
      if (e instanceof ZkCodeError && e.code === ERR.noNode) return undefined;
      throw e;
    }
  }

  /** A persistent watch on `path` and every znode below it (ZooKeeper 3.6+). */
  async addRecursiveWatch(path: string): Promise<number> {
    const { seq } = await this.request(OP.addWatch, path, bodies.addWatch(path, 1));
    return seq;
  }

  async create(path: string, data: Buffer | string, ephemeral = false): Promise<void> {
    await this.request(OP.create, path, bodies.create(path, Buffer.from(data), ephemeral));
  }

  async setData(path: string, data: Buffer | string): Promise<void> {
    await this.request(OP.setData, path, bodies.setData(path, Buffer.from(data)));
  }

  async delete(path: string): Promise<void> {
    await this.request(OP.delete, path, bodies.delete(path));
  }

  /** Ends the session on the server (its ephemeral znodes go at once), then the connection. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.closing = true;
    const done = this.request(OP.closeSession, '').catch(() => undefined);
    const timer = setTimeout(() => this.end('closed'), 1000);
    await done;
    clearTimeout(timer);
    this.end('closed');
  }

  /** Drops the connection without ending the session (the server expires it after its timeout). */
  abandon(): void {
    this.closing = true;
    this.end('abandoned');
  }
}
