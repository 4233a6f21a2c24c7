/** base64Encode / base64Decode: standard alphabet with padding, like Go's base64.StdEncoding. */
import type { HandlebarsEnv } from '../engine.js';
import { expectArity, helperCall, stringArg } from './arguments.js';

const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes standard, padded base64 (line breaks ignored, as Go does); undefined when malformed. */
export function decodeStdBase64(text: string): string | undefined {
  const compact = text.replace(/[\r\n]/g, '');
  if (!STD_BASE64.test(compact)) return undefined;
  return Buffer.from(compact, 'base64').toString('utf8');
}

export function registerEncodingHelpers(hb: HandlebarsEnv): void {
  hb.registerHelper('base64Encode', (...args: unknown[]) => {
    const c = helperCall('base64Encode', args);
    expectArity(c, 1, 1, 'string');
    return Buffer.from(stringArg(c, 0, 'the string'), 'utf8').toString('base64');
  });
  hb.registerHelper('base64Decode', (...args: unknown[]) => {
    const c = helperCall('base64Decode', args);
    expectArity(c, 1, 1, 'string');
    const text = stringArg(c, 0, 'the string');
    const out = decodeStdBase64(text);
    if (out === undefined) {
      const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
      throw new Error(`base64Decode: not valid padded base64: ${JSON.stringify(shown)}`);
    }
    return out;
  });
}
