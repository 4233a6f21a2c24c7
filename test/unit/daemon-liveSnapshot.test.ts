import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeEvent, Snapshot } from '../../src/backends/backend.js';
import { applyEvents } from '../../src/store/snapshot.js';
import { advanceSnapshot, LayeredPairs } from '../../src/daemon/liveSnapshot.js';

const sorted = (m: ReadonlyMap<string, string>): [string, string][] => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

test('advanceSnapshot agrees with applyEvents over random puts and deletes, and never changes older snapshots', () => {
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const initial = new Map<string, string>();
  for (let i = 0; i < 300; i++) initial.set(`/p/k${i}`, `v${i}`);
  let plain: Snapshot = { revision: 1, pairs: initial };
  let live: Snapshot = { revision: 1, pairs: new Map(initial) };
  const history: { snap: Snapshot; expect: [string, string][] }[] = [];
  let rev = 1;
  let sawLayered = false;
  let sawFolded = false;
  for (let step = 0; step < 400; step++) {
    const batch: ChangeEvent[] = [];
    for (let j = 0, n = 1 + rnd(3); j < n; j++) {
      rev++;
      const key = `/p/k${rnd(400)}`;
      batch.push(rnd(4) === 0 ? { type: 'delete', key, revision: rev } : { type: 'put', key, value: `r${rev}`, revision: rev });
    }
    plain = applyEvents(plain, batch);
    live = advanceSnapshot(live, batch);
    if (live.pairs instanceof LayeredPairs && live.pairs.overlay.size > 0) sawLayered = true;
    else sawFolded = true;
    assert.deepEqual([...live.pairs.keys()], [...live.pairs.keys()].sort(), 'keys iterate sorted');
    assert.equal(live.revision, plain.revision);
    assert.equal(live.pairs.size, plain.pairs.size, `size at step ${step}`);
    for (const k of ['/p/k1', '/p/k399', `/p/k${rnd(400)}`]) {
      assert.equal(live.pairs.get(k), plain.pairs.get(k));
      assert.equal(live.pairs.has(k), plain.pairs.has(k));
    }
    if (step % 37 === 0) history.push({ snap: live, expect: sorted(plain.pairs) });
  }
  assert.deepEqual(sorted(live.pairs), sorted(plain.pairs));
  assert.deepEqual([...live.pairs.keys()].length, plain.pairs.size);
  for (const h of history) assert.deepEqual(sorted(h.snap.pairs), h.expect, 'an older snapshot changed');
  assert.ok(sawLayered && sawFolded, 'both the overlay and the fold were exercised');
});

test('advanceSnapshot with no events returns the same snapshot', () => {
  const s: Snapshot = { revision: 3, pairs: new Map([['/a', '1']]) };
  assert.equal(advanceSnapshot(s, []), s);
});
