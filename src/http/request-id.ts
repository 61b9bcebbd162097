// Request ids that sort by time: `req_` + 32 hex digits, the first 12 the millisecond
// (as in UUIDv7), then a per-process sequence and 64 random bits. Ids made in order land
// at the end of the request log's primary-key index, so a batch of rows dirties a few
// index pages instead of one random page per row (what a random UUID does).
import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(4096);
let offset = pool.length;
let sequence = 0;

export function newRequestId(now = Date.now()): string {
  if (offset + 8 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const random = pool.toString('hex', offset, offset + 8);
  offset += 8;
  sequence = (sequence + 1) & 0xffff;
  return `req_${now.toString(16).padStart(12, '0')}${sequence.toString(16).padStart(4, '0')}${random}`;
}
