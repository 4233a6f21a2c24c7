/**
 * Typos are errors: a `{{path}}` that prints a field the data does not have fails the render,
 * naming the expression and its line, instead of printing nothing. Only printed expressions are
 * strict: a field tested with `{{#if x}}`, entered with `{{#with x}}`, iterated with `{{#each x}}`
 * or given a fallback with `{{default x "…"}}` may be missing, which is how a template says a field
 * is optional.
 *
 * Handlebars' own `strict` option cannot do this: it skips fields reached through block params
 * (`{{#each members as |m|}}{{m.nmae}}`), which is how the shipped templates are written. So the
 * parsed template is rewritten before it is compiled: each printing `{{path}}` (no params, not a
 * helper) becomes `{{haconfdPrint path "path" line}}`, and that helper refuses `undefined`. Pure.
 */
import type { HandlebarsEnv } from './engine.js';

/** The helper the rewrite calls; registered by the engine, not part of the documented helper set. */
export const STRICT_PRINT_HELPER = 'haconfdPrint';

/** The parts of Handlebars' AST the rewrite looks at (hbs.AST is not exported as plain types). */
interface Node {
  type: string;
  [k: string]: unknown;
}
interface Loc {
  start: { line: number; column: number };
  end: { line: number; column: number };
}

/** Rewrites every printing `{{path}}` in `program` (in place) to go through STRICT_PRINT_HELPER. */
export function rewriteStrictPrints(program: Node, isHelper: (name: string) => boolean): void {
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    const n = node as Node;
    if (n.type === 'MustacheStatement') {
      rewriteMustache(n, isHelper);
      return;
    }
    for (const key of ['body', 'program', 'inverse']) {
      const child = n[key];
      if (Array.isArray(child)) for (const c of child) visit(c);
      else visit(child);
    }
  };
  visit(program);
}

function rewriteMustache(m: Node, isHelper: (name: string) => boolean): void {
  const path = m['path'] as Node | undefined;
  const params = (m['params'] as unknown[] | undefined) ?? [];
  if (path?.type !== 'PathExpression' || params.length > 0 || m['hash'] !== undefined) return;
  if (path['data'] === true) return; // @index, @key, @root…: Handlebars' own
  const parts = path['parts'] as string[];
  const original = String(path['original']);
  // `{{this}}` / `{{.}}`, and a bare name that is a helper (`{{hostname}}`), are not field reads.
  if (parts.length === 0 || (parts.length === 1 && (path['depth'] as number) === 0 && isHelper(parts[0] as string) && !original.startsWith('this.') && !original.startsWith('./'))) return;
  const loc = (m['loc'] as Loc | undefined) ?? { start: { line: 0, column: 0 }, end: { line: 0, column: 0 } };
  const literal = (type: string, value: unknown): Node => ({ type, value, original: value, loc });
  m['path'] = { type: 'PathExpression', data: false, depth: 0, parts: [STRICT_PRINT_HELPER], original: STRICT_PRINT_HELPER, loc };
  m['params'] = [path, literal('StringLiteral', original), literal('NumberLiteral', loc.start.line)];
}

/** Registers STRICT_PRINT_HELPER on `hb`. */
export function registerStrictPrint(hb: HandlebarsEnv): void {
  hb.registerHelper(STRICT_PRINT_HELPER, (value: unknown, original: unknown, line: unknown) => {
    if (value === undefined) {
      const field = String(original);
      throw new Error(
        `line ${String(line)}: {{${field}}} prints a field that is not defined — misspelt? ` +
          `(an optional field: {{#if ${field}}}…{{/if}} or {{default ${field} "…"}})`,
      );
    }
    return value;
  });
}
