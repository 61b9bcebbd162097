// Strict ISO 8601 times for the admin API (from, to, expires_at): a real calendar date
// with a four-digit year, optionally a time with seconds and fractions, and then an
// offset (Z or ±HH:MM). Date.parse is too lenient: it reads 2026-13-45 as a later date
// and +275760-09-13 as a year both stores mishandle. Instants are kept within what both
// stores hold and compare correctly (0001-01-01 to 9999-12-31, UTC).
import { invalidField } from '../canonical/errors.ts';
import { localDay, startOfDay } from '../budget/periods.ts';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}:?\d{2})$/;
export const MAX_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');
const EXPECTED = 'an ISO 8601 date or time with a 4-digit year and a real calendar date, such as 2026-05-01, 2026-05-01T12:00:00Z or 2026-05-01T12:00:00+02:00';

function isCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return day <= days;
}

function clamp(ms: number): Date {
  // Year 0000, or an offset pushing a time past 9999, is still outside every stored row.
  return new Date(Math.min(MAX_INSTANT, Math.max(minInstant(), ms)));
}

function minInstant(): number {
  const d = new Date(0);
  d.setUTCFullYear(1, 0, 1);
  return d.getTime();
}

/**
 * The instant a parameter names. A bare date is local midnight in `timeZone` (as `to`
 * with `endOfDay`, the end of that day); a date-time needs its offset.
 */
export function parseIsoTime(value: unknown, param: string, timeZone = 'UTC', endOfDay = false): Date {
  if (typeof value !== 'string') throw invalidField(param, EXPECTED, value);
  const date = DATE.exec(value);
  if (date) {
    const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
    if (!isCalendarDate(year, month, day)) throw invalidField(param, `${EXPECTED}; ${value} is not a calendar date`, value);
    // Date.UTC reads years 0–99 as 1900–1999; such dates are before every stored row anyway.
    if (year < 100) return clamp(utcInstant(year, month, day + (endOfDay ? 1 : 0), 0, 0, 0, 0));
    const start = startOfDay(value, timeZone);
    if (!endOfDay) return clamp(start);
    const next = start + 36 * 3600_000;
    return clamp(year === 9999 && month === 12 && day === 31 ? MAX_INSTANT : startOfDay(localDay(next, timeZone), timeZone));
  }
  const m = DATE_TIME.exec(value);
  if (!m) {
    const hint = /^[+-]\d{5,}/.test(value) ? '; years outside 0000–9999 are not accepted' : /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value) ? '; add Z or an offset such as +02:00' : '';
    throw invalidField(param, `${EXPECTED}${hint}`, value);
  }
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(m[i]));
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (!isCalendarDate(year, month, day) || hour > 23 || minute > 59 || second > 59) {
    throw invalidField(param, `${EXPECTED}; ${value} is not a real date and time`, value);
  }
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  let offsetMinutes = 0;
  if (m[8] !== 'Z' && m[8] !== 'z') {
    const sign = m[8][0] === '-' ? -1 : 1;
    const digits = m[8].slice(1).replace(':', '');
    const [oh, om] = [Number(digits.slice(0, 2)), Number(digits.slice(2))];
    if (oh > 23 || om > 59) throw invalidField(param, `${EXPECTED}; ${m[8]} is not a UTC offset`, value);
    offsetMinutes = sign * (oh * 60 + om);
  }
  return clamp(utcInstant(year, month, day, hour, minute, second, millis) - offsetMinutes * 60_000);
}

function utcInstant(year: number, month: number, day: number, hour: number, minute: number, second: number, millis: number): number {
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, millis);
  return utc.getTime();
}
