// A model asked to judge an answer — the cascade's verifier (a cheap tier: "is this
// answer correct?") and the Pro validation of critical routes ("do you agree?"). Both
// are ordinary attempts through the same deployment and fallback wrappers, so they
// are retried, breaker-guarded, billed and logged like any other call.
import { GatewayError } from '../canonical/errors.ts';
import type { CanonicalRequest, CanonicalResponse } from '../canonical/types.ts';
import type { ModelInfo } from '../catalog/types.ts';
import type { InboundApi } from '../api/inbound.ts';
import { chatApi } from '../api/inbound.ts';
import type { Attempt } from '../call-state.ts';
import type { Invoke, ModelCall } from '../invoke.ts';
import { attemptsOf } from '../model-fallback.ts';
import { answerText, conversationText } from './text.ts';

/** The same inbound API without its relay: the call goes through the provider adapter and returns a canonical answer a check can read. */
const translatedApis = new WeakMap<InboundApi, InboundApi>();
export function translateOnly(api: InboundApi): InboundApi {
  let out = translatedApis.get(api);
  if (!out) {
    out = { ...api, relay: undefined };
    translatedApis.set(api, out);
  }
  return out;
}

/** A copy of the call whose answer is read whole before anything reaches the client (no relay, no stream). */
export function buffered(call: ModelCall): ModelCall {
  return { ...call, api: translateOnly(call.api), request: { ...call.request, stream: false } };
}

export interface Judgement {
  /** undefined when the judge gave no usable verdict (failed, or answered something else). */
  ok?: boolean;
  reason: string;
  attempts: Attempt[];
}

const VERDICT_SCHEMA = {
  type: 'object',
  properties: { ok: { type: 'boolean' }, reason: { type: 'string' } },
  required: ['ok', 'reason'],
  additionalProperties: false,
};

export const JUDGE_MAX_OUTPUT_TOKENS = 1_024;

/** Ask `model` about `answer` to the conversation of `call`; never throws for the judge's own failure. */
export async function askJudge(next: Invoke, call: ModelCall, model: ModelInfo, instructions: string, answer: CanonicalResponse): Promise<Judgement> {
  const request: CanonicalRequest = {
    model: model.id,
    messages: [
      { role: 'system', content: `${instructions} Reply only with JSON: {"ok": true or false, "reason": "one short sentence"}.` },
      { role: 'user', content: [{ type: 'text', text: `<conversation>\n${conversationText(call.request)}</conversation>\n\n<answer>\n${answerText(answer.content)}\n</answer>` }] },
    ],
    responseFormat: { type: 'json_schema', name: 'verdict', schema: VERDICT_SCHEMA, strict: true },
    maxOutputTokens: JUDGE_MAX_OUTPUT_TOKENS,
    stream: false,
  };
  const judgeCall: ModelCall = {
    gateway: call.gateway, requestId: call.requestId, api: translateOnly(chatApi), request, body: {}, clientHeaders: call.clientHeaders, signal: call.signal,
    model, candidates: call.gateway.catalog.deployments(model), changes: {},
  };
  try {
    const outcome = await next(judgeCall);
    if (outcome.kind !== 'response') return { reason: `${model.id} failed (${outcome.kind === 'failed' ? outcome.error.code ?? outcome.error.status : outcome.kind})`, attempts: outcome.attempts };
    return { ...parseVerdict(answerText(outcome.response.content), model), attempts: outcome.attempts };
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    return { reason: `${model.id} failed (${err.status} ${err.code ?? ''})`.trim(), attempts: [...attemptsOf(err)] };
  }
}

function parseVerdict(text: string, model: ModelInfo): { ok?: boolean; reason: string } {
  try {
    const value = JSON.parse(text.trim().replace(/^```(?:json)?\s*|\s*```$/g, ''));
    if (typeof value?.ok === 'boolean') return { ok: value.ok, reason: typeof value.reason === 'string' ? value.reason.slice(0, 200) : '' };
  } catch {
    // falls through: no verdict
  }
  return { reason: `${model.id} gave no verdict` };
}
