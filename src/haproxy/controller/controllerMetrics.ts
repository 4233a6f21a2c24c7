/** The controller's Prometheus metrics, registered on the daemon's registry (served at /metrics). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export class ControllerMetrics {
  readonly commands: Counter<'action' | 'kind' | 'result'>;
  readonly reconciles: Counter<'trigger'>;
  readonly reconcileErrors: Counter<'kind'>;
  readonly leaderChanges: Counter<'cluster'>;
  readonly confirmations: Counter<'cluster' | 'result'>;
  readonly routedLatency: Histogram<'cluster'>;
  readonly missingServers: Gauge;
  readonly workerChanges: Counter;
  readonly dcsHold: Gauge;
  readonly membership: Counter<'outcome'>;
  readonly holdRequests: Counter<'listen' | 'action'>;
  readonly heldConnections: Gauge<'listen' | 'outcome'>;
  readonly holdWait: Gauge<'listen'>;
  readonly shutdownsSeen: Counter<'cluster'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.commands = new Counter({
      name: 'haconfd_controller_commands_total',
      help: 'Runtime commands sent to HAProxy by action (maint, drain, ready, ready-health-down, ready-health-up, health-up; add, del, shutdown-sessions for membership), backend kind (write, read, other, membership) and result',
      labelNames: ['action', 'kind', 'result'] as const,
      registers,
    });
    this.reconciles = new Counter({
      name: 'haconfd_controller_reconciles_total',
      help: 'Reconcile passes by what triggered them (snapshot, timer, confirmation, reload, start)',
      labelNames: ['trigger'] as const,
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'haconfd_controller_reconcile_errors_total',
      help: 'Reconcile passes that failed, by error kind (SocketMissingError, PermissionDeniedError, …)',
      labelNames: ['kind'] as const,
      registers,
    });
    this.leaderChanges = new Counter({
      name: 'haconfd_controller_leader_changes_total',
      help: 'Changes of the leader key seen by the controller (deleted or naming another member)',
      labelNames: ['cluster'] as const,
      registers,
    });
    this.confirmations = new Counter({
      name: 'haconfd_controller_leader_confirmations_total',
      help: "New leaders confirmed (or not) through their REST API, by result (confirmed, timed-out)",
      labelNames: ['cluster', 'result'] as const,
      registers,
    });
    this.routedLatency = new Histogram({
      name: 'haconfd_controller_leader_routed_seconds',
      help: 'Time from seeing a new leader key to its server being UP in the write backends',
      labelNames: ['cluster'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10],
      registers,
    });
    this.missingServers = new Gauge({
      name: 'haconfd_controller_missing_servers',
      help: 'Backends/servers the controller expects that HAProxy does not have',
      registers,
    });
    this.workerChanges = new Counter({
      name: 'haconfd_controller_haproxy_worker_changes_total',
      help: 'Times a new HAProxy worker (reload or restart) was seen; roles and overrides are pushed again',
      registers,
    });
    this.dcsHold = new Gauge({
      name: 'haconfd_controller_dcs_hold',
      help: '1 while the controller changes nothing because the DCS is unreachable (or no snapshot yet)',
      registers,
    });
    this.membership = new Counter({
      name: 'haconfd_controller_membership_changes_total',
      help: 'Committed haproxy.cfg changes by how they reached HAProxy: runtime (add/del server, no reload) or reload',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.holdRequests = new Counter({
      name: 'haconfd_controller_hold_requests_total',
      help: "Hold requests sent to a write listen's haconfd-hold.lua around a planned switchover, by action (hold: started, release: ended early)",
      labelNames: ['listen', 'action'] as const,
      registers,
    });
    this.heldConnections = new Gauge({
      name: 'haconfd_haproxy_held_connections',
      help: "New connections a write listen held since its HAProxy worker started (haconfd holds), by outcome: held (all), released (routed), timed_out, abandoned (client left)",
      labelNames: ['listen', 'outcome'] as const,
      registers,
    });
    this.holdWait = new Gauge({
      name: 'haconfd_haproxy_hold_wait_seconds',
      help: 'Total time held connections waited, since the HAProxy worker started',
      labelNames: ['listen'] as const,
      registers,
    });
    this.shutdownsSeen = new Counter({
      name: 'haconfd_controller_switchover_shutdowns_seen_total',
      help: "Planned switchovers whose leader was seen shutting down (switchover_hold_from = \"shutdown\"): the moment new write connections start to be held",
      labelNames: ['cluster'] as const,
      registers,
    });
  }
}
