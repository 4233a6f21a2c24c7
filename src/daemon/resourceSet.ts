/** The resources of conf.d as one set: loading (bad files reported, not fatal) and the prefixes to read. */
import type { Config } from '../config/config.js';
import { confDDir, templatesDir } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import { loadResources } from '../resource/loadResources.js';
import type { ResourceConfigError } from '../resource/templateResource.js';
import type { TemplateResource } from '../resource/templateResource.js';
import { distinctPrefixes } from '../store/keys.js';

export interface ResourceSet {
  readonly resources: readonly TemplateResource[];
  readonly errors: readonly ResourceConfigError[];
  /** Distinct prefixes covering every resource's keys (nested ones folded into their parent). */
  readonly prefixes: readonly string[];
}

/** The set of these resources: their prefixes are worked out here. */
export function resourceSetOf(resources: readonly TemplateResource[], errors: readonly ResourceConfigError[]): ResourceSet {
  return { resources, errors, prefixes: distinctPrefixes(resources.flatMap((r) => r.keys)) };
}

const warned = new Set<string>();

export function loadResourceSet(config: Config, log: Logger, cwd = process.cwd()): ResourceSet {
  const { resources, errors } = loadResources(confDDir(config), {
    globalPrefix: config.prefix,
    templatesDir: templatesDir(config),
    cwd,
  });
  for (const e of errors) log.error({ file: e.file }, e.message);
  for (const r of resources) {
    for (const w of r.warnings ?? []) {
      // conf.d is re-read every pass in interval mode: each warning once per process.
      const id = `${r.file}\u0000${w}`;
      if (warned.has(id)) continue;
      warned.add(id);
      log.warn({ file: r.file }, `${r.name}: ${w}`);
    }
  }
  return resourceSetOf(resources, errors);
}
