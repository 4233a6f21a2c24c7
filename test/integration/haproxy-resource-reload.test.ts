/**
 * A resource with [template.haproxy] reload = "master-socket" against a real HAProxy 2.6 in
 * master-worker mode: the render is checked, committed, the worker replaced, and an operator's
 * drain survives the reload through the server-state file.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../harness/cli.js';
import { startHaproxy } from '../harness/haproxy.js';
import { freePorts, removeDir, requireBinary, tempDir, waitFor } from '../harness/process.js';
import { RuntimeClient } from '../../src/haproxy/runtime/runtimeClient.js';
import { parseServersState } from '../../src/haproxy/runtime/serversState.js';

test('master-socket reload keeps a drained server drained and replaces the worker', async () => {
  requireBinary('haproxy', 'haproxy');
  const dir = tempDir('hares');
  const confdir = join(dir, 'etc');
  mkdirSync(join(confdir, 'conf.d'), { recursive: true });
  mkdirSync(join(confdir, 'templates'));
  const [listenPort, b1, b2, b3] = await freePorts(4);
  const admin = join(dir, 'admin.sock');
  const master = join(dir, 'master.sock');
  const state = join(dir, 'server-state');
  const cfg = join(dir, 'haproxy.cfg');
  const data = join(dir, 'data.yaml');
  writeFileSync(
    join(confdir, 'templates', 'h.hbs'),
    `global\n  stats socket ${admin} mode 600 level admin\n  server-state-file ${state}\n  hard-stop-after 5s\ndefaults\n  mode tcp\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n  load-server-state-from-file global\nlisten primary\n  bind 127.0.0.1:${listenPort}\n{{#each (gets "/servers/*")}}  server {{base key}} 127.0.0.1:{{value}}\n{{/each}}`,
  );
  writeFileSync(
    join(confdir, 'conf.d', 'h.toml'),
    `[template]\nsrc = "h.hbs"\ndest = "${cfg}"\nkeys = ["/servers"]\ncheck_cmd = "haproxy -c -f {{.src}}"\n[template.haproxy]\nreload = "master-socket"\nmaster_socket = "${master}"\nadmin_socket = "${admin}"\nstate_file = "${state}"\n`,
  );
  const run = () => runCli(['-onetime', '-backend', 'file', '-file', data, '-confdir', confdir, '-log-format', 'json']);
  writeFileSync(data, `servers:\n  s1: ${b1}\n  s2: ${b2}\n`);
  // First render without HAProxy running: the reload step cannot succeed, but the file is written.
  const first = await run();
  assert.equal(first.code, 1);
  assert.match(first.stderr, /reload failed/);
  const haproxy = await startHaproxy({ dir, configFile: cfg, masterSocket: master });
  try {
    const client = new RuntimeClient(admin, { timeoutMs: 2000 });
    await client.send('set server primary/s1 state drain');
    const before = await haproxy.workerPid();
    writeFileSync(data, `servers:\n  s1: ${b1}\n  s2: ${b2}\n  s3: ${b3}\n`);
    const second = await run();
    assert.equal(second.code, 0, second.stderr);
    assert.match(readFileSync(cfg, 'utf8'), /server s3 /);
    await waitFor('new worker', async () => (await haproxy.workerPid()) !== before, 60_000);
    const servers = parseServersState(await new RuntimeClient(admin, { timeoutMs: 2000 }).dumpServersState()).servers;
    const s1 = servers.find((s) => s.server === 's1');
    assert.ok(s1, 'server s1 present after reload');
    assert.deepEqual(s1.admin.drain, ['forced'], `s1 stays drained across the reload: ${JSON.stringify(s1)}`);
    assert.ok(servers.some((s) => s.server === 's3'), 's3 added by the reload');
  } finally {
    await haproxy.stop();
    removeDir(dir);
  }
});
