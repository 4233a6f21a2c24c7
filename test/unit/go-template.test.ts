/**
 * The Go text/template engine piece by piece: lexer, parser, executor, builtins, fmt, confd's
 * functions, and every failure the issue lists (each with Go's message). Byte-for-byte agreement
 * with real confd is checked separately by go-template-golden.test.ts.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { lex, T } from '../../src/template/go/lex.js';
import { GoTemplate, ParseError, ExecError } from '../../src/template/go/template.js';
import { formatFloat, sprint, sprintf, sprintln } from '../../src/template/go/fmt.js';
import { fromJson, GoSlice } from '../../src/template/go/values.js';
import { goFuncMap, GO_FUNC_NAMES } from '../../src/template/goFuncs.js';
import { createGoEngine } from '../../src/template/goEngine.js';
import { Memkv, compilePathPattern } from '../../src/store/memkv.js';
import { Store } from '../../src/store/store.js';
import { LookupCache } from '../../src/template/lookups.js';
import { TemplateError } from '../../src/template/engine.js';

const DATA: Record<string, string> = {
  '/app/name': 'demo',
  '/app/port': '5432',
  '/app/json': '{"host":"db1","port":5432,"tags":["x","y"],"none":null}',
  '/app/arr': '["b","a",3]',
  '/members/pg1': '{"role":"master"}',
  '/members/pg2': '{"role":"replica"}',
  '/members/pg10': '{"role":"replica"}',
  '/dirs/d1/host': 'h1',
  '/dirs/d2/sub/x': 'deep',
  '/dirs/leaf': 'L',
};

function funcs(data: Record<string, string> = DATA, env: Record<string, string> = {}): ReturnType<typeof goFuncMap> {
  const store = new Store({ revision: 1, pairs: new Map(Object.entries(data)) }, '/');
  return goFuncMap({ store, lookups: new LookupCache(), env });
}

function render(text: string, opts: { data?: Record<string, string>; dot?: unknown; maxOutput?: number; maxDepth?: number; env?: Record<string, string> } = {}): string {
  const t = GoTemplate.parse('t.tmpl', text, funcs(opts.data, opts.env));
  return t.execute(opts.dot === undefined ? undefined : fromJson(opts.dot), {
    ...(opts.maxOutput !== undefined ? { maxOutput: opts.maxOutput } : {}),
    ...(opts.maxDepth !== undefined ? { maxDepth: opts.maxDepth } : {}),
  });
}

function renderError(text: string, opts: Parameters<typeof render>[1] = {}): string {
  try {
    render(text, opts);
  } catch (e) {
    assert.ok(e instanceof ParseError || e instanceof ExecError, `unexpected error type: ${String(e)}`);
    return e.message;
  }
  assert.fail(`expected ${JSON.stringify(text)} to fail`);
}

// ---------- lexer ----------

test('lexer: text, delimiters, trim markers, comments and the words of an action', () => {
  const items = lex('a  {{- .x | printf "%d" 1 -}}  b{{/* c */}}');
  assert.deepEqual(
    items.map((i) => [i.typ, i.val]),
    [
      [T.Text, 'a'],
      [T.LeftDelim, '{{'],
      [T.Field, '.x'],
      [T.Space, ' '],
      [T.Pipe, '|'],
      [T.Space, ' '],
      [T.Identifier, 'printf'],
      [T.Space, ' '],
      [T.String, '"%d"'],
      [T.Space, ' '],
      [T.Number, '1'],
      [T.RightDelim, '}}'],
      [T.Text, 'b'],
      [T.EOF, ''],
    ],
  );
});

test('lexer: numbers, chars, raw strings, variables, keywords; errors as Go words them', () => {
  const kinds = lex("{{0x1F 1e3 -2.5 'a' `raw` $x nil true range}}").filter((i) => i.typ !== T.Space).map((i) => i.typ);
  assert.deepEqual(kinds, [T.LeftDelim, T.Number, T.Number, T.Number, T.CharConstant, T.RawString, T.Variable, T.Nil, T.Bool, T.Range, T.RightDelim, T.EOF]);
  assert.equal(lex('{{ "abc').at(-1)?.val, 'unterminated quoted string');
  assert.equal(lex('{{ .x').at(-1)?.val, 'unclosed action');
  assert.equal(lex('{{/* x').at(-1)?.val, 'unclosed comment');
  assert.equal(lex('{{ 3k }}').at(-1)?.val, 'bad number syntax: "3k"');
});

// ---------- parser ----------

test('parser: errors name the template and the line', () => {
  assert.equal(renderError('a\n{{ .x'), 'template: t.tmpl:2: unclosed action');
  assert.equal(renderError('{{range .x}}\nno end'), 'template: t.tmpl:2: unexpected EOF');
  assert.equal(renderError('x\n{{nope 1}}'), 'template: t.tmpl:2: function "nope" not defined');
  assert.equal(renderError('{{end}}'), 'template: t.tmpl:1: unexpected {{end}}');
  assert.equal(renderError('{{ $y }}'), 'template: t.tmpl:1: undefined variable "$y"');
  assert.equal(renderError('{{ (1 }}'), 'template: t.tmpl:1: unclosed left paren');
  assert.equal(renderError('{{ break }}'), 'template: t.tmpl:1: {{break}} outside {{range}}');
  assert.equal(renderError('{{ 1 | 2 }}'), 'template: t.tmpl:1: non executable command in pipeline stage 2');
  assert.equal(renderError('{{define "a"}}1{{end}}{{define "a"}}2{{end}}'), 'template: t.tmpl:1: template: multiple definition of template "a"');
});

test('parser: a 1 MB template parses and renders', () => {
  const line = 'server {{getv "/app/name"}} port {{getv "/app/port"}}\n';
  const text = line.repeat(Math.ceil((1024 * 1024) / line.length));
  assert.ok(text.length >= 1024 * 1024);
  const out = render(text);
  assert.equal(out.split('\n')[0], 'server demo port 5432');
});

// ---------- executor ----------

test('actions, text, trim markers, comments, raw strings, char constants, numbers, nil', () => {
  assert.equal(render('a {{- " b " -}} c {{- /* gone */ -}} d'), 'a b cd');
  assert.equal(render('{{`raw\\n`}}|{{"q\\t"}}|{{\'a\'}}|{{0x10}} {{0o17}} {{0b101}} {{1_000}} {{1e3}} {{.5}} {{-7}}'), 'raw\\n|q\t|97|16 15 5 1000 1000 0.5 -7');
  assert.equal(render('{{print nil}} {{.}} {{printf "%T %T %T" 1 1.5 \'x\'}}'), '<nil> <no value> int float64 int');
});

test('pipelines: parenthesised, chained (the piped value is the last argument), field chains', () => {
  assert.equal(render('{{"a" | printf "%s-%s" "b"}} {{(printf "%d" 3) | len}}'), 'b-a 1');
  assert.equal(render('{{$j := json (getv "/app/json")}}{{$j.host}} {{(json (getv "/app/json")).port}} {{$j.missing}}'), 'db1 5432 <no value>');
  assert.equal(render('{{.a.b.c}}', { dot: { a: { b: { c: 'deep' } } } }), 'deep');
});

test('variables: declare, assign, $ root, scope ends with the block', () => {
  assert.equal(render('{{$x := 1}}{{if true}}{{$x = 2}}{{$y := 3}}{{end}}{{$x}} {{$.k}}', { dot: { k: 'root' } }), '2 root');
});

test('if / else if / else, with / else', () => {
  const t = '{{if eq . 1}}one{{else if eq . 2}}two{{else}}many{{end}}';
  assert.equal(render(`{{range seq 1 3}}${t},{{end}}`), 'one,two,many,');
  assert.equal(render('{{with getv "/app/nope" ""}}set{{else}}unset{{end}} {{with getv "/app/name"}}{{.}}{{end}}'), 'unset demo');
});

test('range: lists, maps in key order, $i $e, else, break, continue', () => {
  assert.equal(render('{{range $i, $e := split "a,b,c" ","}}{{$i}}{{$e}} {{end}}'), '0a 1b 2c ');
  assert.equal(render('{{range $k, $v := map "z" 1 "a" 2}}{{$k}}={{$v}} {{end}}'), 'a=2 z=1 ');
  assert.equal(render('{{range ls "/none"}}x{{else}}empty{{end}}'), 'empty');
  assert.equal(render('{{range seq 1 9}}{{if eq . 3}}{{continue}}{{end}}{{if eq . 5}}{{break}}{{end}}{{.}}{{end}}'), '124');
  assert.equal(renderError('{{range 5}}{{end}}'), 'template: t.tmpl:1:8: executing "t.tmpl" at <5>: range can\'t iterate over 5');
});

test('define, template, block', () => {
  assert.equal(render('{{define "x"}}[{{.}}]{{end}}{{template "x" "a"}}{{block "b" 2}}<{{.}}>{{end}}'), '[a]<2>');
  assert.equal(renderError('{{template "nope"}}'), 'template: t.tmpl:1:11: executing "t.tmpl" at <{{template "nope"}}>: template "nope" not defined');
});

test('recursion deeper than the limit is refused with Go\'s message', () => {
  const t = '{{define "r"}}{{template "r" .}}{{end}}{{template "r"}}';
  assert.equal(renderError(t), 'template: t.tmpl:1:25: executing "r" at <{{template "r" .}}>: exceeded maximum template depth (100000)');
  assert.equal(renderError(t, { maxDepth: 50 }), 'template: t.tmpl:1:25: executing "r" at <{{template "r" .}}>: exceeded maximum template depth (50)');
});

test('builtins: and/or short-circuit returning the operand, not, len, index, slice, comparisons', () => {
  assert.equal(render('{{and 1 0 (index (split "a" ",") 5)}} {{or "" "x" (index (split "a" ",") 5)}} {{not ""}}'), '0 x true');
  assert.equal(render('{{len "héllo"}} {{len (ls "/dirs")}} {{index (jsonArray (getv "/app/arr")) 1}} {{slice "abcdef" 1 3}} {{index (map "k" "v") "k"}}'), '6 3 a bc v');
  assert.equal(render('{{eq 1 2 3 1}} {{ne "a" "b"}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1.5 2.5}}'), 'true true true true true false');
  assert.equal(render('{{html "<a&\'>"}} {{js "a\'b<"}} {{urlquery "a b&c"}} {{print 1 2 "a" "b"}} {{println "x" 1}}'), '&lt;a&amp;&#39;&gt; a\\\'b\\u003C a+b%26c 1 2ab x 1\n');
});

test('errors: wrong argument count and type, index out of range, eq of mixed kinds', () => {
  assert.equal(renderError('{{getv}}'), 'template: t.tmpl:1:2: executing "t.tmpl" at <getv>: wrong number of args for getv: want at least 1 got 0');
  assert.equal(renderError('{{add 1}}'), 'template: t.tmpl:1:2: executing "t.tmpl" at <add>: wrong number of args for add: want 2 got 1');
  assert.equal(renderError('{{add 1 "2"}}'), 'template: t.tmpl:1:8: executing "t.tmpl" at <"2">: expected integer; found "2"');
  assert.equal(renderError('{{add 1 (getv "/app/port")}}'), 'template: t.tmpl:1:14: executing "t.tmpl" at <"/app/port">: wrong type for value; expected int; got string');
  assert.equal(renderError('{{index (split "a,b" ",") 2}}'), 'template: t.tmpl:1:2: executing "t.tmpl" at <index (split "a,b" ",") 2>: error calling index: reflect: slice index out of range');
  assert.equal(renderError('{{index (split "a,b" ",") 7}}'), 'template: t.tmpl:1:2: executing "t.tmpl" at <index (split "a,b" ",") 7>: error calling index: index out of range: 7');
  assert.equal(renderError('{{eq 1 "1"}}'), 'template: t.tmpl:1:2: executing "t.tmpl" at <eq 1 "1">: error calling eq: incompatible types for comparison');
  assert.equal(renderError('{{.x 1}}', { dot: { x: 1 } }), 'template: t.tmpl:1:2: executing "t.tmpl" at <.x>: x is not a method but has arguments');
});

test('confd functions: getv of a missing key, json of a non-JSON value, atoi, base64, div by zero', () => {
  assert.equal(renderError('{{getv "/nope"}}'), 'template: t.tmpl:1:2: executing "t.tmpl" at <getv "/nope">: error calling getv: key does not exist: /nope');
  assert.equal(renderError('{{json (getv "/app/name")}}'), 'template: t.tmpl:1:2: executing "t.tmpl" at <json (getv "/app/name")>: error calling json: invalid character \'d\' looking for beginning of value');
  assert.equal(renderError('{{json "[1]"}}'), 'template: t.tmpl:1:2: executing "t.tmpl" at <json "[1]">: error calling json: json: cannot unmarshal array into Go value of type map[string]interface {}');
  assert.equal(renderError('{{json "{\\"a\\":"}}'), 'template: t.tmpl:1:2: executing "t.tmpl" at <json "{\\"a\\":">: error calling json: unexpected end of JSON input');
  assert.equal(renderError('{{atoi "x1"}}'), 'template: t.tmpl:1:2: executing "t.tmpl" at <atoi "x1">: error calling atoi: strconv.Atoi: parsing "x1": invalid syntax');
  assert.equal(renderError('{{base64Decode "a!=="}}'), 'template: t.tmpl:1:2: executing "t.tmpl" at <base64Decode "a!==">: error calling base64Decode: illegal base64 data at input byte 1');
  assert.equal(renderError('{{div 1 0}}'), 'template: t.tmpl:1:2: executing "t.tmpl" at <div 1 0>: error calling div: runtime error: integer divide by zero');
});

test('confd functions: store queries with memkv semantics and the rest of the map', () => {
  assert.equal(render('{{range gets "/members/*"}}{{.Key}}={{.Value}} {{end}}'), '/members/pg1={"role":"master"} /members/pg10={"role":"replica"} /members/pg2={"role":"replica"} ');
  assert.equal(render('{{ls "/dirs"}} {{lsdir "/dirs"}} {{ls "/"}} {{exists "/app/name"}} {{exists "/app"}} {{get "/app/name"}}'), '[d1 d2 leaf] [d1 d2] [] true false {/app/name demo}');
  assert.equal(render('{{base "/a/b/"}} {{dir "/a/b"}} {{join (split "a:b" ":") "-"}} {{toUpper "x"}} {{contains "abc" "b"}} {{replace "aaa" "a" "b" 2}} {{trimSuffix "a.conf" ".conf"}}'), 'b /a a-b X true bba a');
  assert.equal(render('{{add 2 3}} {{sub 2 3}} {{mul 2 3}} {{div 7 2}} {{mod 7 2}} {{seq 1 3}} {{atoi "42"}} {{parseBool "t"}} {{base64Encode "hi"}} {{base64Decode "aGk="}}'), '5 -1 6 3 1 [1 2 3] 42 true aGk= hi');
  assert.equal(render('{{getenv "HOME_X" "dflt"}} {{getenv "V"}}', { env: { V: 'set' } }), 'dflt set');
  assert.equal(render('{{reverse (getvs "/members/*")}} {{sortByLength (split "ccc,a,bb" ",")}} {{printf "%T" (gets "/x")}}'), '[{"role":"replica"} {"role":"replica"} {"role":"master"}] [a bb ccc] memkv.KVPairs');
  assert.match(render('{{(datetime).Format "2006"}}'), /^\d{4}$/);
  assert.equal(render('{{printf "%T" datetime}}'), 'time.Time');
  assert.deepEqual([...GO_FUNC_NAMES].sort(), [...funcs().keys()].sort());
});

test('memkv: path.Match patterns and their syntax error', () => {
  const kv = Memkv.fromPairs([{ key: '/a/b1', value: '1' }, { key: '/a/b2', value: '2' }, { key: '/a/c', value: '3' }]);
  assert.deepEqual(kv.gets('/a/b[12]').map((p) => p.key), ['/a/b1', '/a/b2']);
  assert.deepEqual(kv.gets('/a/[^b]').map((p) => p.key), ['/a/c']);
  assert.throws(() => compilePathPattern('/a/[b'), /syntax error in pattern/);
});

// ---------- fmt ----------

test('fmt: verbs, widths, precision and flags as Go prints them', () => {
  assert.equal(sprintf('%5d|%-5d|%05d|%+d|%x|%X|%o|%#o|%#x|%b|%c|%U|%q', [42n, 42n, -42n, 42n, 255n, 255n, 8n, 8n, 255n, 5n, 65n, 0x1f600n, 65n].map((v) => v)), '   42|42   |-0042|+42|ff|FF|10|010|0xff|101|A|U+1F600|\'A\'');
  assert.equal(sprintf('%s|%10s|%-4s|%.2s|%q|%x|%t|%v', ['go', 'go', 'go', 'golang', 'a"b', 'hi', true, null]), 'go|        go|go  |go|"a\\"b"|6869|true|<nil>');
  assert.equal(sprintf('%f|%.2f|%8.3f|%e|%E|%g|%G|%.3g|%v', [3.14159, 2.5, -1.5, 1234.5678, 0.000123, 1e21, 1e-7, 1234.5678, 0.1]), '3.141590|2.50|  -1.500|1.234568e+03|1.230000E-04|1e+21|1E-07|1.23e+03|0.1');
  assert.equal(sprintf('%.0f %.0f %.2f', [0.5, 1.5, 0.125]), '0 2 0.12');
  assert.equal(sprintf('%d %s', ['x', 1n]), '%!d(string=x) %!s(int=1)');
  assert.equal(sprintf('%d', []), '%!d(MISSING)');
  assert.equal(sprintf('x', [1n, 'a']), 'x%!(EXTRA int=1, string=a)');
  assert.equal(sprintf('%[2]s %[1]s %%', ['a', 'b']), 'b a %');
  assert.equal(sprintf('%*d|%-*d|', [3n, 7n, 3n, 7n]), '  7|7  |');
  assert.equal(sprintf('%T %T %T %T %T', [fromJson({ a: 1 }), fromJson([1]), new GoSlice('string', ['a']), null, true]), 'map[string]interface {} []interface {} []string <nil> bool');
  assert.equal(sprintf('%v %+v %#v', [fromJson({ b: [1, 'x'], a: null }), fromJson({ a: 1 }), fromJson({ a: 'x' })]), 'map[a:<nil> b:[1 x]] map[a:1] map[string]interface {}{"a":"x"}');
});

test('fmt: float64 as Go prints it (shortest digits, exponent from 1e21 and below 1e-4)', () => {
  assert.deepEqual(
    [5432, 0.25, 12345678901, 1e6, 123456, 1e21, 1e-5, 0.0001, -0, 100].map((x) => formatFloat(x, 'g', -1)),
    ['5432', '0.25', '1.2345678901e+10', '1e+06', '123456', '1e+21', '1e-05', '0.0001', '-0', '100'],
  );
  assert.equal(sprint([1n, 2n, 'a', 'b', 3n]), '1 2ab3');
  assert.equal(sprintln(['a', 1n]), 'a 1\n');
});

// ---------- output limit and the engine adapter ----------

test('output past the limit is refused (configurable); a 100 MB render fails under the default 64 MiB', () => {
  assert.match(renderError('{{range seq 1 100}}0123456789{{end}}', { maxOutput: 500 }), /output exceeds the limit of 500 bytes/);
  // The limit is in bytes: 6 characters of 2 bytes each do not fit in 10.
  assert.equal(render('{{"éééé"}}', { maxOutput: 10 }), 'éééé');
  assert.match(renderError('{{"éééé"}}{{"éé"}}', { maxOutput: 10 }), /output exceeds the limit of 10 bytes/);
  const hundredMB = '{{range seq 1 1000000}}' + 'x'.repeat(100) + '{{end}}';
  assert.match(renderError(hundredMB), /^template: t\.tmpl: output exceeds the limit of 67108864 bytes; rendering stopped$/);
});

test('engine adapter: parse errors and exec errors are TemplateErrors carrying Go\'s message and line', () => {
  const engine = createGoEngine();
  assert.throws(
    () => engine.compile('/etc/confd/templates/x.tmpl', 'a\n{{nope}}'),
    (e: unknown) => e instanceof TemplateError && e.message === 'template: x.tmpl:2: function "nope" not defined' && e.line === 2,
  );
  const compiled = engine.compile('/etc/confd/templates/x.tmpl', 'line\n{{getv "/nope"}}');
  const store = new Store({ revision: 1, pairs: new Map() }, '/');
  assert.throws(
    () => compiled.render({ store, vars: {}, resource: 'x.toml', warnings: [], log: undefined as never, lookups: new LookupCache() }),
    (e: unknown) => e instanceof TemplateError && e.line === 2 && /executing "x.tmpl" at <getv "\/nope">: error calling getv: key does not exist: \/nope/.test(e.message),
  );
});
