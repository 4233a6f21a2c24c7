/** The daemon's Prometheus metrics (prom-client, a private registry). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class DaemonMetrics {
  readonly registry = new Registry();
  readonly renders = new Counter({
    name: 'haconfd_renders_total',
    help: 'Resource passes by result (unchanged, committed, noop)',
    labelNames: ['resource', 'result'] as const,
    registers: [this.registry],
  });
  readonly renderErrors = new Counter({
    name: 'haconfd_render_errors_total',
    help: 'Resource passes that failed, by stage (template, render, min_keys, stage, check, commit, reload)',
    labelNames: ['resource', 'stage'] as const,
    registers: [this.registry],
  });
  readonly checkFailures = new Counter({
    name: 'haconfd_check_failures_total',
    help: 'check_cmd runs that failed or timed out',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly reloads = new Counter({
    name: 'haconfd_reloads_total',
    help: 'Successful reloads',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly reloadFailures = new Counter({
    name: 'haconfd_reload_failures_total',
    help: 'reload_cmd runs that failed or timed out (each is retried with backoff)',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly lastSuccess = new Gauge({
    name: 'haconfd_last_success_timestamp_seconds',
    help: 'Unix time of the last pass of a resource that ended in sync',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly resourceFailing = new Gauge({
    name: 'haconfd_resource_failing',
    help: '1 while the latest pass of a resource failed (its last good file stays), 0 once in sync again',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly renderWarnings = new Counter({
    name: 'haconfd_render_warnings_total',
    help: 'Problems found while rendering that did not fail it (e.g. a Patroni member left out), by code',
    labelNames: ['resource', 'code'] as const,
    registers: [this.registry],
  });
  readonly watchReconnects = new Counter({
    name: 'haconfd_watch_reconnects_total',
    help: 'Times the backend watch was lost and re-established',
    registers: [this.registry],
  });
  readonly resyncs = new Counter({
    name: 'haconfd_backend_resyncs_total',
    help: 'Full re-reads of the watched prefixes, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly historyChanges = new Counter({
    name: 'haconfd_backend_history_changes_total',
    help: 'Times the backend turned out to hold another history (another etcd cluster, or a revision behind the one already seen): snapshot and watch replaced',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly readLatency = new Histogram({
    name: 'haconfd_backend_read_duration_seconds',
    help: 'Time to read the watched prefixes from the backend',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly revision = new Gauge({
    name: 'haconfd_backend_revision',
    help: 'Backend revision of the snapshot the daemon holds',
    registers: [this.registry],
  });
  readonly backendUp = new Gauge({
    name: 'haconfd_backend_up',
    help: '1 when the backend is reachable, 0 when not',
    registers: [this.registry],
  });
  readonly resourceConfigErrors = new Gauge({
    name: 'haconfd_resource_config_errors',
    help: 'conf.d files that could not be loaded',
    registers: [this.registry],
  });

  constructor() {
    // The event-loop delay monitor samples every 10 ms by default: ~100 wake-ups a second in an idle
    // daemon. Once a second is plenty for a lag gauge.
    collectDefaultMetrics({ register: this.registry, prefix: 'haconfd_', eventLoopMonitoringPrecision: 1000 });
  }
}
