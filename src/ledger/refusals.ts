// Requests refused before authentication succeeded (401s), counted in memory by reason
// code instead of written to the request log, so an unauthenticated flood cannot grow
// the store. A plain counter a metrics exporter can read.
export class RefusalCounts {
  private readonly counts = new Map<string, number>();

  add(code: string): void {
    this.counts.set(code, (this.counts.get(code) ?? 0) + 1);
  }

  get(code: string): number {
    return this.counts.get(code) ?? 0;
  }

  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  /** Counts by reason code, e.g. { invalid_api_key: 200 }. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
