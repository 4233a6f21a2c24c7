/**
 * The full read: every znode under the prefixes, pipelined. getData on each prefix at once; each
 * reply whose stat counts children sends getChildren, each child list sends getData for every
 * child — all written without waiting on one another, so a tree costs a few round trips of its
 * depth, not one per znode. Replies are handled as they are read, in arrival order.
 */
import { ERR, OP, bodies, decodeChildren, decodeGetData } from './protocol.js';
import { ZkCodeError, ZkConnectionError } from './errors.js';
import type { JuteReader } from './jute.js';
import type { ReplyCallback, ZkSession } from './session.js';
import type { Observation } from './tree.js';

export interface TreeRead {
  readonly observations: Observation[];
  /** Arrival number of the last reply: everything the read saw arrived at or before it. */
  readonly completedSeq: number;
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** Operations per multiRead request. */
const BATCH = 256;

/** Servers seen to refuse multiRead (older than 3.6): plain requests for them from then on. */
const noMultiRead = new WeakSet<ZkSession>();
/**
 * Set once a batched reply was too large to accept (many znodes near 1 MB): later reads send one
 * request per znode, whose replies each fit.
 */
let multiReadTooLarge = false;

/**
 * Sends getData/getChildren operations, those queued in one turn grouped into multiRead requests
 * of up to BATCH operations (one request through the server's pipeline instead of one each).
 */
function batcher(session: ZkSession): (op: number, path: string, cb: ReplyCallback) => void {
  let queue: { op: number; path: string; cb: ReplyCallback }[] = [];
  const plain = (o: { op: number; path: string; cb: ReplyCallback }): void => session.send(o.op, o.path, bodies.path(o.path), o.cb);
  const flush = (): void => {
    const all = queue;
    queue = [];
    for (let i = 0; i < all.length; i += BATCH) {
      const ops = all.slice(i, i + BATCH);
      if (ops.length === 1 || multiReadTooLarge || noMultiRead.has(session)) {
        ops.forEach(plain);
        continue;
      }
      session.multiRead(ops, (j, err, seq, r) => {
        const o = ops[j] as (typeof ops)[number];
        if (err instanceof ZkCodeError && err.code === ERR.unimplemented && err.path === ops[0]?.path) {
          noMultiRead.add(session);
          plain(o);
          return;
        }
        o.cb(err, seq, r as JuteReader | undefined);
      });
    }
  };
  return (op, path, cb) => {
    queue.push({ op, path, cb });
    if (queue.length === 1) queueMicrotask(flush);
  };
}

/**
 * Reads the trees; `decode` turns a znode's bytes into its value. Calls `done` exactly once,
 * synchronously from the last reply's handler (so nothing read later can be mistaken as earlier).
 */
export function readTrees(
  session: ZkSession,
  prefixes: readonly string[],
  decode: (path: string, data: Buffer) => string,
  done: (err: Error | undefined, result: TreeRead | undefined) => void,
): void {
  const observations: Observation[] = [];
  const send = batcher(session);
  let outstanding = 0;
  let finished = false;
  const finish = (err: Error | undefined, seq: number): void => {
    if (finished) return;
    if (err === undefined && outstanding > 0) return;
    if (err instanceof ZkConnectionError && err.tooLarge) multiReadTooLarge = true;
    finished = true;
    done(err, err ? undefined : { observations, completedSeq: seq });
  };
  const visit = (path: string): void => {
    outstanding++;
    send(OP.getData, path, (err, seq, r) => {
      outstanding--;
      if (finished) return;
      if (err) {
        // Gone between being listed and being read: simply not there.
        if (err instanceof ZkCodeError && err.code === ERR.noNode) return finish(undefined, seq);
        return finish(err, seq);
      }
      let numChildren: number;
      try {
        const { data, stat } = decodeGetData(r as NonNullable<typeof r>);
        observations.push({ path, value: decode(path, data), seq });
        numChildren = stat.numChildren;
      } catch (e) {
        return finish(e as Error, seq);
      }
      if (numChildren > 0) list(path);
      finish(undefined, seq);
    });
  };
  const list = (path: string): void => {
    outstanding++;
    send(OP.getChildren, path, (err, seq, r) => {
      outstanding--;
      if (finished) return;
      if (err) {
        if (err instanceof ZkCodeError && err.code === ERR.noNode) return finish(undefined, seq);
        return finish(err, seq);
      }
      let names: string[];
      try {
        names = decodeChildren(r as NonNullable<typeof r>);
      } catch (e) {
        return finish(e as Error, seq);
      }
      for (const n of names) visit(childPath(path, n));
      finish(undefined, seq);
    });
  };
  if (prefixes.length === 0) {
    queueMicrotask(() => finish(undefined, 0));
    return;
  }
  for (const p of prefixes) visit(p);
}
