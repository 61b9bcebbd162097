import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { readWhole } from './read-whole.ts';

const failed = (error: Error | undefined) => new Error(`failed: ${error?.message ?? 'closed before its end'}`);

test('reads every chunk to the end, one chunk without a copy', async () => {
  const one = Buffer.from('{"a":1}');
  assert.equal(await readWhole(Readable.from([one], { objectMode: false }), { limitBytes: 100, failed }), one);
  const many = await readWhole(Readable.from([Buffer.from('ab'), Buffer.from('cd'), Buffer.from('e')], { objectMode: false }), { limitBytes: 100, failed });
  assert.equal(many.toString(), 'abcde');
});

test('past the limit: refused at once with overLimit (the rest drained unread), or read on keeping only what fits', async () => {
  const source = new PassThrough();
  const refused = readWhole(source, { limitBytes: 4, overLimit: () => new Error('413'), failed });
  source.write('abc');
  source.write('def');
  await assert.rejects(refused, /413/);
  source.end('more after the refusal is drained');
  const kept = await readWhole(Readable.from([Buffer.from('abc'), Buffer.from('def'), Buffer.from('g')], { objectMode: false }), { limitBytes: 4, failed });
  assert.equal(kept.toString(), 'abcg');
});

test('a stream that errors, closes before its end, or is already destroyed is failed with its error', async () => {
  const erroring = new PassThrough();
  const read = readWhole(erroring, { limitBytes: 100, failed });
  erroring.write('par');
  erroring.destroy(new Error('socket hang up'));
  await assert.rejects(read, /failed: socket hang up/);
  const cut = new PassThrough();
  const cutRead = readWhole(cut, { limitBytes: 100, failed });
  cut.write('par');
  cut.destroy();
  await assert.rejects(cutRead, /failed: closed before its end/);
  const gone = new PassThrough();
  gone.on('error', () => {});
  gone.destroy(new Error('reset'));
  await assert.rejects(readWhole(gone, { limitBytes: 100, failed }), /failed: reset/);
});
