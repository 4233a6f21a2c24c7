/** json / jsonArray: parse a JSON text (usually a key's value) into an object or a list. */
import type { HandlebarsEnv } from '../engine.js';
import { expectArity, helperCall, stringArg } from './arguments.js';

function parse(helper: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
    throw new Error(`${helper}: invalid JSON ${JSON.stringify(shown)}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

export function registerJsonHelpers(hb: HandlebarsEnv): void {
  hb.registerHelper('json', (...args: unknown[]) => {
    const c = helperCall('json', args);
    expectArity(c, 1, 1, 'json-text');
    const v = parse('json', stringArg(c, 0, 'the JSON text'));
    if (v === null) return {}; // Go unmarshals null into an empty map
    if (typeof v !== 'object' || Array.isArray(v)) throw new Error(`json: expected a JSON object, got ${kindOf(v)} (use jsonArray for arrays)`);
    return v;
  });
  hb.registerHelper('jsonArray', (...args: unknown[]) => {
    const c = helperCall('jsonArray', args);
    expectArity(c, 1, 1, 'json-text');
    const v = parse('jsonArray', stringArg(c, 0, 'the JSON text'));
    if (v === null) return [];
    if (!Array.isArray(v)) throw new Error(`jsonArray: expected a JSON array, got ${kindOf(v)}`);
    return v;
  });
}
