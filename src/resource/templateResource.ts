/**
 * A template resource: one conf.d/*.toml file, parsed and validated into a typed value.
 * Unknown keys reject the resource, naming the key and the nearest valid one.
 */
import { basename, isAbsolute, resolve } from 'node:path';
import toml from 'toml';
import { nearest } from '../config/suggest.js';
import { describeTomlError } from '../config/loadConfig.js';
import { joinKeys, normalizeKey } from '../store/keys.js';
import { gidOf, uidOf } from './accounts.js';
import { parseDuration, parseWait, type WaitSpec } from '../config/duration.js';
import { engineForPath, type EngineKind } from '../template/engineKind.js';
import { parseHaproxyReloadSettings, type HaproxyReloadSettings } from './haproxyReloadSettings.js';

export interface TemplateResource {
  /** The resource file's base name, e.g. "haproxy.toml". */
  readonly name: string;
  /** Path of the TOML file it came from. */
  readonly file: string;
  /** Absolute path of the template. */
  readonly src: string;
  /** Template language: Go text/template (confd's) or Handlebars; from `engine`, else `src`'s extension. */
  readonly engine: TemplateEngineKind;
  /** `max_output`: a Go template render longer than this many bytes is refused (default 64 MiB). */
  readonly maxOutput: number | undefined;
  /** Absolute destination path. */
  readonly dest: string;
  /** Absolute key prefix: the global -prefix when one is set (it replaces the resource's, as in confd), else the resource's. */
  readonly prefix: string;
  /** Absolute keys/prefixes the resource reads (its prefix joined with each of `keys`). */
  readonly keys: readonly string[];
  readonly mode: number | undefined;
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  readonly checkCmd: string | undefined;
  readonly reloadCmd: string | undefined;
  readonly checkTimeoutMs: number;
  readonly reloadTimeoutMs: number;
  readonly minKeys: number;
  readonly wait: WaitSpec | undefined;
  readonly vars: Readonly<Record<string, unknown>>;
  /** Optional [template.haproxy] table: how to reload HAProxy keeping its runtime state. */
  readonly haproxy: HaproxyReloadSettings | undefined;
  /** Problems worth a warning that do not stop the resource (an `owner`/`group` this machine lacks). */
  readonly warnings?: readonly string[];
}

/** A resource file that could not be used; `file` and (when known) `line` say where. */
export class ResourceConfigError extends Error {
  override readonly name = 'ResourceConfigError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

export type TemplateEngineKind = EngineKind;

export const RESOURCE_KEYS = [
  'src', 'engine', 'max_output', 'dest', 'keys', 'prefix', 'mode', 'uid', 'gid', 'owner', 'group', 'check_cmd', 'reload_cmd',
  'check_timeout', 'reload_timeout', 'min_keys', 'wait', 'vars', 'haproxy',
] as const;

export const DEFAULT_CHECK_TIMEOUT_MS = 30_000;
export const DEFAULT_RELOAD_TIMEOUT_MS = 60_000;

export interface ResourceContext {
  /** The global -prefix, undefined when none is set. When set it replaces each resource's own `prefix` (confd's rule). */
  readonly globalPrefix?: string | undefined;
  /** <confdir>/templates. */
  readonly templatesDir: string;
  /** Directory relative `dest` paths are resolved against (the working directory). */
  readonly cwd: string;
}

/**
 * The key prefix a resource reads under, as confd decides it (resource.go NewTemplateResource): a
 * non-empty global -prefix replaces the resource's `prefix`; without one the resource's own is used;
 * neither gives '/'. A missing leading '/' is added. Measured with confd 0.17.0-dev: resource
 * `prefix = "/res"` with `-prefix /service/demo` reads /service/demo, with `-prefix /` reads /.
 */
export function effectivePrefix(globalPrefix: string | undefined, resourcePrefix: string | undefined): string {
  if (globalPrefix !== undefined && globalPrefix !== '') return normalizeKey(globalPrefix);
  return normalizeKey(resourcePrefix ?? '');
}

/** Octal mode from "644", "0644", "0o644" or an integer whose digits are read as octal. */
export function parseMode(raw: unknown): number {
  const text = typeof raw === 'number' && Number.isInteger(raw) ? String(raw) : raw;
  if (typeof text !== 'string' || !/^(0o?)?[0-7]{1,4}$/.test(text.trim())) {
    throw new Error(`mode ${JSON.stringify(raw)} is not an octal file mode (e.g. "0644")`);
  }
  return parseInt(text.trim().replace(/^0o/, ''), 8);
}

function expectString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new Error(`${key} must be a string`);
  return v;
}

function idFrom(
  o: Record<string, unknown>,
  idKey: string,
  nameKey: string,
  resolveName: (n: string) => number | undefined,
  warnings: string[],
): number | undefined {
  const id = o[idKey];
  const name = o[nameKey];
  if (id !== undefined && name !== undefined) throw new Error(`give ${idKey} or ${nameKey}, not both`);
  if (id !== undefined) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new Error(`${idKey} must be a non-negative integer`);
    return id;
  }
  if (name !== undefined) {
    if (typeof name !== 'string' || name === '') throw new Error(`${nameKey} must be a name`);
    const resolved = resolveName(name);
    // confd has no owner/group keys and ignores them: Patroni's own pgbouncer.toml says
    // owner = "postgres", and must work on a host without that user. So a warning, not a refusal.
    if (resolved === undefined) {
      warnings.push(`${nameKey} "${name}" does not exist on this machine: ignored, the file keeps its current ${nameKey === 'owner' ? 'owner' : 'group'} (confd ignores ${nameKey} altogether)`);
    }
    return resolved;
  }
  return undefined;
}

/** Parses one resource file's text. Throws ResourceConfigError naming the file (and line). */
export function parseTemplateResource(file: string, text: string, ctx: ResourceContext): TemplateResource {
  let doc: Record<string, unknown>;
  try {
    doc = toml.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new ResourceConfigError(file, describeTomlError(e));
  }
  try {
    const topKeys = Object.keys(doc);
    const extraTop = topKeys.filter((k) => k !== 'template');
    if (extraTop.length > 0) throw new Error(`unknown table [${extraTop[0]}] (resources have one [template] table)`);
    const t = doc['template'];
    if (t === undefined || t === null || typeof t !== 'object' || Array.isArray(t)) throw new Error('missing [template] table');
    const o = t as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!(RESOURCE_KEYS as readonly string[]).includes(k)) {
        const guess = nearest(k, RESOURCE_KEYS);
        throw new Error(`unknown key "${k}" in [template]${guess ? ` (did you mean "${guess}"?)` : ''}`);
      }
    }
    const src = expectString(o, 'src');
    if (src === undefined || src === '') throw new Error('src is required (the template file, relative to the templates directory)');
    const engineRaw = expectString(o, 'engine');
    if (engineRaw !== undefined && engineRaw !== 'go' && engineRaw !== 'handlebars') {
      throw new Error(`engine must be "go" or "handlebars", got ${JSON.stringify(engineRaw)}`);
    }
    const engine: TemplateEngineKind = engineRaw ?? engineForPath(src);
    const maxOutput = o['max_output'] === undefined ? undefined : parseByteSize(o['max_output'], 'max_output');
    const dest = expectString(o, 'dest');
    if (dest === undefined || dest === '') throw new Error('dest is required (the file to write)');
    const keysRaw = o['keys'] ?? [];
    if (!Array.isArray(keysRaw) || !keysRaw.every((k) => typeof k === 'string')) throw new Error('keys must be a list of strings');
    const prefix = effectivePrefix(ctx.globalPrefix, expectString(o, 'prefix'));
    const keys = (keysRaw as string[]).length > 0 ? (keysRaw as string[]).map((k) => joinKeys(prefix, k)) : [prefix];
    const mode = o['mode'] === undefined ? undefined : parseMode(o['mode']);
    const warnings: string[] = [];
    const uid = idFrom(o, 'uid', 'owner', (n) => uidOf(n), warnings);
    const gid = idFrom(o, 'gid', 'group', (n) => gidOf(n), warnings);
    const minKeysRaw = o['min_keys'] ?? 0;
    if (typeof minKeysRaw !== 'number' || !Number.isInteger(minKeysRaw) || minKeysRaw < 0) throw new Error('min_keys must be a non-negative integer');
    const vars = o['vars'] ?? {};
    if (vars === null || typeof vars !== 'object' || Array.isArray(vars)) throw new Error('[template.vars] must be a table');
    const haproxy = o['haproxy'];
    if (haproxy !== undefined && (haproxy === null || typeof haproxy !== 'object' || Array.isArray(haproxy))) {
      throw new Error('[template.haproxy] must be a table');
    }
    const reloadCmd = expectString(o, 'reload_cmd') || undefined;
    return {
      name: basename(file),
      file,
      src: isAbsolute(src) ? src : resolve(ctx.templatesDir, src),
      engine,
      maxOutput,
      dest: isAbsolute(dest) ? dest : resolve(ctx.cwd, dest),
      prefix,
      keys,
      mode,
      uid,
      gid,
      checkCmd: expectString(o, 'check_cmd') || undefined,
      reloadCmd: haproxy === undefined ? reloadCmd : undefined,
      checkTimeoutMs: o['check_timeout'] === undefined ? DEFAULT_CHECK_TIMEOUT_MS : parseDuration(o['check_timeout'], 'check_timeout'),
      reloadTimeoutMs: o['reload_timeout'] === undefined ? DEFAULT_RELOAD_TIMEOUT_MS : parseDuration(o['reload_timeout'], 'reload_timeout'),
      minKeys: minKeysRaw,
      wait: o['wait'] === undefined ? undefined : parseWait(o['wait']),
      vars: plain(vars) as Record<string, unknown>,
      haproxy: haproxy === undefined ? undefined : parseHaproxyReloadSettings(plain(haproxy) as Record<string, unknown>, reloadCmd),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  } catch (e) {
    if (e instanceof ResourceConfigError) throw e;
    throw new ResourceConfigError(file, (e as Error).message);
  }
}

const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, kb: 1000, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };

/** A size: a number of bytes, or "64MiB", "500 KB", "1GB". */
export function parseByteSize(raw: unknown, key: string): number {
  if (typeof raw === 'number' && Number.isInteger(raw) && raw > 0) return raw;
  const m = typeof raw === 'string' ? /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(raw) : null;
  const unit = m ? BYTE_UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || unit === undefined || Number(m[1]) <= 0) throw new Error(`${key} must be a positive size such as 1048576, "500KB" or "64MiB", got ${JSON.stringify(raw)}`);
  return Number(m[1]) * unit;
}

/** Deep copy into ordinary objects (the toml package yields null-prototype objects). */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = plain(x);
    return out;
  }
  return v;
}
