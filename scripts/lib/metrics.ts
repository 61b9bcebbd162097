// RouteLLM's router metrics over rows with a weak and a strong quality (0..1) and a score
// per row (higher = send to the strong model). Rows are sent strong in score order; rows
// with equal scores are taken together, pro rata, so a constant score is exactly random.

export interface Outcome {
  weak: number;
  strong: number;
}

export interface RouterMetrics {
  apgr: number | null;
  cpt50: number | null;
  cpt80: number | null;
  strong_share_at_95: number | null;
}

/** Mean quality when the top k/N rows by score go strong, for k = 0..N. */
export function qualityCurve(scores: ArrayLike<number>, rows: Outcome[]): Float64Array {
  const n = rows.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  const curve = new Float64Array(n + 1);
  let weakTotal = 0;
  for (const row of rows) weakTotal += row.weak;
  curve[0] = weakTotal / Math.max(1, n);
  let base = weakTotal;
  for (let start = 0; start < n; ) {
    let end = start;
    let groupGain = 0;
    while (end < n && scores[order[end]] === scores[order[start]]) {
      groupGain += rows[order[end]].strong - rows[order[end]].weak;
      end++;
    }
    const size = end - start;
    for (let k = start + 1; k <= end; k++) curve[k] = (base + (groupGain * (k - start)) / size) / n;
    base += groupGain;
    start = end;
  }
  return curve;
}

function smallestShare(curve: Float64Array, reached: (quality: number) => boolean): number | null {
  const n = curve.length - 1;
  for (let k = 0; k <= n; k++) if (reached(curve[k])) return k / Math.max(1, n);
  return null;
}

/** PGR at each share k/N; null when the strong model is not better than the weak one. */
export function pgrCurve(curve: Float64Array): Float64Array | null {
  const weak = curve[0];
  const strong = curve[curve.length - 1];
  if (!(strong > weak)) return null;
  return curve.map((q) => (q - weak) / (strong - weak));
}

export function metricsFromCurve(curve: Float64Array): RouterMetrics {
  const n = curve.length - 1;
  const strong = curve[n];
  const share95 = n === 0 ? null : smallestShare(curve, (q) => q >= 0.95 * strong - 1e-12);
  const pgr = pgrCurve(curve);
  if (!pgr || n === 0) return { apgr: null, cpt50: null, cpt80: null, strong_share_at_95: share95 };
  let area = 0;
  for (let k = 1; k <= n; k++) area += (pgr[k - 1] + pgr[k]) / 2 / n;
  const weak = curve[0];
  const atPgr = (x: number) => smallestShare(curve, (q) => (q - weak) / (strong - weak) >= x - 1e-12);
  return { apgr: area, cpt50: atPgr(0.5), cpt80: atPgr(0.8), strong_share_at_95: share95 };
}

export function routerMetrics(scores: ArrayLike<number>, rows: Outcome[]): RouterMetrics {
  return metricsFromCurve(qualityCurve(scores, rows));
}

/** The strong share a score threshold picks: the top fraction `share` of rows by score, for cost. */
export function rowsSentStrong(scores: ArrayLike<number>, share: number): Set<number> {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  return new Set(order.slice(0, Math.round(share * n)));
}
