import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SseParser, formatSse, readSse } from './sse.ts';
import type { SseEvent } from './sse.ts';

/** Feed `text` to a parser in the given pieces, then end it. */
function parseInPieces(text: string, cuts: number[]): SseEvent[] {
  const parser = new SseParser();
  const out: SseEvent[] = [];
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    parser.push(text.slice(from, cut), out);
    from = cut;
  }
  parser.push(text.slice(from), out);
  return parser.end(out);
}

const fieldText = fc.string({ maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, ''));
const eventArb = fc.record({
  event: fc.option(fc.stringMatching(/^[a-z_.]{1,20}$/), { nil: undefined }),
  lines: fc.array(fieldText, { minLength: 1, maxLength: 3 }),
});

test('events come out whole whatever the line endings and wherever the stream is cut (property)', () => {
  fc.assert(
    fc.property(fc.array(eventArb, { maxLength: 6 }), fc.constantFrom('\n', '\r\n', '\r'), fc.array(fc.nat(), { maxLength: 8 }), (events, eol, cutSeeds) => {
      let text = '';
      for (const e of events) {
        if (e.event !== undefined) text += `event: ${e.event}${eol}`;
        for (const line of e.lines) text += `data: ${line}${eol}`;
        text += eol;
      }
      const cuts = cutSeeds.map((n) => (text.length === 0 ? 0 : n % (text.length + 1)));
      const expected = events.map((e) => (e.event === undefined ? { data: e.lines.join('\n') } : { event: e.event, data: e.lines.join('\n') }));
      assert.deepEqual(parseInPieces(text, cuts), expected);
    }),
    { numRuns: 500 },
  );
});

test('comments, unknown fields and a missing space after the colon are handled as the SSE spec says', () => {
  const text = ': keep-alive\nid: 7\nretry: 1000\ndata:{"a":1}\ndata:  two spaces\n\nevent: done\n\n';
  assert.deepEqual(parseInPieces(text, []), [{ data: '{"a":1}\n two spaces' }, { event: 'done', data: '' }]);
});

test('a blank line with no data and no event dispatches nothing; a final event without its blank line is flushed at the end', () => {
  assert.deepEqual(parseInPieces('\n\n\r\n: only a comment\n\n', []), []);
  assert.deepEqual(parseInPieces('data: [DONE]', [3]), [{ data: '[DONE]' }]);
  assert.deepEqual(parseInPieces('data: last\r', []), [{ data: 'last' }]);
});

test('a CR at the end of one piece and the LF starting the next are one line break', () => {
  const parser = new SseParser();
  const out: SseEvent[] = [];
  parser.push('data: a\r', out);
  parser.push('\ndata: b\r', out);
  parser.push('\n\r', out);
  parser.push('\n', out);
  assert.deepEqual(out, [{ data: 'a\nb' }]);
});

test('readSse decodes bytes split inside a multi-byte character', async () => {
  const bytes = Buffer.from(formatSse('{"text":"héllo 🌍"}') + formatSse('second', 'note'));
  async function* pieces() {
    yield bytes.subarray(0, 17);
    yield bytes.subarray(17, 30);
    yield bytes.subarray(30);
  }
  const events: SseEvent[] = [];
  for await (const event of readSse(pieces())) events.push(event);
  assert.deepEqual(events, [{ data: '{"text":"héllo 🌍"}' }, { event: 'note', data: 'second' }]);
});
