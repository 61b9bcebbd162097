// The PGR-vs-strong-share plot as hand-written SVG: one polyline per router, axes, a legend.
export interface PlotSeries {
  name: string;
  color: string;
  /** PGR at shares k/(n-1), k = 0..n-1. */
  pgr: ArrayLike<number>;
}

const WIDTH = 560;
const HEIGHT = 400;
const MARGIN = 50;

function pointsOf(pgr: ArrayLike<number>, low: number, high: number): string {
  const n = pgr.length;
  const step = Math.max(1, Math.floor(n / 300));
  const points: string[] = [];
  for (let k = 0; k < n; k += step) points.push(point(k / Math.max(1, n - 1), pgr[k], low, high));
  points.push(point(1, pgr[n - 1], low, high));
  return points.join(' ');
}

function point(share: number, pgr: number, low: number, high: number): string {
  const x = MARGIN + share * (WIDTH - 2 * MARGIN);
  const y = HEIGHT - MARGIN - ((pgr - low) / (high - low)) * (HEIGHT - 2 * MARGIN);
  return `${x.toFixed(1)},${y.toFixed(1)}`;
}

export function pgrSvg(title: string, series: PlotSeries[]): string {
  let low = 0;
  let high = 1;
  for (const s of series) for (let k = 0; k < s.pgr.length; k++) { low = Math.min(low, s.pgr[k]); high = Math.max(high, s.pgr[k]); }
  const lines = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    `<line x1="${MARGIN}" y1="${HEIGHT - MARGIN}" x2="${WIDTH - MARGIN}" y2="${HEIGHT - MARGIN}" stroke="black"/>`,
    `<line x1="${MARGIN}" y1="${MARGIN}" x2="${MARGIN}" y2="${HEIGHT - MARGIN}" stroke="black"/>`,
    `<text x="${WIDTH / 2}" y="${HEIGHT - 15}" text-anchor="middle">share of calls sent to the strong model</text>`,
    `<text x="15" y="${HEIGHT / 2}" text-anchor="middle" transform="rotate(-90 15 ${HEIGHT / 2})">PGR</text>`,
  ];
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    const [x] = point(tick, low, low, high).split(',');
    const [, y] = point(0, tick, low, high).split(',');
    lines.push(`<text x="${x}" y="${HEIGHT - MARGIN + 15}" text-anchor="middle">${tick * 100}%</text>`);
    if (tick >= low && tick <= high) lines.push(`<text x="${MARGIN - 5}" y="${y}" text-anchor="end">${tick}</text>`);
  }
  series.forEach((s, i) => {
    lines.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pointsOf(s.pgr, low, high)}"/>`);
    const y = MARGIN + 10 + i * 16;
    lines.push(`<line x1="${WIDTH - MARGIN - 120}" y1="${y}" x2="${WIDTH - MARGIN - 100}" y2="${y}" stroke="${s.color}" stroke-width="2"/>`);
    lines.push(`<text x="${WIDTH - MARGIN - 95}" y="${y + 4}">${escapeXml(s.name)}</text>`);
  });
  lines.push('</svg>');
  return lines.join('\n') + '\n';
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
