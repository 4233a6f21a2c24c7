/**
 * Template helpers for the keepalived files. Each is a block helper that builds the spec from the
 * resource's `[template.vars]` (and, for keepalived.conf, VRRP values in the store under the
 * resource's prefix), validates it, and renders its block with the view model. An invalid spec
 * throws an error naming every bad field, so the render fails and the old file stays.
 *
 *   {{#keepalivedSpec}} … {{/keepalivedSpec}}   → KeepalivedView (viewModel.ts)
 *   {{#chkHaproxySpec}} … {{/chkHaproxySpec}}   → ChkView
 */
import type { HelperOptions } from 'handlebars';
import type { HandlebarsEnv } from '../template/engine.js';
import { renderDataOf } from '../template/renderData.js';
import { resolveChkSpec, resolveKeepalivedSpec } from './resolveSpec.js';
import { inspectScriptPath } from './scriptPath.js';
import { formatSpecErrors, type SpecError } from './spec.js';
import { mergeStoreValues } from './specInput.js';
import { chkView, keepalivedView } from './viewModel.js';

/** Thrown when a spec is refused; the message lists every error as "field: message". */
export class KeepalivedSpecError extends Error {
  override readonly name = 'KeepalivedSpecError';
  constructor(
    what: string,
    readonly errors: readonly SpecError[],
  ) {
    super(`${what} refused (nothing written):\n${formatSpecErrors(errors)}`);
  }
}

function optionsOf(args: unknown[]): HelperOptions {
  return args[args.length - 1] as HelperOptions;
}

export function registerKeepalivedHelpers(hb: HandlebarsEnv): void {
  hb.registerHelper('keepalivedSpec', function (this: unknown, ...args: unknown[]) {
    const options = optionsOf(args);
    const rd = renderDataOf(options);
    const vars = mergeStoreValues(rd.vars, rd.store);
    const r = resolveKeepalivedSpec(vars, { pathFacts: inspectScriptPath });
    if (!r.ok) throw new KeepalivedSpecError('keepalived spec', r.errors);
    return options.fn(keepalivedView(r.spec), { data: options.data });
  });
  hb.registerHelper('chkHaproxySpec', function (this: unknown, ...args: unknown[]) {
    const options = optionsOf(args);
    const rd = renderDataOf(options);
    const r = resolveChkSpec(rd.vars);
    if (!r.ok) throw new KeepalivedSpecError('chk_haproxy spec', r.errors);
    return options.fn(chkView(r.spec), { data: options.data });
  });
}
