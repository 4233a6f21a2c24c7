/**
 * A real VRRP failover with the generated files: two "HAProxy hosts" and a client in network
 * namespaces joined by a bridge, real keepalived 2.2.7 and real HAProxy on each host, the VIP
 * reached from the client. Kill HAProxy on the master → the VIP moves within 10 s; bring it back →
 * it returns (preemption, unicast) or stays (nopreempt + weight 0, multicast).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runKeepalivedCommand } from '../../src/cli/keepalivedCommand.js';
import { createNetwork, type TestNetwork } from '../harness/netns.js';
import { removeDir, requireBinary, sleep, tempDir, waitFor, type RunningProcess } from '../harness/process.js';
import { captureIo } from '../harness/captureIo.js';

const HTTP_PORT = 8080;
const STATS_PORT = 7000;

function haproxyConfig(name: string): string {
  return `global
    maxconn 100
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen stats
    bind 127.0.0.1:${STATS_PORT}
    stats enable
    stats uri /
frontend web
    bind :${HTTP_PORT}
    http-request return status 200 content-type text/plain string "${name}"
`;
}

async function render(args: string[]): Promise<void> {
  const c = captureIo();
  const code = await runKeepalivedCommand(['render', ...args], c.io);
  assert.equal(code, 0, `render refused: ${c.err()}`);
}

interface Host {
  name: string;
  dir: string;
  haproxy: RunningProcess | undefined;
  keepalived: RunningProcess | undefined;
}

function startHaproxy(net: TestNetwork, h: Host): void {
  h.haproxy = net.start(net.hosts[h.name]!.ns, 'haproxy', ['-db', '-f', join(h.dir, 'haproxy.cfg')], join(h.dir, 'haproxy.log'));
}

function startKeepalived(net: TestNetwork, h: Host): void {
  h.keepalived = net.start(
    net.hosts[h.name]!.ns,
    'keepalived',
    ['-n', '-l', '-D', '-P', '-f', join(h.dir, 'keepalived.conf'), '-p', join(h.dir, 'k.pid'), '-r', join(h.dir, 'vrrp.pid'), '-c', join(h.dir, 'chk.pid')],
    join(h.dir, 'keepalived.log'),
  );
}

function holder(net: TestNetwork, vip: string): string[] {
  return ['a', 'b'].filter((n) => net.addresses(n).includes(vip));
}

function clientGet(net: TestNetwork, vip: string): string {
  const r = net.tryExec(net.hosts['client']!.ns, 'curl', ['-s', '--max-time', '1', `http://${vip}:${HTTP_PORT}/`], 3000);
  return r.code === 0 ? r.stdout.trim() : `(curl exit ${r.code})`;
}

async function waitForHolder(net: TestNetwork, vip: string, want: string, timeoutMs: number, hosts: Host[]): Promise<number> {
  const t0 = Date.now();
  try {
    await waitFor(`VIP ${vip} on host ${want} only`, () => {
      const h = holder(net, vip);
      return h.length === 1 && h[0] === want;
    }, timeoutMs, 100);
  } catch (e) {
    const logs = hosts.map((h) => `--- ${h.name} keepalived:\n${h.keepalived?.log().split('\n').slice(-15).join('\n')}`).join('\n');
    throw new Error(`${(e as Error).message}; holders now: [${holder(net, vip).join(', ')}]\n${logs}`);
  }
  return Date.now() - t0;
}

test('keepalived pair in network namespaces: HAProxy dies → VIP moves, returns with preemption, stays with nopreempt', { timeout: 450_000 }, async (t) => {
  requireBinary('keepalived', 'keepalived');
  requireBinary('haproxy', 'haproxy');
  requireBinary('curl', 'curl');
  const dir = tempDir('kafail');
  let net: TestNetwork | undefined;
  const hosts: Host[] = [];
  try {
    net = createNetwork('hk', ['a', 'b', 'client']);
    const n = net;
    const vip = `${n.subnet}.10`;
    for (const name of ['a', 'b']) {
      const hdir = join(dir, name);
      const h: Host = { name, dir: hdir, haproxy: undefined, keepalived: undefined };
      mkdirSync(hdir, { mode: 0o755 });
      writeFileSync(join(hdir, 'haproxy.cfg'), haproxyConfig(`host-${name}`));
      hosts.push(h);
    }
    const [a, b] = hosts as [Host, Host];
    const timing = ['--interval', '1', '--fall', '2', '--rise', '2', '--timeout', '2', '--stats-url', `http://127.0.0.1:${STATS_PORT}/`];

    await t.test('preemption, unicast, weight -50: VIP moves to the backup and comes back', async () => {
      for (const [h, prio, peerPrio, peer, self] of [
        [a, '101', '100', n.hosts['b']!.address, n.hosts['a']!.address],
        [b, '100', '101', n.hosts['a']!.address, n.hosts['b']!.address],
      ] as const) {
        await render([
          '--vip', `${vip}/24`, '--interface', 'eth0', '--priority', prio, '--peer-priority', peerPrio, '--peer', peer,
          '--unicast-src', self, '--virtual-router-id', '51', '--weight', '-50', '--auth-pass', 'haconfd', '--router-id', `host_${h.name}`,
          ...timing, '-dest', h.dir,
        ]);
        const check = n.tryExec(n.hosts[h.name]!.ns, 'keepalived', ['-t', '-e', '-f', join(h.dir, 'keepalived.conf')]);
        assert.equal(check.code, 0, `keepalived -t on ${h.name}: ${check.stderr}`);
        startHaproxy(n, h);
      }
      await waitFor('haproxy stats on both hosts', () => hosts.every((h) => n.tryExec(n.hosts[h.name]!.ns, 'curl', ['-fsS', '-o', '/dev/null', `http://127.0.0.1:${STATS_PORT}/`]).code === 0), 60_000, 100);
      startKeepalived(n, a);
      startKeepalived(n, b);
      await waitForHolder(n, vip, 'a', 60_000, hosts);
      await waitFor('client reaches host-a through the VIP', () => clientGet(n, vip) === 'host-a', 60_000, 100);

      await a.haproxy!.stop();
      const moved = await waitForHolder(n, vip, 'b', 60_000, hosts);
      await waitFor('client reaches host-b through the VIP', () => clientGet(n, vip) === 'host-b', 60_000, 100);
      t.diagnostic(`preempt: VIP moved to the backup ${moved} ms after HAProxy died on the master`);

      startHaproxy(n, a);
      const back = await waitForHolder(n, vip, 'a', 60_000, hosts);
      await waitFor('client reaches host-a again', () => clientGet(n, vip) === 'host-a', 60_000, 100);
      t.diagnostic(`preempt: VIP returned ${back} ms after HAProxy came back`);
      await a.keepalived!.stop();
      await b.keepalived!.stop();
    });

    await t.test('nopreempt + weight 0, multicast: FAULT moves the VIP, which stays when HAProxy returns', async () => {
      for (const [h, prio, peerPrio] of [
        [a, '101', '100'],
        [b, '100', '101'],
      ] as const) {
        await render([
          '--vip', `${vip}/24`, '--interface', 'eth0', '--priority', prio, '--peer-priority', peerPrio, '--nopreempt',
          '--virtual-router-id', '52', '--router-id', `host_${h.name}`, ...timing, '-dest', h.dir,
        ]);
        const check = n.tryExec(n.hosts[h.name]!.ns, 'keepalived', ['-t', '-e', '-f', join(h.dir, 'keepalived.conf')]);
        assert.equal(check.code, 0, `keepalived -t on ${h.name}: ${check.stderr}`);
      }
      const bLogStart = b.keepalived!.log().length;
      assert.deepEqual(holder(n, vip), [], 'the VIP was released when the first pair stopped');
      // Both start as BACKUP and their master-down timers differ by ~4 ms (the priority skew), so
      // whoever starts first wins and, with nopreempt, keeps the VIP: start a first, as an operator would.
      startKeepalived(n, a);
      await waitForHolder(n, vip, 'a', 60_000, hosts);
      startKeepalived(n, b);
      await waitFor('host b in BACKUP', () => /Entering BACKUP STATE/.test(b.keepalived!.log().slice(bLogStart)), 60_000, 100);
      assert.deepEqual(holder(n, vip), ['a']);
      await a.haproxy!.stop();
      const moved = await waitForHolder(n, vip, 'b', 60_000, hosts);
      await waitFor('client reaches host-b through the VIP', () => clientGet(n, vip) === 'host-b', 60_000, 100);
      t.diagnostic(`nopreempt: VIP moved (FAULT) ${moved} ms after HAProxy died`);
      assert.match(a.keepalived!.log(), /Entering FAULT STATE/, 'weight 0: the failed check puts host a in FAULT');
      const logBefore = a.keepalived!.log().length;
      startHaproxy(n, a);
      await waitFor('host a leaves FAULT for BACKUP', () => /Entering BACKUP STATE/.test(a.keepalived!.log().slice(logBefore)), 60_000, 100);
      await sleep(4000);
      assert.deepEqual(holder(n, vip), ['b'], 'with nopreempt the VIP stays on b after a recovers');
      assert.equal(clientGet(n, vip), 'host-b');
    });
  } finally {
    for (const h of hosts) {
      await h.keepalived?.stop(3000);
      await h.haproxy?.stop(3000);
    }
    await net?.destroy();
    removeDir(dir);
  }
});

test('without the right to create network namespaces the harness fails with a message saying so', { timeout: 150_000 }, () => {
  requireBinary('setpriv', 'util-linux');
  if (process.getuid?.() !== 0) {
    // Not root: the real test above already fails with this message; nothing more to show here.
    assert.throws(() => createNetwork('hp', ['a']), /network namespaces are not permitted/);
    return;
  }
  const dir = tempDir('kaperm');
  try {
    chmodSync(dir, 0o755);
    const probe = join(dir, 'probe.mts');
    const harness = new URL('../harness/netns.ts', import.meta.url).pathname;
    writeFileSync(
      probe,
      `import { createNetwork } from ${JSON.stringify(harness)};\n` +
        `try { const n = createNetwork('hp', ['a']); await n.destroy(); console.log('CREATED'); } catch (e) { console.log((e as Error).message); }\n`,
      { mode: 0o644 },
    );
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', probe], {
      encoding: 'utf8',
      env: { ...process.env, HOME: dir },
      cwd: new URL('../..', import.meta.url).pathname,
      timeout: 20_000,
    });
    assert.match(r.stdout + r.stderr, /network namespaces are not permitted on this machine .*needs root/);
  } finally {
    removeDir(dir);
  }
});
