import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newRequestId } from './request-id.ts';

test('request ids keep their shape, are unique, and sort by the time they were made', () => {
  const ids = Array.from({ length: 5000 }, (_, i) => newRequestId(1_800_000_000_000 + Math.floor(i / 100)));
  for (const id of ids) assert.match(id, /^req_[0-9a-f]{32}$/);
  assert.equal(new Set(ids).size, ids.length);
  const later = newRequestId(1_800_000_000_100);
  assert.ok(ids.every((id) => id < later), 'an id made a millisecond later sorts after every earlier one');
  assert.equal(ids[0].slice(4, 16), (1_800_000_000_000).toString(16).padStart(12, '0'));
});
