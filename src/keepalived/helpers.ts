/**
 * Template helpers for the keepalived files. Each is a block helper that builds the spec from the
 * resource's `[template.vars]` (and, for keepalived.conf, VRRP values in the store under the
 * resource's prefix), validates it, and renders its block with the view model. An invalid spec
 * throws an error naming every bad field, so the render fails and the old file stays.
 *
 *   {{#keepalivedSpec}} … {{/keepalivedSpec}}   → KeepalivedView (viewModel.ts)
 *   {{#chkHaproxySpec}} … {{/chkHaproxySpec}}   → ChkView
 */
import type { HandlebarsEnv } from '../template/engine.js';
import { helperCall } from '../template/helpers/arguments.js';
import { renderDataOf, type RenderWarning } from '../template/renderData.js';
import { resolveChkSpec, resolveKeepalivedSpec } from './resolveSpec.js';
import { scriptPathInspector } from './scriptPath.js';
import { formatSpecErrors, type KeepalivedSpec, type SpecError } from './spec.js';
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

/** Defaults the render relied on that the operator should confirm (reported, not fatal). */
export function assumptionsOf(spec: KeepalivedSpec): RenderWarning[] {
  return spec.instances
    .filter((i) => i.peerPriorityAssumed)
    .map((i) => ({
      code: 'keepalived_peer_priority_assumed',
      message: `${i.name}: peer_priority not set, assumed ${i.peerPriority}; set it so the pair rules check the real peer`,
      detail: { instance: i.name, priority: i.priority, peerPriority: i.peerPriority },
    }));
}

export function registerKeepalivedHelpers(hb: HandlebarsEnv): void {
  hb.registerHelper('keepalivedSpec', function (this: unknown, ...args: unknown[]) {
    const { options } = helperCall('keepalivedSpec', args);
    const rd = renderDataOf(options);
    const vars = mergeStoreValues(rd.vars, rd.store);
    // A fresh inspector each render: the scripts' directories are statted once per render.
    const r = resolveKeepalivedSpec(vars, { pathFacts: scriptPathInspector() });
    if (!r.ok) throw new KeepalivedSpecError('keepalived spec', r.errors);
    for (const w of assumptionsOf(r.spec)) rd.warnings.push(w);
    return options.fn(keepalivedView(r.spec), { data: options.data });
  });
  hb.registerHelper('chkHaproxySpec', function (this: unknown, ...args: unknown[]) {
    const { options } = helperCall('chkHaproxySpec', args);
    const rd = renderDataOf(options);
    const r = resolveChkSpec(rd.vars);
    if (!r.ok) throw new KeepalivedSpecError('chk_haproxy spec', r.errors);
    return options.fn(chkView(r.spec), { data: options.data });
  });
}
