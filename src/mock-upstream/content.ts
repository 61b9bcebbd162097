// What the mock "model" answers, derived only from the request so that tests can
// predict it: the answer text ("Echo: <last user text or tool result, trimmed>." and
// whole filler sentences up to the requested number of stream chunks), tool calls whose arguments
// are generated from each tool's JSON Schema, structured output that matches the
// requested schema, a thinking text when the caller asked for visible reasoning,
// the token counts behind the usage, and embedding vectors.
//
// Token counts use the o200k tokenizer (gpt-tokenizer, the encoding the gateway
// itself counts with): input = 3 + for every message (4 + its text tokens, 1105 per
// image) + tool names, descriptions and JSON schemas; output = the o200k count of
// every text, thinking text and tool-argument string produced, plus the hidden
// reasoning tokens of the requested effort (EFFORT_TOKENS).
import { createHash } from 'node:crypto';
import { countTokens, decode, encode } from 'gpt-tokenizer/encoding/o200k_base';
import { sampleFromSchema } from './schema.ts';

export const REPLY_PRIMING = 3;
export const PER_MESSAGE = 4;
export const IMAGE_TOKENS = 1105;

/** Hidden reasoning tokens per effort level (OpenAI reasoning_effort, Gemini thinkingLevel). */
export const EFFORT_TOKENS: Readonly<Record<string, number>> = { none: 0, minimal: 16, low: 64, medium: 192, high: 512, xhigh: 1024 };

/** More tool calls than this in one turn are not made, however many tools are offered. */
export const MAX_PARALLEL_CALLS = 4;
const ECHO_CAP = 300;
/** Embedding vectors are built from at most this many words of each input. */
const EMBED_WORD_CAP = 512;
/** Whole sentences added after the echo until the answer has enough words for its stream chunks. */
const FILLER = [
  'This answer comes from the Switchyard mock upstream.',
  'It repeats your last message, so tests can predict it.',
  'A real provider would answer here.',
];

export function countText(text: string): number {
  return text.length === 0 ? 0 : countTokens(text);
}

export function effortTokens(effort: unknown): number {
  return typeof effort === 'string' ? (EFFORT_TOKENS[effort] ?? EFFORT_TOKENS.medium) : 0;
}

export interface ToolSpec {
  name: string;
  schema: unknown;
}

export interface ToolChoice {
  mode: 'auto' | 'none' | 'required';
  /** A forced tool. */
  name?: string;
}

/**
 * The tools the model calls this turn: none when tool_choice is none or the last
 * message is a tool result (unless a call is forced); the forced one; else all
 * offered tools in parallel (up to MAX_PARALLEL_CALLS) or the first one.
 */
export function selectToolCalls(tools: ToolSpec[], choice: ToolChoice, parallel: boolean, afterToolResult: boolean): ToolSpec[] {
  if (tools.length === 0 || choice.mode === 'none') return [];
  if (choice.name !== undefined) {
    const forced = tools.find((tool) => tool.name === choice.name);
    return forced ? [forced] : [];
  }
  if (afterToolResult && choice.mode === 'auto') return [];
  return parallel ? tools.slice(0, MAX_PARALLEL_CALLS) : tools.slice(0, 1);
}

export interface AnswerInput {
  /** The text the answer echoes: the last user message, or the last tool result. */
  echoSource: string;
  /** Tools to call this turn (from selectToolCalls); empty = answer in text. */
  calls: ToolSpec[];
  /** Structured output: a JSON text matching `schema` (or any JSON object without one). */
  json?: { schema?: unknown };
  /** Say which tools are called in a short text before the calls (Claude does). */
  preface?: boolean;
  maxOutputTokens?: number;
  /** Reasoning tokens spent and billed but not shown (OpenAI effort). */
  hiddenReasoningTokens: number;
  /** Produce a visible thinking text (Anthropic thinking, Gemini thoughts, Responses summary). */
  thinking: boolean;
  /** How many stream deltas the answer text is cut into. */
  chunks: number;
}

export interface PlannedCall {
  name: string;
  arguments: string;
  /** The argument text cut into stream deltas. */
  pieces: string[];
  /** False when the output cap cut the arguments short (invalid JSON, as providers send it). */
  complete: boolean;
}

export interface AnswerPlan {
  thinking?: { text: string; pieces: string[] };
  text: string;
  pieces: string[];
  calls: PlannedCall[];
  /** Hidden reasoning plus thinking-text tokens. */
  reasoningTokens: number;
  /** Everything generated, reasoning included. */
  outputTokens: number;
  /** The output cap was reached. */
  truncated: boolean;
}

export function planAnswer(input: AnswerInput): AnswerPlan {
  const chunks = Math.max(1, Math.min(input.chunks, 10_000));
  const echo = echoOf(input.echoSource);
  const budget = new Budget(input.maxOutputTokens);

  let reasoningTokens = budget.take(input.hiddenReasoningTokens);
  let thinking: AnswerPlan['thinking'];
  if (input.thinking) {
    const fitted = budget.fit(thinkingTextFor(echo));
    reasoningTokens += fitted.tokens;
    thinking = { text: fitted.text, pieces: groupWords(fitted.text, chunks) };
  }

  let text = '';
  let pieces: string[] = [];
  let outputTokens = reasoningTokens;
  const wantsText = input.calls.length === 0 || input.preface === true;
  if (wantsText) {
    const full = input.calls.length > 0 ? `I'll call ${input.calls.map((c) => c.name).join(', ')}.` : input.json ? jsonAnswer(input.json, echo) : fillTo(echo, chunks);
    const fitted = budget.fit(full);
    text = fitted.text;
    pieces = input.json && input.calls.length === 0 ? splitEven(text, chunks) : groupWords(text, chunks);
    outputTokens += fitted.tokens;
  }

  const calls: PlannedCall[] = [];
  for (const tool of input.calls) {
    if (budget.exhausted) break;
    const fitted = budget.fit(JSON.stringify(sampleFromSchema(tool.schema)));
    outputTokens += fitted.tokens;
    calls.push({ name: tool.name, arguments: fitted.text, pieces: splitEven(fitted.text, Math.max(2, chunks)), complete: !fitted.cut });
  }
  return { thinking, text, pieces, calls, reasoningTokens, outputTokens, truncated: budget.cut };
}

class Budget {
  private left: number;
  cut = false;

  constructor(max: number | undefined) {
    this.left = max === undefined || !Number.isFinite(max) || max < 0 ? Infinity : Math.floor(max);
  }

  get exhausted(): boolean {
    return this.left <= 0;
  }

  take(tokens: number): number {
    const taken = Math.min(tokens, this.left);
    if (taken < tokens) this.cut = true;
    this.left -= taken;
    return taken;
  }

  fit(text: string): { text: string; tokens: number; cut: boolean } {
    if (this.left === Infinity) return { text, tokens: countText(text), cut: false };
    const tokens = encode(text);
    if (tokens.length <= this.left) {
      this.left -= tokens.length;
      return { text, tokens: tokens.length, cut: false };
    }
    const kept = Math.max(0, this.left);
    this.left = 0;
    this.cut = true;
    return { text: decode(tokens.slice(0, kept)), tokens: kept, cut: true };
  }
}

/** "Echo: <text>", ending like a sentence: a period if the text has no end mark, "…" if it was cut. */
export function echoOf(source: string): string {
  const trimmed = source.trim();
  if (trimmed.length > ECHO_CAP) return `Echo: ${trimmed.slice(0, ECHO_CAP).trimEnd()}…`;
  if (trimmed === '') return 'Echo: (an empty message).';
  return `Echo: ${trimmed}${/[.!?…]["')\]]*$/u.test(trimmed) ? '' : '.'}`;
}

function thinkingTextFor(echo: string): string {
  const quoted = echo.length > 126 ? `${echo.slice(6, 126)}…` : echo.slice(6);
  return `The user wrote "${quoted}". The reply is an echo of it.`;
}

function jsonAnswer(json: { schema?: unknown }, echo: string): string {
  return JSON.stringify(json.schema === undefined ? { echo } : sampleFromSchema(json.schema));
}

/** Append whole filler sentences until the text has at least `chunks` words. */
function fillTo(text: string, chunks: number): string {
  let words = countWords(text);
  let out = text;
  for (let i = 0; words < chunks; i++) {
    const sentence = FILLER[i % FILLER.length];
    out += ` ${sentence}`;
    words += countWords(sentence);
  }
  return out;
}

function countWords(text: string): number {
  return text.match(/\S+/g)?.length ?? 0;
}

/** Cut text at word starts into at most `parts` pieces that join back to it exactly. */
export function groupWords(text: string, parts: number): string[] {
  if (text.length === 0) return [];
  const words = text.match(/\s*\S+/g) ?? [text];
  const tail = text.length - words.join('').length;
  if (tail > 0) words[words.length - 1] += text.slice(text.length - tail);
  const count = Math.min(parts, words.length);
  const pieces: string[] = [];
  for (let i = 0; i < count; i++) {
    const from = Math.floor((i * words.length) / count);
    const to = Math.floor(((i + 1) * words.length) / count);
    pieces.push(words.slice(from, to).join(''));
  }
  return pieces;
}

/** Cut text into at most `parts` pieces of similar length, never inside a surrogate pair. */
export function splitEven(text: string, parts: number): string[] {
  if (text.length === 0) return [];
  const count = Math.min(parts, text.length);
  const pieces: string[] = [];
  let start = 0;
  for (let i = 1; i <= count; i++) {
    let end = i === count ? text.length : Math.floor((i * text.length) / count);
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end++;
    if (end > start) pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** A deterministic opaque base64 blob (thinking signatures, encrypted reasoning). */
export function opaqueBlob(seed: string, rounds = 3): string {
  const parts: Buffer[] = [];
  let hash = createHash('sha256').update(seed).digest();
  for (let i = 0; i < rounds; i++) {
    parts.push(hash);
    hash = createHash('sha256').update(hash).digest();
  }
  return Buffer.concat(parts).toString('base64');
}

/**
 * A unit vector from the words of the text: each word adds its own pseudo-random
 * direction, so equal texts get equal vectors and texts sharing words are close.
 */
export function embedText(text: string, dimensions: number): Float32Array {
  const sums = new Float64Array(dimensions);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [''];
  const limit = Math.min(words.length, EMBED_WORD_CAP);
  for (let w = 0; w < limit; w++) {
    let state = fnv1a(words[w]);
    for (let i = 0; i < dimensions; i++) {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
      sums[i] += ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
    }
  }
  let norm = 0;
  for (let i = 0; i < dimensions; i++) norm += sums[i] * sums[i];
  norm = Math.sqrt(norm) || 1;
  const vector = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) vector[i] = sums[i] / norm;
  return vector;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
