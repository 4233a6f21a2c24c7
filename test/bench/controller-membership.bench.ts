/**
 * Issue 5, membership: a member joining or leaving (the re-rendered haproxy.cfg gains or loses its
 * `server` lines in both listens), applied to a real HAProxy 2.6 running the shipped template
 * (test/integration/controller-fixture.ts) by the controller:
 *   - through the runtime API (add server + enable health + its role; drain/maint + del server);
 *   - by the reload it replaces (pre-add in MAINT, state dump, master-socket reload confirmed, roles pushed).
 * Reports commit → applied (p50/max) both ways and how many HAProxy workers each replaced.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRig, waitStates, W, R } from '../integration/controller-fixture.js';
import { createReloadStrategy, reloadHaproxy } from '../../src/haproxy/reload/reloadHaproxy.js';
import { median, type BenchRow } from './table.js';

const CHANGES = 20;

const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;

export async function run(): Promise<BenchRow[]> {
  const rig = await startRig({ checkInter: '30s' });
  try {
    const c = rig.controller({ interval: '1s' });
    c.setSnapshot(rig.snapshot('pg1'));
    c.start();
    await waitStates(rig, W, { pg1: 'up', pg2: 'maint', pg3: 'maint' });
    await waitStates(rig, R, { pg1: 'drain', pg2: 'up', pg3: 'up' });
    const base = readFileSync(rig.cfgFile, 'utf8');
    const grown = base.replace(/^(\s+server pg3 .*)$/gm, (line) => `${line}\n${line.replace('pg3', 'pg4')}`);
    const pg4 = rig.node('pg3').member();
    const withPg4 = rig.snapshot('pg1', [['/service/demo/members/pg4', JSON.stringify({ conn_url: `postgres://127.0.0.1:${pg4.port}/postgres`, api_url: `http://127.0.0.1:${pg4.apiPort}/patroni`, state: 'running', role: 'replica', version: '3.0.2' })]]);
    const without = rig.snapshot('pg1');
    c.noteLoaded(rig.cfgFile, base);

    const runtime = { add: [] as number[], remove: [] as number[] };
    const pidBefore = await rig.haproxy.workerPid();
    for (let i = 0; i < CHANGES; i++) {
      const adding = i % 2 === 0;
      c.setSnapshot(adding ? withPg4 : without);
      const text = adding ? grown : base;
      writeFileSync(rig.cfgFile, text);
      const t0 = performance.now();
      const o = await c.applyMembership(rig.cfgFile, text);
      const ms = performance.now() - t0;
      if (!o.applied) throw new Error(`runtime apply refused: ${o.reason}`);
      (adding ? runtime.add : runtime.remove).push(ms);
    }
    const runtimeWorkers = (await rig.haproxy.workerPid()) === pidBefore ? 0 : 1;

    const strategy = createReloadStrategy({ kind: 'master-socket', masterSocket: rig.haproxy.masterSocket, configFile: rig.cfgFile, timeoutMs: 5000 });
    const reload: number[] = [];
    let replaced = 0;
    for (let i = 0; i < CHANGES; i++) {
      const adding = i % 2 === 0;
      c.setSnapshot(adding ? withPg4 : without);
      const text = adding ? grown : base;
      writeFileSync(rig.cfgFile, text);
      const t0 = performance.now();
      await c.prepareReload(text);
      const r = await c.duringReload(() => reloadHaproxy(strategy, { stateFile: join(rig.dir, 'server-state'), adminSocket: rig.socket, newConfigText: text }, rig.log));
      await c.settle();
      reload.push(performance.now() - t0);
      if (r.newPid !== r.oldPid) replaced++;
    }
    return [
      {
        issue: 5,
        name: `member joins / leaves (2 listens): commit → applied through the runtime API, no reload (${CHANGES} changes)`,
        value: `join p50 ${fmt(median(runtime.add))} (max ${fmt(Math.max(...runtime.add))}), leave p50 ${fmt(median(runtime.remove))} (max ${fmt(Math.max(...runtime.remove))}); workers replaced: ${runtimeWorkers}`,
        target: 'no reload for membership changes',
        runs: CHANGES,
      },
      {
        issue: 5,
        name: `the same by reload (pre-add in MAINT, state dump, master-socket reload confirmed, roles pushed) (${CHANGES} changes)`,
        value: `p50 ${fmt(median(reload))} (max ${fmt(Math.max(...reload))}); workers replaced: ${replaced}`,
        runs: CHANGES,
      },
    ];
  } finally {
    await rig.close();
  }
}
