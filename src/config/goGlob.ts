/**
 * Go's path/filepath.Match patterns, for confd's -filter (which file names under a -file directory
 * the file backend reads). Matched against a base name, so there is no separator to care about:
 * `*` any run of characters, `?` one character, `[abc]` `[a-z]` `[^a-z]` classes, `\x` a literal x.
 * A malformed pattern is Go's ErrBadPattern ("syntax error in pattern"). Pure.
 */

export class BadPatternError extends Error {
  override readonly name = 'BadPatternError';
}

/** One code point as a regular-expression escape (for use with the `u` flag). */
const lit = (cp: number): string => `\\u{${cp.toString(16)}}`;

/** The pattern as an anchored RegExp; throws BadPatternError where Go's Match returns ErrBadPattern. */
export function goGlobToRegExp(pattern: string): RegExp {
  const cps = Array.from(pattern, (c) => c.codePointAt(0) as number);
  const bad = (): never => {
    throw new BadPatternError(`syntax error in pattern ${JSON.stringify(pattern)}`);
  };
  let i = 0;
  /** A class member: a character, or an escaped one; '-' and ']' must be escaped there (Go's getEsc). */
  const classChar = (): number => {
    const c = cps[i];
    if (c === undefined || c === 0x2d /* - */ || c === 0x5d /* ] */) return bad();
    i++;
    if (c !== 0x5c /* \ */) return c;
    const e = cps[i];
    if (e === undefined) return bad();
    i++;
    return e;
  };
  let re = '^';
  while (i < cps.length) {
    const c = cps[i] as number;
    if (c === 0x2a /* * */) {
      re += '[^/]*';
      i++;
    } else if (c === 0x3f /* ? */) {
      re += '[^/]';
      i++;
    } else if (c === 0x5c /* \ */) {
      const e = cps[i + 1];
      if (e === undefined) return bad();
      re += lit(e);
      i += 2;
    } else if (c === 0x5b /* [ */) {
      i++;
      const negated = cps[i] === 0x5e; /* ^ */
      if (negated) i++;
      let members = '';
      let ranges = 0;
      for (;;) {
        if (cps[i] === 0x5d && ranges > 0) {
          i++;
          break;
        }
        const lo = classChar();
        let hi = lo;
        if (cps[i] === 0x2d) {
          i++;
          hi = classChar();
        }
        // Go accepts a reversed range and simply never matches it; a RegExp would refuse it.
        if (lo <= hi) members += lo === hi ? lit(lo) : `${lit(lo)}-${lit(hi)}`;
        ranges++;
      }
      re += negated ? `[^/${members}]` : members === '' ? '(?!)' : `[${members}]`;
    } else {
      re += lit(c);
      i++;
    }
  }
  return new RegExp(`${re}$`, 'u');
}
