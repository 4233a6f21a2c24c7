/** Doubling backoff with a cap: 1 s, 2 s, 4 s … 60 s by default. */
export class Backoff {
  private current: number;

  constructor(
    private readonly initialMs = 1000,
    private readonly maxMs = 60_000,
  ) {
    this.current = initialMs;
  }

  /** The delay to wait now; the next call returns double (up to the cap). */
  next(): number {
    const d = this.current;
    this.current = Math.min(this.current * 2, this.maxMs);
    return d;
  }

  reset(): void {
    this.current = this.initialMs;
  }
}
