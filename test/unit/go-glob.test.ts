/**
 * confd's -filter patterns are Go's filepath.Match. The table below is what Go 1.19's
 * filepath.Match returned for every pattern × name pair (matching names listed; "ERR" =
 * ErrBadPattern), measured with a throwaway Go program; haconfd must agree on each pair.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { BadPatternError, goGlobToRegExp } from '../../src/config/goGlob.js';

const NAMES = ['a.yaml', 'b.yml', 'd.yaml', '*', 'x', ']', 'zx', 'ax', 'data-1.json', 'data-x.json', 'c.json', 'a'];
const GO: Record<string, string[] | 'ERR'> = {
  "*": [
    "a.yaml",
    "b.yml",
    "d.yaml",
    "*",
    "x",
    "]",
    "zx",
    "ax",
    "data-1.json",
    "data-x.json",
    "c.json",
    "a"
  ],
  "*.yaml": [
    "a.yaml",
    "d.yaml"
  ],
  "*.y?ml": [
    "a.yaml",
    "d.yaml"
  ],
  "[a-c]*": [
    "a.yaml",
    "b.yml",
    "ax",
    "c.json",
    "a"
  ],
  "[^a-c]*": [
    "d.yaml",
    "*",
    "x",
    "]",
    "zx",
    "data-1.json",
    "data-x.json"
  ],
  "[]a]": "ERR",
  "[a-]": "ERR",
  "[-a]": "ERR",
  "\\*": [
    "*"
  ],
  "a\\": "ERR",
  "[a": "ERR",
  "[z-a]x": [],
  "[^z-a]x": [
    "zx",
    "ax"
  ],
  "[\\]]": [
    "]"
  ],
  "data-[0-9].json": [
    "data-1.json"
  ],
  "*.[jy]*": [
    "a.yaml",
    "b.yml",
    "d.yaml",
    "data-1.json",
    "data-x.json",
    "c.json"
  ]
};

for (const [pattern, expected] of Object.entries(GO)) {
  test(`filepath.Match(${JSON.stringify(pattern)}, …) as Go`, () => {
    if (expected === 'ERR') {
      assert.throws(() => goGlobToRegExp(pattern), (e: unknown) => e instanceof BadPatternError && /syntax error in pattern/.test(e.message));
      return;
    }
    const re = goGlobToRegExp(pattern);
    assert.deepEqual(NAMES.filter((n) => re.test(n)), expected);
  });
}
