// Money in counters and spend tables is an integer count of 1e-8 USD ("units"), the
// precision roundUsd keeps, so sums are exact in JS, Lua (doubles) and SQL (bigint).
export const UNITS_PER_USD = 1e8;

export function toUnits(usd: number): number {
  return Math.round(usd * UNITS_PER_USD);
}

export function toUsd(units: number): number {
  return units / UNITS_PER_USD;
}

/** "$12.34" for messages; up to 4 decimals below $10 and 2 significant digits below a cent, so small spends do not read as $0.00. */
export function formatUsd(usd: number): string {
  if (usd !== 0 && Math.abs(usd) < 0.01) return `$${Number(usd.toPrecision(2))}`;
  if (Math.abs(usd) >= 10) return `$${usd.toFixed(2)}`;
  return `$${usd.toFixed(4).replace(/(\.\d\d\d?)0+$/, '$1').replace(/(\.\d\d)0$/, '$1')}`;
}
