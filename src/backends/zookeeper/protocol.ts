/**
 * The ZooKeeper requests haconfd sends and the replies it reads (protocol as served by ZooKeeper
 * 3.6+; addWatch needs 3.6). Pure encoders/decoders over jute.ts.
 */
import { JuteReader, JuteWriter, readStat, type ZnodeStat } from './jute.js';

export const OP = {
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getChildren: 8,
  ping: 11,
  multiRead: 22,
  addWatch: 106,
  closeSession: -11,
} as const;

/** Reserved xids. */
export const XID_NOTIFICATION = -1;
export const XID_PING = -2;

/** A MultiHeader type that marks a failed operation inside a multi reply. */
export const OP_ERROR = -1;

/** addWatch modes. */
export const WATCH_PERSISTENT_RECURSIVE = 1;

/** Watcher event types (WatchedEvent.EventType). */
export const EVENT = {
  none: -1,
  nodeCreated: 1,
  nodeDeleted: 2,
  nodeDataChanged: 3,
  nodeChildrenChanged: 4,
  dataWatchRemoved: 5,
  childWatchRemoved: 6,
  persistentWatchRemoved: 7,
} as const;

/** Error codes haconfd tells apart (KeeperException.Code). */
export const ERR = {
  ok: 0,
  systemError: -1,
  connectionLoss: -4,
  unimplemented: -6,
  operationTimeout: -7,
  badArguments: -8,
  noNode: -101,
  noAuth: -102,
  nodeExists: -110,
  notEmpty: -111,
  sessionExpired: -112,
  sessionMoved: -118,
  notReadOnly: -119,
} as const;

/** What an error code means, in plain words. */
export function describeCode(code: number): string {
  switch (code) {
    case ERR.noNode:
      return 'the znode does not exist';
    case ERR.noAuth:
      return 'permission denied by the znode ACL';
    case ERR.nodeExists:
      return 'the znode already exists';
    case ERR.notEmpty:
      return 'the znode has children';
    case ERR.sessionExpired:
      return 'the session expired';
    case ERR.sessionMoved:
      return 'the session moved to another server';
    case ERR.notReadOnly:
      return 'the server is read-only';
    case ERR.unimplemented:
      return 'the server does not know this request (ZooKeeper 3.6 or later is needed)';
    case ERR.operationTimeout:
      return 'the server timed out';
    case ERR.badArguments:
      return 'the server refused the request as malformed';
    case ERR.connectionLoss:
      return 'the connection was lost';
    default:
      return `ZooKeeper error ${code}`;
  }
}

export interface ConnectRequest {
  readonly timeoutMs: number;
  readonly readOnly: boolean;
}

export function encodeConnect(req: ConnectRequest): Buffer {
  return new JuteWriter()
    .int(0) // protocolVersion
    .long(0n) // lastZxidSeen
    .int(req.timeoutMs)
    .long(0n) // sessionId: a new session
    .buffer(Buffer.alloc(16)) // password
    .bool(req.readOnly)
    .frame();
}

export interface ConnectResponse {
  readonly timeoutMs: number;
  readonly sessionId: bigint;
  /** The server is in read-only mode (it lost contact with its quorum). */
  readonly readOnly: boolean;
}

export function decodeConnect(body: Buffer): ConnectResponse {
  const r = new JuteReader(body);
  r.int(); // protocolVersion
  const timeoutMs = r.int();
  const sessionId = r.long();
  r.buffer(); // password
  const readOnly = r.remaining() > 0 ? r.bool() : false;
  return { timeoutMs, sessionId, readOnly };
}

/** A request frame: header (xid, op) then `body`. */
export function encodeRequest(xid: number, op: number, body?: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter().int(xid).int(op);
  body?.(w);
  return w.frame();
}

export const bodies = {
  path(path: string, watch = false) {
    return (w: JuteWriter) => void w.string(path).bool(watch);
  },
  addWatch(path: string, mode: number) {
    return (w: JuteWriter) => void w.string(path).int(mode);
  },
  create(path: string, data: Buffer, ephemeral: boolean) {
    return (w: JuteWriter) => {
      w.string(path).buffer(data);
      // ACL: world:anyone, all permissions (the one ACL tests create with).
      w.int(1).int(31).string('world').string('anyone');
      w.int(ephemeral ? 1 : 0);
    };
  },
  delete(path: string) {
    return (w: JuteWriter) => void w.string(path).int(-1);
  },
  setData(path: string, data: Buffer) {
    return (w: JuteWriter) => void w.string(path).buffer(data).int(-1);
  },
};

export interface ReplyHeader {
  readonly xid: number;
  readonly zxid: bigint;
  readonly err: number;
}

export function decodeReplyHeader(r: JuteReader): ReplyHeader {
  return { xid: r.int(), zxid: r.long(), err: r.int() };
}

export interface WatcherEvent {
  readonly type: number;
  readonly state: number;
  readonly path: string;
}

export function decodeWatcherEvent(r: JuteReader): WatcherEvent {
  return { type: r.int(), state: r.int(), path: r.string() };
}

export function decodeGetData(r: JuteReader): { data: Buffer; stat: ZnodeStat } {
  const data = r.buffer() ?? Buffer.alloc(0);
  return { data, stat: readStat(r) };
}

export function decodeChildren(r: JuteReader): string[] {
  return r.strings();
}

/** The body of a multiRead (ZooKeeper 3.6+): getData/getChildren operations in one request. */
export function multiReadBody(ops: readonly { readonly op: number; readonly path: string }[]) {
  return (w: JuteWriter) => {
    for (const o of ops) {
      w.int(o.op).bool(false).int(-1);
      w.string(o.path).bool(false);
    }
    w.int(-1).bool(true).int(-1);
  };
}

export interface MultiHeader {
  readonly type: number;
  readonly done: boolean;
  readonly err: number;
}

export function decodeMultiHeader(r: JuteReader): MultiHeader {
  return { type: r.int(), done: r.bool(), err: r.int() };
}
