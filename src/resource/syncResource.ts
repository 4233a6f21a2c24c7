/**
 * One template resource's life, top to bottom:
 * render → compare with dest → (noop: diff) → stage beside dest → check_cmd on the stage → atomic commit.
 * The reload is a separate step (reloadResource) so the daemon can retry it on its own schedule.
 */
import { redactSecrets, secretValues } from './secretVars.js';
import type { Snapshot } from '../backends/backend.js';
import type { Logger } from '../log/logger.js';
import { Store } from '../store/store.js';
import { isUnderPrefix } from '../store/keys.js';
import { restrictSnapshot } from '../store/snapshot.js';
import type { RenderWarning } from '../template/renderData.js';
import { renderTemplate } from '../template/renderTemplate.js';
import type { TemplateCache } from '../template/templateCache.js';
import { ResourceError } from './resourceError.js';
import { expandCommand, runShellCommand } from './shellCommand.js';
import {
  commitStageFile,
  desiredAttributes,
  destinationMatches,
  readDestination,
  removeStageFile,
  statDestination,
  writeStageFile,
  type StagedFile,
} from './stageFile.js';
import type { HaproxyReloadSettings } from './haproxyReloadSettings.js';
import type { TemplateResource } from './templateResource.js';
import { unifiedDiff } from './unifiedDiff.js';

export interface SyncOptions {
  readonly noop: boolean;
  readonly syncOnly: boolean;
  readonly keepStageFile: boolean;
  readonly log: Logger;
}

export type SyncStatus = 'unchanged' | 'noop' | 'committed';

export interface SyncResult {
  readonly resource: string;
  readonly status: SyncStatus;
  /** Unified diff against the destination (noop mode only). */
  readonly diff?: string;
  readonly warnings: readonly RenderWarning[];
  readonly revision: number;
  readonly durationMs: number;
}

/** Keys of the snapshot that fall under the resource's key set. */
export function countResourceKeys(resource: TemplateResource, snapshot: Snapshot): number {
  let n = 0;
  for (const k of snapshot.pairs.keys()) if (resource.keys.some((p) => isUnderPrefix(k, p))) n++;
  return n;
}

/** Renders the resource's template against the snapshot; throws ResourceError('template'|'render'|'min_keys'). */
export async function renderResource(
  resource: TemplateResource,
  snapshot: Snapshot,
  templates: TemplateCache,
  log: Logger,
): Promise<{ content: string; warnings: RenderWarning[] }> {
  if (resource.minKeys > 0) {
    const n = countResourceKeys(resource, snapshot);
    if (n < resource.minKeys) {
      throw new ResourceError(
        resource.name,
        'min_keys',
        `only ${n} key(s) under ${resource.keys.join(', ')}, min_keys is ${resource.minKeys}; keeping the last good ${resource.dest}`,
      );
    }
  }
  let compiled;
  try {
    compiled = templates.load(resource.src, resource.engine);
  } catch (e) {
    throw new ResourceError(resource.name, 'template', (e as Error).message, { cause: e });
  }
  try {
    return await renderTemplate(compiled, {
      // confd's templates see only the resource's keys (confd reads just those into its store).
      store: new Store(resource.engine === 'go' ? restrictSnapshot(snapshot, resource.keys) : snapshot, resource.prefix),
      vars: resource.vars,
      resource: resource.name,
      log,
      lookups: templates.lookups,
      ...(resource.maxOutput !== undefined ? { maxOutput: resource.maxOutput } : {}),
    });
  } catch (e) {
    throw new ResourceError(resource.name, 'render', (e as Error).message, { cause: e });
  }
}

export async function syncResource(
  resource: TemplateResource,
  snapshot: Snapshot,
  templates: TemplateCache,
  opts: SyncOptions,
): Promise<SyncResult> {
  const started = Date.now();
  const log = opts.log.child({ resource: resource.name, revision: snapshot.revision });
  const { content, warnings } = await renderResource(resource, snapshot, templates, log);
  for (const w of warnings) log.warn({ code: w.code, ...w.detail }, w.message);

  const done = (status: SyncStatus, diff?: string): SyncResult => ({
    resource: resource.name,
    status,
    ...(diff !== undefined ? { diff } : {}),
    warnings,
    revision: snapshot.revision,
    durationMs: Date.now() - started,
  });

  // Compared before anything is written: an unchanged render (most of them) touches no file.
  const buffer = Buffer.from(content, 'utf8');
  let attrs;
  try {
    const current = await statDestination(resource.dest);
    attrs = desiredAttributes(current, resource);
    if (await destinationMatches(resource.dest, current, buffer, attrs)) {
      log.debug({ dest: resource.dest }, 'in sync');
      return done('unchanged');
    }
  } catch (e) {
    throw new ResourceError(resource.name, 'stage', (e as Error).message, { cause: e });
  }
  if (opts.noop) {
    const diff = redactSecrets(await unifiedDiff(resource.dest, await readDestination(resource.dest), content), secretValues(resource.vars));
    log.info({ dest: resource.dest, diff }, 'noop: would update');
    return done('noop', diff);
  }
  let staged: StagedFile;
  try {
    staged = await writeStageFile(resource.dest, buffer, attrs);
  } catch (e) {
    throw new ResourceError(resource.name, 'stage', (e as Error).message, { cause: e });
  }
  let committed = false;
  try {
    if (resource.checkCmd !== undefined && !opts.syncOnly) {
      const cmd = expandCommand(resource.checkCmd, { src: staged.path, dest: resource.dest });
      try {
        const r = await runShellCommand('check_cmd', cmd, resource.checkTimeoutMs);
        // A check that passes may still say something (HAProxy's [WARNING]s, a check that skipped
        // itself): shown, not swallowed.
        const output = r.stderr.trim();
        if (output !== '') log.info({ durationMs: r.durationMs, output: redactSecrets(output, secretValues(resource.vars)) }, 'check passed, with output');
        else log.debug({ durationMs: r.durationMs }, 'check passed');
      } catch (e) {
        throw new ResourceError(resource.name, 'check', redactSecrets((e as Error).message, secretValues(resource.vars)));
      }
    }
    try {
      await commitStageFile(staged);
      committed = true;
    } catch (e) {
      throw new ResourceError(resource.name, 'commit', (e as Error).message, { cause: e });
    }
    log.info({ dest: resource.dest, durationMs: Date.now() - started }, 'updated');
    return done('committed');
  } finally {
    if (!committed && !opts.keepStageFile) await removeStageFile(staged);
    else if (!committed && opts.keepStageFile) log.info({ stage: staged.path }, 'stage file kept');
  }
}

/** True when the resource has a reload step (a reload_cmd or an HAProxy reload strategy). */
export function hasReloadStep(resource: TemplateResource): boolean {
  return resource.reloadCmd !== undefined || resource.haproxy !== undefined;
}

/** Reloads HAProxy for a resource with [template.haproxy] (src/haproxy/reload, given by the composition root). */
export type HaproxyReload = (settings: HaproxyReloadSettings, dest: string, timeoutMs: number, log: Logger) => Promise<void>;

/** The reload strategies that live above resource/ and are passed in. */
export interface ReloadStrategies {
  readonly haproxy?: HaproxyReload;
}

/** Runs the resource's reload step (if any); throws ResourceError('reload') quoting its stderr. */
export async function reloadResource(resource: TemplateResource, log: Logger, strategies: ReloadStrategies = {}): Promise<void> {
  if (resource.haproxy !== undefined) {
    const started = Date.now();
    try {
      if (strategies.haproxy === undefined) throw new Error('no HAProxy reload strategy was given for [template.haproxy]');
      await strategies.haproxy(resource.haproxy, resource.dest, resource.reloadTimeoutMs, log.child({ resource: resource.name }));
    } catch (e) {
      throw new ResourceError(resource.name, 'reload', (e as Error).message, { cause: e });
    }
    log.info({ resource: resource.name, strategy: resource.haproxy.reload, durationMs: Date.now() - started }, 'reloaded');
    return;
  }
  if (resource.reloadCmd === undefined) return;
  const cmd = expandCommand(resource.reloadCmd, { src: resource.dest, dest: resource.dest });
  try {
    const r = await runShellCommand('reload_cmd', cmd, resource.reloadTimeoutMs);
    log.info({ resource: resource.name, durationMs: r.durationMs }, 'reloaded');
  } catch (e) {
    throw new ResourceError(resource.name, 'reload', (e as Error).message, { cause: e });
  }
}
