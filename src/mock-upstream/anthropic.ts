// POST /v1/messages (and /v1/messages/count_tokens) as Anthropic sends them,
// following the recorded traffic (messages-text.json, messages-stream-basic.sse,
// messages-stream-thinking.response.sse, messages-stream-tool-use.sse): event:
// lines, a ping after the first content_block_start, thinking blocks with an empty
// thinking_delta then a signature_delta, tool input as input_json_delta pieces
// after an empty one, and the trailing-space padding Anthropic puts after some
// data: JSON. Prompt caching is simulated: blocks marked cache_control (or a
// top-level cache_control) write the prefix on first sight and read it after, once
// the prefix is at least 1024 tokens, as Anthropic bills it.
import { createHash } from 'node:crypto';
import { type AnswerPlan, countText, IMAGE_TOKENS, opaqueBlob, PER_MESSAGE, planAnswer, REPLY_PRIMING, selectToolCalls, type ToolChoice, type ToolSpec } from './content.ts';
import { asArray, eventFrame, header, ID, isRecord, jsonReply, type MockRequest, type Reply, streamReply } from './wire.ts';

type Json = Record<string, unknown>;

const JSON_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'application/json' };
const SSE_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
const REDACTED_TRIGGER = 'ANTHROPIC_MAGIC_STRING_TRIGGER_REDACTED_THINKING_';
const MIN_CACHEABLE_TOKENS = 1024;
const PROMPT_CACHE_CAP = 10_000;
/** Trailing spaces after data: JSON, cycled over events (Anthropic pads some events). */
const PADDING = [0, 4, 10, 7, 0, 15, 3, 12, 6, 0, 1];

export function messages(req: MockRequest): Reply {
  const body = isRecord(req.body) ? req.body : undefined;
  if (!body || !Array.isArray(body.messages)) return anthropicInvalid('messages: Field required');
  if (typeof body.max_tokens !== 'number') return anthropicInvalid('max_tokens: Field required');
  const view = readMessages(body);
  const thinkingOn = isRecord(body.thinking) && (body.thinking.type === 'enabled' || body.thinking.type === 'adaptive');
  const choice = toolChoice(body.tool_choice);
  const plan = planAnswer({
    echoSource: view.echoSource,
    calls: selectToolCalls(view.tools, choice, !(isRecord(body.tool_choice) && body.tool_choice.disable_parallel_tool_use === true), view.afterToolResult),
    json: isRecord(body.output_format) && body.output_format.type === 'json_schema' ? { schema: body.output_format.schema } : undefined,
    preface: choice.mode === 'auto',
    maxOutputTokens: body.max_tokens,
    hiddenReasoningTokens: 0,
    thinking: thinkingOn,
    chunks: req.chunks,
  });
  const cache = req.cachedTokens > 0 ? { read: Math.min(req.cachedTokens, view.tokens), write: 0, longTtl: false } : simulateCache(view.segments, req.promptCache);
  const redacted = thinkingOn && view.echoSource.includes(REDACTED_TRIGGER);
  const message = { model: typeof body.model === 'string' ? body.model : 'claude-sonnet-4-5', id: `msg_${ID}`, type: 'message', role: 'assistant' };
  const usage = {
    input_tokens: view.tokens - cache.read - cache.write,
    cache_creation_input_tokens: cache.write,
    cache_read_input_tokens: cache.read,
    cache_creation: { ephemeral_5m_input_tokens: cache.longTtl ? 0 : cache.write, ephemeral_1h_input_tokens: cache.longTtl ? cache.write : 0 },
    output_tokens: plan.outputTokens,
    service_tier: 'standard',
    inference_geo: 'not_available',
  };
  const reply = body.stream === true
    ? streamReply(streamEvents(message, plan, usage, redacted), SSE_HEADERS, overloadedEvent)
    : jsonReply(200, { ...message, content: contentBlocks(plan, redacted), stop_reason: stopReason(plan), stop_sequence: null, usage }, JSON_HEADERS);
  reply.cacheable = view.segments.every((s) => !s.breakpoint);
  return reply;
}

export function countMessageTokens(req: MockRequest): Reply {
  const body = isRecord(req.body) ? req.body : undefined;
  if (!body || !Array.isArray(body.messages)) return anthropicInvalid('messages: Field required');
  return jsonReply(200, { input_tokens: readMessages(body).tokens }, JSON_HEADERS);
}

interface Segment {
  /** The block as sent; serialised for the prompt-cache key only when caching is asked for. */
  block: unknown;
  tokens: number;
  breakpoint: boolean;
  longTtl: boolean;
}

interface MessagesView {
  echoSource: string;
  afterToolResult: boolean;
  tools: ToolSpec[];
  /** Tools, system blocks, then message blocks: Anthropic's cache prefix order. */
  segments: Segment[];
  tokens: number;
}

function readMessages(body: Json): MessagesView {
  const segments: Segment[] = [];
  const tools: ToolSpec[] = [];
  const add = (block: unknown, tokens: number): void => {
    const control = isRecord(block) && isRecord(block.cache_control) ? block.cache_control : undefined;
    segments.push({ block, tokens, breakpoint: control !== undefined, longTtl: control?.ttl === '1h' });
  };
  for (const tool of asArray(body.tools)) {
    if (!isRecord(tool) || typeof tool.name !== 'string') continue;
    const schema = tool.input_schema ?? { type: 'object', properties: {} };
    if (tool.type === undefined || tool.type === 'custom') tools.push({ name: tool.name, schema });
    add(tool, countText(tool.name) + (typeof tool.description === 'string' ? countText(tool.description) : 0) + countText(JSON.stringify(schema)));
  }
  if (typeof body.system === 'string' && body.system) add(body.system, PER_MESSAGE + countText(body.system));
  else asArray(body.system).forEach((block, i) => add(block, (i === 0 ? PER_MESSAGE : 0) + blockTokens(block)));

  let echoSource = '';
  let afterToolResult = false;
  for (const message of body.messages as unknown[]) {
    if (!isRecord(message)) continue;
    const blocks = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : asArray(message.content);
    blocks.forEach((block, i) => add(block, (i === 0 ? PER_MESSAGE : 0) + blockTokens(block)));
    if (message.role !== 'user') continue;
    const results = blocks.filter((b): b is Json => isRecord(b) && b.type === 'tool_result');
    afterToolResult = results.length > 0;
    echoSource = afterToolResult ? results.map((r) => (typeof r.content === 'string' ? r.content : blocksText(asArray(r.content)))).join('\n') : blocksText(blocks);
  }
  if (isRecord(body.cache_control) && segments.length > 0) {
    // Automatic caching: the whole prompt up to its last block is the cached prefix.
    const last = segments[segments.length - 1];
    last.breakpoint = true;
    last.longTtl = body.cache_control.ttl === '1h';
  }
  let tokens = REPLY_PRIMING;
  for (const segment of segments) tokens += segment.tokens;
  return { echoSource, afterToolResult, tools, segments, tokens };
}

function blockTokens(block: unknown): number {
  if (typeof block === 'string') return countText(block);
  if (!isRecord(block)) return 0;
  switch (block.type) {
    case 'text': return countText(String(block.text ?? ''));
    case 'image': case 'document': return IMAGE_TOKENS;
    case 'tool_use': return countText(String(block.name ?? '')) + countText(JSON.stringify(block.input ?? {}));
    case 'tool_result': return typeof block.content === 'string' ? countText(block.content) : asArray(block.content).reduce<number>((n, b) => n + blockTokens(b), 0);
    case 'thinking': return countText(String(block.thinking ?? ''));
    default: return 0;
  }
}

function blocksText(blocks: unknown[]): string {
  const texts: string[] = [];
  for (const block of blocks) if (isRecord(block) && block.type === 'text' && typeof block.text === 'string') texts.push(block.text);
  return texts.join('\n');
}

function toolChoice(choice: unknown): ToolChoice {
  if (!isRecord(choice)) return { mode: 'auto' };
  if (choice.type === 'none') return { mode: 'none' };
  if (choice.type === 'any') return { mode: 'required' };
  if (choice.type === 'tool' && typeof choice.name === 'string') return { mode: 'required', name: choice.name };
  return { mode: 'auto' };
}

function simulateCache(segments: Segment[], seen: Set<string>): { read: number; write: number; longTtl: boolean } {
  if (segments.every((s) => !s.breakpoint)) return { read: 0, write: 0, longTtl: false };
  const hash = createHash('sha256');
  let total = REPLY_PRIMING;
  let read = 0;
  let lastBreakpoint = 0;
  let longTtl = false;
  const fresh: string[] = [];
  for (const segment of segments) {
    hash.update(JSON.stringify(segment.block) ?? '');
    total += segment.tokens;
    if (!segment.breakpoint || total < MIN_CACHEABLE_TOKENS) continue;
    const key = hash.copy().digest('base64');
    if (seen.has(key)) read = total;
    else fresh.push(key);
    lastBreakpoint = total;
    longTtl = segment.longTtl;
  }
  if (seen.size + fresh.length > PROMPT_CACHE_CAP) seen.clear();
  for (const key of fresh) seen.add(key);
  return { read, write: Math.max(0, lastBreakpoint - read), longTtl };
}

function stopReason(plan: AnswerPlan): string {
  if (plan.truncated) return 'max_tokens';
  return plan.calls.length > 0 ? 'tool_use' : 'end_turn';
}

function toolUseId(index: number): string {
  return `toolu_${ID}${index.toString(36)}`;
}

function signature(plan: AnswerPlan): string {
  return opaqueBlob(plan.thinking?.text ?? '', 4);
}

function contentBlocks(plan: AnswerPlan, redacted: boolean): Json[] {
  const blocks: Json[] = [];
  if (redacted) blocks.push({ type: 'redacted_thinking', data: opaqueBlob(plan.thinking?.text ?? '', 8) });
  else if (plan.thinking) blocks.push({ type: 'thinking', thinking: plan.thinking.text, signature: signature(plan) });
  if (plan.text !== '') blocks.push({ type: 'text', text: plan.text });
  plan.calls.forEach((call, i) => {
    blocks.push({ type: 'tool_use', id: toolUseId(i), name: call.name, input: call.complete ? JSON.parse(call.arguments) : {} });
  });
  return blocks;
}

function streamEvents(message: Json, plan: AnswerPlan, usage: Json, redacted: boolean): string[] {
  const frames: string[] = [];
  const emit = (type: string, fields: Json): void => {
    const pad = PADDING[frames.length % PADDING.length];
    frames.push(eventFrame(type, JSON.stringify({ type, ...fields }) + ' '.repeat(pad)));
  };
  let index = 0;
  const startBlock = (block: Json): void => {
    emit('content_block_start', { index, content_block: block });
    if (index === 0) frames.push(eventFrame('ping', '{"type": "ping"}'));
  };
  const delta = (value: Json): void => emit('content_block_delta', { index, delta: value });
  const stopBlock = (): void => {
    emit('content_block_stop', { index });
    index++;
  };

  emit('message_start', { message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } });
  if (redacted) {
    startBlock({ type: 'redacted_thinking', data: opaqueBlob(plan.thinking?.text ?? '', 8) });
    stopBlock();
  } else if (plan.thinking) {
    startBlock({ type: 'thinking', thinking: '', signature: '' });
    for (const piece of plan.thinking.pieces) delta({ type: 'thinking_delta', thinking: piece });
    delta({ type: 'thinking_delta', thinking: '' });
    delta({ type: 'signature_delta', signature: signature(plan) });
    stopBlock();
  }
  if (plan.text !== '') {
    startBlock({ type: 'text', text: '' });
    for (const piece of plan.pieces) delta({ type: 'text_delta', text: piece });
    stopBlock();
  }
  plan.calls.forEach((call, i) => {
    startBlock({ type: 'tool_use', id: toolUseId(i), name: call.name, input: {} });
    delta({ type: 'input_json_delta', partial_json: '' });
    for (const piece of call.pieces) delta({ type: 'input_json_delta', partial_json: piece });
    // Cut off by max_tokens inside the input: no content_block_stop (messages-stream-tool-use-max-tokens.sse).
    if (call.complete) stopBlock();
  });
  const { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, output_tokens } = usage;
  emit('message_delta', { delta: { stop_reason: stopReason(plan), stop_sequence: null }, usage: { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, output_tokens } });
  emit('message_stop', {});
  return frames;
}

/** The in-band error Anthropic sends when it overloads mid-stream (messages-stream-error-overloaded.sse). */
function overloadedEvent(): string {
  return eventFrame('error', '{"type":"error","error":{"details":null,"type":"overloaded_error","message":"Overloaded"}}');
}

const ERROR_TYPES: Record<number, [string, string]> = {
  400: ['invalid_request_error', "This model does not support effort level 'xhigh'. Supported levels: high, low, max, medium."],
  401: ['authentication_error', 'invalid x-api-key'],
  402: ['billing_error', 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'model: '],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: ['rate_limit_error', 'This request would exceed the rate limit for your organization of 50 requests per minute. Please reduce the prompt length or the maximum tokens requested, or try again later.'],
  500: ['api_error', 'Internal server error'],
  503: ['overloaded_error', 'Overloaded'],
  504: ['timeout_error', 'Request timed out'],
  529: ['overloaded_error', 'Overloaded'],
};

/** Anthropic's error envelope for a status ({type: "error", error: {type, message}, request_id}). */
export function anthropicError(status: number, req: MockRequest, retryAfter: string): Reply {
  const [type, text] = ERROR_TYPES[status] ?? [status >= 500 ? 'api_error' : 'invalid_request_error', `Request failed with status ${status}.`];
  const model = isRecord(req.body) && typeof req.body.model === 'string' ? req.body.model : '';
  const headers: Record<string, string> = { ...JSON_HEADERS, 'x-should-retry': String(status === 429 || status >= 500) };
  if (status === 429) Object.assign(headers, { 'retry-after': retryAfter, 'anthropic-ratelimit-requests-remaining': '0' });
  return jsonReply(status, { type: 'error', error: { type, message: status === 404 ? text + model : text }, request_id: `req_${ID}` }, headers);
}

export function anthropicInvalid(message: string): Reply {
  return jsonReply(400, { type: 'error', error: { type: 'invalid_request_error', message }, request_id: `req_${ID}` }, JSON_HEADERS);
}

/** The 401 Anthropic answers for a missing or wrong x-api-key; undefined when it matches. */
export function anthropicKeyCheck(req: MockRequest, apiKey: string): Reply | undefined {
  const bearer = header(req.headers, 'authorization');
  const key = header(req.headers, 'x-api-key') ?? (bearer?.startsWith('Bearer ') ? bearer.slice(7).trim() : undefined);
  if (key === apiKey) return undefined;
  const message = key === undefined ? 'x-api-key header is required' : 'invalid x-api-key';
  return jsonReply(401, { type: 'error', error: { type: 'authentication_error', message }, request_id: `req_${ID}` }, JSON_HEADERS);
}

