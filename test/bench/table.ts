/** Shared shape of benchmark results; test/bench/run.ts prints every module's rows as one table. */
export interface BenchRow {
  /** Issue number the figure belongs to. */
  readonly issue: number;
  /** What was measured, e.g. "etcd put → file (200 updates)". */
  readonly name: string;
  /** The figure(s), e.g. "p50 3.1 ms, p99 9.8 ms". Medians over `runs` runs. */
  readonly value: string;
  /** The issue's target, e.g. "p50 ≤ 5 ms, p99 ≤ 15 ms". */
  readonly target?: string;
  readonly runs?: number;
}

export interface BenchModule {
  /** Runs the benchmark (several runs, reporting medians) and returns its rows. */
  run(): Promise<BenchRow[]>;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i] as number;
}
