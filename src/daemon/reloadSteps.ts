/**
 * The reload step of every resource, as the daemon and -onetime run it: its reload_cmd, or for a
 * resource with [template.haproxy] the HAProxy strategy of src/haproxy/reload (loaded on first
 * use: -onetime without HAProxy resources never loads it). The composition root may wrap it (the
 * HAProxy controller runs HAProxy reloads under its watch).
 */
import type { Logger } from '../log/logger.js';
import { reloadResource, type HaproxyReload } from '../resource/syncResource.js';
import type { TemplateResource } from '../resource/templateResource.js';

const haproxyReload: HaproxyReload = async (settings, dest, timeoutMs, log) => {
  const { reloadHaproxyResource } = await import('../haproxy/reload/resourceReload.js');
  await reloadHaproxyResource(settings, dest, timeoutMs, log);
};

/** Runs the resource's own reload step (reload_cmd or its HAProxy strategy). */
export function reloadStep(resource: TemplateResource, log: Logger): Promise<void> {
  return reloadResource(resource, log, { haproxy: haproxyReload });
}
