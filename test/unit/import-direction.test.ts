/**
 * The direction of every import in src/: a folder imports only itself and the folders before it
 * in the order written in the README's Development section (the `layers:` line). Static
 * `import … from`, `export … from`, side-effect `import '…'` and dynamic `import('…')` with a
 * literal path all count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');

interface Edge {
  /** Paths relative to the repository, with '/' separators: src/config/loadConfig.ts */
  readonly from: string;
  readonly to: string;
}

/** The layer order from the README (`layers: a → b → …`), lowest first. */
function layerOrder(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const line = readme.split('\n').find((l) => l.startsWith('layers: '));
  assert.ok(line, 'the README has no "layers: …" line in its Development section');
  return line.slice('layers: '.length).split('→').map((s) => s.trim());
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const STATIC = /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm;
const SIDE_EFFECT = /^\s*import\s*['"]([^'"]+)['"]/gm;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
/** A module path kept in a constant and imported through it (`const m = './x.js'; await import(m)`). */
const PATH_CONSTANT = /\bconst\s+(\w+)\s*=\s*['"](\.{1,2}\/[^'"]+\.js)['"]/g;
const DYNAMIC_BY_NAME = /\bimport\(\s*(\w+)\s*\)/g;

/** The relative import specifiers of one source text (comments' lines are skipped for dynamic ones). */
export function importSpecifiers(text: string): string[] {
  const specs: string[] = [];
  for (const re of [STATIC, SIDE_EFFECT]) for (const m of text.matchAll(re)) specs.push(m[1] as string);
  for (const line of text.split('\n')) {
    if (/^\s*(\*|\/\/|\/\*)/.test(line)) continue;
    for (const m of line.matchAll(DYNAMIC)) specs.push(m[1] as string);
  }
  const byName = new Set([...text.matchAll(DYNAMIC_BY_NAME)].map((m) => m[1] as string));
  for (const m of text.matchAll(PATH_CONSTANT)) if (byName.has(m[1] as string)) specs.push(m[2] as string);
  return specs.filter((s) => s.startsWith('.'));
}

function importEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = relative(ROOT, file).split(sep).join('/');
    for (const spec of importSpecifiers(readFileSync(file, 'utf8'))) {
      const to = relative(ROOT, normalize(join(dirname(file), spec))).split(sep).join('/').replace(/\.js$/, '.ts');
      edges.push({ from, to });
    }
  }
  return edges;
}

/** The layer a src/ path belongs to: the longest layer name that is a folder prefix of it. */
function layerOf(path: string, layers: readonly string[]): string | undefined {
  const inSrc = path.replace(/^src\//, '');
  return [...layers].sort((a, b) => b.length - a.length).find((l) => inSrc.startsWith(`${l}/`));
}

/** Every edge that goes up the order (or touches a path in no layer), as "from → to" lines. */
export function againstOrder(edges: readonly Edge[], layers: readonly string[]): string[] {
  const bad: string[] = [];
  for (const e of edges) {
    if (!e.to.startsWith('src/')) continue;
    const a = layerOf(e.from, layers);
    const b = layerOf(e.to, layers);
    if (a === undefined || b === undefined) {
      bad.push(`${e.from} → ${e.to} (${a === undefined ? e.from : e.to} is in no layer)`);
      continue;
    }
    if (layers.indexOf(b) > layers.indexOf(a)) bad.push(`${e.from} → ${e.to} (${a} may not import ${b})`);
  }
  return bad;
}

test('every import in src/ follows the layer order of the README', () => {
  const layers = layerOrder();
  const edges = importEdges();
  assert.ok(edges.length > 200, `only ${edges.length} imports found: the scan is broken`);
  assert.deepEqual(againstOrder(edges, layers), []);
});

test('every relative import in src/ names a file that exists (paths kept in constants too)', () => {
  const missing = importEdges().filter((e) => !existsSync(join(ROOT, e.to)));
  assert.deepEqual(missing, []);
});

test('every folder of src/ has its place in the order', () => {
  const layers = layerOrder();
  const files = sourceFiles(SRC).map((f) => relative(ROOT, f).split(sep).join('/'));
  assert.deepEqual(files.filter((f) => layerOf(f, layers) === undefined), []);
});

test('the check fails on each backwards edge issue 10 found', () => {
  const layers = layerOrder();
  const backwards: Edge[] = [
    { from: 'src/config/loadConfig.ts', to: 'src/cli/flagSpec.ts' }, // config → cli
    { from: 'src/resource/templateResource.ts', to: 'src/cli/suggest.ts' }, // resource → cli
    { from: 'src/resource/syncResource.ts', to: 'src/haproxy/reload/reloadHaproxy.ts' }, // resource → haproxy
    { from: 'src/store/store.ts', to: 'src/backends/backend.ts' }, // store ↔ backends (the way back)
    { from: 'src/template/helperSet.ts', to: 'src/keepalived/helpers.ts' }, // template → keepalived
    { from: 'src/haproxy/controller/controller.ts', to: 'src/daemon/daemon.ts' }, // controller → daemon
    { from: 'src/haproxy/controller/controller.ts', to: 'src/cli/main.ts' }, // controller → cli
    { from: 'src/haproxy/runtime/runtimeClient.ts', to: 'src/haproxy/controller/plan.ts' }, // runtime → controller
  ];
  for (const e of backwards) assert.equal(againstOrder([e], layers).length, 1, `${e.from} → ${e.to} was not flagged`);
  // The allowed direction of each passes.
  const allowed: Edge[] = [
    { from: 'src/cli/main.ts', to: 'src/config/loadConfig.ts' },
    { from: 'src/backends/etcd/etcdWatch.ts', to: 'src/store/keys.ts' },
    { from: 'src/daemon/compose.ts', to: 'src/haproxy/controller/controllerSupervisor.ts' },
    { from: 'src/haproxy/controller/controller.ts', to: 'src/haproxy/controller/plan.ts' },
  ];
  assert.deepEqual(againstOrder(allowed, layers), []);
  // A file outside every layer is flagged too.
  assert.equal(againstOrder([{ from: 'src/utils/x.ts', to: 'src/log/logger.ts' }], layers).length, 1);
});

test('the import scan sees every form of import', () => {
  const text = [
    "import { a } from './a.js';",
    'import type {',
    '  B,',
    "} from '../b.js';",
    "export { c } from './c.js';",
    "export * from './d.js';",
    "import './e.js';",
    "  const m = await import('../f.js');",
    " * not code: import('../g.js')",
    "import x from 'node:fs';",
    "const etcdModule = './h.js';",
    'const mod = await import(etcdModule);',
    "const notImported = './i.js';",
  ].join('\n');
  assert.deepEqual(importSpecifiers(text).sort(), ['../b.js', '../f.js', './a.js', './c.js', './d.js', './e.js', './h.js']);
});
