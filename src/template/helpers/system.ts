/** Helpers that read the host: getenv, datetime, fileExists. */
import { statSync } from 'node:fs';
import type { HandlebarsEnv } from '../engine.js';
import { expectArity, helperCall, stringArg } from './arguments.js';
import { DEFAULT_LAYOUT, formatGoTime, type TimeZoneChoice } from './timeLayout.js';

/** Go's util.IsFileExist (os.Stat, symlinks followed), except that a non-directory parent also means "no". */
export function fileExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return !(code === 'ENOENT' || code === 'ENOTDIR');
  }
}

function zoneArg(helper: string, v: string): TimeZoneChoice {
  if (v === 'UTC' || v === 'utc') return 'utc';
  if (v === 'Local' || v === 'local') return 'local';
  throw new Error(`${helper}: time zone must be "UTC" or "Local", got ${JSON.stringify(v)}`);
}

export function registerSystemHelpers(hb: HandlebarsEnv): void {
  hb.registerHelper('getenv', (...args: unknown[]) => {
    const c = helperCall('getenv', args);
    expectArity(c, 1, 2, 'NAME [default]');
    const value = process.env[stringArg(c, 0, 'the variable name')] ?? '';
    if (value === '' && c.params.length === 2) return stringArg(c, 1, 'the default');
    return value;
  });
  hb.registerHelper('datetime', (...args: unknown[]) => {
    const c = helperCall('datetime', args);
    expectArity(c, 0, 2, '[layout] [UTC|Local]');
    const layout = c.params.length >= 1 ? stringArg(c, 0, 'the layout') : DEFAULT_LAYOUT;
    const zone = c.params.length === 2 ? zoneArg('datetime', stringArg(c, 1, 'the time zone')) : 'local';
    return formatGoTime(new Date(), layout, zone);
  });
  hb.registerHelper('fileExists', (...args: unknown[]) => {
    const c = helperCall('fileExists', args);
    expectArity(c, 1, 1, 'path');
    return fileExists(stringArg(c, 0, 'the path'));
  });
}
