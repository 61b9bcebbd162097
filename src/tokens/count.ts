// Input token counting with the real o200k tokenizer (GPT-4o/GPT-5 family), used for
// context-window checks and worst-case budget reservations. The tokenizer is loaded
// lazily: most requests are decided by a cheap byte bound and never need it.
import type { CanonicalRequest, Message } from '../canonical/types.ts';

/** Tokens an image costs at most as input (OpenAI high detail, 2048px tile grid). */
const IMAGE_TOKENS = 1_105;
/** Per-message framing (role, separators), as OpenAI's chat format counts it. */
const PER_MESSAGE = 4;
const REPLY_PRIMING = 3;

type Counter = (text: string) => number;
let counter: Counter | undefined;
let loading: Promise<Counter> | undefined;

async function loadCounter(): Promise<Counter> {
  if (counter) return counter;
  loading ??= import('gpt-tokenizer/encoding/o200k_base').then((mod) => {
    counter = (text: string) => mod.countTokens(text);
    return counter;
  });
  return loading;
}

/** Start loading the tokenizer in the background (at server start). */
export function preloadTokenizer(): void {
  void loadCounter();
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
  const count = await loadCounter();
  return walk(request, count);
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
  return total;
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
