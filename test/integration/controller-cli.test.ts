/**
 * The controller wired into the real daemon (dist/cli/main.js): `haconfd -watch` with a
 * `[controller]` table in haconfd.toml steers a real HAProxy from Patroni-shaped data (file
 * backend), follows a leader change in the data file, and serves its metrics on /metrics; a bad
 * `[controller]` table ends it with exit 2, naming the key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCli, startCli } from '../harness/cli.js';
import { freePort, removeDir, tempDir, waitFor } from '../harness/process.js';
import { withRig, type Rig } from './controller-fixture.js';

function nested(pairs: ReadonlyMap<string, string>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [k, v] of pairs) {
    const parts = k.split('/').filter((p) => p !== '');
    let node = root;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1] as string] = v;
  }
  return root;
}

function writeData(rig: Rig, file: string, leader: string): void {
  writeFileSync(file, stringify(nested(rig.snapshot(leader).pairs)));
}

test('haconfd -watch with [controller]: steers HAProxy from the DCS, follows the leader, /metrics', { timeout: 300_000 }, async () => {
  await withRig(async (rig) => {
    const confdir = join(rig.dir, 'etc');
    mkdirSync(join(confdir, 'conf.d'), { recursive: true });
    mkdirSync(join(confdir, 'templates'), { recursive: true });
    // A resource that watches the namespace (the controller sees what the daemon watches).
    writeFileSync(join(confdir, 'templates', 'leader.hbs'), 'leader={{getv "/demo/leader" ""}}\n');
    writeFileSync(join(confdir, 'conf.d', 'leader.toml'), `[template]\nsrc = "leader.hbs"\ndest = "${join(rig.dir, 'leader.out')}"\nprefix = "/service"\nkeys = ["/"]\n`);
    writeFileSync(join(confdir, 'haconfd.toml'), `[controller]\nsocket = "${rig.socket}"\noverrides_file = "${join(rig.dir, 'overrides.json')}"\ninterval = "500ms"\n`);
    const data = join(rig.dir, 'data.yaml');
    writeData(rig, data, 'pg1');
    const port = await freePort();
    const proc = startCli(['-watch', '-backend', 'file', '-file', data, '-confdir', confdir, '-log-format', 'json', '-listen', `127.0.0.1:${port}`], { logFile: join(rig.dir, 'haconfd.log') });
    try {
      await waitFor('pg2, pg3 cut from the write backend', async () => {
        const s = await rig.states('demo_primary');
        // HAProxy's checks alone get there too: wait for the controller to have read pg1 as the leader.
        return s['pg1'] === 'up' && s['pg2'] === 'down' && s['pg3'] === 'down' && proc.log().includes('cluster demo: leader pg1');
      }, 60_000, 50);
      // Switchover in the data: pg2 leads, its REST API says so.
      rig.node('pg1').role = 'replica';
      rig.node('pg2').role = 'master';
      writeData(rig, data, 'pg2');
      let lastWrite = Date.now();
      await waitFor('pg2 routed', async () => {
        // The file watcher may start after the first read: write again until a change is seen.
        if (Date.now() - lastWrite > 2000) {
          writeData(rig, data, 'pg2');
          lastWrite = Date.now();
        }
        // Its checks may bring pg2 UP first (the fail-safe): wait for the controller to have routed it too.
        const s = await rig.states('demo_primary');
        return s['pg1'] === 'down' && s['pg2'] === 'up' && s['pg3'] === 'down' && proc.log().includes('writes routed to pg2');
      }, 60_000, 50).catch((e: Error) => {
        throw new Error(`${e.message}\n${proc.log().slice(-3000)}`);
      });
      assert.equal(await rig.through(rig.ports.write), 'pg2');
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /haconfd_controller_leader_changes_total\{cluster="demo"\} 1/);
      assert.doesNotMatch(metrics, /haconfd_controller_commands_total\{action="maint"/, 'never MAINT');
      assert.match(metrics, /haconfd_controller_leader_routed_seconds_count\{cluster="demo"\} 1/);
      assert.match(proc.log(), /writes routed to pg2/);
    } finally {
      await proc.stop();
    }
  });
});

test('a bad [controller] table ends haconfd with exit 2, naming the key', { timeout: 150_000 }, async () => {
  const dir = tempDir('controller-cli');
  try {
    const confdir = join(dir, 'etc');
    mkdirSync(join(confdir, 'conf.d'), { recursive: true });
    writeFileSync(join(confdir, 'haconfd.toml'), '[controller]\nsocket = "/run/haproxy/admin.sock"\nintervall = "1s"\n');
    writeFileSync(join(dir, 'data.yaml'), 'a: 1\n');
    const r = await runCli(['-watch', '-backend', 'file', '-file', join(dir, 'data.yaml'), '-confdir', confdir, '-log-format', 'json'], { timeoutMs: 20_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /unknown key \\?"intervall\\?" \(did you mean \\?"interval\\?"\?\)/);
  } finally {
    removeDir(dir);
  }
});
