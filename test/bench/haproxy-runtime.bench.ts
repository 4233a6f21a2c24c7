/**
 * HAProxy runtime API and reload figures against the real haproxy 2.6:
 *  - one runtime command round trip (connect, `set severity-output number; set server …`, read to EOF),
 *  - `show servers state` round trip,
 *  - master-socket reload → new worker confirmed, bare and with the server-state dump (reloadHaproxy).
 */
import { createServer, type Server } from 'node:net';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHaproxy, haproxyTestConfig } from '../harness/haproxy.js';
import { freePorts, removeDir, tempDir } from '../harness/process.js';
import { RuntimeClient } from '../../src/haproxy/runtime/runtimeClient.js';
import { masterSocketReload } from '../../src/haproxy/reload/masterSocketReload.js';
import { reloadHaproxy } from '../../src/haproxy/reload/reloadHaproxy.js';
import { silentLogger } from '../../src/log/logger.js';
import { median, percentile, type BenchRow } from './table.js';

const RUNS = 5;
const COMMANDS_PER_RUN = 200;
const RELOADS_PER_RUN = 5;

export async function run(): Promise<BenchRow[]> {
  const dir = tempDir('bench-hap');
  const live: Server[] = [];
  const [write, read, pg1, pg2] = (await freePorts(4)) as [number, number, number, number];
  for (const port of [pg1, pg2]) {
    const s = createServer((c) => c.on('error', () => {}).resume());
    await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
    live.push(s);
  }
  const admin = join(dir, 'admin.sock');
  const stateFile = join(dir, 'server-state');
  const cfg = join(dir, 'haproxy.cfg');
  const servers = [{ name: 'pg1', addr: '127.0.0.1', port: pg1 }, { name: 'pg2', addr: '127.0.0.1', port: pg2 }];
  writeFileSync(cfg, haproxyTestConfig({
    adminSocket: admin, serverStateFile: stateFile, hardStopAfter: '2s',
    listens: [{ name: 'primary', bindPort: write, servers }, { name: 'replicas', bindPort: read, servers }],
  }));
  const hap = await startHaproxy({ dir, configFile: cfg });
  const log = silentLogger();
  try {
    const client = new RuntimeClient(admin);
    const p50s: number[] = [];
    const p99s: number[] = [];
    const showP50s: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const lat: number[] = [];
      for (let i = 0; i < COMMANDS_PER_RUN; i++) {
        const t0 = performance.now();
        await client.apply({ backend: 'replicas', server: 'pg1', action: i % 2 === 0 ? 'drain' : 'ready', reason: 'bench' });
        lat.push(performance.now() - t0);
      }
      p50s.push(percentile(lat, 50));
      p99s.push(percentile(lat, 99));
      const show: number[] = [];
      for (let i = 0; i < 50; i++) {
        const t0 = performance.now();
        await client.showServersState();
        show.push(performance.now() - t0);
      }
      showP50s.push(percentile(show, 50));
    }
    const strategy = masterSocketReload({ masterSocket: hap.masterSocket, configFile: cfg });
    const bare: number[] = [];
    const full: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const b: number[] = [];
      const f: number[] = [];
      for (let i = 0; i < RELOADS_PER_RUN; i++) {
        let t0 = performance.now();
        await strategy.reload(log);
        b.push(performance.now() - t0);
        t0 = performance.now();
        await reloadHaproxy(strategy, { stateFile, adminSocket: admin, newConfigText: readFileSync(cfg, 'utf8') }, log);
        f.push(performance.now() - t0);
      }
      bare.push(median(b));
      full.push(median(f));
    }
    const ms = (x: number): string => `${x.toFixed(2)} ms`;
    return [
      { issue: 5, name: `runtime command round trip (set server …, ${COMMANDS_PER_RUN}/run)`, value: `p50 ${ms(median(p50s))}, p99 ${ms(median(p99s))}`, target: 'reference: 5–7 ms per call', runs: RUNS },
      { issue: 5, name: 'show servers state round trip (4 servers)', value: `p50 ${ms(median(showP50s))}`, runs: RUNS },
      { issue: 4, name: `master-socket reload → new worker confirmed (${RELOADS_PER_RUN}/run)`, value: ms(median(bare)), target: 'reference: 60–115 ms', runs: RUNS },
      { issue: 4, name: 'reloadHaproxy: state dump + reload + confirm', value: ms(median(full)), runs: RUNS },
    ];
  } finally {
    await hap.stop();
    for (const s of live) s.close();
    removeDir(dir);
  }
}
