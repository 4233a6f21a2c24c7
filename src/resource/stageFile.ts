/**
 * The staged file: the new content written beside the destination (same directory, so the final
 * rename is atomic), fsynced, with the mode and owner it will have. Compared with the destination
 * before anything else runs.
 */
import { open, readdir, readlink, realpath, rename, rm, stat, readFile, type FileHandle } from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface FileAttributes {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export interface StagedFile {
  readonly path: string;
  readonly dest: string;
  readonly content: Buffer;
  readonly attrs: FileAttributes;
  /**
   * Held open until the file is committed or removed: a stage file open in a live process is in
   * use, one open nowhere is debris of a killed process (sweepStageDebris).
   */
  readonly handle: FileHandle;
}

/** The destination directory is missing or unwritable: named in the message. */
export class StageError extends Error {
  override readonly name = 'StageError';
}

/** The destination as it is now; undefined when there is none (or it cannot be statted). */
export async function statDestination(dest: string): Promise<Stats | undefined> {
  return stat(dest).catch(() => undefined);
}

/**
 * Attributes the file should have: as configured, else the existing file's (`current`, from
 * statDestination), else 0644 and our ids.
 */
export function desiredAttributes(
  current: Stats | undefined,
  want: { mode: number | undefined; uid: number | undefined; gid: number | undefined },
): FileAttributes {
  const uid = want.uid ?? current?.uid ?? process.getuid?.() ?? 0;
  const gid = want.gid ?? current?.gid ?? process.getgid?.() ?? 0;
  return {
    mode: want.mode ?? (current ? current.mode & 0o7777 : 0o644),
    uid,
    gid,
  };
}

export async function writeStageFile(dest: string, content: Buffer, attrs: FileAttributes): Promise<StagedFile> {
  const dir = dirname(dest);
  const dirStat = await stat(dir).catch(() => undefined);
  if (dirStat === undefined) throw new StageError(`destination directory ${dir} does not exist`);
  if (!dirStat.isDirectory()) throw new StageError(`destination parent ${dir} is not a directory`);
  const path = join(dir, `.${basename(dest)}.${randomBytes(6).toString('hex')}.stage`);
  // Name pattern: stagePattern() must keep matching it.
  let fh;
  try {
    fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (e) {
    throw new StageError(`cannot create stage file in ${dir}: ${(e as Error).message}`);
  }
  try {
    await fh.writeFile(content);
    await fh.chmod(attrs.mode);
    if (needsChown(attrs)) await fh.chown(attrs.uid, attrs.gid);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(path, { force: true });
    throw new StageError(`cannot write stage file ${path}: ${(e as Error).message}`);
  }
  return { path, dest, content, attrs, handle: fh };
}

function needsChown(attrs: FileAttributes): boolean {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  return attrs.uid !== uid || attrs.gid !== gid;
}

/** True when `dest` (as statted into `current`) already has exactly this content, mode and owner. */
export async function destinationMatches(dest: string, current: Stats | undefined, content: Buffer, attrs: FileAttributes): Promise<boolean> {
  if (current === undefined) return false;
  if ((current.mode & 0o7777) !== attrs.mode || current.uid !== attrs.uid || current.gid !== attrs.gid) return false;
  if (current.size !== content.length) return false;
  const old = await readFile(dest);
  return old.equals(content);
}

/** The destination's current content, or '' when there is none (for diffs). */
export async function readDestination(dest: string): Promise<string> {
  return readFile(dest, 'utf8').catch(() => '');
}

/** fsync'd data is renamed over the destination, then the directory is fsynced. */
export async function commitStageFile(staged: StagedFile): Promise<void> {
  await rename(staged.path, staged.dest);
  await staged.handle.close().catch(() => undefined);
  const dh = await open(dirname(staged.dest), 'r').catch(() => undefined);
  if (dh) {
    await dh.sync().catch(() => undefined);
    await dh.close();
  }
}

export async function removeStageFile(staged: StagedFile): Promise<void> {
  await staged.handle.close().catch(() => undefined);
  await rm(staged.path, { force: true });
}

/** Lets go of a stage file kept on purpose (keep_stage_file): it stays, closed. */
export async function releaseStageFile(staged: StagedFile): Promise<void> {
  await staged.handle.close().catch(() => undefined);
}

/** The names writeStageFile gives stage files for `dest`: `.<name>.<12 hex digits>.stage`. */
export function stagePattern(dest: string): RegExp {
  const name = basename(dest).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\.${name}\\.[0-9a-f]{12}\\.stage$`);
}

/** Every file some live process has open (as /proc/<pid>/fd links show them; unreadable ones skipped). */
async function filesOpenAnywhere(): Promise<Set<string>> {
  const open = new Set<string>();
  const pids = await readdir('/proc').catch(() => [] as string[]);
  for (const pid of pids) {
    if (!/^[0-9]+$/.test(pid)) continue;
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => undefined);
      if (target !== undefined) open.add(target);
    }
  }
  return open;
}

/**
 * Removes stage files for `dest` that a killed haconfd left behind: only names matching
 * stagePattern(dest), only regular files, only those no live process has open (a running pass
 * holds its stage file open until it is committed or removed). Anything else in the directory is
 * never touched. Returns the paths removed.
 */
export async function sweepStageDebris(dest: string): Promise<string[]> {
  // /proc shows open files by their real path.
  const dir = await realpath(dirname(dest)).catch(() => dirname(dest));
  const pattern = stagePattern(dest);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => pattern.test(n));
  if (names.length === 0) return [];
  const inUse = await filesOpenAnywhere();
  const removed: string[] = [];
  for (const n of names) {
    const path = join(dir, n);
    if (inUse.has(path)) continue;
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) continue;
    try {
      await rm(path);
      removed.push(path);
    } catch {
      /* gone already, or not ours to remove */
    }
  }
  return removed;
}
