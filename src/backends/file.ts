/**
 * The file backend: YAML or JSON files, nested objects flattened to '/a/b' keys (arrays to
 * '/a/0', '/a/1'), several files merged in order. A -file that is a directory stands for the files
 * below it whose name matches -filter (confd's util.RecursiveFilesLookup: depth first, names in
 * lexical order, symlinked directories not followed). Watching uses chokidar on the given paths.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { goGlobToRegExp } from '../config/goGlob.js';
import type { YAMLError } from 'yaml';
import type { Backend, Snapshot, Watch, WatchHandlers } from './backend.js';
import { BackendUnavailableError } from './backend.js';
import { restrictSnapshot } from '../store/snapshot.js';

/** Flattens a parsed document into absolute keys with string values. */
export function flattenDocument(doc: unknown, into: Map<string, string>, path = ''): void {
  if (doc === null || doc === undefined) {
    if (path !== '') into.set(path, '');
    return;
  }
  if (Array.isArray(doc)) {
    doc.forEach((v, i) => flattenDocument(v, into, `${path}/${i}`));
    return;
  }
  if (typeof doc === 'object' && !(doc instanceof Date)) {
    for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
      const seg = k.replace(/^\/+|\/+$/g, '');
      flattenDocument(v, into, seg === '' ? path : `${path}/${seg}`);
    }
    return;
  }
  into.set(path === '' ? '/' : path, doc instanceof Date ? doc.toISOString() : String(doc));
}

/** 1-based line and column of a character offset. */
function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, col: offset - before.lastIndexOf('\n') };
}

/**
 * Parses one data file's text; errors name the file and line. JSON (by extension or a leading
 * '{' or '[') takes the fast native path; everything else is YAML, loaded only when needed.
 */
export async function parseDataFile(file: string, text: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (/\.json$/i.test(file) || /^\s*[{[]/.test(text)) {
    try {
      flattenDocument(JSON.parse(text), out);
      return out;
    } catch (e) {
      if (/\.json$/i.test(file)) {
        const m = /position (\d+)/.exec((e as Error).message);
        const where = m ? lineCol(text, Number(m[1])) : undefined;
        throw new BackendUnavailableError(`data file ${file}:${where ? ` line ${where.line}, column ${where.col}:` : ''} invalid JSON: ${(e as Error).message}`);
      }
      // Not JSON after all (a YAML flow mapping): fall through to YAML.
    }
  }
  const { default: YAML } = await import('yaml');
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0] as YAMLError;
    const pos = err.linePos?.[0];
    const where = pos ? ` line ${pos.line}, column ${pos.col}` : '';
    throw new BackendUnavailableError(`data file ${file}:${where}: ${err.message.split('\n')[0]}`);
  }
  flattenDocument(doc.toJS(), out);
  return out;
}

function unavailable(path: string, e: unknown): BackendUnavailableError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permission denied)' : (e as Error).message;
  return new BackendUnavailableError(`data file ${path} ${why}`);
}

/** The data files a -file list stands for: files as given, directories expanded (see the header). */
export async function expandDataFiles(paths: readonly string[], filter: RegExp): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      throw unavailable(dir, e);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) {
        await walk(full);
      } else if (filter.test(e.name)) {
        // A symlink counts when it leads to a file (confd checks with os.Stat); a symlinked directory is not entered.
        const isFile = e.isSymbolicLink() ? await stat(full).then((s) => !s.isDirectory(), () => true) : true;
        if (isFile) out.push(full);
      }
    }
  };
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = (await stat(p)).isDirectory();
    } catch (e) {
      throw unavailable(p, e);
    }
    if (isDir) await walk(p);
    else out.push(p);
  }
  return out;
}

/** What `read` compares to tell a change: the files' texts in reading order. */
function joinTexts(files: readonly { readonly text: string }[]): string {
  return files.map((f) => f.text).join('\u0000');
}

export class FileBackend implements Backend {
  readonly name = 'file';
  private revision = 0;
  private lastText = '';

  private readonly filter: RegExp;

  /** `filter`: Go filepath.Match pattern for the file names under a directory (confd's -filter, default "*"). */
  constructor(
    readonly files: readonly string[],
    filter = '*',
  ) {
    this.filter = goGlobToRegExp(filter);
  }

  async read(prefixes: readonly string[]): Promise<Snapshot> {
    const all = new Map<string, string>();
    const files = await this.readFiles();
    for (const { file, text } of files) {
      for (const [k, v] of await parseDataFile(file, text)) all.set(k, v);
    }
    const joined = joinTexts(files);
    if (joined !== this.lastText) {
      this.lastText = joined;
      this.revision++;
    }
    return restrictSnapshot({ revision: this.revision, pairs: all }, prefixes);
  }

  /** Every data file with its text, in reading order. */
  private async readFiles(): Promise<{ readonly file: string; readonly text: string }[]> {
    const out: { file: string; text: string }[] = [];
    for (const file of await expandDataFiles(this.files, this.filter)) {
      try {
        out.push({ file, text: await readFile(file, 'utf8') });
      } catch (e) {
        throw unavailable(file, e);
      }
    }
    return out;
  }

  watch(_prefixes: readonly string[], _afterRevision: number, handlers: WatchHandlers): Watch {
    let closed = false;
    let watcher: { close(): Promise<void> } | undefined;
    const ready = import('chokidar').then(({ watch }) => {
      if (closed) return;
      const w = watch(this.files.map((f) => resolve(f)), { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 10 } });
      w.on('all', () => handlers.onResync('data file changed'));
      w.on('error', (e: unknown) => handlers.onStatus?.('disconnected', e instanceof Error ? e : new Error(String(e))));
      // Watching starts once chokidar has scanned the paths: a change made after the last read and
      // before then gives no event (ignoreInitial), so compare the files with that read now.
      w.on('ready', () => {
        if (closed) return;
        handlers.onStatus?.('connected');
        this.readFiles().then(
          (files) => {
            if (!closed && joinTexts(files) !== this.lastText) handlers.onResync('data file changed');
          },
          () => {
            if (!closed) handlers.onResync('data file changed');
          },
        );
      });
      watcher = w;
    });
    return {
      close: async () => {
        closed = true;
        await ready;
        await watcher?.close();
      },
    };
  }

  async close(): Promise<void> {}
}
