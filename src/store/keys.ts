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

/**
 * True when `key` is `prefix` itself or lies below it on whole path segments. Both are expected
 * normalised (as every key and prefix inside haconfd is); a trailing '/' on the prefix is tolerated.
 * Called once per key per prefix on hot paths, so it allocates nothing.
 */
export function isUnderPrefix(key: string, prefix: string): boolean {
  let plen = prefix.length;
  if (plen > 1 && prefix.charCodeAt(plen - 1) === 47 /* / */) plen--;
  if (plen <= 1) return true;
  if (!key.startsWith(prefix.slice(0, plen))) return false;
  return key.length === plen || key.charCodeAt(plen) === 47;
}

/** Normalises prefixes and drops duplicates and prefixes nested in another one. Sorted. */
export function distinctPrefixes(prefixes: readonly string[]): string[] {
  const norm = [...new Set(prefixes.map(normalizeKey))].sort();
  return norm.filter((p) => !norm.some((q) => q !== p && isUnderPrefix(p, q)));
}
