/**
 * A parsed Go template set — what Go's `template.New(name).Funcs(m).Parse(text)` gives — ready to
 * execute any number of times. Parse errors and unknown functions throw ParseError now; execution
 * errors throw ExecError.
 */
import { BUILTINS } from './builtins.js';
import { execute, type ExecOptions, type TemplateSet } from './exec.js';
import { parseTemplate, type Tree } from './parse.js';
import type { GoFunc, GoValue } from './values.js';

export class GoTemplate implements TemplateSet {
  private constructor(
    readonly name: string,
    readonly funcs: ReadonlyMap<string, GoFunc>,
    readonly trees: Map<string, Tree> = new Map(),
  ) {}

  /** Parses `text` as template `name` (its `define`s and `block`s join the set). */
  static parse(name: string, text: string, funcs: ReadonlyMap<string, GoFunc> = new Map()): GoTemplate {
    const t = new GoTemplate(name, funcs);
    parseTemplate(name, text, (n) => funcs.has(n) || BUILTINS.has(n), t.trees);
    return t;
  }

  /** The same parsed templates with another function map (same names, bound to one render). */
  withFuncs(funcs: ReadonlyMap<string, GoFunc>): GoTemplate {
    return new GoTemplate(this.name, funcs, this.trees);
  }

  /** Runs the template (or the named one of the set) with `data` as dot. */
  execute(data: GoValue, options: ExecOptions = {}, name: string = this.name): string {
    return execute(this, name, data, options);
  }
}

export { ParseError } from './parse.js';
export { ExecError, DEFAULT_MAX_DEPTH, DEFAULT_MAX_OUTPUT, type ExecOptions } from './exec.js';
