/**
 * ResourceWorker scheduling with real files in a temp dir and an injected reload step:
 * single flight, the minimum reload interval, reload retries that busy-but-unchanged renders do
 * not hammer, a newer committed render superseding the retry wait, backoff, withoutUserinfo.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Snapshot } from '../../src/backends/backend.js';
import { Backoff } from '../../src/retry/backoff.js';
import { withoutUserinfo } from '../../src/daemon/daemon.js';
import { DaemonMetrics } from '../../src/daemon/metrics.js';
import { ResourceWorker, type WorkerDeps } from '../../src/daemon/resourceWorker.js';
import { silentLogger } from '../../src/log/logger.js';
import type { TemplateResource } from '../../src/resource/templateResource.js';
import { createDefaultEngine } from '../../src/template/helperSet.js';
import { TemplateCache } from '../../src/template/templateCache.js';
import { removeDir, sleep, tempDir, waitFor } from '../harness/process.js';

interface Rig {
  worker: ResourceWorker;
  dest: string;
  reloads: number[];
  set(value: string): void;
  failReload: { on: boolean };
  cleanup(): void;
}

function rig(opts: { minReloadIntervalMs?: number; wait?: { minMs: number; maxMs: number } } = {}): Rig {
  const dir = tempDir('worker');
  mkdirSync(join(dir, 'out'));
  writeFileSync(join(dir, 'v.hbs'), '{{getv "/v"}}\n');
  const dest = join(dir, 'out', 'v.conf');
  const resource: TemplateResource = {
    name: 'v.toml', file: join(dir, 'v.toml'), src: join(dir, 'v.hbs'), engine: 'handlebars', maxOutput: undefined, dest, prefix: '/app', keys: ['/app'],
    mode: undefined, uid: undefined, gid: undefined, checkCmd: undefined, reloadCmd: 'true',
    checkTimeoutMs: 1000, reloadTimeoutMs: 1000, minKeys: 0, wait: opts.wait, vars: {}, haproxy: undefined,
  };
  let snapshot: Snapshot = { revision: 1, pairs: new Map([['/app/v', '0']]) };
  const reloads: number[] = [];
  const failReload = { on: false };
  const deps: WorkerDeps = {
    currentSnapshot: () => snapshot,
    templates: new TemplateCache(createDefaultEngine()),
    noop: false,
    syncOnly: false,
    keepStageFile: false,
    minReloadIntervalMs: opts.minReloadIntervalMs ?? 0,
    metrics: new DaemonMetrics(),
    log: silentLogger(),
    reload: async () => {
      reloads.push(Date.now());
      await sleep(20);
      if (failReload.on) throw new Error('reload refused');
    },
  };
  const worker = new ResourceWorker(resource, deps);
  return {
    worker,
    dest,
    reloads,
    failReload,
    set: (value) => {
      snapshot = { revision: snapshot.revision + 1, pairs: new Map([['/app/v', value]]) };
    },
    cleanup: () => {
      void worker.stop();
      removeDir(dir);
    },
  };
}

const content = (r: Rig): string => readFileSync(r.dest, 'utf8');

test('single flight: schedules during a pass collapse into one follow-up pass on the newest snapshot', async () => {
  const r = rig();
  try {
    r.worker.schedule();
    await waitFor('first pass', () => r.reloads.length === 1);
    for (let i = 1; i <= 50; i++) {
      r.set(String(i));
      r.worker.schedule();
      await sleep(1);
    }
    await waitFor('final content', () => content(r) === '50\n');
    await sleep(100);
    assert.ok(r.reloads.length <= 10, `${r.reloads.length} reloads for 50 schedules`);
    assert.equal(r.worker.status.passes <= 12, true, `${r.worker.status.passes} passes`);
  } finally {
    r.cleanup();
  }
});

test('minimum reload interval: only right after a reload; an isolated change is not delayed', async () => {
  const r = rig({ minReloadIntervalMs: 300 });
  try {
    r.worker.schedule();
    await waitFor('first', () => r.reloads.length === 1);
    r.set('1');
    r.worker.schedule();
    await waitFor('second', () => r.reloads.length === 2, 3000, 5);
    assert.ok((r.reloads[1] as number) - (r.reloads[0] as number) >= 280, 'second reload waited out the interval');
    await sleep(350);
    const t0 = Date.now();
    r.set('2');
    r.worker.schedule();
    await waitFor('third', () => r.reloads.length === 3, 3000, 2);
    assert.ok(Date.now() - t0 < 150, `isolated change delayed ${Date.now() - t0} ms`);
  } finally {
    r.cleanup();
  }
});

test('wait: passes only after quiet for min, and no later than max after the first change', async () => {
  const r = rig({ wait: { minMs: 150, maxMs: 400 } });
  try {
    const t0 = Date.now();
    for (let i = 0; i < 12; i++) {
      r.set(String(i));
      r.worker.schedule();
      await sleep(50);
    }
    await waitFor('a pass', () => r.reloads.length >= 1, 3000, 5);
    const first = (r.reloads[0] as number) - t0;
    assert.ok(first >= 380 && first < 550, `first pass after ${first} ms (max 400)`);
    await waitFor('final', () => content(r) === '11\n', 3000);
    assert.ok(r.reloads.length <= 3, `${r.reloads.length} reloads`);
  } finally {
    r.cleanup();
  }
});

test('a failed reload is retried with backoff; unchanged renders meanwhile do not reload; a newer render does at once', async () => {
  const r = rig();
  try {
    r.failReload.on = true;
    r.worker.schedule();
    await waitFor('first failure', () => r.reloads.length === 1);
    assert.equal(r.worker.status.reloadPending, true);
    // Busy prefix, unchanged output: passes run, but the retry waits for its backoff (1 s).
    for (let i = 0; i < 5; i++) {
      r.worker.schedule();
      await sleep(60);
    }
    assert.equal(r.reloads.length, 1, 'unchanged renders must not hammer a failing reload');
    await waitFor('backoff retry', () => r.reloads.length === 2, 3000, 10);
    const gap = (r.reloads[1] as number) - (r.reloads[0] as number);
    assert.ok(gap >= 900, `retry after ${gap} ms (backoff 1 s)`);
    // A newer committed render supersedes the retry wait (the next backoff is 2 s).
    r.failReload.on = false;
    const t0 = Date.now();
    r.set('new');
    r.worker.schedule();
    await waitFor('reload of the new render', () => r.reloads.length === 3, 3000, 5);
    assert.ok(Date.now() - t0 < 500, 'a newer render reloads without waiting out the backoff');
    await sleep(50);
    assert.equal(r.worker.status.reloadPending, false);
    assert.equal(r.worker.status.lastError, undefined);
    assert.equal(content(r), 'new\n');
  } finally {
    r.cleanup();
  }
});

test('a failed pass (check) is retried with backoff until it succeeds, with no new change', async () => {
  const r = rig();
  try {
    // The check passes only once a file exists, as keepalived.conf's check needs the script that
    // another resource writes.
    const flag = join(r.dest, '..', 'ready');
    (r.worker.resource as { checkCmd: string | undefined }).checkCmd = `test -e ${flag}`;
    r.worker.schedule();
    await waitFor('first failed pass', () => r.worker.status.lastError?.stage === 'check');
    const passes = r.worker.status.passes;
    writeFileSync(flag, '');
    await waitFor('retried pass succeeds', () => r.worker.status.renderedOk, 4000, 20);
    assert.ok(r.worker.status.passes > passes, 'a retry pass ran without a new change');
    assert.equal(content(r), '0\n');
  } finally {
    r.cleanup();
  }
});

test('Backoff doubles to its cap and resets', () => {
  const b = new Backoff(1000, 60_000);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map(() => b.next()), [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
  b.reset();
  assert.equal(b.next(), 1000);
});

test('withoutUserinfo hides credentials in node URLs', () => {
  assert.equal(withoutUserinfo('http://root:secret@10.0.0.1:2379'), 'http://[redacted]@10.0.0.1:2379');
  assert.equal(withoutUserinfo('https://10.0.0.1:2379'), 'https://10.0.0.1:2379');
  assert.equal(withoutUserinfo('10.0.0.1:2379'), '10.0.0.1:2379');
});
