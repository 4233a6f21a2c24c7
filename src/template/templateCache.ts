/**
 * Template files compiled once and reused until the file changes on disk (mtime, size, inode),
 * so edits to templates/ take effect without a restart and an unchanged template costs nothing.
 */
import { readFileSync, statSync } from 'node:fs';
import { TemplateError, type CompiledTemplate, type TemplateEngine } from './engine.js';
import { LookupCache } from './lookups.js';
import { createGoEngine } from './goEngine.js';

import { engineForPath, type EngineKind } from './engineKind.js';

export type { EngineKind };

interface Entry {
  readonly stamp: string;
  readonly compiled: CompiledTemplate;
}

export class TemplateCache {
  private readonly entries = new Map<string, Entry>();

  /** DNS answers shared by every render, looked up again after 30 s. */
  readonly lookups = new LookupCache({ ttlMs: 30_000 });

  constructor(
    /** The Handlebars engine. */
    readonly engine: TemplateEngine,
    /** The Go text/template engine. */
    readonly goEngine: TemplateEngine = createGoEngine(),
  ) {}

  /**
   * The compiled template at `path` (Go engine for `.tmpl` unless `kind` says otherwise); throws
   * TemplateError naming the file when missing or invalid.
   */
  load(path: string, kind: EngineKind = engineForPath(path)): CompiledTemplate {
    let stamp: string;
    try {
      const st = statSync(path);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new TemplateError(code === 'ENOENT' ? `template ${path} does not exist` : `cannot read template ${path}: ${(e as Error).message}`, path);
    }
    const key = `${kind}\u0000${path}`;
    const hit = this.entries.get(key);
    if (hit && hit.stamp === stamp) return hit.compiled;
    let source: string;
    try {
      source = readFileSync(path, 'utf8');
    } catch (e) {
      throw new TemplateError(`cannot read template ${path}: ${(e as Error).message}`, path);
    }
    const compiled = (kind === 'go' ? this.goEngine : this.engine).compile(path, source);
    this.entries.set(key, { stamp, compiled });
    return compiled;
  }
}
