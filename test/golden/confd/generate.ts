/**
 * Regenerates the expected outputs of the confd golden corpus by RUNNING a confd binary the reader
 * built themselves (see README.md next to this file). It never builds or downloads confd.
 *
 *   node --import tsx test/golden/confd/generate.ts /path/to/confd [case-name ...]
 *
 * For each case directory under cases/: writes a throwaway confdir (conf.d/case.toml +
 * templates/template.tmpl), turns data.json into a file-backend YAML file, runs
 * `confd -onetime -backend file` once with a clean environment (PATH only, plus env.json), and
 * writes expected.out (the destination's bytes) or expected.err (confd's ERROR message, with the
 * throwaway confdir replaced by <CONFDIR>). A second run per case reads every data key back through
 * getv and checks it equals data.json, so the YAML encoding can never silently change a value.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';

const CONFDIR_PLACEHOLDER = '<CONFDIR>';
/** cases/: what haconfd must reproduce; differences/: confd behaviour haconfd deliberately does not copy. */
const caseRoots = ['cases', 'differences'].map((d) => join(import.meta.dirname, d)).filter((d) => existsSync(d));

interface CaseFiles {
  data: Record<string, string>;
  env: Record<string, string>;
  prefix: string | undefined;
  /** The resource's own `prefix` (resource-prefix.txt); a non-empty -prefix replaces it in confd. */
  resourcePrefix: string | undefined;
}

function readStringMap(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${file}: not a JSON object`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'string') throw new Error(`${file}: value of ${k} is not a string`);
    out[k] = v;
  }
  return out;
}

function readCase(dir: string): CaseFiles {
  const data = readStringMap(join(dir, 'data.json'));
  for (const key of Object.keys(data)) {
    // confd's file backend joins path segments with path.Join, which cleans the key.
    if (!key.startsWith('/') || posix.normalize(key) !== key || (key.length > 1 && key.endsWith('/'))) {
      throw new Error(`${dir}: data key ${JSON.stringify(key)} is not a clean absolute path`);
    }
  }
  const prefixFile = join(dir, 'prefix.txt');
  const prefix = existsSync(prefixFile) ? readFileSync(prefixFile, 'utf8').trim() : undefined;
  const resourcePrefixFile = join(dir, 'resource-prefix.txt');
  const resourcePrefix = existsSync(resourcePrefixFile) ? readFileSync(resourcePrefixFile, 'utf8').trim() : undefined;
  return { data, env: readStringMap(join(dir, 'env.json')), prefix, resourcePrefix };
}

/** Flat YAML map, one `"key": "value"` per line; JSON string syntax is valid YAML double-quoted. */
function toYaml(data: Record<string, string>): string {
  const lines = Object.entries(data).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return lines.length === 0 ? '{}\n' : `${lines.join('\n')}\n`;
}

interface RunResult {
  code: number | null;
  output: Buffer | undefined;
  errors: string[];
}

function runConfd(confd: string, work: string, template: string, c: CaseFiles): RunResult {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'conf.d'), { recursive: true });
  mkdirSync(join(work, 'templates'));
  mkdirSync(join(work, 'out'));
  const dest = join(work, 'out', 'result');
  writeFileSync(
    join(work, 'conf.d', 'case.toml'),
    `[template]\nsrc = "template.tmpl"\ndest = ${JSON.stringify(dest)}\nkeys = ["/"]\n${c.resourcePrefix === undefined ? '' : `prefix = ${JSON.stringify(c.resourcePrefix)}\n`}`,
  );
  copyFileSync(template, join(work, 'templates', 'template.tmpl'));
  const yamlFile = join(work, 'data.yaml');
  writeFileSync(yamlFile, toYaml(c.data));
  const args = ['-onetime', '-backend', 'file', '-file', yamlFile, '-confdir', work, '-config-file', join(work, 'absent.toml')];
  if (c.prefix !== undefined) args.push('-prefix', c.prefix);
  const r = spawnSync(confd, args, { env: { PATH: '/usr/bin:/bin', ...c.env }, encoding: 'utf8', timeout: 60_000 });
  const log = `${r.stdout}${r.stderr}`;
  const errors = log
    .split('\n')
    .map((line) => /^\S+ \S+ \S+\[\d+\]: ERROR (.*)$/.exec(line)?.[1])
    .filter((m): m is string => m !== undefined)
    .map((m) => m.split(work).join(CONFDIR_PLACEHOLDER));
  return { code: r.status, output: existsSync(dest) ? readFileSync(dest) : undefined, errors };
}

function checkDataRoundTrip(confd: string, work: string, c: CaseFiles): void {
  // The keys confd loads and how it names them inside the template (resource.go setVars):
  // backend keys starting with path.Join(prefix, "/"), renamed path.Join("/", TrimPrefix(key, prefix)).
  // A non-empty -prefix replaces the resource's prefix (resource.go NewTemplateResource).
  const given = c.prefix !== undefined && c.prefix !== '' ? c.prefix : (c.resourcePrefix ?? '');
  const prefix = given.startsWith('/') ? given : `/${given}`;
  const loadRoot = posix.join(prefix, '/').replace(/(.)\/$/, '$1');
  const keys = Object.keys(c.data)
    .filter((k) => k.startsWith(loadRoot))
    .sort();
  if (keys.length === 0) return;
  const rel = (k: string): string => posix.join('/', k.startsWith(prefix) ? k.slice(prefix.length) : k);
  const sep = '\u0000SEP\u0000';
  const probe = join(work, '..', 'probe.tmpl');
  writeFileSync(probe, keys.map((k) => `{{getv ${JSON.stringify(rel(k))}}}{{"\\x00SEP\\x00"}}`).join(''));
  const r = runConfd(confd, work, probe, c);
  const expected = keys.map((k) => `${c.data[k]}${sep}`).join('');
  if (r.output === undefined || r.output.toString('utf8') !== expected) {
    throw new Error(`data round trip through the file backend changed a value: ${r.errors.join('; ')}`);
  }
}

function main(): void {
  const [confd, ...only] = process.argv.slice(2);
  if (confd === undefined) {
    process.stderr.write('usage: generate.ts /path/to/confd [case ...]\n');
    process.exit(2);
  }
  const root = mkdtempSync(join(tmpdir(), 'confd-golden-'));
  const all = caseRoots.flatMap((root) => readdirSync(root).sort().map((name) => ({ name, dir: join(root, name) })));
  const picked = only.length > 0 ? all.filter((c) => only.includes(c.name)) : all;
  if (only.length > 0 && picked.length !== only.length) throw new Error(`unknown case among: ${only.join(' ')}`);
  let outs = 0;
  let errs = 0;
  try {
    for (const { name, dir } of picked) {
      const c = readCase(dir);
      const work = join(root, 'w');
      checkDataRoundTrip(confd, work, c);
      const r = runConfd(confd, work, join(dir, 'template.tmpl'), c);
      rmSync(join(dir, 'expected.out'), { force: true });
      rmSync(join(dir, 'expected.err'), { force: true });
      if (r.code === 0 && r.output !== undefined && r.errors.length === 0) {
        writeFileSync(join(dir, 'expected.out'), r.output);
        outs++;
      } else if (r.code !== 0 && r.errors.length > 0) {
        writeFileSync(join(dir, 'expected.err'), `${r.errors[0]}\n`);
        errs++;
      } else {
        throw new Error(`${name}: unexpected confd result (exit ${r.code}, errors ${JSON.stringify(r.errors)})`);
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  process.stdout.write(`${picked.length} cases: ${outs} expected.out, ${errs} expected.err\n`);
}

main();
