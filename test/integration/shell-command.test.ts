/**
 * check_cmd / reload_cmd are done when /bin/sh exits: a background child that keeps the output
 * pipes open is neither waited for nor killed; a shell that does not exit is still killed at the
 * timeout (with its process group). Real /bin/sh, nohup, setsid and haproxy -D.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandError, runShellCommand } from '../../src/resource/shellCommand.js';
import { commandReload } from '../../src/haproxy/reload/commandReload.js';
import { silentLogger } from '../../src/log/logger.js';
import { haproxyTestConfig } from '../harness/haproxy.js';
import { freePorts, removeDir, requireBinary, tempDir, waitFor } from '../harness/process.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/** The last line of stdout is the background child's PID (`echo $!`). */
function bgPid(stdout: string): number {
  const pid = Number(stdout.trim().split('\n').pop());
  assert.ok(Number.isInteger(pid) && pid > 0, `no PID in ${JSON.stringify(stdout)}`);
  return pid;
}

for (const [label, cmd] of [
  ['… &', 'echo started; sleep 1000 & echo $!'],
  ['nohup … &', 'echo started; nohup sleep 1000 & echo $!'],
  ['setsid … &', 'echo started; setsid sleep 1000 & echo $!'],
  ['a background child writing to stdout for ever', 'echo started; (while :; do echo tick; sleep 0.05; done) & echo $!'],
] as const) {
  test(`reload_cmd "${label}": done when the shell exits; the child is left running`, async () => {
    requireBinary('setsid', 'util-linux');
    requireBinary('nohup', 'coreutils');
    const r = await runShellCommand('reload_cmd', cmd, 10_000);
    const pid = bgPid(r.stdout.split('\n').filter((l) => l !== 'tick').join('\n'));
    try {
      assert.equal(r.timedOut, false);
      assert.equal(r.exitCode, 0);
      assert.match(r.stdout, /^started\n/);
      assert.equal(alive(pid), true, 'the background child was killed');
    } finally {
      kill(pid);
    }
  });
}

test('check_cmd failing while a background child holds the pipe: the exit code is reported, not a timeout', async () => {
  let pid = 0;
  await assert.rejects(runShellCommand('check_cmd', 'sleep 1000 & echo $!; echo bad config >&2; exit 3', 10_000), (e: unknown) => {
    assert.ok(e instanceof CommandError);
    pid = bgPid(e.result.stdout);
    return e.result.timedOut === false && e.result.exitCode === 3 && /exited 3/.test(e.message) && /bad config/.test(e.message);
  });
  try {
    assert.equal(alive(pid), true);
  } finally {
    kill(pid);
  }
});

test('a shell that does not exit is killed at the timeout, with what it started', async () => {
  let pid = 0;
  await assert.rejects(runShellCommand('reload_cmd', 'sleep 1000 & echo $!; sleep 1000', 300), (e: unknown) => {
    assert.ok(e instanceof CommandError);
    pid = bgPid(e.result.stdout);
    return e.result.timedOut && /timed out after 300 ms/.test(e.message);
  });
  await waitFor('the hung command group killed', () => !alive(pid), 5000);
});

test('a shell that ignores SIGTERM is killed with SIGKILL', async () => {
  await assert.rejects(runShellCommand('reload_cmd', "trap '' TERM; while :; do sleep 0.05; done", 200), (e: unknown) => e instanceof CommandError && e.result.timedOut);
});

test('a real `haproxy -D` reload_cmd and command reload: done when the shell exits, HAProxy keeps running', async () => {
  const haproxy = requireBinary('haproxy', 'haproxy');
  const dir = tempDir('shell-haproxy');
  const pidFile = join(dir, 'haproxy.pid');
  const cfg = join(dir, 'haproxy.cfg');
  const [bind, srv] = (await freePorts(2)) as [number, number];
  writeFileSync(cfg, haproxyTestConfig({ adminSocket: join(dir, 'admin.sock'), listens: [{ name: 'l', bindPort: bind, servers: [{ name: 's1', addr: '127.0.0.1', port: srv, check: false }] }] }));
  const pids = (): number[] => (existsSync(pidFile) ? readFileSync(pidFile, 'utf8').split(/\s+/).filter(Boolean).map(Number) : []);
  const seen = new Set<number>();
  try {
    // Without -q haproxy -D keeps nothing on our pipes; with a child of the shell that does, too.
    const start = `${haproxy} -D -f ${cfg} -p ${pidFile}; sleep 1000 & echo $!`;
    const r = await runShellCommand('reload_cmd', start, 10_000);
    const sleeper = bgPid(r.stdout);
    kill(sleeper);
    assert.equal(r.timedOut, false);
    const first = await waitFor('haproxy pid file', () => pids()[0]);
    seen.add(first);
    assert.equal(alive(first), true);
    const reload = `${haproxy} -D -f ${cfg} -p ${pidFile} -sf $(cat ${pidFile}); sleep 1000 >/dev/null 2>&1 &`;
    const again = await runShellCommand('reload_cmd', reload, 10_000);
    assert.equal(again.timedOut, false);
    const second = await waitFor('a new haproxy', () => pids().find((p) => p !== first));
    seen.add(second);
    assert.equal(alive(second), true);
    // The HAProxy reload strategy (reload = "command") uses the same runner.
    const out = await commandReload({ command: `${haproxy} -D -f ${cfg} -p ${pidFile} -sf $(cat ${pidFile}); sleep 1000 & echo $!`, timeoutMs: 10_000 }).reload(silentLogger());
    assert.equal(out.confirmed, false);
    const third = await waitFor('a third haproxy', () => pids().find((p) => p !== first && p !== second));
    seen.add(third);
    assert.equal(alive(third), true);
  } finally {
    for (const p of [...seen, ...pids()]) kill(p);
    removeDir(dir);
  }
});
