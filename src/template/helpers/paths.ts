/** base and dir with Go's path-package semantics (slash-separated keys, not OS paths). */
import type { HandlebarsEnv } from '../engine.js';
import { expectArity, helperCall, stringArg } from './arguments.js';

/** Go's path.Clean: one slash between elements, no "." elements, ".." resolved lexically, "" → ".". */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return '/' + joined;
  return joined === '' ? '.' : joined;
}

/** Go's path.Base: the last element, trailing slashes ignored; "" → ".", "///" → "/". */
export function basePath(p: string): string {
  if (p === '') return '.';
  if (p.charCodeAt(p.length - 1) !== 47 /* / */) return p.slice(p.lastIndexOf('/') + 1);
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** Go's path.Dir: everything before the last element, cleaned; "a" → ".", "/a" → "/". */
export function dirPath(p: string): string {
  return cleanPath(p.slice(0, p.lastIndexOf('/') + 1));
}

export function registerPathHelpers(hb: HandlebarsEnv): void {
  hb.registerHelper('base', (...args: unknown[]) => {
    const c = helperCall('base', args);
    expectArity(c, 1, 1, 'path');
    return basePath(stringArg(c, 0, 'the path'));
  });
  hb.registerHelper('dir', (...args: unknown[]) => {
    const c = helperCall('dir', args);
    expectArity(c, 1, 1, 'path');
    return dirPath(stringArg(c, 0, 'the path'));
  });
}
