/**
 * The file system side of keepalived's script security: a script and every directory above it must
 * be writable by root alone (owned by root, not group-writable unless the group is root, not
 * world-writable unless a sticky directory such as /tmp). A script that does not exist yet is
 * judged by the directory it will be written to.
 */
import { statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import type { PathFacts } from './spec.js';

function problemOf(path: string, st: Stats): string | undefined {
  if (st.uid !== 0) return `${path} is owned by uid ${st.uid}`;
  if ((st.mode & 0o020) !== 0 && st.gid !== 0) return `${path} is group-writable (gid ${st.gid})`;
  if ((st.mode & 0o002) !== 0 && !(st.isDirectory() && (st.mode & 0o1000) !== 0)) return `${path} is world-writable`;
  return undefined;
}

export function inspectScriptPath(path: string): PathFacts {
  let p = path;
  for (;;) {
    let st: Stats | undefined;
    try {
      st = statSync(p);
    } catch {
      st = undefined;
    }
    if (st !== undefined) {
      const problem = problemOf(p, st);
      if (problem !== undefined) return { insecure: problem };
    }
    const parent = dirname(p);
    if (parent === p) return {};
    p = parent;
  }
}
