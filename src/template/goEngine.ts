/**
 * The Go text/template engine behind the TemplateEngine interface: a template file is parsed once
 * (named by its base name, as confd names it) with confd's function names, and each render runs it
 * with confd's function map bound to the render's store and DNS cache, dot = nil (as confd runs it).
 */
import { basename } from 'node:path';
import { TemplateError, type CompiledTemplate, type TemplateEngine } from './engine.js';
import { GoTemplate, ParseError, ExecError, DEFAULT_MAX_OUTPUT } from './go/template.js';
import { GoFunc } from './go/values.js';
import { GO_FUNC_NAMES, goFuncMap } from './goFuncs.js';
import type { RenderData } from './renderData.js';

export interface GoEngineOptions {
  /** Refuse a render whose output grows past this many characters (default 64 MiB). */
  readonly maxOutput?: number;
  /** Environment for getenv (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Placeholders with the right names for parsing (parse only asks whether a name is a function). */
const PARSE_FUNCS: ReadonlyMap<string, GoFunc> = new Map(
  GO_FUNC_NAMES.map((n) => [n, new GoFunc({ params: [], result: 'any' }, () => undefined)]),
);

export function createGoEngine(options: GoEngineOptions = {}): TemplateEngine {
  const maxOutput = options.maxOutput ?? DEFAULT_MAX_OUTPUT;
  return {
    helperNames: GO_FUNC_NAMES,
    compile(path: string, source: string): CompiledTemplate {
      const name = basename(path);
      let parsed: GoTemplate;
      try {
        parsed = GoTemplate.parse(name, source, PARSE_FUNCS);
      } catch (e) {
        if (e instanceof ParseError) throw new TemplateError(e.message, path, e.line || undefined);
        throw e;
      }
      return {
        name: path,
        render(data: RenderData): string {
          const funcs = goFuncMap({ store: data.store, lookups: data.lookups, ...(options.env ? { env: options.env } : {}) });
          const t = parsed.withFuncs(funcs);
          try {
            return t.execute(undefined, { maxOutput: data.maxOutput ?? maxOutput });
          } catch (e) {
            if (e instanceof ExecError) throw new TemplateError(e.message, path, lineOf(e.message));
            throw e;
          }
        },
      };
    },
  };
}

function lineOf(message: string): number | undefined {
  const m = /^template: [^:]*:(\d+):/.exec(message);
  return m ? Number(m[1]) : undefined;
}
