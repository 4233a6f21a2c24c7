/**
 * The reload step of a resource with [template.haproxy]: the strategy its settings name, with the
 * server state kept across the reload. The composition root hands it to resource/ (which must not
 * import haproxy/), loaded on first use.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from '../../log/logger.js';
import type { HaproxyReloadSettings } from '../../resource/haproxyReloadSettings.js';
import { createReloadStrategy, reloadHaproxy } from './reloadHaproxy.js';

export async function reloadHaproxyResource(s: HaproxyReloadSettings, dest: string, timeoutMs: number, log: Logger): Promise<void> {
  const strategy = createReloadStrategy(
    s.reload === 'master-socket'
      ? { kind: 'master-socket', masterSocket: s.masterSocket as string, configFile: dest, timeoutMs, ...(s.haproxyBinary ? { haproxyBinary: s.haproxyBinary } : {}) }
      : s.reload === 'systemd'
        ? { kind: 'systemd', unit: s.unit, timeoutMs, ...(s.masterSocket ? { masterSocket: s.masterSocket } : {}), ...(s.adminSocket ? { adminSocket: s.adminSocket } : {}) }
        : { kind: 'command', command: s.command as string, timeoutMs, ...(s.adminSocket ? { adminSocket: s.adminSocket } : {}) },
  );
  await reloadHaproxy(
    strategy,
    {
      ...(s.stateFile ? { stateFile: s.stateFile } : {}),
      ...(s.adminSocket ? { adminSocket: s.adminSocket } : {}),
      newConfigText: await readFile(dest, 'utf8'),
    },
    log,
  );
}
