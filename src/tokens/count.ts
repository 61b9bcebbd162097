// Input token counting with the real o200k tokenizer (GPT-4o/GPT-5 family), used for
// context-window checks and worst-case budget reservations.
//
// The counter is our own, over gpt-tokenizer's o200k_base vocabulary file and split
// pattern: the 200k token byte strings live in one buffer with an open-addressing
// table of ranks (about 5 MB), where a Map of strings costs the process about 60 MB
// of RSS, and it loads in tens of milliseconds. Counts are the same as tiktoken's
// (src/tokens/count.test.ts checks them against gpt-tokenizer). Special-token text
// such as "<|endoftext|>" in a prompt is counted as the plain text it is.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';
import type { CanonicalRequest, Message } from '../canonical/types.ts';

/** Tokens an image costs at most as input (OpenAI high detail, 2048px tile grid). */
const IMAGE_TOKENS = 1_105;
/** Per-message framing (role, separators), as OpenAI's chat format counts it. */
const PER_MESSAGE = 4;
const REPLY_PRIMING = 3;

type Counter = (text: string) => number;
let counter: Counter | undefined;

function loadCounter(): Counter {
  if (!counter) {
    const vocabulary = new O200kVocabulary(readFileSync(fileURLToPath(import.meta.resolve('gpt-tokenizer/data/o200k_base.tiktoken'))));
    const o200k = new O200kCounter(vocabulary);
    counter = (text: string) => o200k.count(text);
  }
  return counter;
}

/** Load the vocabulary now (at server start) rather than on the first count. */
export function preloadTokenizer(): void {
  loadCounter();
}

/** The exact o200k count of one text (special-token text counted as plain text). */
export function countTextTokens(text: string): number {
  return loadCounter()(text);
}

/**
 * A bound no tokenizer can exceed: every o200k token is at least one byte of UTF-8,
 * so the byte length of the text is an upper bound on its token count. Costs one
 * pass over the strings, no allocation.
 */
export function inputTokenUpperBound(request: CanonicalRequest): number {
  return walk(request, (text) => Buffer.byteLength(text, 'utf8'));
}

/** The exact o200k count of the request's input (text, tool definitions, framing, images). */
export async function countInputTokens(request: CanonicalRequest): Promise<number> {
  return walk(request, loadCounter());
}

/** countInputTokens, for a caller that cannot wait (a stream encoder's first event). */
export function countInputTokensNow(request: CanonicalRequest): number {
  return walk(request, loadCounter());
}

function walk(request: CanonicalRequest, count: Counter): number {
  let total = REPLY_PRIMING;
  for (const message of request.messages) total += PER_MESSAGE + messageTokens(message, count);
  if (request.tools) {
    for (const tool of request.tools) {
      total += count(tool.name) + (tool.description ? count(tool.description) : 0);
      if (tool.parameters) total += count(JSON.stringify(tool.parameters));
    }
  }
  if (request.responseFormat?.type === 'json_schema') total += count(JSON.stringify(request.responseFormat.schema));
  // Items only a relay carries (tool and content types the gateway does not translate), as JSON text.
  if (request.untranslatable) for (const item of request.untranslatable) if (item.json !== undefined) total += opaqueTokens(item.json, count);
  return total;
}

/** Inline file data (base64: PDFs, audio) is not read as text by providers; it costs what an image does. */
const INLINE_DATA_FROM = 1_024;
const BASE64_TEXT = /^[A-Za-z0-9+/=\r\n]+$/;

function opaqueTokens(json: unknown, count: Counter): number {
  let blobs = 0;
  const text = JSON.stringify(json, (_key, value) => {
    if (typeof value !== 'string' || value.length < INLINE_DATA_FROM) return value;
    const data = value.startsWith('data:') ? value.slice(value.indexOf(',') + 1) : value;
    if (!BASE64_TEXT.test(data)) return value;
    blobs++;
    return '';
  });
  return count(text) + blobs * IMAGE_TOKENS;
}

function messageTokens(message: Message, count: Counter): number {
  switch (message.role) {
    case 'system':
      return count(message.content);
    case 'tool':
      return count(message.content);
    case 'user': {
      let n = 0;
      for (const part of message.content) n += part.type === 'text' ? count(part.text) : IMAGE_TOKENS;
      return n;
    }
    case 'assistant': {
      let n = 0;
      for (const part of message.content) {
        if (part.type === 'text') n += count(part.text);
        else if (part.type === 'tool_call') n += count(part.name) + count(part.arguments);
        else n += count(part.text);
      }
      return n;
    }
  }
}

const NOT_FOUND = -1;
/** Below this many characters, encoding piece by piece costs less than copying the text. */
const ASCII_IN_PLACE_FROM = 4096;

/** The o200k_base ranks: token bytes by rank in one buffer, found by an FNV-1a hash. */
export class O200kVocabulary {
  readonly size: number;
  private readonly bytes: Uint8Array;
  /** rank → offset of its bytes; starts[size] is the end of the last. */
  private readonly starts: Uint32Array;
  /** Hash slot → rank + 1 (0: empty). */
  private readonly slots: Int32Array;
  private readonly mask: number;

  /** From a tiktoken ranks file: one "base64-bytes rank" line per token, ranks 0, 1, 2, … in order. */
  constructor(file: Uint8Array) {
    const lines = countLines(file);
    const bytes = new Uint8Array(Math.ceil((file.length * 3) / 4));
    const starts = new Uint32Array(lines + 1);
    let size = 0;
    let end = 0;
    for (let at = 0; at < file.length; ) {
      let space = at;
      while (space < file.length && file[space] !== 32 && file[space] !== 10) space++;
      let eol = space;
      while (eol < file.length && file[eol] !== 10) eol++;
      if (space > at) {
        if (parseDecimal(file, space + 1, eol) !== size) throw new Error(`o200k vocabulary: rank ${size} is not on line ${size + 1}`);
        starts[size++] = end;
        end = decodeBase64(file, at, space, bytes, end);
      }
      at = eol + 1;
    }
    starts[size] = end;
    this.size = size;
    this.bytes = bytes.slice(0, end);
    this.starts = starts.slice(0, size + 1);
    const capacity = 1 << Math.ceil(Math.log2(size * 2));
    this.slots = new Int32Array(capacity);
    this.mask = capacity - 1;
    for (let rank = 0; rank < size; rank++) {
      let slot = fnv1a(this.bytes, this.starts[rank], this.starts[rank + 1]) & this.mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
      this.slots[slot] = rank + 1;
    }
  }

  /** The rank of the token spelled by bytes[from, to), or -1 (NOT_FOUND). */
  rank(bytes: Uint8Array, from: number, to: number): number {
    const length = to - from;
    for (let slot = fnv1a(bytes, from, to) & this.mask; ; slot = (slot + 1) & this.mask) {
      const entry = this.slots[slot];
      if (entry === 0) return NOT_FOUND;
      const start = this.starts[entry - 1];
      if (this.starts[entry] - start !== length) continue;
      let i = 0;
      while (i < length && this.bytes[start + i] === bytes[from + i]) i++;
      if (i === length) return entry - 1;
    }
  }
}

/**
 * Counts tokens as tiktoken encodes them: the text split by the o200k pattern, each
 * piece that is not a token itself merged pair by pair, lowest rank first (leftmost
 * on ties). The merge runs on a linked list with a heap, so a long piece (a run of
 * letters without a break) costs n log n rather than n².
 */
export class O200kCounter {
  private readonly vocabulary: O200kVocabulary;
  /** Sticky: the pattern's matches tile the text, so each one starts where the last ended. */
  private readonly split = new RegExp(O200K_TOKEN_SPLIT_REGEX.source, 'uy');
  private readonly search = new RegExp(O200K_TOKEN_SPLIT_REGEX.source, 'gu');
  private piece = new Uint8Array(256);
  private next = new Int32Array(257);
  private prev = new Int32Array(257);
  private pairRank = new Int32Array(257);
  private heap = new Float64Array(512);
  /** The bytes the current merge works on, from `base`: this.piece, or a whole ASCII text. */
  private bytes: Uint8Array = this.piece;
  private base = 0;

  constructor(vocabulary: O200kVocabulary) {
    this.vocabulary = vocabulary;
  }

  count(text: string): number {
    const split = this.split;
    // A long ASCII text is its own UTF-8: its pieces are looked up in place, not re-encoded.
    const ascii = text.length >= ASCII_IN_PLACE_FROM && Buffer.byteLength(text, 'utf8') === text.length ? Buffer.from(text, 'latin1') : undefined;
    let tokens = 0;
    let from = 0;
    split.lastIndex = 0;
    // test() finds each piece's end without building a match array or a substring.
    while (from < text.length && split.test(text)) {
      const to = split.lastIndex;
      if (to === from) break;
      tokens += ascii ? this.countBytes(ascii, from, to - from) : this.countPiece(text, from, to);
      from = to;
    }
    return from < text.length ? tokens + this.countBySearch(text, from) : tokens;
  }

  /** The general loop, for text the sticky pattern cannot continue on (none is known). */
  private countBySearch(text: string, from: number): number {
    const search = this.search;
    search.lastIndex = from;
    let tokens = 0;
    for (let match = search.exec(text); match !== null; match = search.exec(text)) {
      if (match[0].length === 0) {
        search.lastIndex++;
        continue;
      }
      tokens += this.countPiece(text, match.index, match.index + match[0].length);
    }
    return tokens;
  }

  private countPiece(text: string, from: number, to: number): number {
    const length = this.encode(text, from, to);
    return this.countBytes(this.piece, 0, length);
  }

  /** Tokens in the piece bytes[start, start + length). */
  private countBytes(bytes: Uint8Array, start: number, length: number): number {
    if (length === 1 || this.vocabulary.rank(bytes, start, start + length) !== NOT_FOUND) return 1;
    if (this.next.length <= length) this.grow(length);
    this.bytes = bytes;
    this.base = start;
    return this.merge(length);
  }

  /** UTF-8 of text[from, to) into this.piece (lone surrogates as U+FFFD, as TextEncoder does); its length. */
  private encode(text: string, from: number, to: number): number {
    if (this.piece.length < (to - from) * 3) this.grow((to - from) * 3);
    const out = this.piece;
    let n = 0;
    for (let i = from; i < to; i++) {
      let c = text.charCodeAt(i);
      if (c < 0x80) {
        out[n++] = c;
        continue;
      }
      if (c < 0x800) {
        out[n++] = 0xc0 | (c >> 6);
        out[n++] = 0x80 | (c & 63);
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const low = c <= 0xdbff && i + 1 < to ? text.charCodeAt(i + 1) : 0;
        if (low >= 0xdc00 && low <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
          i++;
          out[n++] = 0xf0 | (c >> 18);
          out[n++] = 0x80 | ((c >> 12) & 63);
          out[n++] = 0x80 | ((c >> 6) & 63);
          out[n++] = 0x80 | (c & 63);
          continue;
        }
        c = 0xfffd;
      }
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 63);
      out[n++] = 0x80 | (c & 63);
    }
    return n;
  }

  /** Byte-pair merges over this.bytes[base, base + length); the number of parts left. Part i starts at byte base + i. */
  private merge(length: number): number {
    const { next, prev, pairRank, bytes, base } = this;
    for (let i = 0; i <= length; i++) {
      next[i] = i + 1;
      prev[i] = i - 1;
    }
    let heapSize = 0;
    for (let i = 0; i + 1 < length; i++) {
      pairRank[i] = this.vocabulary.rank(bytes, base + i, base + i + 2);
      if (pairRank[i] !== NOT_FOUND) heapSize = this.push(heapSize, pairRank[i], i);
    }
    pairRank[length - 1] = NOT_FOUND;
    let parts = length;
    while (heapSize > 0) {
      const top = this.heap[0];
      heapSize = this.pop(heapSize);
      const rank = Math.floor(top / 2 ** 32);
      const i = top - rank * 2 ** 32;
      // Stale entries: the part was merged away, or its pair has changed since.
      if (pairRank[i] !== rank) continue;
      const gone = next[i];
      next[i] = next[gone];
      if (next[i] <= length) prev[next[i]] = i;
      pairRank[gone] = NOT_FOUND;
      parts--;
      heapSize = this.rerank(heapSize, i, length);
      if (prev[i] >= 0) heapSize = this.rerank(heapSize, prev[i], length);
    }
    return parts;
  }

  /** Recompute the rank of the pair that starts at part i (and queue it). */
  private rerank(heapSize: number, i: number, length: number): number {
    const second = this.next[i];
    const end = second < length ? this.next[second] : length + 1;
    this.pairRank[i] = end <= length ? this.vocabulary.rank(this.bytes, this.base + i, this.base + end) : NOT_FOUND;
    return this.pairRank[i] === NOT_FOUND ? heapSize : this.push(heapSize, this.pairRank[i], i);
  }

  /** Min-heap of rank·2³² + position: lowest rank first, then leftmost, as tiktoken merges. */
  private push(size: number, rank: number, position: number): number {
    if (size === this.heap.length) {
      const bigger = new Float64Array(size * 2);
      bigger.set(this.heap);
      this.heap = bigger;
    }
    const heap = this.heap;
    const key = rank * 2 ** 32 + position;
    let at = size;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (heap[parent] <= key) break;
      heap[at] = heap[parent];
      at = parent;
    }
    heap[at] = key;
    return size + 1;
  }

  private pop(size: number): number {
    const heap = this.heap;
    const last = heap[--size];
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= size) break;
      if (child + 1 < size && heap[child + 1] < heap[child]) child++;
      if (heap[child] >= last) break;
      heap[at] = heap[child];
      at = child;
    }
    heap[at] = last;
    return size;
  }

  private grow(bytes: number): void {
    const capacity = 1 << Math.ceil(Math.log2(bytes + 1));
    this.piece = new Uint8Array(capacity);
    this.next = new Int32Array(capacity + 1);
    this.prev = new Int32Array(capacity + 1);
    this.pairRank = new Int32Array(capacity + 1);
  }
}

function fnv1a(bytes: Uint8Array, from: number, to: number): number {
  let hash = 0x811c9dc5;
  for (let i = from; i < to; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
  return hash >>> 0;
}

function countLines(file: Uint8Array): number {
  let lines = 1;
  for (let i = 0; i < file.length; i++) if (file[i] === 10) lines++;
  return lines;
}

function parseDecimal(file: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const digit = file[i] - 48;
    if (digit < 0 || digit > 9) break;
    n = n * 10 + digit;
  }
  return n;
}

const BASE64 = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) BASE64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;

/** Decode file[from, to) (base64, '=' padded) into out at `at`; returns the new end. */
function decodeBase64(file: Uint8Array, from: number, to: number, out: Uint8Array, at: number): number {
  let bits = 0;
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = BASE64[file[i]] ?? -1;
    if (digit < 0) break;
    value = (value << 6) | digit;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  return at;
}
