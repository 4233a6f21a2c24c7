/**
 * Operator overrides (drain/maint set with `haconfd haproxy drain|maint`), kept in a small JSON file
 * so they survive reloads and restarts; the controller reads it and never lifts them (rule 1).
 *
 *   <state-dir>/haproxy-overrides.json
 *   {"version":1,"overrides":[{"backend":"primary","server":"pg2","state":"maint","since":"…"}]}
 */
import { readFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isHaproxyIdentifier } from '../runtime/names.js';
import { writeFileAtomic } from '../reload/serverStateFile.js';
import type { OperatorOverride, OperatorOverrides } from './plan.js';

export const DEFAULT_STATE_DIR = '/var/lib/haconfd';
export const OVERRIDES_FILE_NAME = 'haproxy-overrides.json';

export class OverridesFileError extends Error {
  override readonly name = 'OverridesFileError';
  constructor(readonly path: string, detail: string) {
    super(`operator overrides file ${path}: ${detail}`);
  }
}

export function overridesPath(stateDir: string = DEFAULT_STATE_DIR): string {
  return join(stateDir, OVERRIDES_FILE_NAME);
}

function validate(path: string, v: unknown, i: number): OperatorOverride {
  if (typeof v !== 'object' || v === null) throw new OverridesFileError(path, `entry ${i} is not an object`);
  const o = v as Record<string, unknown>;
  const { backend, server, state, since, reason } = o;
  if (typeof backend !== 'string' || !isHaproxyIdentifier(backend)) throw new OverridesFileError(path, `entry ${i}: invalid backend ${JSON.stringify(backend)}`);
  if (typeof server !== 'string' || !isHaproxyIdentifier(server)) throw new OverridesFileError(path, `entry ${i}: invalid server ${JSON.stringify(server)}`);
  if (state !== 'drain' && state !== 'maint') throw new OverridesFileError(path, `entry ${i}: state must be "drain" or "maint", got ${JSON.stringify(state)}`);
  return {
    backend,
    server,
    state,
    ...(typeof since === 'string' ? { since } : {}),
    ...(typeof reason === 'string' ? { reason } : {}),
  };
}

/** Reads the overrides; a missing file is no overrides. A broken file throws (never silently lifts them). */
export function loadOverrides(path: string): OperatorOverride[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new OverridesFileError(path, (e as Error).message);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new OverridesFileError(path, `not valid JSON: ${(e as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || !Array.isArray((data as { overrides?: unknown }).overrides)) {
    throw new OverridesFileError(path, 'expected {"version":1,"overrides":[…]}');
  }
  const version = (data as { version?: unknown }).version;
  if (version !== 1) throw new OverridesFileError(path, `unsupported version ${JSON.stringify(version)}`);
  return ((data as { overrides: unknown[] }).overrides).map((v, i) => validate(path, v, i));
}

/** Writes the overrides atomically (temp file, fsync, rename), creating the directory if needed. */
export function saveOverrides(path: string, overrides: OperatorOverrides): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  const sorted = [...overrides].sort((a, b) => `${a.backend}/${a.server}`.localeCompare(`${b.backend}/${b.server}`));
  writeFileAtomic(path, `${JSON.stringify({ version: 1, overrides: sorted }, null, 2)}\n`);
}

/** The list with `o` set (replacing any override of the same server). Pure. */
export function withOverride(list: OperatorOverrides, o: OperatorOverride): OperatorOverride[] {
  return [...list.filter((x) => !(x.backend === o.backend && x.server === o.server)), o];
}

/** The list without the override of `backend/server`. Pure. */
export function withoutOverride(list: OperatorOverrides, backend: string, server: string): OperatorOverride[] {
  return list.filter((x) => !(x.backend === backend && x.server === server));
}
