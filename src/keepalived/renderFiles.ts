/**
 * Renders keepalived.conf and chk_haproxy.sh from one set of vars through the shipped templates,
 * the same path a conf.d resource takes (the helpers validate again while rendering).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emptySnapshot } from '../store/snapshot.js';
import { Store } from '../store/store.js';
import { silentLogger } from '../log/logger.js';
import { createTemplateEngine } from '../template/engine.js';
import { HELPER_REGISTRATIONS } from '../template/helperSet.js';
import { LookupCache } from '../template/lookups.js';
import type { RenderData } from '../template/renderData.js';
import { registerKeepalivedHelpers } from './helpers.js';
import type { SpecVars } from './specInput.js';

export const KEEPALIVED_TEMPLATE = 'keepalived.conf.hbs';
export const CHK_TEMPLATE = 'chk_haproxy.sh.hbs';

/** The package's templates/ directory (this file lives in src/keepalived/ or dist/keepalived/). */
export function shippedTemplatesDir(): string {
  return fileURLToPath(new URL('../../templates/', import.meta.url));
}

export interface KeepalivedFiles {
  readonly keepalivedConf: string;
  readonly chkScript: string;
}

export function renderKeepalivedFiles(vars: SpecVars, templatesDir: string = shippedTemplatesDir()): KeepalivedFiles {
  const engine = createTemplateEngine([...HELPER_REGISTRATIONS, registerKeepalivedHelpers]);
  const data: RenderData = {
    store: new Store(emptySnapshot()),
    vars,
    resource: 'keepalived',
    warnings: [],
    log: silentLogger(),
    lookups: new LookupCache(),
  };
  const render = (name: string): string => engine.compile(name, readFileSync(join(templatesDir, name), 'utf8')).render(data);
  return { keepalivedConf: render(KEEPALIVED_TEMPLATE), chkScript: render(CHK_TEMPLATE) };
}
