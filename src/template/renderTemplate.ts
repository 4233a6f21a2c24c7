/**
 * Renders a compiled template with fresh render data. Helpers that need asynchronous work (DNS
 * lookups) record it during a pass; the work is done and the template rendered again, at most
 * MAX_ROUNDS times.
 */
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/store.js';
import type { CompiledTemplate } from './engine.js';
import { LookupCache } from './lookups.js';
import type { RenderData, RenderWarning } from './renderData.js';

export interface RenderInput {
  readonly store: Store;
  readonly vars: Readonly<Record<string, unknown>>;
  readonly resource: string;
  readonly log: Logger;
  /** Shared DNS cache; a fresh one when not given. */
  readonly lookups?: LookupCache;
  /** Refuse output longer than this (characters). */
  readonly maxOutput?: number;
}

const MAX_ROUNDS = 3;

export async function renderTemplate(compiled: CompiledTemplate, input: RenderInput): Promise<{ content: string; warnings: RenderWarning[] }> {
  const lookups = input.lookups ?? new LookupCache();
  for (let round = 1; ; round++) {
    const data: RenderData = { ...input, lookups, warnings: [] };
    const content = compiled.render(data);
    // The Go engine stops as soon as it passes the limit; a Handlebars render is measured when done.
    if (input.maxOutput !== undefined && content.length > input.maxOutput) {
      throw new Error(`template ${compiled.name}: output of ${content.length} bytes exceeds max_output (${input.maxOutput} bytes)`);
    }
    if (!lookups.hasPending() || round >= MAX_ROUNDS) return { content, warnings: data.warnings };
    await lookups.resolvePending();
  }
}
