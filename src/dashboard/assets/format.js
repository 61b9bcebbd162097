// How numbers, money and times are shown: exact enough to compare with the admin API.

/** Dollars with up to 8 decimals (the ledger's precision), no trailing zeros. */
export function usd(value) {
  if (value === null || value === undefined) return '—';
  return `$${Number(Number(value).toFixed(8)).toString()}`;
}

export function int(value) {
  return value === null || value === undefined ? '—' : String(value);
}

export function ms(value) {
  return value === null || value === undefined ? '—' : `${value} ms`;
}

/** An ISO time as the browser's local time, to the second. */
export function time(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** Pretty JSON for a stored body (text that may or may not be JSON). */
export function prettyJson(text) {
  if (typeof text !== 'string') return JSON.stringify(text, null, 2);
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
