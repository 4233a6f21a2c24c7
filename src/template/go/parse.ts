/**
 * The parser of Go's text/template: items from the lexer → a tree of nodes per template name
 * (the main template plus every `define` / `block`). Follows Go's `parse.go` production by
 * production so that what parses, what does not, and the error messages
 * (`template: NAME:LINE: ...`) are Go's.
 */
import { goQuote, lex, T, type Item } from './lex.js';
import { parseFloat64, parseInt64, parseUint, SyntaxError_, unquote, unquoteCharConstant } from './literals.js';
import type {
  ArgNode,
  BranchNode,
  CommandNode,
  ListNode,
  Node,
  NumberNode,
  PipeNode,
  TemplateNode,
  TreeSource,
  VariableNode,
} from './nodes.js';

export interface Tree {
  readonly name: string;
  readonly root: ListNode;
  readonly src: TreeSource;
}

/** A parse error; the message is Go's, `template: NAME:LINE: ...`. */
export class ParseError extends Error {
  override readonly name = 'ParseError';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

const KEYWORD_ITEMS = new Set([T.Block, T.Break, T.Continue, T.Dot, T.Define, T.Else, T.End, T.If, T.Nil, T.Range, T.Template, T.With]);

/** Go's item.String(), used in "unexpected X in Y" messages. */
function itemString(i: Item): string {
  if (i.typ === T.EOF) return 'EOF';
  if (i.typ === T.Error) return i.val;
  if (KEYWORD_ITEMS.has(i.typ)) return `<${i.val}>`;
  if ([...i.val].length > 10) return goQuote([...i.val].slice(0, 10).join('')) + '...';
  return goQuote(i.val);
}

type EndOrElse = { type: 'end'; pos: number } | { type: 'else'; pos: number; line: number };

class Parser {
  private idx = 0;
  /** Items pushed back (last is next). */
  private readonly back: Item[] = [];
  /** The last item taken from the lexer: Go reports parse errors at its line. */
  private lastLexed: Item;
  vars: string[] = ['$'];
  private actionLine = 0;
  private rangeDepth = 0;

  constructor(
    private readonly items: readonly Item[],
    readonly src: TreeSource,
    private readonly hasFunction: (name: string) => boolean,
    private readonly treeSet: Map<string, Tree>,
  ) {
    this.lastLexed = items[0] as Item;
  }

  errorf(message: string): never {
    throw new ParseError(`template: ${this.src.parseName}:${this.lastLexed.line}: ${message}`, this.lastLexed.line);
  }

  private lexNext(): Item {
    const it = this.items[this.idx] ?? (this.items[this.items.length - 1] as Item);
    if (this.idx < this.items.length) this.idx++;
    this.lastLexed = it;
    return it;
  }

  next(): Item {
    return this.back.length > 0 ? (this.back.pop() as Item) : this.lexNext();
  }
  backup(it: Item): void {
    this.back.push(it);
  }
  peek(): Item {
    const it = this.next();
    this.backup(it);
    return it;
  }
  nextNonSpace(): Item {
    for (;;) {
      const t = this.next();
      if (t.typ !== T.Space) return t;
    }
  }
  peekNonSpace(): Item {
    const t = this.nextNonSpace();
    this.backup(t);
    return t;
  }

  expect(expected: T, context: string): Item {
    const t = this.nextNonSpace();
    if (t.typ !== expected) this.unexpected(t, context);
    return t;
  }

  unexpected(token: Item, context: string): never {
    if (token.typ === T.Error) {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at ${this.src.parseName}:${this.actionLine}`;
        if (token.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(`${token.val}${extra}`);
    }
    this.errorf(`unexpected ${itemString(token)} in ${context}`);
  }

  /** The top-level template: text and actions until EOF, `define`s go into the tree set. */
  parseTop(name: string): void {
    const root: ListNode = { type: 'list', pos: this.peek().pos, src: this.src, nodes: [] };
    while (this.peek().typ !== T.EOF) {
      if (this.peek().typ === T.LeftDelim) {
        const delim = this.next();
        const after = this.nextNonSpace();
        if (after.typ === T.Define) {
          this.parseDefinition();
          continue;
        }
        this.backup(after);
        this.backup(delim);
      }
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') this.errorf(`unexpected ${n.type === 'end' ? '{{end}}' : '{{else}}'}`);
      else root.nodes.push(n);
    }
    this.add(name, root);
  }

  private add(name: string, root: ListNode): void {
    const existing = this.treeSet.get(name);
    if (existing === undefined || isEmptyTree(existing.root)) {
      this.treeSet.set(name, { name, root, src: this.src });
      return;
    }
    if (!isEmptyTree(root)) this.errorf(`template: multiple definition of template ${goQuote(name)}`);
  }

  private withFreshScope<R>(fn: () => R): R {
    const saved = { vars: this.vars, rangeDepth: this.rangeDepth };
    this.vars = ['$'];
    this.rangeDepth = 0;
    try {
      return fn();
    } finally {
      this.vars = saved.vars;
      this.rangeDepth = saved.rangeDepth;
    }
  }

  private parseDefinition(): void {
    const context = 'define clause';
    const token = this.nextNonSpace();
    if (token.typ !== T.String && token.typ !== T.RawString) this.unexpected(token, context);
    const name = this.unquoteOrFail(token.val);
    this.expect(T.RightDelim, context);
    this.withFreshScope(() => {
      const { list, end } = this.itemList();
      if (end.type !== 'end') this.errorf(`unexpected {{else}} in ${context}`);
      this.add(name, list);
    });
  }

  private unquoteOrFail(text: string): string {
    try {
      return unquote(text);
    } catch (e) {
      return this.errorf((e as Error).message);
    }
  }

  private itemList(): { list: ListNode; end: EndOrElse } {
    const list: ListNode = { type: 'list', pos: this.peekNonSpace().pos, src: this.src, nodes: [] };
    while (this.peekNonSpace().typ !== T.EOF) {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') return { list, end: n as EndOrElse };
      list.nodes.push(n);
    }
    return this.errorf('unexpected EOF');
  }

  private textOrAction(): Node {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case T.Text:
        return { type: 'text', pos: token.pos, src: this.src, text: token.val };
      case T.LeftDelim: {
        this.actionLine = token.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      }
      case T.Comment:
        return { type: 'comment', pos: token.pos, src: this.src, text: token.val };
      default:
        return this.unexpected(token, 'input');
    }
  }

  private action(): Node {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case T.Block:
        return this.blockControl();
      case T.Break:
        return this.breakOrContinue('break', token);
      case T.Continue:
        return this.breakOrContinue('continue', token);
      case T.Else:
        return this.elseControl();
      case T.End:
        return { type: 'end', pos: this.expect(T.RightDelim, 'end').pos, src: this.src };
      case T.If:
        return this.branch('if', true);
      case T.Range:
        return this.branch('range', false);
      case T.Template:
        return this.templateControl();
      case T.With:
        return this.branch('with', false);
    }
    this.backup(token);
    const t = this.peek();
    return { type: 'action', pos: t.pos, line: t.line, src: this.src, pipe: this.pipeline('command', T.RightDelim) };
  }

  private breakOrContinue(kind: 'break' | 'continue', token: Item): Node {
    const t = this.nextNonSpace();
    if (t.typ !== T.RightDelim) this.unexpected(t, `{{${kind}}}`);
    if (this.rangeDepth === 0) this.errorf(`{{${kind}}} outside {{range}}`);
    return { type: kind, pos: token.pos, src: this.src };
  }

  private elseControl(): Node {
    const peek = this.peekNonSpace();
    if (peek.typ === T.If) return { type: 'else', pos: peek.pos, line: peek.line, src: this.src };
    const token = this.expect(T.RightDelim, 'else');
    return { type: 'else', pos: token.pos, line: token.line, src: this.src };
  }

  pipeline(context: string, end: T): PipeNode {
    const token = this.peekNonSpace();
    const pipe: PipeNode = { type: 'pipe', pos: token.pos, line: token.line, src: this.src, isAssign: false, decl: [], cmds: [] };
    for (;;) {
      const v = this.peekNonSpace();
      if (v.typ !== T.Variable) break;
      this.next();
      const tokenAfterVariable = this.peek();
      const nxt = this.peekNonSpace();
      if (nxt.typ === T.Assign || nxt.typ === T.Declare) {
        pipe.isAssign = nxt.typ === T.Assign;
        this.nextNonSpace();
        pipe.decl.push(this.newVariable(v.pos, v.val));
        this.vars.push(v.val);
        break;
      } else if (nxt.typ === T.Char && nxt.val === ',') {
        this.nextNonSpace();
        pipe.decl.push(this.newVariable(v.pos, v.val));
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = this.peekNonSpace().typ;
          if (p === T.Variable || p === T.RightDelim || p === T.RightParen) continue;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      } else if (tokenAfterVariable.typ === T.Space) {
        // backup3(v, tokenAfterVariable): the space was already put back by peekNonSpace.
        this.back.length = 0;
        this.backup(nxt);
        this.backup(tokenAfterVariable);
        this.backup(v);
        break;
      } else {
        this.back.length = 0;
        this.backup(nxt);
        this.backup(v);
        break;
      }
    }
    for (;;) {
      const token2 = this.nextNonSpace();
      if (token2.typ === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (token2.typ) {
        case T.Bool:
        case T.CharConstant:
        case T.Complex:
        case T.Dot:
        case T.Field:
        case T.Identifier:
        case T.Number:
        case T.Nil:
        case T.RawString:
        case T.String:
        case T.Variable:
        case T.LeftParen:
          this.backup(token2);
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(token2, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const t = (c.args[0] as ArgNode).type;
      if (t === 'bool' || t === 'dot' || t === 'nil' || t === 'number' || t === 'string') {
        this.errorf(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private branch(kind: 'if' | 'range' | 'with', allowElseIf: boolean): BranchNode {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(kind, T.RightDelim);
      if (kind === 'range') this.rangeDepth++;
      let r: { list: ListNode; end: EndOrElse };
      try {
        r = this.itemList();
      } finally {
        if (kind === 'range') this.rangeDepth--;
      }
      let elseList: ListNode | undefined;
      if (r.end.type === 'else') {
        if (allowElseIf && this.peek().typ === T.If) {
          this.next();
          elseList = { type: 'list', pos: r.end.pos, src: this.src, nodes: [this.branch('if', true)] };
        } else {
          const e = this.itemList();
          if (e.end.type !== 'end') this.errorf('expected end; found {{else}}');
          elseList = e.list;
        }
      }
      return { type: kind, pos: pipe.pos, line: pipe.line, src: this.src, pipe, list: r.list, elseList };
    } finally {
      this.vars.length = mark;
    }
  }

  private parseTemplateName(token: Item, context: string): string {
    if (token.typ === T.String || token.typ === T.RawString) return this.unquoteOrFail(token.val);
    return this.unexpected(token, context);
  }

  private blockControl(): Node {
    const context = 'block clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    const pipe = this.pipeline(context, T.RightDelim);
    this.withFreshScope(() => {
      const { list, end } = this.itemList();
      if (end.type !== 'end') this.errorf(`unexpected {{else}} in ${context}`);
      this.add(name, list);
    });
    const node: TemplateNode = { type: 'template', pos: token.pos, line: token.line, src: this.src, name, pipe };
    return node;
  }

  private templateControl(): Node {
    const context = 'template clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    let pipe: PipeNode | undefined;
    const t = this.nextNonSpace();
    if (t.typ !== T.RightDelim) {
      this.backup(t);
      pipe = this.pipeline(context, T.RightDelim);
    }
    return { type: 'template', pos: token.pos, line: token.line, src: this.src, name, pipe };
  }

  private command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, src: this.src, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand !== undefined) cmd.args.push(operand);
      const token = this.next();
      if (token.typ === T.Space) continue;
      if (token.typ === T.RightDelim || token.typ === T.RightParen) this.backup(token);
      else if (token.typ !== T.Pipe) this.unexpected(token, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): ArgNode | undefined {
    const node = this.term();
    if (node === undefined) return undefined;
    if (this.peek().typ === T.Field) {
      const chainPos = this.peek().pos;
      const fields: string[] = [];
      while (this.peek().typ === T.Field) fields.push(this.next().val.slice(1));
      switch (node.type) {
        case 'field':
          return { type: 'field', pos: chainPos, src: this.src, ident: [...node.ident, ...fields] };
        case 'variable':
          return { type: 'variable', pos: chainPos, src: this.src, ident: [...node.ident, ...fields] };
        case 'bool':
        case 'string':
        case 'number':
        case 'nil':
        case 'dot':
          this.errorf(`unexpected . after term ${goQuote(nodeText(node))}`);
        // eslint-disable-next-line no-fallthrough
        default:
          return { type: 'chain', pos: chainPos, src: this.src, node, field: fields };
      }
    }
    return node;
  }

  private term(): ArgNode | undefined {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case T.Identifier:
        if (!this.hasFunction(token.val)) this.errorf(`function ${goQuote(token.val)} not defined`);
        return { type: 'identifier', pos: token.pos, src: this.src, ident: token.val };
      case T.Dot:
        return { type: 'dot', pos: token.pos, src: this.src };
      case T.Nil:
        return { type: 'nil', pos: token.pos, src: this.src };
      case T.Variable:
        return this.useVar(token.pos, token.val);
      case T.Field:
        return { type: 'field', pos: token.pos, src: this.src, ident: token.val.slice(1).split('.') };
      case T.Bool:
        return { type: 'bool', pos: token.pos, src: this.src, value: token.val === 'true' };
      case T.CharConstant:
      case T.Complex:
      case T.Number:
        return this.newNumber(token);
      case T.LeftParen:
        return this.pipeline('parenthesized pipeline', T.RightParen);
      case T.String:
      case T.RawString:
        return { type: 'string', pos: token.pos, src: this.src, quoted: token.val, text: this.unquoteOrFail(token.val) };
    }
    this.backup(token);
    return undefined;
  }

  private newVariable(pos: number, ident: string): VariableNode {
    return { type: 'variable', pos, src: this.src, ident: ident.split('.') };
  }

  private useVar(pos: number, name: string): VariableNode {
    const v = this.newVariable(pos, name);
    if (this.vars.includes(v.ident[0] as string)) return v;
    return this.errorf(`undefined variable ${goQuote(v.ident[0] as string)}`);
  }

  private simplifyComplex(n: NumberNode, re: number, im: number): NumberNode {
    n.isComplex = true;
    n.complex = { re, im };
    n.isFloat = im === 0;
    if (n.isFloat) {
      n.float64 = re;
      n.isInt = Number.isInteger(re) && Math.abs(re) < 2 ** 63;
      if (n.isInt) n.int64 = BigInt(re);
      n.isUint = Number.isInteger(re) && re >= 0 && re < 2 ** 64;
      if (n.isUint) n.uint64 = BigInt(re);
    }
    return n;
  }

  private newNumber(token: Item): NumberNode {
    const text = token.val;
    const n: NumberNode = {
      type: 'number', pos: token.pos, src: this.src, text,
      isInt: false, isUint: false, isFloat: false, isComplex: false, int64: 0n, uint64: 0n, float64: 0,
    };
    if (token.typ === T.CharConstant) {
      let cp: number;
      try {
        cp = unquoteCharConstant(text);
      } catch (e) {
        return this.errorf((e as Error).message);
      }
      n.int64 = BigInt(cp);
      n.uint64 = BigInt(cp);
      n.float64 = cp;
      n.isInt = n.isUint = n.isFloat = true;
      return n;
    }
    if (token.typ === T.Complex) {
      const m = /^([+-]?[^+-]*(?:[eEpP][+-][^+-]*)?)([+-].*)i$/.exec(text);
      const re = m ? parseFloat64(m[1] as string) : undefined;
      const im = m ? parseFloat64(m[2] as string) : undefined;
      if (re === undefined || im === undefined) this.errorf(`illegal number syntax: ${goQuote(text)}`);
      return this.simplifyComplex(n, re, im);
    }
    if (text.endsWith('i')) {
      const f = parseFloat64(text.slice(0, -1));
      if (f !== undefined) return this.simplifyComplex(n, 0, f);
    }
    const u = parseUint(text);
    if (u !== undefined) {
      n.isUint = true;
      n.uint64 = u;
    }
    const i = parseInt64(text);
    if (i !== undefined) {
      n.isInt = true;
      n.int64 = i;
      if (i === 0n) {
        n.isUint = true;
        n.uint64 = u ?? 0n;
      }
    }
    if (n.isInt) {
      n.isFloat = true;
      n.float64 = Number(n.int64);
    } else if (n.isUint) {
      n.isFloat = true;
      n.float64 = Number(n.uint64);
    } else {
      const f = parseFloat64(text);
      if (f !== undefined) {
        if (!/[.eEpP]/.test(text)) this.errorf(`integer overflow: ${goQuote(text)}`);
        n.isFloat = true;
        n.float64 = f;
        if (Number.isInteger(f) && f >= -(2 ** 63) && f < 2 ** 63) {
          n.isInt = true;
          n.int64 = BigInt(f);
        }
        if (Number.isInteger(f) && f >= 0 && f < 2 ** 64) {
          n.isUint = true;
          n.uint64 = BigInt(f);
        }
      }
    }
    if (!n.isInt && !n.isUint && !n.isFloat) this.errorf(`illegal number syntax: ${goQuote(text)}`);
    return n;
  }
}

function nodeText(n: ArgNode): string {
  switch (n.type) {
    case 'bool':
      return n.value ? 'true' : 'false';
    case 'string':
      return n.quoted;
    case 'number':
      return n.text;
    case 'nil':
      return 'nil';
    default:
      return '.';
  }
}

/** Go's IsEmptyTree: only space text and comments. */
export function isEmptyTree(n: Node): boolean {
  switch (n.type) {
    case 'comment':
      return true;
    case 'list':
      return n.nodes.every(isEmptyTree);
    case 'text':
      return n.text.trim() === '';
    default:
      return false;
  }
}

/**
 * Parses `text` as template `name` into `treeSet` (which may already hold templates of the same
 * set). `hasFunction` says which identifiers are functions (builtins and the function map).
 */
export function parseTemplate(name: string, text: string, hasFunction: (n: string) => boolean, treeSet: Map<string, Tree>): void {
  const items = lex(text, !hasFunction('break'), !hasFunction('continue'));
  const parser = new Parser(items, { parseName: name, text }, hasFunction, treeSet);
  try {
    parser.parseTop(name);
  } catch (e) {
    if (e instanceof SyntaxError_) throw new ParseError(`template: ${name}: ${e.message}`, 0);
    throw e;
  }
}
