/**
 * What a helper can see of the render in progress. The engine passes these as Handlebars runtime
 * data (`options.data.haconfd`), so one compiled template serves any store; helpers read them
 * through `renderDataOf(options)`.
 */
import type { HelperOptions } from 'handlebars';
import type { Store } from '../store/store.js';
import type { Logger } from '../log/logger.js';
import type { LookupCache } from './lookups.js';

export interface RenderData {
  /** The snapshot seen under the resource's prefix (relative keys). */
  readonly store: Store;
  /** `[template.vars]` of the resource. */
  readonly vars: Readonly<Record<string, unknown>>;
  /** Name of the resource being rendered (for messages). */
  readonly resource: string;
  /** Problems found while rendering that do not fail the render (e.g. a member left out). */
  readonly warnings: RenderWarning[];
  readonly log: Logger;
  /** DNS answers for lookupIP/lookupSRV; a miss is recorded as pending (see lookups.ts). */
  readonly lookups: LookupCache;
  /** Refuse output longer than this many characters (the resource's `max_output`); engine default when absent. */
  readonly maxOutput?: number;
}

export interface RenderWarning {
  readonly code: string;
  readonly message: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export function renderDataOf(options: HelperOptions | undefined): RenderData {
  const data = (options as { data?: { haconfd?: RenderData; root?: { _haconfd?: RenderData } } } | undefined)?.data;
  const rd = data?.haconfd ?? data?.root?._haconfd;
  if (rd === undefined) throw new Error('helper called outside a haconfd render');
  return rd;
}
