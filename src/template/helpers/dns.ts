/**
 * lookupIP, lookupIPV4, lookupIPV6, lookupSRV. Answers come from the render's LookupCache: on a
 * miss the helper records the request and yields an empty list; the engine resolves the pending
 * requests and renders again. A failed lookup renders as an empty list and adds a render warning.
 */
import type { HelperOptions } from 'handlebars';
import type { HandlebarsEnv } from '../engine.js';
import { renderDataOf } from '../renderData.js';
import { srvQueryName, type LookupKind } from '../lookups.js';
import { expectArity, helperCall, stringArg } from './arguments.js';

function cached(helper: string, kind: LookupKind, name: string, options: HelperOptions): readonly unknown[] {
  const data = renderDataOf(options);
  const result = data.lookups.get(kind, name);
  if (result === undefined) return [];
  const error = data.lookups.errorOf(kind, name);
  if (error !== undefined) {
    const message = `${helper} ${name} failed: ${error}`;
    if (!data.warnings.some((w) => w.code === 'lookup_failed' && w.message === message)) {
      data.warnings.push({ code: 'lookup_failed', message, detail: { helper, name } });
    }
  }
  return [...result];
}

const IP_HELPERS: ReadonlyArray<readonly [string, LookupKind]> = [
  ['lookupIP', 'ip'],
  ['lookupIPV4', 'ipv4'],
  ['lookupIPV6', 'ipv6'],
];

export function registerDnsHelpers(hb: HandlebarsEnv): void {
  for (const [helper, kind] of IP_HELPERS) {
    hb.registerHelper(helper, (...args: unknown[]) => {
      const c = helperCall(helper, args);
      expectArity(c, 1, 1, 'hostname');
      return cached(helper, kind, stringArg(c, 0, 'the host name'), c.options);
    });
  }
  hb.registerHelper('lookupSRV', (...args: unknown[]) => {
    const c = helperCall('lookupSRV', args);
    expectArity(c, 3, 3, 'service proto name');
    const name = srvQueryName(stringArg(c, 0, 'the service'), stringArg(c, 1, 'the protocol'), stringArg(c, 2, 'the domain'));
    return cached('lookupSRV', 'srv', name, c.options);
  });
}
