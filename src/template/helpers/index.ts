/** confd's helper set (besides the store helpers), registered into one Handlebars environment. */
import type { HandlebarsEnv } from '../engine.js';
import { registerCollectionHelpers } from './collections.js';
import { registerConversionHelpers } from './conversions.js';
import { registerDnsHelpers } from './dns.js';
import { registerEncodingHelpers } from './encoding.js';
import { registerJsonHelpers } from './json.js';
import { registerMathHelpers } from './math.js';
import { registerPathHelpers } from './paths.js';
import { registerStringHelpers } from './strings.js';
import { registerSystemHelpers } from './system.js';
import { registerUrlHelpers } from './url.js';

export const STANDARD_HELPER_NAMES: readonly string[] = [
  'base', 'dir',
  'split', 'join', 'replace', 'toUpper', 'toLower', 'contains', 'trimSuffix', 'default',
  'json', 'jsonArray',
  'map', 'index', 'seq', 'reverse', 'sortByLength', 'sortKVByLength',
  'getenv', 'datetime', 'fileExists',
  'lookupIP', 'lookupIPV4', 'lookupIPV6', 'lookupSRV',
  'base64Encode', 'base64Decode',
  'parseBool', 'atoi',
  'add', 'sub', 'mul', 'div', 'mod',
  'urlHost', 'urlPort',
];

export function registerStandardHelpers(hb: HandlebarsEnv): void {
  registerPathHelpers(hb);
  registerStringHelpers(hb);
  registerJsonHelpers(hb);
  registerCollectionHelpers(hb);
  registerSystemHelpers(hb);
  registerDnsHelpers(hb);
  registerEncodingHelpers(hb);
  registerConversionHelpers(hb);
  registerMathHelpers(hb);
  registerUrlHelpers(hb);
}
