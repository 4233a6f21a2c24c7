/**
 * confd's store functions as Handlebars helpers: get, getv, gets, getvs, exists, ls, lsdir.
 * Keys are relative to the resource's prefix.
 */
import type { HelperOptions } from 'handlebars';
import { renderDataOf } from './renderData.js';
import type { HandlebarsEnv } from './engine.js';

/** Splits Handlebars' trailing options argument off a helper's arguments. */
function argsOf(args: unknown[]): { params: unknown[]; options: HelperOptions } {
  return { params: args.slice(0, -1), options: args[args.length - 1] as HelperOptions };
}

function keyArg(helper: string, v: unknown): string {
  if (typeof v !== 'string') throw new Error(`${helper}: expected a key string, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
  return v;
}

export function registerStoreHelpers(hb: HandlebarsEnv): void {
  hb.registerHelper('get', (...args: unknown[]) => {
    const { params, options } = argsOf(args);
    return renderDataOf(options).store.get(keyArg('get', params[0]));
  });
  hb.registerHelper('getv', (...args: unknown[]) => {
    const { params, options } = argsOf(args);
    const fallback = params[1];
    return renderDataOf(options).store.getv(keyArg('getv', params[0]), fallback === undefined ? undefined : String(fallback));
  });
  hb.registerHelper('gets', (...args: unknown[]) => {
    const { params, options } = argsOf(args);
    return renderDataOf(options).store.gets(keyArg('gets', params[0]));
  });
  hb.registerHelper('getvs', (...args: unknown[]) => {
    const { params, options } = argsOf(args);
    return renderDataOf(options).store.getvs(keyArg('getvs', params[0]));
  });
  hb.registerHelper('exists', (...args: unknown[]) => {
    const { params, options } = argsOf(args);
    return renderDataOf(options).store.exists(keyArg('exists', params[0]));
  });
  hb.registerHelper('ls', (...args: unknown[]) => {
    const { params, options } = argsOf(args);
    return renderDataOf(options).store.ls(keyArg('ls', params[0]));
  });
  hb.registerHelper('lsdir', (...args: unknown[]) => {
    const { params, options } = argsOf(args);
    return renderDataOf(options).store.lsdir(keyArg('lsdir', params[0]));
  });
}
