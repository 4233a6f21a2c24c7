/**
 * The Handlebars environment: one isolated instance with every helper registered, HTML escaping
 * off, and unknown helpers rejected when a template is loaded (not when it first runs).
 */
import Handlebars from 'handlebars';
import type { RenderData, RenderWarning } from './renderData.js';
import { STRICT_PRINT_HELPER, registerStrictPrint, rewriteStrictPrints } from './strictPrint.js';

export type HandlebarsEnv = typeof Handlebars;
export type HelperRegistration = (hb: HandlebarsEnv) => void;

/** Raised when a template cannot be loaded or rendered; names the template and, when known, the line. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  constructor(
    message: string,
    readonly template: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

export interface CompiledTemplate {
  readonly name: string;
  /** Renders with the given render data; `context` is the template's `this` (defaults to `{vars}`). */
  render(data: RenderData): string;
}

export interface TemplateEngine {
  /** Compiles `source` eagerly: syntax errors and unknown helpers throw TemplateError now. */
  compile(name: string, source: string): CompiledTemplate;
  readonly helperNames: readonly string[];
}

const BUILTIN_HELPERS = ['if', 'unless', 'each', 'with', 'lookup', 'log', 'blockHelperMissing', 'helperMissing'];

/** Extracts the 1-based template line from Handlebars' error messages ("Parse error on line 3:"). */
function lineOf(message: string): number | undefined {
  const m = /line (\d+)/i.exec(message) ?? / - (\d+):\d+/.exec(message);
  return m ? Number(m[1]) : undefined;
}

export function createTemplateEngine(registrations: readonly HelperRegistration[]): TemplateEngine {
  const hb = Handlebars.create();
  for (const register of registrations) register(hb);
  const helperNames = Object.keys(hb.helpers).filter((n) => !BUILTIN_HELPERS.includes(n));
  const knownHelpers: Record<string, boolean> = {};
  for (const n of helperNames) knownHelpers[n] = true;
  // Printing a field the data does not have is an error (strictPrint.ts), not an empty string.
  registerStrictPrint(hb);
  knownHelpers[STRICT_PRINT_HELPER] = true;
  const isHelper = (n: string): boolean => n in hb.helpers;

  return {
    helperNames,
    compile(name, source) {
      const options = { noEscape: true, strict: false, knownHelpers, knownHelpersOnly: true };
      let ast: ReturnType<typeof hb.parse>;
      try {
        ast = hb.parse(source);
        rewriteStrictPrints(ast as unknown as Parameters<typeof rewriteStrictPrints>[0], isHelper);
        // compile() is lazy; precompile() runs the whole compiler now, so syntax errors and unknown
        // helpers surface when the template is loaded.
        hb.precompile(ast, options);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        const line = lineOf(msg);
        throw new TemplateError(`template ${name}${line ? ` line ${line}` : ''}: ${firstLines(msg)}`, name, line);
      }
      const fn = hb.compile(ast, options);
      return {
        name,
        render(data: RenderData): string {
          try {
            return fn({ vars: data.vars }, { data: { haconfd: data } });
          } catch (e) {
            const msg = e instanceof Error ? e.message : String(e);
            throw new TemplateError(`template ${name}: ${msg}`, name, lineOf(msg));
          }
        },
      };
    },
  };
}

function firstLines(msg: string): string {
  return msg.split('\n').slice(0, 4).join(' | ');
}

export type { RenderData, RenderWarning };
