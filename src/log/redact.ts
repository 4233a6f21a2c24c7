/**
 * The one redaction function. Every URL or configuration value that may reach a log line, an error
 * message, /readyz, or `haconfd haproxy status` goes through here:
 * - URL userinfo: `scheme://user:secret@host` → `scheme://user:[redacted]@host` (the user stays:
 *   it helps, and it is not a secret);
 * - `password=…`/`password: …` pairs (libpq conninfo, query strings, config lines);
 * - every secret value the configuration carries (-password / HACONFD_PASSWORD), wherever it shows.
 * TLS keys are never read into a message at all (only their paths are named). Pure apart from the
 * registry of configured secrets.
 */

const REDACTED = '[redacted]';
const secrets = new Set<string>();

/** A configured secret (the backend password): never shown, wherever it would appear. */
export function registerSecret(value: string | undefined): void {
  // Very short values would blank out ordinary words; they are still caught by the patterns above.
  if (value !== undefined && value.length >= 4) secrets.add(value);
}

/**
 * One URL with the password of its userinfo replaced. Structural: the userinfo is everything
 * between `://` and the last `@` of the authority, so a password with spaces, `@` or `:` in it is
 * covered too. Text without `://` is returned as it is.
 */
export function redactUrl(url: string): string {
  const s = url.indexOf('://');
  if (s < 0) return url;
  const start = s + 3;
  let end = url.length;
  for (const c of ['/', '?', '#']) {
    const i = url.indexOf(c, start);
    if (i >= 0 && i < end) end = i;
  }
  const at = url.lastIndexOf('@', end - 1);
  if (at < start) return url;
  const userinfo = url.slice(start, at);
  const colon = userinfo.indexOf(':');
  const shown = colon < 0 ? userinfo : `${userinfo.slice(0, colon)}:${REDACTED}`;
  return `${url.slice(0, start)}${shown}${url.slice(at)}`;
}

const URL_IN_TEXT = /[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s"'<>`]+/g;
const PASSWORD_PAIR = /\b(password|passwd|pwd)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&,;'"}]+)/gi;

/** Any text (a message, an error, a reason): URLs' passwords, password pairs and configured secrets. */
export function redactText(text: string): string {
  let t = text.includes('://') ? text.replace(URL_IN_TEXT, (u) => redactUrl(u)) : text;
  if (/pass|pwd/i.test(t)) t = t.replace(PASSWORD_PAIR, (_m, k: string, sep: string) => `${k}${sep}${REDACTED}`);
  for (const s of secrets) if (t.includes(s)) t = t.split(s).join(REDACTED);
  return t;
}

/** A log record's values: strings, arrays and plain objects (a few levels deep), errors' messages. */
export function redactValue(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return redactText(v);
  if (depth > 5 || v === null || typeof v !== 'object') return v;
  if (v instanceof Error) {
    const copy = new Error(redactText(v.message));
    copy.name = v.name;
    if (v.stack !== undefined) copy.stack = redactText(v.stack);
    for (const [k, x] of Object.entries(v)) (copy as unknown as Record<string, unknown>)[k] = redactValue(x, depth + 1);
    return copy;
  }
  if (Array.isArray(v)) return v.map((x) => redactValue(x, depth + 1));
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = redactValue(x, depth + 1);
  return out;
}
