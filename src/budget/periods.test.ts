import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertTimeZone, localDay, startOfDay, windowOf } from './periods.ts';

const at = (iso: string) => Date.parse(iso);

test('day, week and month windows in UTC start on calendar boundaries', () => {
  const now = at('2026-05-10T15:00:00Z'); // a Sunday
  const day = windowOf('day', now, 'UTC');
  assert.deepEqual([day.startDay, day.endDay, day.resetsAt?.toISOString()], ['2026-05-10', '2026-05-11', '2026-05-11T00:00:00.000Z']);
  const week = windowOf('week', now, 'UTC');
  assert.deepEqual([week.startDay, week.endDay, week.resetsAt?.toISOString()], ['2026-05-04', '2026-05-11', '2026-05-11T00:00:00.000Z']);
  const month = windowOf('month', at('2026-12-31T23:59:59Z'), 'UTC');
  assert.deepEqual([month.startDay, month.endDay, month.resetsAt?.toISOString()], ['2026-12-01', '2027-01-01', '2027-01-01T00:00:00.000Z']);
  const total = windowOf('total', now, 'UTC');
  assert.deepEqual([total.startDay, total.resetsAt, total.key], [null, null, 'total']);
});

test('windows follow the configured time zone, across DST changes', () => {
  // 22:00 on Feb 28 in New York: still February there.
  const month = windowOf('month', at('2026-03-01T03:00:00Z'), 'America/New_York');
  assert.equal(month.startDay, '2026-02-01');
  assert.equal(month.resetsAt?.toISOString(), '2026-03-01T05:00:00.000Z');
  // Berlin switches to summer time on 2026-03-29: that day is 23 hours long.
  const day = windowOf('day', at('2026-03-29T12:00:00Z'), 'Europe/Berlin');
  assert.equal(day.startDay, '2026-03-29');
  assert.equal(day.resetsAt?.toISOString(), '2026-03-29T22:00:00.000Z');
  assert.equal(new Date(startOfDay('2026-03-29', 'Europe/Berlin')).toISOString(), '2026-03-28T23:00:00.000Z');
  assert.equal(localDay(at('2026-05-10T23:30:00Z'), 'Asia/Tokyo'), '2026-05-11');
  assert.equal(localDay(at('2026-05-10T23:30:00Z'), 'UTC'), '2026-05-10');
});

test('the cached day answer is not reused across a midnight', () => {
  assert.equal(localDay(at('2026-07-01T23:59:59.999Z'), 'UTC'), '2026-07-01');
  assert.equal(localDay(at('2026-07-02T00:00:00.000Z'), 'UTC'), '2026-07-02');
  assert.equal(windowOf('day', at('2026-07-01T23:59:59.999Z'), 'UTC').startDay, '2026-07-01');
  assert.equal(windowOf('day', at('2026-07-02T00:00:00.000Z'), 'UTC').startDay, '2026-07-02');
});

test('an unknown time zone is refused with its name', () => {
  assert.throws(() => assertTimeZone('Mars/Olympus'), /Unknown time zone 'Mars\/Olympus'/);
  assertTimeZone('Europe/Berlin');
});
