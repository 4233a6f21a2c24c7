/**
 * Doubling backoff with a cap: 1 s, 2 s, 4 s … 60 s by default. The one retry schedule every layer
 * uses (backend reconnects, endpoint failover, resource retries), so it lives at the bottom.
 */
export class Backoff {
  private current: number;

  /**
   * @param initialMs the first delay
   * @param maxMs the cap
   * @param floorMs the least delay after the first (a quick first retry, then slower ones)
   */
  constructor(
    private readonly initialMs = 1000,
    private readonly maxMs = 60_000,
    private readonly floorMs = 0,
  ) {
    this.current = initialMs;
  }

  /** The delay to wait now; the next call returns double (at least the floor, at most the cap). */
  next(): number {
    const d = this.current;
    this.current = Math.min(Math.max(this.current * 2, this.floorMs), this.maxMs);
    return d;
  }

  reset(): void {
    this.current = this.initialMs;
  }
}
