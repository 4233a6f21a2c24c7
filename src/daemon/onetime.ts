/** `-onetime`: read once, render every resource once, exit 0 (all in sync) or 1 (something failed). */
import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import { BackendConfigError } from '../backends/backend.js';
import { createBackend } from '../backends/createBackend.js';
import { createDefaultEngine } from '../template/helperSet.js';
import { registerKeepalivedHelpers } from '../keepalived/helpers.js';
import { TemplateCache } from '../template/templateCache.js';
import { loadResourceSet } from './resourceSet.js';
import { runPass } from './runPass.js';

export async function runOnetime(config: Config, log: Logger): Promise<number> {
  const set = loadResourceSet(config, log);
  if (set.resources.length === 0 && set.errors.length === 0) {
    log.warn({ confdir: config.confdir }, 'no template resources found in conf.d');
  }
  let backend;
  try {
    backend = await createBackend(config, log, { oneShot: true });
  } catch (e) {
    const err = e as Error;
    log.error({ backend: config.backend, kind: err.name }, `cannot connect to backend: ${err.message}`);
    return err instanceof BackendConfigError ? 2 : 1;
  }
  try {
    const started = Date.now();
    let snapshot;
    try {
      snapshot = await backend.read(set.prefixes);
    } catch (e) {
      const err = e as Error;
      log.error({ backend: backend.name, kind: err.name }, `cannot read from backend: ${err.message}`);
      return err instanceof BackendConfigError ? 2 : 1;
    }
    log.debug({ revision: snapshot.revision, keys: snapshot.pairs.size, durationMs: Date.now() - started }, 'snapshot read');
    const templates = new TemplateCache(createDefaultEngine([registerKeepalivedHelpers]));
    const outcomes = await runPass(set.resources, snapshot, templates, { ...config, log });
    const failed = outcomes.filter((o) => !o.ok).length + set.errors.length;
    log.info({ resources: set.resources.length, failed, revision: snapshot.revision, durationMs: Date.now() - started }, 'pass done');
    return failed > 0 ? 1 : 0;
  } finally {
    await backend.close();
  }
}
