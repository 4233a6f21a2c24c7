/** Reads every conf.d/*.toml; a bad file is reported and skipped, never fatal to the others. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTemplateResource, ResourceConfigError, type ResourceContext, type TemplateResource } from './templateResource.js';

export interface LoadedResources {
  readonly resources: TemplateResource[];
  readonly errors: ResourceConfigError[];
}

export function loadResources(confD: string, ctx: ResourceContext): LoadedResources {
  let names: string[];
  try {
    names = readdirSync(confD).filter((n) => n.endsWith('.toml') && !n.startsWith('.')).sort();
  } catch (e) {
    return { resources: [], errors: [new ResourceConfigError(confD, `cannot read resource directory: ${(e as Error).message}`)] };
  }
  const resources: TemplateResource[] = [];
  const errors: ResourceConfigError[] = [];
  for (const n of names) {
    const file = join(confD, n);
    try {
      resources.push(parseTemplateResource(file, readFileSync(file, 'utf8'), ctx));
    } catch (e) {
      errors.push(e instanceof ResourceConfigError ? e : new ResourceConfigError(file, (e as Error).message));
    }
  }
  return { resources, errors };
}
