// Latency vs concurrency as a small SVG line chart (no plotting dependency): three
// panels — p50 latency, p99 latency, throughput — with one line per target.
import type { LatencyPoint } from '../suites/latency.ts';
import type { TargetInfo } from './results.ts';

const COLORS = ['#6b7280', '#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c'];
const W = 960;
const PANEL_W = 250;
const PANEL_GAP = 70;
const PANEL_H = 250;
const TOP = 70;
const LEGEND_TOP = TOP + PANEL_H + 64;

interface Series {
  name: string;
  color: string;
  values: number[];
}

export function renderLatencyPlot(points: LatencyPoint[], targets: TargetInfo[], subtitle: string): string {
  const concurrencies = [...new Set(points.map((p) => p.concurrency))].sort((a, b) => a - b);
  const value = (id: string, c: number, pick: (p: LatencyPoint) => number) => {
    const p = points.find((q) => q.target === id && q.concurrency === c);
    return p ? pick(p) : NaN;
  };
  const seriesOf = (pick: (p: LatencyPoint) => number): Series[] =>
    targets.map((t, i) => ({ name: t.name, color: COLORS[i % COLORS.length], values: concurrencies.map((c) => value(t.id, c, pick)) }));
  const height = LEGEND_TOP + 20 * Math.ceil(targets.length / 3) + 10;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">Non-stream chat through each target vs concurrent connections</text>`,
    `<text x="${W / 2}" y="40" text-anchor="middle" fill="#555">${escape(subtitle)}</text>`,
    panel(60, 'p50 latency (ms)', concurrencies, seriesOf((p) => p.p50Ms)),
    panel(60 + PANEL_W + PANEL_GAP, 'p99 latency (ms)', concurrencies, seriesOf((p) => p.p99Ms)),
    panel(60 + 2 * (PANEL_W + PANEL_GAP), 'throughput (requests/s)', concurrencies, seriesOf((p) => p.rps)),
    legend(targets),
    '</svg>',
  ];
  return parts.join('\n') + '\n';
}

function panel(left: number, title: string, xs: number[], series: Series[]): string {
  const max = niceMax(Math.max(...series.flatMap((s) => s.values.filter(Number.isFinite))));
  const x = (i: number) => left + (xs.length === 1 ? PANEL_W / 2 : (i * PANEL_W) / (xs.length - 1));
  const y = (v: number) => TOP + PANEL_H - (v / max) * PANEL_H;
  const out = [`<text x="${left + PANEL_W / 2}" y="${TOP - 8}" text-anchor="middle" font-weight="600">${escape(title)}</text>`];
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    out.push(`<line x1="${left}" x2="${left + PANEL_W}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555">${formatTick(v)}</text>`);
  }
  xs.forEach((c, i) => out.push(`<text x="${x(i)}" y="${TOP + PANEL_H + 18}" text-anchor="middle" fill="#555">${c}</text>`));
  out.push(`<text x="${left + PANEL_W / 2}" y="${TOP + PANEL_H + 34}" text-anchor="middle" fill="#555">concurrent connections</text>`);
  for (const s of series) {
    const pts = s.values.map((v, i) => (Number.isFinite(v) ? `${x(i).toFixed(1)},${y(v).toFixed(1)}` : '')).filter(Boolean);
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(' ')}"><title>${escape(s.name)}</title></polyline>`);
    for (const p of pts) out.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${s.color}"/>`);
  }
  return out.join('\n');
}

function legend(targets: TargetInfo[]): string {
  return targets
    .map((t, i) => {
      const lx = 60 + (i % 3) * 300;
      const ly = LEGEND_TOP + Math.floor(i / 3) * 20;
      return `<rect x="${lx}" y="${ly - 9}" width="14" height="4" fill="${COLORS[i % COLORS.length]}"/><text x="${lx + 20}" y="${ly - 4}">${escape(t.name)}</text>`;
    })
    .join('\n');
}

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= v) return step * magnitude;
  return 10 * magnitude;
}

function formatTick(v: number): string {
  if (v >= 1000) return `${Number((v / 1000).toFixed(1))}k`;
  return String(Number(v.toFixed(v >= 10 ? 1 : 2)));
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
