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

type StatOf = (path: string) => Stats | undefined;

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

export function inspectScriptPath(path: string, statOf: StatOf = statOrUndefined): PathFacts {
  let p = path;
  for (;;) {
    const st = statOf(p);
    if (st !== undefined) {
      const problem = problemOf(p, st);
      if (problem !== undefined) return { insecure: problem };
    }
    const parent = dirname(p);
    if (parent === p) return {};
    p = parent;
  }
}

/**
 * inspectScriptPath for the scripts of one render: each path (and the directories the scripts
 * share, such as /etc) is statted once. Make a fresh one per render, never keep it: ownership and
 * modes may change between renders.
 */
export function scriptPathInspector(): (path: string) => PathFacts {
  const stats = new Map<string, Stats | undefined>();
  const statOnce: StatOf = (p) => {
    if (!stats.has(p)) stats.set(p, statOrUndefined(p));
    return stats.get(p);
  };
  return (path) => inspectScriptPath(path, statOnce);
}
