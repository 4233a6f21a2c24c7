/**
 * The full read: every znode under the prefixes, pipelined. getData on each prefix at once; each
 * reply whose stat counts children sends getChildren, each child list sends getData for every
 * child — all written without waiting on one another, so a tree costs a few round trips of its
 * depth, not one per znode. Replies are handled as they are read, in arrival order.
 */
import { ERR, OP, bodies, decodeChildren, decodeGetData } from './protocol.js';
import { ZkCodeError } from './errors.js';
import type { ZkSession } from './session.js';
import type { Observation } from './tree.js';

export interface TreeRead {
  readonly observations: Observation[];
  /** Arrival number of the last reply: everything the read saw arrived at or before it. */
  readonly completedSeq: number;
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
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
  let outstanding = 0;
  let finished = false;
  const finish = (err: Error | undefined, seq: number): void => {
    if (finished) return;
    if (err === undefined && outstanding > 0) return;
    finished = true;
    done(err, err ? undefined : { observations, completedSeq: seq });
  };
  const visit = (path: string): void => {
    outstanding++;
    session.send(OP.getData, path, bodies.path(path), (err, seq, r) => {
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
    session.send(OP.getChildren, path, bodies.path(path), (err, seq, r) => {
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
