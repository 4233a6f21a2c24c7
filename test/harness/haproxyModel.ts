/**
 * A model of what HAProxy 2.6 does to a server's admin/op state for each ServerAction, as observed on
 * the real haproxy (test/integration/haproxy-runtime.test.ts checks this model against it). Used to
 * prove the planner idempotent: plan → apply → plan again yields nothing.
 */
import type { ActualServerState } from '../../src/haproxy/controller/plan.js';
import type { ServerAction } from '../../src/haproxy/runtime/runtimeCommand.js';

export function applyAction(a: ActualServerState, action: ServerAction): ActualServerState {
  const wasForcedMaint = a.admin.maint.includes('forced');
  const otherMaint = a.admin.maint.filter((m) => m !== 'forced');
  const inheritedDrain = a.admin.drain.filter((d) => d !== 'forced');
  // Leaving maint (with no other maint source left) puts the server UP at once.
  const leftMaint = wasForcedMaint && otherMaint.length === 0;
  switch (action) {
    case 'maint':
      // `state maint` also clears a forced drain.
      return { ...a, admin: { maint: wasForcedMaint ? a.admin.maint : ['forced', ...a.admin.maint], drain: inheritedDrain }, opState: 'down' };
    case 'drain':
      return { ...a, admin: { maint: otherMaint, drain: ['forced', ...inheritedDrain] }, opState: leftMaint ? 'up' : a.opState };
    case 'ready':
      return { ...a, admin: { maint: otherMaint, drain: inheritedDrain }, opState: leftMaint ? 'up' : a.opState };
    case 'ready-health-down':
      return { ...a, admin: { maint: otherMaint, drain: inheritedDrain }, opState: 'down' };
    case 'ready-health-up':
      return { ...a, admin: { maint: otherMaint, drain: inheritedDrain }, opState: 'up' };
    case 'health-up':
      // A server in maint stays DOWN whatever its health is set to.
      return a.admin.maint.length > 0 ? a : { ...a, opState: 'up' };
    case 'health-down':
    case 'health-down-cut':
      return { ...a, opState: 'down' };
  }
}
