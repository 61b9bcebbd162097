// Budget windows on calendar boundaries in a configured IANA time zone. Spend is kept
// per local day (YYYY-MM-DD), so a window is a range of local days: [startDay, endDay).
export type Period = 'day' | 'week' | 'month' | 'total';
export const PERIODS: readonly Period[] = ['day', 'week', 'month', 'total'];

export interface BudgetWindow {
  period: Period;
  /** First local day in the window; null for `total`. */
  startDay: string | null;
  /** First local day after the window; null for `total`. */
  endDay: string | null;
  /** When the window ends and the budget resets; null for `total`. */
  resetsAt: Date | null;
  /** Identifies the window in counters: the start day, or "total". */
  key: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Throws a RangeError naming the zone when it is not a valid IANA name. */
export function assertTimeZone(timeZone: string): void {
  try {
    formatterFor(timeZone);
  } catch {
    throw new RangeError(`Unknown time zone '${timeZone}': use an IANA name such as 'UTC' or 'Europe/Berlin'.`);
  }
}

interface LocalDate { year: number; month: number; day: number }

function localParts(instant: number, timeZone: string): LocalDate & { hour: number; minute: number; second: number } {
  const out = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatterFor(timeZone).formatToParts(instant)) {
    if (part.type in out) out[part.type as keyof typeof out] = Number(part.value);
  }
  return out;
}

/** Local time minus UTC, in ms, at an instant. */
function offsetAt(instant: number, timeZone: string): number {
  const p = localParts(instant, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** The UTC instant of local midnight starting a calendar date (DST-aware). */
function startOfLocalDate(date: LocalDate, timeZone: string): number {
  const asUtc = Date.UTC(date.year, date.month - 1, date.day);
  const first = asUtc - offsetAt(asUtc, timeZone);
  const second = asUtc - offsetAt(first, timeZone);
  return second;
}

function dayString(date: LocalDate): string {
  return `${date.year}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
}

/** Calendar arithmetic on dates (no time zone involved). */
function addDays(date: LocalDate, days: number): LocalDate {
  const t = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

// The hot path asks for the local day of "now" on every request: remember the last
// day's bounds per zone so the formatter runs once per day, not once per request.
const dayCache = new Map<string, { from: number; to: number; day: string }>();

/** The local calendar day (YYYY-MM-DD) of an instant in a time zone. */
export function localDay(instant: number, timeZone: string): string {
  const cached = dayCache.get(timeZone);
  if (cached && instant >= cached.from && instant < cached.to) return cached.day;
  const p = localParts(instant, timeZone);
  const date = { year: p.year, month: p.month, day: p.day };
  const from = startOfLocalDate(date, timeZone);
  const to = startOfLocalDate(addDays(date, 1), timeZone);
  const day = dayString(date);
  if (instant >= from && instant < to) dayCache.set(timeZone, { from, to, day });
  return day;
}

/** The instant local day `YYYY-MM-DD` starts in a time zone (epoch ms); NaN if not a date. */
export function startOfDay(day: string, timeZone: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return NaN;
  return startOfLocalDate({ year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) }, timeZone);
}

const windowCache = new Map<string, { from: number; to: number; window: BudgetWindow }>();

/** The window of a period that contains an instant. */
export function windowOf(period: Period, instant: number, timeZone: string): BudgetWindow {
  if (period === 'total') return TOTAL_WINDOW;
  const cacheKey = `${period}\u0000${timeZone}`;
  const cached = windowCache.get(cacheKey);
  if (cached && instant >= cached.from && instant < cached.to) return cached.window;
  const p = localParts(instant, timeZone);
  const today = { year: p.year, month: p.month, day: p.day };
  let start: LocalDate;
  let end: LocalDate;
  if (period === 'day') {
    start = today;
    end = addDays(today, 1);
  } else if (period === 'week') {
    // ISO weeks start on Monday.
    const weekday = new Date(Date.UTC(today.year, today.month - 1, today.day)).getUTCDay();
    start = addDays(today, -((weekday + 6) % 7));
    end = addDays(start, 7);
  } else {
    start = { year: today.year, month: today.month, day: 1 };
    end = today.month === 12 ? { year: today.year + 1, month: 1, day: 1 } : { year: today.year, month: today.month + 1, day: 1 };
  }
  const from = startOfLocalDate(start, timeZone);
  const to = startOfLocalDate(end, timeZone);
  const window: BudgetWindow = { period, startDay: dayString(start), endDay: dayString(end), resetsAt: new Date(to), key: dayString(start) };
  if (instant >= from && instant < to) windowCache.set(cacheKey, { from, to, window });
  return window;
}

const TOTAL_WINDOW: BudgetWindow = Object.freeze({ period: 'total', startDay: null, endDay: null, resetsAt: null, key: 'total' }) as BudgetWindow;
