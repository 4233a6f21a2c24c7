/**
 * SIGHUP re-reads haconfd.toml's [controller] table in a running `haconfd -watch` (real HAProxy 2.6
 * from test/integration/controller-fixture.ts, members from a data file): a table added to a daemon
 * started without one starts the controller, a changed table restarts it with the new settings,
 * `enabled = false` stops it, `enabled = true` starts it again, and a bad table is logged while the
 * running controller carries on.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { freePort, sleep, waitFor } from '../harness/process.js';
import { startCli } from '../harness/cli.js';
import { writeHaproxyResource } from '../harness/haproxyResource.js';
import { clusterPairs } from '../harness/patroniKeys.js';
import { waitStates, withRig, writeControllerToml, W } from './controller-fixture.js';

describe('SIGHUP and the [controller] table (real HAProxy)', { timeout: 600_000 }, () => {
  test('added → started; changed → restarted with the new settings; bad → logged, kept; enabled = false → stopped; enabled = true → started', async () => {
    await withRig(async (rig) => {
      const paths = writeHaproxyResource({ dir: rig.dir, statsPort: rig.ports.stats, clusters: { demo: { write: rig.ports.write, read: rig.ports.read } }, checkInter: '30s', hardStopAfter: '5s' });
      const toml = join(paths.confdir, 'haconfd.toml');
      const table = (extra: string): void => writeControllerToml(paths.confdir, rig, {}, extra);
      const data = join(rig.dir, 'dcs.json');
      writeFileSync(data, JSON.stringify(Object.fromEntries(clusterPairs('/service', 'demo', rig.nodes.map((n) => n.member()), 'pg1'))));
      // Started without a [controller] table: no controller.
      writeFileSync(toml, '# no [controller] yet\n');
      const port = await freePort();
      const haconfd = startCli(['-watch', '-backend', 'file', '-file', data, '-confdir', paths.confdir, '-log-format', 'json', '-listen', `127.0.0.1:${port}`], { logFile: join(rig.dir, 'haconfd.log'), cwd: rig.dir });
      const logged = (text: string): boolean => haconfd.log().includes(text);
      const passes = async (): Promise<number> => {
        const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        const series = [...body.matchAll(/^haconfd_controller_reconciles_total(?:\{[^}]*\})? (\S+)$/gm)];
        return series.length === 0 ? NaN : series.reduce((n, m) => n + Number(m[1]), 0);
      };
      /**
       * pg2 forced UP by hand: does something put it back DOWN? With a controller running, the
       * answer is read after it has made two more passes (the positive signal that it would have);
       * without one there is no work to wait for.
       */
      const steered = async (controllerRunning: boolean): Promise<boolean> => {
        const before = controllerRunning ? await passes() : NaN;
        await rig.client.send(`set server ${W}/pg2 state ready; set server ${W}/pg2 health up`);
        if (controllerRunning) await waitFor('two more controller passes', async () => (await passes()) >= before + 2, 60_000, 50);
        else await sleep(1200);
        try {
          await waitStates(rig, W, { pg2: 'down' }, controllerRunning ? 60_000 : 10);
          return true;
        } catch {
          return false;
        }
      };
      try {
        await waitFor('the start-up render committed', () => logged('"msg":"reloaded"'), 60_000, 50);
        assert.equal(await steered(false), false, 'no [controller] table: nothing steers');
        assert.ok(!logged('HAProxy controller started'));

        table('scopes = ["other"]');
        haconfd.kill('SIGHUP');
        await waitFor('the controller started', () => logged('HAProxy controller started ([controller] enabled)'), 60_000, 50);
        assert.equal(await steered(true), false, 'scopes = ["other"]: cluster demo is not steered');

        table('');
        haconfd.kill('SIGHUP');
        await waitFor('restarted', () => logged('HAProxy controller restarted with the new [controller] settings'), 60_000, 50);
        await waitStates(rig, W, { pg1: 'up', pg2: 'down', pg3: 'down' }, 60_000);
        assert.equal(await steered(true), true);

        // A misspelt key: the whole new configuration is refused (as at start-up, in every mode).
        table('intervall = "1s"');
        haconfd.kill('SIGHUP');
        await waitFor('the bad key reported', () => logged('unknown key \\"intervall\\"') && logged('new configuration rejected, keeping the running one'), 60_000, 50);
        assert.equal(await steered(true), true, 'the running controller carries on');

        // A bad value: the rest applies, the controller keeps running as it was.
        table('confirm_timeout = "soon"');
        haconfd.kill('SIGHUP');
        await waitFor('the bad table reported', () => logged('invalid duration') && logged('the controller keeps running as it was'), 60_000, 50);
        assert.equal(await steered(true), true, 'the running controller carries on');

        table('enabled = false');
        haconfd.kill('SIGHUP');
        await waitFor('stopped', () => logged('HAProxy controller stopped'), 60_000, 50);
        assert.equal(await steered(false), false, 'stopped: nothing steers');

        table('enabled = true');
        haconfd.kill('SIGHUP');
        await waitFor('started again', () => logged('HAProxy controller started ([controller] enabled)'), 60_000, 50);
        await waitStates(rig, W, { pg2: 'down' }, 60_000);
        await sleep(100);
        assert.ok(!haconfd.exited(), 'haconfd kept running throughout');
        assert.ok(!/"level":60/.test(haconfd.log()));
      } finally {
        await haconfd.stop();
      }
    }, { checkInter: '30s' });
  });

  test('SIGHUPs in quick succession while the controller is slow to stop: applied one after another, one controller left, SIGTERM exits', async () => {
    await withRig(async (rig) => {
      // A socket that accepts and never answers: every pass waits for socket_timeout, so stopping
      // the controller (which waits for the pass in flight) takes up to that long.
      const sockets = new Set<Socket>();
      const silent = createServer((c) => {
        sockets.add(c);
        c.on('error', () => {});
      });
      const silentPath = join(rig.dir, 'silent.sock');
      await new Promise<void>((r) => silent.listen(silentPath, r));
      const paths = writeHaproxyResource({ dir: rig.dir, statsPort: rig.ports.stats, clusters: { demo: { write: rig.ports.write, read: rig.ports.read } }, checkInter: '30s', hardStopAfter: '5s' });
      const table = (interval: string): void => writeControllerToml(paths.confdir, rig, { socket: silentPath, socket_timeout: '1500ms', interval });
      const data = join(rig.dir, 'dcs.json');
      writeFileSync(data, JSON.stringify(Object.fromEntries(clusterPairs('/service', 'demo', rig.nodes.map((n) => n.member()), 'pg1'))));
      table('200ms');
      const haconfd = startCli(['-watch', '-backend', 'file', '-file', data, '-confdir', paths.confdir, '-log-format', 'json'], { logFile: join(rig.dir, 'haconfd.log'), cwd: rig.dir });
      const count = (text: string): number => haconfd.log().split('\n').filter((l) => l.includes(text)).length;
      try {
        await waitFor('the controller started', () => count('HAProxy controller started') === 1, 60_000, 50);
        await waitFor('a pass waiting on the silent socket', () => sockets.size > 0, 60_000, 20);
        table('250ms');
        haconfd.kill('SIGHUP');
        // The first SIGHUP has read its table (the controller now stops, slowly) before the second.
        await waitFor('the first SIGHUP applied', () => count('"why":"SIGHUP"') === 1, 60_000, 20);
        table('300ms');
        haconfd.kill('SIGHUP');
        await waitFor('both applied', () => count('HAProxy controller restarted with the new [controller] settings') === 2, 60_000, 50);
        assert.equal(count('HAProxy controller started'), 3, 'the first, then one per SIGHUP, each after the previous one stopped');
        const exited = new Promise<number | null>((r) => haconfd.child.once('exit', (code) => r(code)));
        haconfd.kill('SIGTERM');
        const code = await Promise.race([exited, sleep(10_000).then(() => 'still running' as const)]);
        assert.equal(code, 0, 'SIGTERM ends haconfd: no controller left running behind the daemon');
      } finally {
        await haconfd.stop();
        for (const c of sockets) c.destroy();
        await new Promise((r) => silent.close(r));
      }
    }, { checkInter: '30s' });
  });
});
