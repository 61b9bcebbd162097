// POST /v1/chat/completions, in the shape of the recorded OpenAI traffic
// (chat-text-full-usage.json, chat-stream-tool-call-include-usage.response.sse):
// every chunk carries `obfuscation`, and `"usage": null` only when
// stream_options.include_usage is true, which is also the only case with a final
// usage chunk (choices: []) before `data: [DONE]`.
import { type AnswerPlan, countText, effortTokens, IMAGE_TOKENS, PER_MESSAGE, planAnswer, REPLY_PRIMING, selectToolCalls, type ToolChoice, type ToolSpec } from './content.ts';
import { chatStreamError, OPENAI_HEADERS, OPENAI_SSE_HEADERS, openaiBadRequest } from './openai.ts';
import { asArray, CREATED, dataFrame, ID, isRecord, jsonReply, type MockRequest, obfuscation, type Reply, streamReply } from './wire.ts';

const FINGERPRINT = 'fp_mock0000';

interface ChatView {
  model: string;
  echoSource: string;
  afterToolResult: boolean;
  inputTokens: number;
  tools: ToolSpec[];
  choice: ToolChoice;
  parallel: boolean;
  json?: { schema?: unknown };
  maxOutputTokens?: number;
  effort: unknown;
  n: number;
}

export function chatCompletions(req: MockRequest): Reply {
  const body = isRecord(req.body) ? req.body : undefined;
  if (!body || !Array.isArray(body.messages)) return openaiBadRequest("Missing required parameter: 'messages'.", 'messages');
  if (body.messages.length === 0) return openaiBadRequest("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'messages');
  const view = readChat(body);
  const plan = planAnswer({
    echoSource: view.echoSource,
    calls: selectToolCalls(view.tools, view.choice, view.parallel, view.afterToolResult),
    json: view.json,
    maxOutputTokens: view.maxOutputTokens,
    hiddenReasoningTokens: effortTokens(view.effort),
    thinking: false,
    chunks: req.chunks,
  });
  const usage = usageOf(view, plan, req.cachedTokens);
  if (body.stream !== true) return jsonReply(200, completion(view, plan, usage), OPENAI_HEADERS);
  const options = isRecord(body.stream_options) ? body.stream_options : {};
  return streamReply(chunks(view, plan, usage, options.include_usage === true, options.include_obfuscation !== false), OPENAI_SSE_HEADERS, chatStreamError);
}

function readChat(body: Record<string, unknown>): ChatView {
  const messages = body.messages as unknown[];
  let inputTokens = REPLY_PRIMING;
  let echoSource = '';
  for (const message of messages) {
    if (!isRecord(message)) continue;
    const text = contentText(message.content);
    inputTokens += PER_MESSAGE + text.tokens + callTokens(message.tool_calls);
    if (message.role === 'user' || message.role === 'tool' || message.role === 'function') echoSource = text.text;
  }
  const last = messages[messages.length - 1];
  const tools: ToolSpec[] = [];
  for (const tool of asArray(body.tools)) {
    const fn = isRecord(tool) && isRecord(tool.function) ? tool.function : undefined;
    if (!fn || typeof fn.name !== 'string') continue;
    tools.push({ name: fn.name, schema: fn.parameters ?? { type: 'object', properties: {} } });
    inputTokens += countText(fn.name) + (typeof fn.description === 'string' ? countText(fn.description) : 0) + (fn.parameters ? countText(JSON.stringify(fn.parameters)) : 0);
  }
  const json = responseFormat(body.response_format);
  if (json?.schema !== undefined) inputTokens += countText(JSON.stringify(json.schema));
  const max = body.max_completion_tokens ?? body.max_tokens;
  return {
    model: typeof body.model === 'string' ? body.model : 'gpt-4o',
    echoSource,
    afterToolResult: isRecord(last) && (last.role === 'tool' || last.role === 'function'),
    inputTokens,
    tools,
    choice: toolChoice(body.tool_choice),
    parallel: body.parallel_tool_calls !== false,
    json,
    maxOutputTokens: typeof max === 'number' ? max : undefined,
    effort: body.reasoning_effort === 'none' ? undefined : body.reasoning_effort,
    n: typeof body.n === 'number' && body.n >= 1 ? Math.min(Math.floor(body.n), 128) : 1,
  };
}

function contentText(content: unknown): { text: string; tokens: number } {
  if (typeof content === 'string') return { text: content, tokens: countText(content) };
  let text = '';
  let tokens = 0;
  for (const part of asArray(content)) {
    if (!isRecord(part)) continue;
    if (typeof part.text === 'string') {
      text += text ? `\n${part.text}` : part.text;
      tokens += countText(part.text);
    } else if (part.type === 'image_url') tokens += IMAGE_TOKENS;
  }
  return { text, tokens };
}

function callTokens(calls: unknown): number {
  let tokens = 0;
  for (const call of asArray(calls)) {
    const fn = isRecord(call) && isRecord(call.function) ? call.function : undefined;
    if (fn) tokens += countText(String(fn.name ?? '')) + countText(String(fn.arguments ?? ''));
  }
  return tokens;
}

export function toolChoice(choice: unknown): ToolChoice {
  if (choice === 'none' || choice === 'required') return { mode: choice };
  if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === 'string') return { mode: 'required', name: choice.function.name };
  if (isRecord(choice) && typeof choice.name === 'string') return { mode: 'required', name: choice.name };
  return { mode: 'auto' };
}

function responseFormat(format: unknown): { schema?: unknown } | undefined {
  if (!isRecord(format)) return undefined;
  if (format.type === 'json_object') return {};
  if (format.type === 'json_schema' && isRecord(format.json_schema)) return { schema: format.json_schema.schema ?? {} };
  return undefined;
}

function finishReason(plan: AnswerPlan): string {
  if (plan.truncated) return 'length';
  return plan.calls.length > 0 ? 'tool_calls' : 'stop';
}

function usageOf(view: ChatView, plan: AnswerPlan, cachedTokens: number): Record<string, unknown> {
  const completion = plan.outputTokens * view.n;
  return {
    prompt_tokens: view.inputTokens,
    completion_tokens: completion,
    total_tokens: view.inputTokens + completion,
    prompt_tokens_details: { cached_tokens: Math.min(cachedTokens, view.inputTokens), audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: plan.reasoningTokens * view.n, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function completion(view: ChatView, plan: AnswerPlan, usage: Record<string, unknown>): Record<string, unknown> {
  const message: Record<string, unknown> = { role: 'assistant', content: plan.calls.length > 0 && plan.text === '' ? null : plan.text };
  if (plan.calls.length > 0) {
    message.tool_calls = plan.calls.map((call, i) => ({ id: callId(i), type: 'function', function: { name: call.name, arguments: call.arguments } }));
  }
  message.refusal = null;
  message.annotations = [];
  const choices = [];
  for (let index = 0; index < view.n; index++) choices.push({ index, message, logprobs: null, finish_reason: finishReason(plan) });
  return { id: `chatcmpl-${ID}`, object: 'chat.completion', created: CREATED, model: view.model, choices, usage, service_tier: 'default', system_fingerprint: FINGERPRINT };
}

function callId(index: number): string {
  return `call_${ID}${index.toString(36)}`;
}

/** The deltas of one choice, in the order OpenAI streams them. */
function choiceDeltas(plan: AnswerPlan): Array<{ delta: Record<string, unknown>; finish?: string }> {
  const deltas: Array<{ delta: Record<string, unknown>; finish?: string }> = [];
  const first = plan.calls[0];
  if (first && plan.text === '') {
    deltas.push({ delta: { role: 'assistant', content: null, tool_calls: [callStart(0, first.name)], refusal: null } });
  } else {
    deltas.push({ delta: { role: 'assistant', content: '', refusal: null } });
    for (const piece of plan.pieces) deltas.push({ delta: { content: piece } });
  }
  plan.calls.forEach((call, index) => {
    if (index > 0 || plan.text !== '') deltas.push({ delta: { tool_calls: [callStart(index, call.name)] } });
    for (const piece of call.pieces) deltas.push({ delta: { tool_calls: [{ index, function: { arguments: piece } }] } });
  });
  deltas.push({ delta: {}, finish: finishReason(plan) });
  return deltas;
}

function callStart(index: number, name: string): Record<string, unknown> {
  return { index, id: callId(index), type: 'function', function: { name, arguments: '' } };
}

function chunks(view: ChatView, plan: AnswerPlan, usage: Record<string, unknown>, includeUsage: boolean, includeObfuscation: boolean): string[] {
  const frames: string[] = [];
  const frame = (choices: unknown[], usageValue: unknown): void => {
    const chunk: Record<string, unknown> = { id: `chatcmpl-${ID}`, object: 'chat.completion.chunk', created: CREATED, model: view.model, service_tier: 'default', system_fingerprint: FINGERPRINT, choices };
    if (includeUsage) chunk.usage = usageValue;
    if (includeObfuscation) chunk.obfuscation = obfuscation(frames.length);
    frames.push(dataFrame(JSON.stringify(chunk)));
  };
  const deltas = choiceDeltas(plan);
  // With n > 1 the choices' deltas interleave, one of each in turn (chat-stream-n3-choices-usage.sse).
  for (const step of deltas) {
    for (let index = 0; index < view.n; index++) frame([{ index, delta: step.delta, logprobs: null, finish_reason: step.finish ?? null }], null);
  }
  if (includeUsage) frame([], usage);
  frames.push('data: [DONE]\n\n');
  return frames;
}
