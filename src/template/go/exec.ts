/**
 * The executor of Go's text/template: walks a parse tree with a dot value and a variable stack,
 * evaluating pipelines with Go's rules (exec.go): argument types checked against the function's
 * signature, missing map keys as "no value", `and`/`or` short-circuit, `range` over slices and maps
 * in key order with break/continue, `template` calls with a depth limit. Errors are Go's:
 * `template: NAME:LINE:COL: executing "NAME" at <ACTION>: ...`.
 */
import { BUILTINS } from './builtins.js';
import { goQuote } from './lex.js';
import { formatValue, printOne } from './fmt.js';
import { errorContext, nodeString, type ArgNode, type CommandNode, type FieldNode, type ChainNode, type Node, type NumberNode, type PipeNode, type VariableNode, type BranchNode, type TemplateNode, type IdentifierNode, type ListNode } from './nodes.js';
import type { Tree } from './parse.js';
import { assignable, canBeNil, GoComplex, GoError, GoFunc, GoMap, GoSlice, GoStruct, isTrue, nilOf, typeName, typeOf, type GoValue } from './values.js';

/** An execution error; the message is Go's. */
export class ExecError extends Error {
  override readonly name = 'ExecError';
}

export interface ExecOptions {
  /** Refuse output past this many characters (default 64 MiB). */
  readonly maxOutput?: number;
  /** Nested `template` calls allowed (Go: 100000). */
  readonly maxDepth?: number;
}

export const DEFAULT_MAX_OUTPUT = 64 * 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 100_000;

const MISSING = Symbol('missing');
type Final = GoValue | typeof MISSING;

const BREAK = { kind: 'break' } as const;
const CONTINUE = { kind: 'continue' } as const;

/** A JS stack overflow (deep `template` recursion runs out of stack before Go's depth limit). */
function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && e.message.startsWith('Maximum call stack');
}

class DepthExceeded {
  constructor(
    readonly node: TemplateNode,
    readonly tmplName: string,
  ) {}
}

interface Variable {
  name: string;
  value: GoValue;
}

class Output {
  text = '';
  /** UTF-16 units written, until `exact`: then UTF-8 bytes. */
  size = 0;
  exact = false;
  constructor(readonly limit: number) {}
}

export interface TemplateSet {
  readonly trees: ReadonlyMap<string, Tree>;
  readonly funcs: ReadonlyMap<string, GoFunc>;
}

class State {
  node: Node | undefined;
  vars: Variable[];

  constructor(
    readonly set: TemplateSet,
    readonly tmplName: string,
    readonly out: Output,
    readonly depth: number,
    readonly maxDepth: number,
    dot: GoValue,
  ) {
    this.vars = [{ name: '$', value: dot }];
  }

  errorf(message: string): never {
    const name = this.tmplName;
    if (this.node === undefined) throw new ExecError(`template: ${name}: ${message}`);
    const { location, context } = errorContext(this.node);
    throw new ExecError(`template: ${location}: executing ${goQuote(name)} at <${context}>: ${message}`);
  }

  write(s: string): void {
    const out = this.out;
    // Bytes are at most 3 per UTF-16 unit: count units while far below the limit, exact bytes after.
    if (!out.exact && (out.size + s.length) * 3 <= out.limit) out.size += s.length;
    else {
      if (!out.exact) {
        out.size = Buffer.byteLength(out.text, 'utf8');
        out.exact = true;
      }
      out.size += Buffer.byteLength(s, 'utf8');
    }
    if (out.size > out.limit) {
      throw new ExecError(`template: ${this.tmplName}: output exceeds the limit of ${out.limit} bytes; rendering stopped`);
    }
    out.text += s;
  }

  mark(): number {
    return this.vars.length;
  }
  pop(mark: number): void {
    if (this.vars.length !== mark) this.vars.length = mark;
  }
  setVar(name: string, value: GoValue): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i] as Variable;
      if (v.name === name) {
        v.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }
  setTopVar(n: number, value: GoValue): void {
    (this.vars[this.vars.length - n] as Variable).value = value;
  }
  varValue(name: string): GoValue {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i] as Variable;
      if (v.name === name) return v.value;
    }
    return this.errorf(`undefined variable: ${name}`);
  }

  // ---------- walking ----------

  walk(dot: GoValue, node: Node): void {
    this.node = node;
    switch (node.type) {
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
      case 'comment':
        return;
      case 'if':
      case 'with':
        this.walkIfOrWith(node, dot);
        return;
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'template':
        this.walkTemplate(dot, node);
        return;
      case 'text':
        this.write(node.text);
        return;
      default:
        this.errorf(`unknown node: ${nodeString(node)}`);
    }
  }

  /** The nodes of a list, one after another (a list directly: one stack frame less per nesting level). */
  walkList(dot: GoValue, list: ListNode): void {
    const nodes = list.nodes;
    for (let i = 0; i < nodes.length; i++) this.walk(dot, nodes[i] as Node);
  }

  private walkIfOrWith(node: BranchNode, dot: GoValue): void {
    const mark = this.mark();
    try {
      const val = this.evalPipeline(dot, node.pipe);
      if (isTrue(val === null ? undefined : val)) {
        this.walkList(node.type === 'with' ? val : dot, node.list);
      } else if (node.elseList !== undefined) {
        this.walkList(dot, node.elseList);
      }
    } finally {
      this.pop(mark);
    }
  }

  private walkRange(dot: GoValue, r: BranchNode): void {
    this.node = r;
    const outer = this.mark();
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const mark = this.mark();
      const declCount = r.pipe.decl.length;
      if (val instanceof GoSlice) {
        const items = val.items;
        if (items.length > 0) {
          for (let i = 0; i < items.length; i++) {
            const item = items[i];
            this.iterate(r, mark, declCount, declCount > 1 ? BigInt(i) : undefined, item === undefined ? null : item);
          }
          return;
        }
      } else if (val instanceof GoMap) {
        if (val.entries.size > 0) {
          const keys = [...val.entries.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          for (const k of keys) this.iterate(r, mark, declCount, k, val.entries.get(k) as GoValue);
          return;
        }
      } else if (val === undefined || val === null) {
        // no value ranges like an empty map
      } else {
        this.errorf(`range can't iterate over ${formatValue(val, 'v', plainFlags(), 0)}`);
      }
      if (r.elseList !== undefined) this.walkList(dot, r.elseList);
    } catch (e) {
      if (e !== BREAK) throw e;
    } finally {
      this.pop(outer);
    }
  }

  /** One pass of a range body: set $e (and $i), walk, drop the body's variables; `continue` ends it. */
  private iterate(r: BranchNode, mark: number, declCount: number, index: GoValue, elem: GoValue): void {
    if (declCount > 0) this.setTopVar(1, elem);
    if (declCount > 1) this.setTopVar(2, index);
    try {
      this.walkList(elem, r.list);
    } catch (e) {
      if (e !== CONTINUE) throw e;
    }
    this.pop(mark);
  }

  private walkTemplate(dot: GoValue, t: TemplateNode): void {
    this.node = t;
    const tree = this.set.trees.get(t.name);
    if (tree === undefined) this.errorf(`template ${goQuote(t.name)} not defined`);
    if (this.depth >= this.maxDepth) this.errorf(`exceeded maximum template depth (${this.maxDepth})`);
    const newDot = this.evalPipeline(dot, t.pipe);
    const st = new State(this.set, t.name, this.out, this.depth + 1, this.maxDepth, newDot);
    try {
      st.node = tree.root;
      st.walkList(newDot, tree.root);
    } catch (e) {
      if (isStackOverflow(e)) throw new DepthExceeded(t, this.tmplName);
      throw e;
    }
  }

  // ---------- pipelines ----------

  evalPipeline(dot: GoValue, pipe: PipeNode | undefined): GoValue {
    if (pipe === undefined) return undefined;
    this.node = pipe;
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      if (value === null) value = undefined;
    }
    const v = value as GoValue;
    for (const variable of pipe.decl) {
      const name = variable.ident[0] as string;
      if (pipe.isAssign) this.setVar(name, v);
      else this.vars.push({ name, value: v });
    }
    return v;
  }

  private notAFunction(args: readonly ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${nodeString(args[0] as ArgNode)}`);
  }

  private evalCommand(dot: GoValue, cmd: CommandNode, final: Final): GoValue {
    const first = cmd.args[0] as ArgNode;
    switch (first.type) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.node = first;
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        return this.errorf('nil is not a command');
      case 'number':
        return this.idealConstant(first);
      case 'string':
        return first.text;
    }
  }

  private idealConstant(c: NumberNode): GoValue {
    this.node = c;
    if (c.isComplex) return new GoComplex(c.complex?.re ?? 0, c.complex?.im ?? 0);
    const isHexInt = c.text.length > 2 && c.text[0] === '0' && (c.text[1] === 'x' || c.text[1] === 'X') && !/[pP]/.test(c.text);
    const isRune = c.text[0] === "'";
    if (c.isFloat && !isHexInt && !isRune && /[.eEpP]/.test(c.text)) return c.float64;
    if (c.isInt) return c.int64;
    if (c.isUint) return this.errorf(`${c.text} overflows int`);
    return undefined;
  }

  private evalFieldNode(dot: GoValue, field: FieldNode, args: readonly ArgNode[] | null, final: Final): GoValue {
    this.node = field;
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: GoValue, chain: ChainNode, args: readonly ArgNode[] | null, final: Final): GoValue {
    this.node = chain;
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, 'value', chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  private evalVariableNode(dot: GoValue, variable: VariableNode, args: readonly ArgNode[] | null, final: Final): GoValue {
    this.node = variable;
    const value = this.varValue(variable.ident[0] as string);
    if (variable.ident.length === 1) {
      this.notAFunction(args ?? [variable], final);
      return value;
    }
    return this.evalFieldChain(dot, value, variable, variable.ident.slice(1), args, final);
  }

  private evalFieldChain(dot: GoValue, receiver: GoValue, node: Node, ident: readonly string[], args: readonly ArgNode[] | null, final: Final): GoValue {
    const n = ident.length;
    let r = receiver;
    for (let i = 0; i < n - 1; i++) r = this.evalField(dot, ident[i] as string, node, null, MISSING, r);
    return this.evalField(dot, ident[n - 1] as string, node, args, final, r);
  }

  private evalFunction(dot: GoValue, node: IdentifierNode, cmd: Node, args: readonly ArgNode[] | null, final: Final): GoValue {
    this.node = node;
    const name = node.ident;
    const user = this.set.funcs.get(name);
    const fn = user ?? BUILTINS.get(name);
    if (fn === undefined) return this.errorf(`${goQuote(name)} is not a defined function`);
    return this.evalCall(dot, fn, user === undefined, cmd, name, args, final);
  }

  private evalField(dot: GoValue, fieldName: string, node: Node, args: readonly ArgNode[] | null, final: Final, receiver: GoValue): GoValue {
    if (receiver === undefined) return undefined;
    if (receiver === null) return this.errorf(`nil pointer evaluating interface {}.${fieldName}`);
    if (receiver instanceof GoStruct) {
      const method = receiver.method(fieldName);
      if (method !== undefined) return this.evalCall(dot, method, false, node, fieldName, args, final);
    }
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
    if (receiver instanceof GoStruct) {
      if (receiver.hasField(fieldName)) {
        if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
        return receiver.field(fieldName);
      }
    } else if (receiver instanceof GoMap) {
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      return receiver.entries.get(fieldName);
    }
    return this.errorf(`can't evaluate field ${fieldName} in type ${typeOf(receiver)}`);
  }

  private evalCall(dot: GoValue, fn: GoFunc, isBuiltin: boolean, node: Node, name: string, argNodes: readonly ArgNode[] | null, final: Final): GoValue {
    // argNodes[0] is the function's own node; its arguments follow.
    const nArgs = argNodes !== null ? argNodes.length - 1 : 0;
    const { params, variadic } = fn.sig;
    const numIn = nArgs + (final !== MISSING ? 1 : 0);
    let numFixed = nArgs;
    if (variadic !== undefined) {
      numFixed = params.length;
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${params.length} got ${nArgs}`);
    } else if (numIn !== params.length) {
      this.errorf(`wrong number of args for ${name}: want ${params.length} got ${numIn}`);
    }

    if (isBuiltin && (name === 'and' || name === 'or')) {
      let v: GoValue = undefined;
      for (let k = 0; k < nArgs; k++) {
        v = this.evalArg(dot, 'value', (argNodes as readonly ArgNode[])[k + 1] as ArgNode);
        if (isTrue(v === null ? undefined : v) === (name === 'or')) return v;
      }
      if (final !== MISSING) v = final;
      return v;
    }

    const argv: GoValue[] = new Array(numIn);
    let i = 0;
    for (; i < numFixed && i < nArgs; i++) argv[i] = this.evalArg(dot, params[i] as string, (argNodes as readonly ArgNode[])[i + 1] as ArgNode);
    if (variadic !== undefined) {
      for (; i < nArgs; i++) argv[i] = this.evalArg(dot, variadic, (argNodes as readonly ArgNode[])[i + 1] as ArgNode);
    }
    if (final !== MISSING) {
      let t: string;
      if (variadic !== undefined) t = numIn - 1 < numFixed ? (params[numIn - 1] as string) : variadic;
      else t = params[params.length - 1] as string;
      argv[i] = this.validateType(final, t);
    }
    try {
      return fn.call(argv);
    } catch (e) {
      if (e instanceof ExecError || e === BREAK || e === CONTINUE || e instanceof DepthExceeded) throw e;
      if (isStackOverflow(e)) throw e;
      this.node = node;
      return this.errorf(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private validateType(value: GoValue, typ: string): GoValue {
    if (typ === 'value') return value;
    if (value === undefined) {
      if (canBeNil(typ)) return nilOf(typ);
      return this.errorf(`invalid value; expected ${typeName(typ)}`);
    }
    if (typ === 'any') return value;
    if (assignable(value, typ)) return value;
    if (value === null) return this.errorf(`wrong type for value; expected ${typeName(typ)}; got interface {}`);
    return this.errorf(`wrong type for value; expected ${typeName(typ)}; got ${typeOf(value)}`);
  }

  private evalArg(dot: GoValue, typ: string, n: ArgNode): GoValue {
    this.node = n;
    switch (n.type) {
      case 'dot':
        return this.validateType(dot, typ);
      case 'nil':
        if (canBeNil(typ)) return nilOf(typ);
        return this.errorf(`cannot assign nil to ${typeName(typ)}`);
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), typ);
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, n, null, MISSING), typ);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), typ);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n, n, null, MISSING), typ);
      case 'chain':
        return this.validateType(this.evalChainNode(dot, n, null, MISSING), typ);
    }
    switch (typ) {
      case 'bool':
        if (n.type === 'bool') return n.value;
        return this.errorf(`expected bool; found ${nodeString(n)}`);
      case 'float64':
        if (n.type === 'number' && n.isFloat) return n.float64;
        return this.errorf(`expected float; found ${nodeString(n)}`);
      case 'int':
        if (n.type === 'number' && n.isInt) return n.int64;
        return this.errorf(`expected integer; found ${nodeString(n)}`);
      case 'any':
      case 'value':
        return this.evalEmptyInterface(dot, n);
      case 'string':
        if (n.type === 'string') return n.text;
        return this.errorf(`expected string; found ${nodeString(n)}`);
    }
    return this.errorf(`can't handle ${nodeString(n)} for arg of type ${typeName(typ)}`);
  }

  private evalEmptyInterface(dot: GoValue, n: ArgNode): GoValue {
    this.node = n;
    switch (n.type) {
      case 'bool':
        return n.value;
      case 'dot':
        return dot;
      case 'field':
        return this.evalFieldNode(dot, n, null, MISSING);
      case 'identifier':
        return this.evalFunction(dot, n, n, null, MISSING);
      case 'nil':
        return this.errorf("evalEmptyInterface: nil (can't happen)");
      case 'number':
        return this.idealConstant(n);
      case 'string':
        return n.text;
      case 'variable':
        return this.evalVariableNode(dot, n, null, MISSING);
      case 'pipe':
        return this.evalPipeline(dot, n);
    }
    return this.errorf(`can't handle assignment of ${nodeString(n)} to empty interface argument`);
  }

  private printValue(n: Node, v: GoValue): void {
    this.node = n;
    if (v instanceof GoFunc) this.errorf(`can't print ${nodeString(n)} of type ${v.type}`);
    if (v === undefined) {
      this.write('<no value>');
      return;
    }
    if (v instanceof GoStruct && v.pointer) {
      this.write(formatValue(v, 'v', plainFlags(), 0).replace(/^&/, ''));
      return;
    }
    this.write(printOne(v));
  }
}

function plainFlags(): Parameters<typeof formatValue>[2] {
  return { plus: false, minus: false, sharp: false, space: false, zero: false, plusV: false, sharpV: false, wid: undefined, prec: undefined };
}

/** Executes template `name` of the set with `data` as dot; returns the output or throws ExecError. */
export function execute(set: TemplateSet, name: string, data: GoValue, options: ExecOptions = {}): string {
  const tree = set.trees.get(name);
  const out = new Output(options.maxOutput ?? DEFAULT_MAX_OUTPUT);
  const state = new State(set, name, out, 0, options.maxDepth ?? DEFAULT_MAX_DEPTH, data);
  if (tree === undefined) return state.errorf(`${goQuote(name)} is an incomplete or empty template`);
  try {
    state.walk(data, tree.root);
  } catch (e) {
    if (e instanceof DepthExceeded) {
      const st = new State(set, e.tmplName, out, 0, 0, undefined);
      st.node = e.node;
      st.errorf(`exceeded maximum template depth (${options.maxDepth ?? DEFAULT_MAX_DEPTH})`);
    }
    if (isStackOverflow(e)) {
      throw new ExecError(`template: ${name}: exceeded maximum template depth (${options.maxDepth ?? DEFAULT_MAX_DEPTH})`);
    }
    throw e;
  }
  return out.text;
}
