// POST /v1/responses, in the shape of the recorded traffic (responses-text.json,
// responses-stream-reasoning-summary.response.sse, responses-stream-reasoning-
// function-call-usage.response.sse): typed events with sequence numbers, reasoning
// items (summary when reasoning.summary is set, encrypted_content when included),
// function calls streamed as argument deltas, response.incomplete at the output cap.
import { type AnswerPlan, countText, effortTokens, IMAGE_TOKENS, opaqueBlob, PER_MESSAGE, planAnswer, REPLY_PRIMING, selectToolCalls, type ToolSpec } from './content.ts';
import { toolChoice } from './openai-chat.ts';
import { OPENAI_HEADERS, OPENAI_SSE_HEADERS, openaiBadRequest } from './openai.ts';
import { asArray, CREATED, eventFrame, ID, isRecord, jsonReply, type MockRequest, obfuscation, type Reply, streamReply } from './wire.ts';

type Json = Record<string, unknown>;

const STREAM_FAILURE = 'The server had an error processing your request. Sorry about that! You can retry your request, or contact us through our help center at help.openai.com if you keep seeing this error.';

export function responses(req: MockRequest): Reply {
  const body = isRecord(req.body) ? req.body : undefined;
  if (!body || (typeof body.input !== 'string' && !Array.isArray(body.input))) return openaiBadRequest("Missing required parameter: 'input'.", 'input');
  const reasoning = isRecord(body.reasoning) ? body.reasoning : {};
  const effort = typeof reasoning.effort === 'string' && reasoning.effort !== 'none' ? reasoning.effort : undefined;
  const read = readInput(body);
  const tools = functionTools(body.tools);
  const plan = planAnswer({
    echoSource: read.echoSource,
    calls: selectToolCalls(tools.specs, toolChoice(body.tool_choice), body.parallel_tool_calls !== false, read.afterToolResult),
    json: textFormat(body.text),
    maxOutputTokens: typeof body.max_output_tokens === 'number' ? body.max_output_tokens : undefined,
    hiddenReasoningTokens: effortTokens(effort),
    thinking: effort !== undefined && typeof reasoning.summary === 'string',
    chunks: req.chunks,
  });
  const inputTokens = read.tokens + tools.tokens;
  const usage = {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: Math.min(req.cachedTokens, inputTokens) },
    output_tokens: plan.outputTokens,
    output_tokens_details: { reasoning_tokens: plan.reasoningTokens },
    total_tokens: inputTokens + plan.outputTokens,
  };
  const items = outputItems(plan, effort !== undefined, asArray(body.include).includes('reasoning.encrypted_content'));
  const base = responseBase(body, tools.echoed);
  // Spreading keeps the base's key order (the wire order) and takes the final values.
  const final: Json = { ...base, status: plan.truncated ? 'incomplete' : 'completed', incomplete_details: plan.truncated ? { reason: 'max_output_tokens' } : null, output: items.map((i) => i.done), usage };
  if (body.stream !== true) return jsonReply(200, final, OPENAI_HEADERS);
  return streamReply(events(base, final, items, plan.truncated), OPENAI_SSE_HEADERS, (sent) => streamFailure(base, sent));
}

function readInput(body: Json): { echoSource: string; afterToolResult: boolean; tokens: number } {
  const items: unknown[] = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : (body.input as unknown[]);
  let tokens = REPLY_PRIMING + (typeof body.instructions === 'string' && body.instructions ? PER_MESSAGE + countText(body.instructions) : 0);
  let echoSource = '';
  for (const item of items) {
    if (!isRecord(item)) continue;
    if (item.type === 'function_call_output') {
      const output = typeof item.output === 'string' ? item.output : partsText(item.output).text;
      tokens += PER_MESSAGE + countText(output);
      echoSource = output;
    } else if (item.type === 'function_call') {
      tokens += PER_MESSAGE + countText(String(item.name ?? '')) + countText(String(item.arguments ?? ''));
    } else if (item.type === 'reasoning') {
      for (const part of asArray(item.summary)) if (isRecord(part) && typeof part.text === 'string') tokens += countText(part.text);
    } else if (item.role !== undefined) {
      const content = typeof item.content === 'string' ? { text: item.content, tokens: countText(item.content) } : partsText(item.content);
      tokens += PER_MESSAGE + content.tokens;
      if (item.role === 'user') echoSource = content.text;
    }
  }
  const last = items[items.length - 1];
  return { echoSource, afterToolResult: isRecord(last) && last.type === 'function_call_output', tokens };
}

function partsText(parts: unknown): { text: string; tokens: number } {
  let text = '';
  let tokens = 0;
  for (const part of asArray(parts)) {
    if (!isRecord(part)) continue;
    if (typeof part.text === 'string') {
      text += text ? `\n${part.text}` : part.text;
      tokens += countText(part.text);
    } else if (part.type === 'input_image') tokens += IMAGE_TOKENS;
  }
  return { text, tokens };
}

function functionTools(tools: unknown): { specs: ToolSpec[]; echoed: Json[]; tokens: number } {
  const specs: ToolSpec[] = [];
  const echoed: Json[] = [];
  let tokens = 0;
  for (const tool of asArray(tools)) {
    if (!isRecord(tool)) continue;
    if (tool.type !== 'function' || typeof tool.name !== 'string') {
      echoed.push(tool);
      continue;
    }
    const parameters = tool.parameters ?? { type: 'object', properties: {} };
    specs.push({ name: tool.name, schema: parameters });
    echoed.push({ type: 'function', description: tool.description ?? null, name: tool.name, parameters, strict: tool.strict ?? true });
    tokens += countText(tool.name) + (typeof tool.description === 'string' ? countText(tool.description) : 0) + countText(JSON.stringify(parameters));
  }
  return { specs, echoed, tokens };
}

function textFormat(text: unknown): { schema?: unknown } | undefined {
  const format = isRecord(text) && isRecord(text.format) ? text.format : undefined;
  if (format?.type === 'json_object') return {};
  if (format?.type === 'json_schema') return { schema: format.schema ?? {} };
  return undefined;
}

function responseBase(body: Json, tools: Json[]): Json {
  const reasoning = isRecord(body.reasoning) ? body.reasoning : {};
  const text = isRecord(body.text) ? body.text : {};
  return {
    id: `resp_${ID}`, object: 'response', created_at: CREATED, status: 'in_progress', background: false, error: null, incomplete_details: null,
    instructions: body.instructions ?? null, max_output_tokens: body.max_output_tokens ?? null, max_tool_calls: null,
    model: typeof body.model === 'string' ? body.model : 'gpt-4o', output: [], parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null, prompt_cache_key: null,
    reasoning: { effort: reasoning.effort ?? null, summary: reasoning.summary ?? null }, safety_identifier: null, service_tier: 'default',
    store: body.store ?? true, temperature: body.temperature ?? 1, text: { format: text.format ?? { type: 'text' }, verbosity: text.verbosity ?? 'medium' },
    tool_choice: body.tool_choice ?? 'auto', tools, top_logprobs: 0, top_p: body.top_p ?? 1, truncation: body.truncation ?? 'disabled',
    usage: null, user: body.user ?? null, metadata: body.metadata ?? {},
  };
}

interface OutputItem {
  kind: 'reasoning' | 'message' | 'function_call';
  added: Json;
  done: Json;
  /** Streamed parts between added and done. */
  pieces: string[];
  text: string;
}

function outputItems(plan: AnswerPlan, reasoning: boolean, encrypted: boolean): OutputItem[] {
  const items: OutputItem[] = [];
  if (reasoning) {
    const blob = encrypted ? { encrypted_content: `gAAAAA${opaqueBlob(`${plan.reasoningTokens}:${plan.thinking?.text ?? ''}`, 6)}` } : {};
    const summary = plan.thinking ? [{ type: 'summary_text', text: plan.thinking.text }] : [];
    items.push({
      kind: 'reasoning',
      added: { id: `rs_${ID}`, type: 'reasoning', ...blob, summary: [] },
      done: { id: `rs_${ID}`, type: 'reasoning', ...blob, summary },
      pieces: plan.thinking?.pieces ?? [],
      text: plan.thinking?.text ?? '',
    });
  }
  if (plan.calls.length === 0 || plan.text !== '') {
    const status = plan.truncated ? 'incomplete' : 'completed';
    items.push({
      kind: 'message',
      added: { id: `msg_${ID}`, type: 'message', status: 'in_progress', content: [], role: 'assistant' },
      done: { id: `msg_${ID}`, type: 'message', status, content: [{ type: 'output_text', annotations: [], logprobs: [], text: plan.text }], role: 'assistant' },
      pieces: plan.pieces,
      text: plan.text,
    });
  }
  plan.calls.forEach((call, i) => {
    const ids = { id: `fc_${ID}${i.toString(36)}`, type: 'function_call' };
    const names = { call_id: `call_${ID}${i.toString(36)}`, name: call.name };
    items.push({
      kind: 'function_call',
      added: { ...ids, status: 'in_progress', arguments: '', ...names },
      done: { ...ids, status: call.complete ? 'completed' : 'incomplete', arguments: call.arguments, ...names },
      pieces: call.pieces,
      text: call.arguments,
    });
  });
  return items;
}

function events(base: Json, final: Json, items: OutputItem[], truncated: boolean): string[] {
  const frames: string[] = [];
  const emit = (type: string, fields: Json): void => {
    frames.push(eventFrame(type, JSON.stringify({ type, sequence_number: frames.length, ...fields })));
  };
  emit('response.created', { response: base });
  emit('response.in_progress', { response: base });
  items.forEach((item, output_index) => {
    const at = { item_id: item.added.id, output_index };
    emit('response.output_item.added', { output_index, item: item.added });
    if (item.kind === 'reasoning' && item.text !== '') {
      const summary = { ...at, summary_index: 0 };
      emit('response.reasoning_summary_part.added', { ...summary, part: { type: 'summary_text', text: '' } });
      for (const delta of item.pieces) emit('response.reasoning_summary_text.delta', { ...summary, delta, obfuscation: obfuscation(frames.length) });
      emit('response.reasoning_summary_text.done', { ...summary, text: item.text });
      emit('response.reasoning_summary_part.done', { ...summary, part: { type: 'summary_text', text: item.text } });
    } else if (item.kind === 'message') {
      const part = { ...at, content_index: 0 };
      emit('response.content_part.added', { ...part, part: { type: 'output_text', annotations: [], logprobs: [], text: '' } });
      for (const delta of item.pieces) emit('response.output_text.delta', { ...part, delta, logprobs: [], obfuscation: obfuscation(frames.length) });
      emit('response.output_text.done', { ...part, text: item.text, logprobs: [] });
      emit('response.content_part.done', { ...part, part: { type: 'output_text', annotations: [], logprobs: [], text: item.text } });
    } else if (item.kind === 'function_call') {
      for (const delta of item.pieces) emit('response.function_call_arguments.delta', { ...at, delta, obfuscation: obfuscation(frames.length) });
      emit('response.function_call_arguments.done', { ...at, arguments: item.text });
    }
    emit('response.output_item.done', { output_index, item: item.done });
  });
  emit(truncated ? 'response.incomplete' : 'response.completed', { response: final });
  return frames;
}

/** The `error` event and `response.failed` OpenAI sends when a started stream fails. */
function streamFailure(base: Json, sent: number): string {
  const error = { type: 'server_error', code: 'server_error', message: STREAM_FAILURE, param: null };
  const failed = { ...base, status: 'failed', error: { code: 'server_error', message: STREAM_FAILURE } };
  return (
    eventFrame('error', JSON.stringify({ type: 'error', sequence_number: sent, error })) +
    eventFrame('response.failed', JSON.stringify({ type: 'response.failed', sequence_number: sent + 1, response: failed }))
  );
}
