/**
 * One pass over every resource against one snapshot: sync each (a failure is reported and the
 * others still run), then reload the ones that changed.
 */
import type { Snapshot } from '../backends/backend.js';
import type { Logger } from '../log/logger.js';
import { ResourceError } from '../resource/resourceError.js';
import { hasReloadStep, syncResource, type SyncResult } from '../resource/syncResource.js';
import type { TemplateResource } from '../resource/templateResource.js';
import type { TemplateCache } from '../template/templateCache.js';
import { reloadStep } from './reloadSteps.js';

export interface PassOptions {
  readonly noop: boolean;
  readonly syncOnly: boolean;
  readonly keepStageFile: boolean;
  readonly log: Logger;
}

export type ResourceOutcome =
  | { readonly resource: string; readonly ok: true; readonly result: SyncResult; readonly reloaded: boolean }
  | { readonly resource: string; readonly ok: false; readonly error: ResourceError };

export function asResourceError(resource: TemplateResource, e: unknown): ResourceError {
  return e instanceof ResourceError ? e : new ResourceError(resource.name, 'render', e instanceof Error ? e.message : String(e), { cause: e });
}

/** Sync and (when it changed) reload one resource. Never throws. */
export async function runResource(
  resource: TemplateResource,
  snapshot: Snapshot,
  templates: TemplateCache,
  opts: PassOptions,
): Promise<ResourceOutcome> {
  try {
    const result = await syncResource(resource, snapshot, templates, opts);
    let reloaded = false;
    if (result.status === 'committed' && !opts.syncOnly) {
      await reloadStep(resource, opts.log);
      reloaded = hasReloadStep(resource);
    }
    return { resource: resource.name, ok: true, result, reloaded };
  } catch (e) {
    const error = asResourceError(resource, e);
    opts.log.error({ resource: resource.name, stage: error.stage, revision: snapshot.revision }, error.message);
    return { resource: resource.name, ok: false, error };
  }
}

export async function runPass(
  resources: readonly TemplateResource[],
  snapshot: Snapshot,
  templates: TemplateCache,
  opts: PassOptions,
): Promise<ResourceOutcome[]> {
  const out: ResourceOutcome[] = [];
  for (const r of resources) out.push(await runResource(r, snapshot, templates, opts));
  return out;
}
