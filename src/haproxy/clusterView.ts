/**
 * Maps the Patroni cluster model (src/patroni) into the planner's ClusterView. Pure.
 * The controller supplies what the model cannot know: whether the DCS was reachable for this
 * snapshot, and how far the leader's REST API confirmation got.
 */
import type { ClusterModel } from '../patroni/cluster.js';
import type { ClusterView, LeaderConfirmation } from './plan.js';

export function clusterViewOf(model: ClusterModel, dcsReachable: boolean, leaderConfirmation: LeaderConfirmation): ClusterView {
  return {
    dcsReachable,
    leader: model.leader ?? undefined,
    leaderConfirmation,
    // Failsafe keeps the primary serving only while the leader key is gone and the mode is on.
    failsafe: model.failsafeMode && model.failsafe !== null && model.leader === null,
    members: model.members.map((m) => ({ name: m.name, role: m.role, state: m.state, noloadbalance: m.tags.noloadbalance })),
  };
}
