/**
 * The server-state file tells the current truth (issue 14, fault 6): after each of 5 switchovers,
 * HAProxy is reloaded from outside haconfd — `reload` on the master socket, or `kill -USR2` of the
 * master — while writes flow through the write port. The new worker starts every server where the
 * controller last put it: not one write reaches a non-leader. Real HAProxy 2.6, the shipped
 * template, stand-in Postgres/Patroni nodes (controller-fixture.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { sleep, waitFor } from '../harness/process.js';
import { withRig, type Rig, W } from './controller-fixture.js';
import { HaproxyController } from '../../src/haproxy/controller/controller.js';
import { parseControllerConfig } from '../../src/haproxy/controller/controllerConfig.js';
import { createReloadStrategy, reloadHaproxy } from '../../src/haproxy/reload/reloadHaproxy.js';
import { parseServersState } from '../../src/haproxy/runtime/serversState.js';
import { passCallsForRefresh, ServerStateKeeper } from '../../src/haproxy/reload/serverStateKeeper.js';

/** Connects to the write port over and over while `during` runs; returns who answered each time. */
async function writesDuring(rig: Rig, during: () => Promise<void>): Promise<string[]> {
  const answers: string[] = [];
  let done = false;
  const writers = [0, 1, 2].map(async () => {
    while (!done) {
      answers.push(await rig.through(rig.ports.write));
      await sleep(2);
    }
  });
  try {
    await during();
  } finally {
    done = true;
    await Promise.all(writers);
  }
  return answers;
}

/** Waits until `leader` alone is UP in the write backend (the others cut: MAINT or health DOWN). */
async function onlyLeaderUp(rig: Rig, leader: string): Promise<void> {
  let last: Record<string, string> = {};
  await waitFor(`only ${leader} UP in ${W}`, async () => {
    last = await rig.states(W);
    return last[leader] === 'up' && Object.entries(last).every(([n, st]) => n === leader || st !== 'up');
  }, 5000, 10).catch((e: Error) => {
    throw new Error(`${e.message}; last: ${JSON.stringify(last)}`);
  });
}

function stateOf(file: string, backend: string, server: string): { op: number; admin: number } | undefined {
  const s = parseServersState(readFileSync(file, 'utf8')).servers.find((x) => x.backend === backend && x.server === server);
  if (s === undefined) return undefined;
  const f = s.line.split(' ');
  return { op: Number(f[5]), admin: Number(f[6]) };
}

describe('server-state file kept current by the controller (real HAProxy)', { timeout: 180_000 }, () => {
  test('5 switchovers, each followed by a reload from outside haconfd while writes flow: 0 writes to a non-leader', async () => {
    await withRig(
      async (rig) => {
        const stateFile = join(rig.dir, 'server-state');
        const keeper = new ServerStateKeeper(() => [{ stateFile, adminSocket: rig.socket, configFile: rig.cfgFile }], rig.log);
        const c = new HaproxyController({
          config: parseControllerConfig({ socket: rig.socket, overrides_file: join(rig.dir, 'overrides.json'), interval: '200ms', confirm_timeout: '1s' }),
          log: rig.log,
          registry: new Registry(),
          afterPass: async (r) => (passCallsForRefresh(r) ? keeper.refresh() : undefined),
        });
        try {
          c.setSnapshot(rig.snapshot('pg1'));
          c.start();
          await onlyLeaderUp(rig, 'pg1');
          // haconfd's own reload once, with pg1 leading: the file then says pg1 is UP for writes.
          const cfg = readFileSync(rig.cfgFile, 'utf8');
          const master = createReloadStrategy({ kind: 'master-socket', masterSocket: rig.haproxy.masterSocket, configFile: rig.cfgFile, timeoutMs: 5000 });
          await c.duringReload(() => reloadHaproxy(master, { stateFile, adminSocket: rig.socket, newConfigText: cfg }, rig.log));
          await onlyLeaderUp(rig, 'pg1');

          let leader = 'pg1';
          const order = ['pg2', 'pg3', 'pg1', 'pg2', 'pg3'];
          for (const [i, next] of order.entries()) {
            // Switchover: the leader key goes, the old primary demotes, the new one is promoted.
            rig.node(leader).role = 'replica';
            c.setSnapshot(rig.snapshot(null));
            await c.settle();
            rig.node(next).role = 'master';
            c.setSnapshot(rig.snapshot(next));
            await onlyLeaderUp(rig, next);
            leader = next;
            // The file already says so, before any reload.
            await waitFor('state file current', () => stateOf(stateFile, W, leader)?.admin === 0 && stateOf(stateFile, W, leader)?.op === 2 && ['pg1', 'pg2', 'pg3'].filter((n) => n !== leader).every((n) => ((stateOf(stateFile, W, n)?.admin ?? 0) & 1) === 1 || stateOf(stateFile, W, n)?.op === 0), 3000);

            const oldPid = await rig.haproxy.workerPid();
            const how = i % 2 === 0 ? 'master socket reload' : 'kill -USR2 master';
            const answers = await writesDuring(rig, async () => {
              await sleep(50);
              if (i % 2 === 0) await master.reload(rig.log);
              else process.kill(rig.haproxy.masterPid, 'SIGUSR2');
              await waitFor(`a new worker after ${how}`, async () => (await rig.haproxy.workerPid().catch(() => oldPid)) !== oldPid, 10_000, 10);
              // The controller notices the new worker only on its next timer pass: sample past that.
              await sleep(600);
            });
            const wrong = answers.filter((a) => /^pg\d$/.test(a) && a !== leader);
            assert.deepEqual(wrong, [], `round ${i + 1} (${how}, leader ${leader}): writes reached a non-leader (${answers.length} connections)`);
            assert.ok(answers.filter((a) => a === leader).length > 10, `round ${i + 1}: writes flowed (${answers.slice(0, 20).join(',')})`);
            await onlyLeaderUp(rig, leader);
          }
          assert.ok(keeper.writes >= 5, `the keeper rewrote the file (${keeper.writes})`);
        } finally {
          await c.stop();
        }
      },
      { checkInter: '30s' },
    );
  });
});
