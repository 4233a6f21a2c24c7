/**
 * Secrets among a resource's `[template.vars]`: a var whose name says it is one (`*password*`,
 * `*passwd*`, `*secret*`, `*token*`, `auth_pass`) may be rendered into the file, but never reaches a
 * log line: a `-noop` diff or a checker's quoted stderr shows `[redacted]` in its place. Pure.
 */

const SECRET_NAME = /(password|passwd|secret|token|auth_pass)/i;
export const REDACTED = '[redacted]';

/** The values of secret-named vars, at any depth (tables such as [template.vars.clusters.x]). */
export function secretValues(vars: Readonly<Record<string, unknown>>): string[] {
  const out = new Set<string>();
  const walk = (v: unknown, secret: boolean): void => {
    if (typeof v === 'string' || typeof v === 'number') {
      if (secret && String(v) !== '') out.add(String(v));
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x, secret);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, secret || SECRET_NAME.test(k));
    }
  };
  walk(vars, false);
  // Longest first, so a secret that contains another is replaced whole.
  return [...out].sort((a, b) => b.length - a.length);
}

/**
 * `text` with every occurrence of each secret replaced by [redacted], and the password of any
 * `scheme://user:password@host` URL too (a probe URL with credentials, such as stats_url).
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join(REDACTED);
  return out.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:@/]+):[^\s@/]+@/gi, `$1:${REDACTED}@`);
}
