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
  /** While set, a reload waits for this promise (a pass held open as long as the test wants). */
  holdReload: { until: Promise<void> | undefined };
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
  const holdReload: { until: Promise<void> | undefined } = { until: undefined };
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
      await (holdReload.until ?? sleep(20));
      if (failReload.on) throw new Error('reload refused');
    },
  };
  const worker = new ResourceWorker(resource, deps);
  return {
    worker,
    dest,
    reloads,
    failReload,
    holdReload,
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
    await waitFor('idle', () => r.worker.status.renderedOk);
    // The second pass is held open in its reload while 50 more changes are scheduled.
    let release = (): void => undefined;
    r.holdReload.until = new Promise<void>((res) => (release = res));
    r.set('1');
    r.worker.schedule();
    await waitFor('second pass in its reload', () => r.reloads.length === 2);
    for (let i = 2; i <= 50; i++) {
      r.set(String(i));
      r.worker.schedule();
    }
    r.holdReload.until = undefined;
    release();
    await waitFor('final content', () => content(r) === '50\n');
    await waitFor('the follow-up pass ended', () => r.reloads.length === 3 && r.worker.status.renderedOk && !r.worker.status.reloadPending);
    assert.equal(r.worker.status.passes, 3, 'start-up pass, the held pass, one follow-up for 49 schedules');
  } finally {
    r.cleanup();
  }
});

test('minimum reload interval: only right after a reload; an isolated change is not delayed', async () => {
  // A 5 s interval: long against what a loaded machine adds to a pass, so "delayed by the interval"
  // and "not delayed" stay far apart.
  const r = rig({ minReloadIntervalMs: 5000 });
  try {
    r.worker.schedule();
    await waitFor('first', () => r.reloads.length === 1);
    r.set('1');
    r.worker.schedule();
    await waitFor('second', () => r.reloads.length === 2, 60_000, 5);
    assert.ok((r.reloads[1] as number) - (r.reloads[0] as number) >= 4980, 'second reload waited out the interval');
    // The interval has passed since the last reload: a change now is not held back.
    const idle = (r.reloads[1] as number) + 5100 - Date.now();
    if (idle > 0) await sleep(idle);
    const t0 = Date.now();
    r.set('2');
    r.worker.schedule();
    await waitFor('third', () => r.reloads.length === 3, 60_000, 2);
    assert.ok((r.reloads[2] as number) - t0 < 3500, `isolated change delayed ${(r.reloads[2] as number) - t0} ms (the interval is 5000)`);
  } finally {
    r.cleanup();
  }
});

test('wait: passes only after quiet for min, and no later than max after the first change', async () => {
  // Changes every ~50 ms for 4.5 s: quiet (2 s) never comes, so the first pass is due at max (3 s).
  // Without the max it would come only after the changes stop and 2 s of quiet: ≥ 6.5 s.
  const r = rig({ wait: { minMs: 2000, maxMs: 3000 } });
  try {
    const t0 = Date.now();
    let i = 0;
    while (Date.now() - t0 < 4500) {
      r.set(String(++i));
      r.worker.schedule();
      await sleep(50);
    }
    const last = String(i);
    await waitFor('a pass', () => r.reloads.length >= 1, 60_000, 5);
    const first = (r.reloads[0] as number) - t0;
    assert.ok(first >= 2950 && first < 6000, `first pass after ${first} ms (max 3000)`);
    await waitFor('final', () => content(r) === `${last}\n`, 60_000);
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
    await waitFor('first failure', () => r.reloads.length === 1 && r.worker.status.lastError !== undefined);
    assert.equal(r.worker.status.reloadPending, true);
    const firstError = r.worker.status.lastError;
    // Busy prefix, unchanged output: passes run (each one waited for), but the retry waits for its
    // backoff (1 s).
    for (let i = 0; i < 5; i++) {
      const passes = r.worker.status.passes;
      r.worker.schedule();
      await waitFor(`unchanged pass ${i + 1}`, () => r.worker.status.passes > passes, 60_000, 2);
    }
    // No reload before the backoff was due (on a slow machine the five passes may outlast it, and
    // the retry then comes legitimately).
    const early = r.reloads.slice(1).filter((t) => t - (r.reloads[0] as number) < 900);
    assert.deepEqual(early, [], 'unchanged renders must not hammer a failing reload');
    await waitFor('backoff retry', () => r.reloads.length === 2, 60_000, 10);
    const gap = (r.reloads[1] as number) - (r.reloads[0] as number);
    assert.ok(gap >= 900, `retry after ${gap} ms (backoff 1 s)`);
    await waitFor('second failure', () => r.worker.status.reloadPending && r.worker.status.lastError !== undefined && r.worker.status.lastError !== firstError);
    // A newer committed render supersedes the retry wait (the next backoff is 2 s).
    r.failReload.on = false;
    const t0 = Date.now();
    r.set('new');
    r.worker.schedule();
    await waitFor('reload of the new render', () => r.reloads.length === 3, 60_000, 5);
    assert.ok((r.reloads[2] as number) - t0 < 1500, 'a newer render reloads without waiting out the 2 s backoff');
    await waitFor('the reload ended', () => !r.worker.status.reloadPending, 60_000, 5);
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
    await waitFor('retried pass succeeds', () => r.worker.status.renderedOk, 60_000, 20);
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
