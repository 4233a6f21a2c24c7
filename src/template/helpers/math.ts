/** Integer arithmetic as confd has it: add, sub, mul, div (truncating), mod. */
import type { HandlebarsEnv } from '../engine.js';
import { expectArity, helperCall, integerArg } from './arguments.js';

type Op = (a: number, b: number) => number;

const OPS: ReadonlyArray<readonly [string, Op]> = [
  ['add', (a, b) => a + b],
  ['sub', (a, b) => a - b],
  ['mul', (a, b) => a * b],
  ['div', (a, b) => Math.trunc(a / b)],
  ['mod', (a, b) => a % b],
];

export function registerMathHelpers(hb: HandlebarsEnv): void {
  for (const [name, op] of OPS) {
    hb.registerHelper(name, (...args: unknown[]) => {
      const c = helperCall(name, args);
      expectArity(c, 2, 2, 'a b');
      const a = integerArg(c, 0, 'the first number');
      const b = integerArg(c, 1, 'the second number');
      if ((name === 'div' || name === 'mod') && b === 0) throw new Error(`${name}: division by zero (${name} ${a} 0)`);
      const r = op(a, b);
      if (!Number.isSafeInteger(r)) throw new Error(`${name}: result of ${name} ${a} ${b} is outside the safe integer range`);
      return r === 0 ? 0 : r; // no -0
    });
  }
}
