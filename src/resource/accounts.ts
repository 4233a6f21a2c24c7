/** Resolves owner/group names to ids from /etc/passwd and /etc/group (no libc binding in Node). */
import { readFileSync } from 'node:fs';

function lookup(file: string, name: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f[2] !== undefined && /^\d+$/.test(f[2])) return Number(f[2]);
  }
  return undefined;
}

export function uidOf(user: string, passwdFile = '/etc/passwd'): number | undefined {
  return /^\d+$/.test(user) ? Number(user) : lookup(passwdFile, user);
}

export function gidOf(group: string, groupFile = '/etc/group'): number | undefined {
  return /^\d+$/.test(group) ? Number(group) : lookup(groupFile, group);
}
