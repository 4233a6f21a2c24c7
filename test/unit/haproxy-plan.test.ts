/** The pure planner: desired states from the cluster, and the commands that close the difference. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  actionFor,
  desireServerStates,
  missingServers,
  diffServerStates,
  type ActualServerState,
  type BackendLayout,
  type ClusterView,
  type DesiredState,
  type OperatorOverride,
  type WantedState,
} from '../../src/haproxy/controller/plan.js';
import type { RuntimeCommand, ServerAction } from '../../src/haproxy/runtime/runtimeCommand.js';
import type { OpState, MaintSource, DrainSource } from '../../src/haproxy/runtime/serversState.js';
import { applyAction } from '../harness/haproxyModel.js';

const WANTED: readonly WantedState[] = ['up', 'down', 'down-cut', 'maint', 'drain', 'ready', 'ready-health-down', 'unchanged'];

function srv(backend: string, server: string, opState: OpState, maint: MaintSource[] = [], drain: DrainSource[] = []): ActualServerState {
  return { backend, server, opState, admin: { maint, drain } };
}

/** Every admin/op combination that matters. */
const STATES: Record<string, ActualServerState> = {
  up: srv('b', 's', 'up'),
  down: srv('b', 's', 'down'),
  starting: srv('b', 's', 'starting'),
  stopping: srv('b', 's', 'stopping'),
  forcedMaint: srv('b', 's', 'down', ['forced']),
  configMaint: srv('b', 's', 'down', ['config']),
  inheritedMaint: srv('b', 's', 'down', ['inherited']),
  dnsMaint: srv('b', 's', 'down', ['dns']),
  forcedAndConfigMaint: srv('b', 's', 'down', ['forced', 'config']),
  forcedDrainUp: srv('b', 's', 'up', [], ['forced']),
  forcedDrainDown: srv('b', 's', 'down', [], ['forced']),
  inheritedDrainUp: srv('b', 's', 'up', [], ['inherited']),
  forcedMaintAndDrain: srv('b', 's', 'down', ['forced'], ['forced']),
};

// The expected action for every (wanted, actual) pair. `-` = nothing to do.
const TABLE: Record<WantedState, Record<string, ServerAction | '-'>> = {
  up: {
    up: '-', down: 'health-up', starting: '-', stopping: 'health-up', forcedMaint: 'ready-health-up', configMaint: '-', inheritedMaint: '-',
    dnsMaint: '-', forcedAndConfigMaint: '-', forcedDrainUp: 'ready', forcedDrainDown: 'ready-health-up', inheritedDrainUp: '-', forcedMaintAndDrain: 'ready-health-up',
  },
  down: {
    up: 'health-down', down: '-', starting: 'health-down', stopping: 'health-down', forcedMaint: 'ready-health-down', configMaint: '-', inheritedMaint: '-',
    dnsMaint: '-', forcedAndConfigMaint: '-', forcedDrainUp: 'ready-health-down', forcedDrainDown: 'ready-health-down', inheritedDrainUp: 'health-down', forcedMaintAndDrain: 'ready-health-down',
  },
  'down-cut': {
    up: 'health-down-cut', down: '-', starting: 'health-down-cut', stopping: 'health-down-cut', forcedMaint: 'ready-health-down', configMaint: '-', inheritedMaint: '-',
    dnsMaint: '-', forcedAndConfigMaint: '-', forcedDrainUp: 'ready-health-down', forcedDrainDown: 'ready-health-down', inheritedDrainUp: 'health-down-cut', forcedMaintAndDrain: 'ready-health-down',
  },
  maint: {
    up: 'maint', down: 'maint', starting: 'maint', stopping: 'maint', forcedMaint: '-', configMaint: '-', inheritedMaint: '-',
    dnsMaint: '-', forcedAndConfigMaint: '-', forcedDrainUp: 'maint', forcedDrainDown: 'maint', inheritedDrainUp: 'maint', forcedMaintAndDrain: '-',
  },
  drain: {
    up: 'drain', down: 'drain', starting: 'drain', stopping: 'drain', forcedMaint: 'drain', configMaint: '-', inheritedMaint: '-',
    dnsMaint: '-', forcedAndConfigMaint: '-', forcedDrainUp: '-', forcedDrainDown: '-', inheritedDrainUp: 'drain', forcedMaintAndDrain: 'drain',
  },
  ready: {
    up: '-', down: '-', starting: '-', stopping: '-', forcedMaint: 'ready-health-down', configMaint: '-', inheritedMaint: '-',
    dnsMaint: '-', forcedAndConfigMaint: '-', forcedDrainUp: 'ready', forcedDrainDown: 'ready', inheritedDrainUp: '-', forcedMaintAndDrain: 'ready-health-down',
  },
  'ready-health-down': {
    up: '-', down: '-', starting: '-', stopping: '-', forcedMaint: 'ready-health-down', configMaint: '-', inheritedMaint: '-',
    dnsMaint: '-', forcedAndConfigMaint: '-', forcedDrainUp: 'ready', forcedDrainDown: 'ready', inheritedDrainUp: '-', forcedMaintAndDrain: 'ready-health-down',
  },
  unchanged: Object.fromEntries(Object.keys(STATES).map((k) => [k, '-'])) as Record<string, '-'>,
};

test('actionFor: the whole wanted × actual table', () => {
  for (const w of WANTED) {
    for (const [name, a] of Object.entries(STATES)) {
      assert.equal(actionFor(w, a) ?? '-', TABLE[w][name], `wanted ${w}, actual ${name}`);
    }
  }
});

test('actionFor is idempotent: after the action (as HAProxy applies it), nothing more to do', () => {
  for (const w of WANTED) {
    for (const [name, a] of Object.entries(STATES)) {
      const act = actionFor(w, a);
      if (!act) continue;
      const after = applyAction(a, act);
      assert.equal(actionFor(w, after), undefined, `wanted ${w}, actual ${name}, action ${act}`);
    }
  }
});

test('leaving maint never makes a server UP unless it is wanted UP', () => {
  for (const w of WANTED.filter((x) => x !== 'up')) {
    for (const [name, a] of Object.entries(STATES)) {
      const act = actionFor(w, a);
      if (!act) continue;
      const after = applyAction(a, act);
      const becameUp = a.opState !== 'up' && after.opState === 'up' && after.admin.maint.length === 0 && after.admin.drain.length === 0;
      assert.equal(becameUp, false, `wanted ${w} from ${name} via ${act} made it UP`);
      assert.notEqual(act, 'ready-health-up');
      assert.notEqual(act, 'health-up');
    }
  }
});

// ---------------------------------------------------------------------------------------------

const LAYOUT: BackendLayout[] = [
  { backend: 'primary', kind: 'write', servers: [{ server: 'pg1', member: 'pg1' }, { server: 'pg2', member: 'pg2' }, { server: 'pg3', member: 'pg3' }] },
  { backend: 'replicas', kind: 'read', servers: [{ server: 'pg1', member: 'pg1' }, { server: 'pg2', member: 'pg2' }, { server: 'pg3', member: 'pg3' }] },
  { backend: 'stats-ish', kind: 'other', servers: [{ server: 'pg1', member: 'pg1' }] },
];

function cluster(p: Partial<ClusterView> = {}): ClusterView {
  return {
    dcsReachable: true,
    leader: 'pg1',
    leaderConfirmation: 'confirmed',
    failsafe: false,
    members: [
      { name: 'pg1', role: 'primary', state: 'running', noloadbalance: false },
      { name: 'pg2', role: 'replica', state: 'streaming', noloadbalance: false },
      { name: 'pg3', role: 'replica', state: 'running', noloadbalance: false },
    ],
    ...p,
  };
}

/** HAProxy right after a reload without state: every server UP. */
function allUp(): ActualServerState[] {
  return LAYOUT.flatMap((l) => l.servers.map((s) => srv(l.backend, s.server, 'up')));
}

function wantedOf(d: DesiredState): Record<string, WantedState> {
  return Object.fromEntries(d.backends.flatMap((b) => b.servers.map((s) => [`${b.backend}/${s.server}`, s.wanted])));
}

function apply(actual: readonly ActualServerState[], cmds: readonly RuntimeCommand[]): ActualServerState[] {
  return actual.map((a) => cmds.filter((c) => c.backend === a.backend && c.server === a.server).reduce((x, c) => applyAction(x, c.action), a));
}

const brief = (cmds: readonly RuntimeCommand[]): string[] => cmds.map((c) => `${c.backend}/${c.server} ${c.action}`);

test('desired: write backend — confirmed leader up, others down (sessions cut); read — running replicas ready, leader down', () => {
  assert.deepEqual(wantedOf(desireServerStates(cluster(), LAYOUT)), {
    'primary/pg1': 'up', 'primary/pg2': 'down-cut', 'primary/pg3': 'down-cut',
    'replicas/pg1': 'down', 'replicas/pg2': 'ready', 'replicas/pg3': 'ready',
    'stats-ish/pg1': 'unchanged',
  });
});

test('desired: leader pending → unchanged; timed out → ready-health-down; no leader → all down', () => {
  const pending = wantedOf(desireServerStates(cluster({ leaderConfirmation: 'pending' }), LAYOUT));
  assert.equal(pending['primary/pg1'], 'unchanged');
  assert.equal(pending['primary/pg2'], 'down-cut');
  const late = wantedOf(desireServerStates(cluster({ leaderConfirmation: 'timed-out' }), LAYOUT));
  assert.equal(late['primary/pg1'], 'ready-health-down');
  const none = wantedOf(desireServerStates(cluster({ leader: undefined }), LAYOUT));
  assert.deepEqual([none['primary/pg1'], none['primary/pg2'], none['primary/pg3']], ['down-cut', 'down-cut', 'down-cut']);
  // Reads keep working without a leader.
  assert.deepEqual([none['replicas/pg2'], none['replicas/pg3']], ['ready', 'ready']);
  // The old primary (role still "primary" in its member key) is not a replica.
  assert.equal(none['replicas/pg1'], 'down');
});

test('desired: leader key naming an unknown member → every write server down', () => {
  const w = wantedOf(desireServerStates(cluster({ leader: 'ghost' }), LAYOUT));
  assert.deepEqual([w['primary/pg1'], w['primary/pg2'], w['primary/pg3']], ['down-cut', 'down-cut', 'down-cut']);
});

test('desired: failsafe without a leader key leaves write backends unchanged', () => {
  const d = desireServerStates(cluster({ leader: undefined, failsafe: true }), LAYOUT);
  assert.equal(d.failsafe, true);
  const w = wantedOf(d);
  assert.deepEqual([w['primary/pg1'], w['primary/pg2'], w['primary/pg3']], ['unchanged', 'unchanged', 'unchanged']);
  // The failsafe flag only matters while the leader key is gone.
  assert.equal(desireServerStates(cluster({ failsafe: true }), LAYOUT).failsafe, false);
});

test('desired: read backend — noloadbalance, not running, stale primary role → down; missing member → unchanged', () => {
  const c = cluster({
    members: [
      { name: 'pg1', role: 'master', state: 'running', noloadbalance: false },
      { name: 'pg2', role: 'replica', state: 'running', noloadbalance: true },
      { name: 'pg3', role: 'replica', state: 'starting', noloadbalance: false },
    ],
  });
  const w = wantedOf(desireServerStates(c, LAYOUT));
  assert.deepEqual([w['replicas/pg1'], w['replicas/pg2'], w['replicas/pg3']], ['down', 'down', 'down']);
  const missing = wantedOf(desireServerStates(cluster({ members: [] }), LAYOUT));
  assert.equal(missing['replicas/pg2'], 'unchanged', 'gone from the DCS: left to its checks and the removal');
  // A restarted old primary claiming "master" while another member leads: out of reads.
  const stale = wantedOf(desireServerStates(cluster({ leader: 'pg2', members: [
    { name: 'pg1', role: 'master', state: 'running', noloadbalance: false },
    { name: 'pg2', role: 'primary', state: 'running', noloadbalance: false },
    { name: 'pg3', role: 'replica', state: 'running', noloadbalance: false },
  ] }), LAYOUT));
  assert.deepEqual([stale['replicas/pg1'], stale['replicas/pg2'], stale['replicas/pg3']], ['down', 'down', 'ready']);
  assert.deepEqual([stale['primary/pg1'], stale['primary/pg2']], ['down-cut', 'up']);
});

test('desired: includeLeader lets a running leader take reads', () => {
  const layout: BackendLayout[] = [{ backend: 'ro', kind: 'read', includeLeader: true, servers: [{ server: 'pg1', member: 'pg1' }, { server: 'pg2', member: 'pg2' }] }];
  assert.deepEqual(wantedOf(desireServerStates(cluster(), layout)), { 'ro/pg1': 'ready', 'ro/pg2': 'ready' });
});

test('plan after a reload that lost state: cut non-leaders first, then nothing more', () => {
  const d = desireServerStates(cluster(), LAYOUT);
  const cmds = diffServerStates(d, allUp(), []);
  assert.deepEqual(brief(cmds), ['primary/pg2 health-down-cut', 'primary/pg3 health-down-cut', 'replicas/pg1 health-down']);
  assert.deepEqual(diffServerStates(d, apply(allUp(), cmds), []), []);
});

test('plan: DCS unreachable → no commands at all (rule 2)', () => {
  const d = desireServerStates(cluster({ dcsReachable: false, leader: undefined }), LAYOUT);
  assert.deepEqual(diffServerStates(d, allUp(), [{ backend: 'primary', server: 'pg1', state: 'maint' }]), []);
});

test('plan: operator drain/maint is never lifted and always applied (rule 1)', () => {
  const d = desireServerStates(cluster(), LAYOUT);
  const overrides: OperatorOverride[] = [
    { backend: 'replicas', server: 'pg2', state: 'drain' },
    { backend: 'primary', server: 'pg1', state: 'maint' },
    { backend: 'stats-ish', server: 'pg1', state: 'drain' },
  ];
  const cmds = diffServerStates(d, allUp(), overrides);
  assert.deepEqual(brief(cmds).sort(), [
    'primary/pg1 maint', 'primary/pg2 health-down-cut', 'primary/pg3 health-down-cut', 'replicas/pg1 health-down', 'replicas/pg2 drain', 'stats-ish/pg1 drain',
  ]);
  assert.equal(cmds.find((c) => c.server === 'pg2' && c.backend === 'replicas')?.reason, 'operator drain');
  const after = apply(allUp(), cmds);
  assert.deepEqual(diffServerStates(d, after, overrides), []);
  // Already drained/maint by the operator, and the model wants READY/UP: nothing is sent.
  const drained = [srv('replicas', 'pg2', 'up', [], ['forced']), srv('primary', 'pg1', 'down', ['forced'])];
  assert.deepEqual(diffServerStates(d, drained, overrides), []);
});

test('plan: failsafe never cuts a serving write server, but still acts elsewhere (rule 3)', () => {
  const d = desireServerStates(cluster({ leader: undefined, failsafe: true }), LAYOUT);
  const cmds = diffServerStates(d, allUp(), []);
  assert.deepEqual(brief(cmds), ['replicas/pg1 health-down']);
  // Even a desired state that asks to cut (built by hand) is refused for serving write servers in failsafe.
  const handmade: DesiredState = { dcsReachable: true, failsafe: true, backends: [{ backend: 'primary', kind: 'write', servers: [
    { server: 'pg1', wanted: 'maint', reason: 'x' }, { server: 'pg2', wanted: 'drain', reason: 'x' }, { server: 'pg3', wanted: 'maint', reason: 'x' },
    { server: 'pg4', wanted: 'down-cut', reason: 'x' },
  ] }] };
  const actual = [srv('primary', 'pg1', 'up'), srv('primary', 'pg2', 'up'), srv('primary', 'pg3', 'down'), srv('primary', 'pg4', 'up')];
  assert.deepEqual(brief(diffServerStates(handmade, actual, [])), ['primary/pg3 maint']);
});

test('plan: a switchover, step by step, idempotent at every step', () => {
  // Steady state with pg1 leading.
  let actual = apply(allUp(), diffServerStates(desireServerStates(cluster(), LAYOUT), allUp(), []));
  // 1. leader key deleted: pg1 cut at once (DOWN, sessions cut; its checks keep running).
  let d = desireServerStates(cluster({ leader: undefined }), LAYOUT);
  let cmds = diffServerStates(d, actual, []);
  assert.deepEqual(brief(cmds), ['primary/pg1 health-down-cut']);
  actual = apply(actual, cmds);
  assert.deepEqual(diffServerStates(d, actual, []), []);
  // 2. leader key names pg2, not confirmed yet: nothing routes writes anywhere.
  const members = [
    { name: 'pg1', role: 'demoted', state: 'stopping', noloadbalance: false },
    { name: 'pg2', role: 'replica', state: 'running', noloadbalance: false },
    { name: 'pg3', role: 'replica', state: 'running', noloadbalance: false },
  ];
  d = desireServerStates(cluster({ leader: 'pg2', leaderConfirmation: 'pending', members }), LAYOUT);
  cmds = diffServerStates(d, actual, []);
  assert.deepEqual(brief(cmds), ['replicas/pg2 health-down']);
  actual = apply(actual, cmds);
  // 3. confirmed: pg2 UP in the write backend, in one exchange.
  d = desireServerStates(cluster({ leader: 'pg2', members }), LAYOUT);
  cmds = diffServerStates(d, actual, []);
  assert.deepEqual(brief(cmds), ['primary/pg2 health-up']);
  actual = apply(actual, cmds);
  assert.deepEqual(diffServerStates(d, actual, []), []);
  const p = (b: string, s: string) => actual.find((a) => a.backend === b && a.server === s);
  assert.equal(p('primary', 'pg2')?.opState, 'up');
  assert.deepEqual([p('primary', 'pg1')?.opState, p('primary', 'pg1')?.admin.maint], ['down', []], 'DOWN, never MAINT: its checks own it');
  // 4. pg1 comes back as a replica: its checks bring it UP in reads (never before), still DOWN for writes.
  const back = members.map((m) => (m.name === 'pg1' ? { ...m, role: 'replica', state: 'running' } : m));
  d = desireServerStates(cluster({ leader: 'pg2', members: back }), LAYOUT);
  assert.deepEqual(diffServerStates(d, actual, []), []);
  assert.equal(p('replicas', 'pg1')?.opState, 'down');
});

test('plan: leader not confirmed in time → handed to the checks, never forced UP', () => {
  const actual = [srv('primary', 'pg1', 'down', ['forced']), srv('primary', 'pg2', 'down')];
  const d = desireServerStates(cluster({ leader: 'pg1', leaderConfirmation: 'timed-out' }), LAYOUT);
  const cmds = diffServerStates(d, actual, []);
  assert.deepEqual(brief(cmds), ['primary/pg1 ready-health-down']);
  const after = apply(actual, cmds);
  assert.equal(after[0]?.opState, 'down');
  assert.deepEqual(diffServerStates(d, after, []), []);
  // The checks then bring it up: still nothing to do.
  assert.deepEqual(diffServerStates(d, [{ ...after[0]!, opState: 'up' }, after[1]!], []), []);
});

test('plan: servers HAProxy does not have are skipped and reported by missingServers', () => {
  const d = desireServerStates(cluster(), LAYOUT);
  const actual = [srv('primary', 'pg1', 'up'), srv('primary', 'pg2', 'up')];
  assert.deepEqual(brief(diffServerStates(d, actual, [{ backend: 'nope', server: 'x', state: 'maint' }])), ['primary/pg2 health-down-cut']);
  assert.deepEqual(missingServers(d, actual), ['primary/pg3', 'replicas/pg1', 'replicas/pg2', 'replicas/pg3', 'stats-ish/pg1']);
});

test('plan: commands are ordered cut-first (health down, maint, drain, …, up)', () => {
  const d = desireServerStates(cluster({ leader: 'pg3' }), LAYOUT);
  const actual = [
    srv('primary', 'pg3', 'down', ['forced']), srv('primary', 'pg1', 'up'), srv('replicas', 'pg1', 'up', [], ['forced']), srv('replicas', 'pg3', 'up'),
  ];
  // pg1 is still "primary" in its member key → out of reads (an older haconfd's drain is lifted, starting DOWN); pg3 leads.
  const cmds = diffServerStates(d, actual, []);
  assert.deepEqual(brief(cmds), ['primary/pg1 health-down-cut', 'replicas/pg3 health-down', 'replicas/pg1 ready-health-down', 'primary/pg3 ready-health-up']);
});

test('plan: random clusters and states — idempotent, and no non-leader ever brought UP in a write backend', () => {
  let seed = 42;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)] as T;
  const stateList = Object.values(STATES);
  for (let i = 0; i < 2000; i++) {
    const leader = pick(['pg1', 'pg2', 'pg3', undefined, 'ghost']);
    const c = cluster({
      dcsReachable: rnd(10) !== 0,
      leader,
      leaderConfirmation: pick(['confirmed', 'pending', 'timed-out'] as const),
      failsafe: rnd(4) === 0,
      members: ['pg1', 'pg2', 'pg3'].filter(() => rnd(6) !== 0).map((name) => ({
        name,
        role: name === leader ? pick(['primary', 'master', 'replica']) : pick(['replica', 'replica', 'demoted', 'master']),
        state: pick(['running', 'streaming', 'starting', 'stopped']),
        noloadbalance: rnd(4) === 0,
      })),
    });
    const actual = LAYOUT.flatMap((l) => l.servers.map((s) => ({ ...pick(stateList), backend: l.backend, server: s.server })));
    const overrides: OperatorOverride[] = rnd(3) === 0 ? [{ backend: pick(['primary', 'replicas']), server: pick(['pg1', 'pg2', 'pg3']), state: pick(['drain', 'maint'] as const) }] : [];
    const d = desireServerStates(c, LAYOUT);
    const cmds = diffServerStates(d, actual, overrides);
    const after = apply(actual, cmds);
    assert.deepEqual(diffServerStates(d, after, overrides), [], `iteration ${i}`);
    for (const cmd of cmds) {
      if (cmd.backend !== 'primary') continue;
      const isConfirmedLeader = cmd.server === c.leader && c.leaderConfirmation === 'confirmed';
      if (!isConfirmedLeader) assert.ok(!['ready-health-up', 'health-up'].includes(cmd.action), `iteration ${i}: ${cmd.server} ${cmd.action}`);
      const before = actual.find((a) => a.backend === cmd.backend && a.server === cmd.server)!;
      const res = after.find((a) => a.backend === cmd.backend && a.server === cmd.server)!;
      if (!isConfirmedLeader && before.opState !== 'up' && res.opState === 'up' && res.admin.maint.length === 0 && res.admin.drain.length === 0) {
        assert.fail(`iteration ${i}: non-leader ${cmd.server} became UP via ${cmd.action}`);
      }
      if (!c.dcsReachable) assert.fail('commands while the DCS is unreachable');
    }
    for (const o of overrides) {
      const res = after.find((a) => a.backend === o.backend && a.server === o.server)!;
      const honoured = o.state === 'maint' ? res.admin.maint.length > 0 : res.admin.drain.length > 0 || res.admin.maint.some((m) => m !== 'forced');
      if (c.dcsReachable) assert.ok(honoured, `iteration ${i}: override ${o.backend}/${o.server} ${o.state} not honoured`);
    }
  }
});
