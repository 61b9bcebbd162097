// Sliding-window rate limiting by the two-window approximation: the count of the
// previous fixed window, weighted by how much of it still overlaps the sliding
// window, plus the count of the current one. O(1) memory per limit, exact enough
// (never lets through more than the limit over any window aligned to the clock).

export interface WindowVerdict {
  allowed: boolean;
  /** Estimated units used in the sliding window before this request. */
  used: number;
  /** When refused: ms until the request would fit; Infinity if it never can. */
  retryAfterMs: number;
  /** ms until the window is empty again with no new traffic (this request included when allowed). */
  resetMs: number;
}

export function judgeWindow(prev: number, cur: number, elapsedMs: number, windowMs: number, limit: number, amount: number): WindowVerdict {
  const remainingOfWindow = windowMs - elapsedMs;
  const used = (prev * remainingOfWindow) / windowMs + cur;
  const allowed = used + amount <= limit;
  // The reset a client is told counts its own request once admitted: the first request of
  // a window must not read "resets in 0ms".
  const counted = allowed ? cur + amount : cur;
  const resetMs = counted > 0 ? remainingOfWindow + windowMs : prev > 0 ? remainingOfWindow : 0;
  return { allowed, used, retryAfterMs: allowed ? 0 : retryAfter(prev, cur, elapsedMs, windowMs, limit, amount), resetMs };
}

function retryAfter(prev: number, cur: number, elapsedMs: number, windowMs: number, limit: number, amount: number): number {
  if (amount > limit) return Infinity;
  const room = limit - amount;
  const remainingOfWindow = windowMs - elapsedMs;
  // Still in this window: prev's weight shrinks until prev * weight + cur fits.
  if (cur <= room && prev > 0) {
    const weight = (room - cur) / prev;
    return Math.max(1, Math.ceil(remainingOfWindow - weight * windowMs));
  }
  // Next window: this window's count becomes the decaying previous one.
  const weight = cur > 0 ? room / cur : 1;
  return Math.max(1, Math.ceil(remainingOfWindow + (1 - weight) * windowMs));
}

/** OpenAI's duration format for x-ratelimit-reset-*: "120ms", "1.5s", "6m0s". */
export function formatResetDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(3))}s`;
  const seconds = Math.ceil(ms / 1000);
  return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}
