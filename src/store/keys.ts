/** Path helpers for store keys. Keys are '/'-separated absolute paths without a trailing '/'. */

/** Normalises a key or prefix: leading '/', no trailing '/', no '//' runs. '' and '/' → '/'. */
export function normalizeKey(key: string): string {
  const parts = key.split('/').filter((p) => p.length > 0);
  return '/' + parts.join('/');
}

/** Joins key paths ('/a', 'b/', '/c' → '/a/b/c'). */
export function joinKeys(...parts: readonly string[]): string {
  return normalizeKey(parts.join('/'));
}

/** True when `key` is `prefix` itself or lies below it on whole path segments. */
export function isUnderPrefix(key: string, prefix: string): boolean {
  const p = normalizeKey(prefix);
  if (p === '/') return true;
  return key === p || key.startsWith(p + '/');
}
