// The model call, apart from the client: invoke() sends one attempt to one deployment —
// relayed as it came where the upstream speaks the client's format, else through the
// provider adapter — and returns an Outcome without touching the response. Wrappers
// (fallback, retry, breaker, …) are `(next: Invoke) => Invoke`, composed like undici's
// interceptors; each attempt gets a fresh ModelCall. src/respond.ts renders the outcome.
import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from './canonical/errors.ts';
import type { CanonicalRequest, CanonicalResponse, ReasoningEffort, StreamEvent, Usage } from './canonical/types.ts';
import type { ModelInfo } from './catalog/types.ts';
import { billableUsage, countAnswerTokens, estimatedUsage } from './account.ts';
import type { InboundApi, RelayChanges } from './api/inbound.ts';
import { untranslatableError } from './api/untranslatable.ts';
import type { Attempt, RouteNotes } from './call-state.ts';
import type { AutoRoute } from './router/decide.ts';
import type { AttemptEnd, RequestTrace } from './observability/tracing.ts';
import { CapturingTap } from './observability/stream-capture.ts';
import { embedThroughAdapter } from './embeddings.ts';
import type { Gateway } from './gateway.ts';
import { forwardedHeaders } from './providers/forward-headers.ts';
import { fromProvider, invalidUpstreamResponse, readBuffer, streamInterrupted, type UpstreamResponse } from './providers/http.ts';
import { primeRelay, type PrimedRelay } from './providers/relay-stream.ts';
import type { StreamTap } from './providers/stream-tap.ts';
import type { Deployment } from './providers/types.ts';
import { countInputTokens } from './tokens/count.ts';
import type { ReviewContext } from './review/hold.ts';
import type { CacheContext } from './cache/cache.ts';
import type { ReviewRow } from './review/types.ts';

/** One model call as an attempt sees it. Never mutated: a wrapper passes on a changed copy. */
export interface ModelCall {
  readonly gateway: Gateway;
  readonly requestId: string;
  readonly api: InboundApi;
  readonly request: CanonicalRequest;
  /** The client's body as it came (what a relay sends, with `changes` applied). */
  readonly body: Record<string, unknown>;
  readonly clientHeaders: IncomingHttpHeaders;
  readonly signal: AbortSignal;
  /** The model to call (a cross-model fallback passes another, with its deployments). */
  readonly model: ModelInfo;
  /** The model's deployments, in configured order; a wrapper picks among them. */
  readonly candidates: readonly Deployment[];
  /** The deployment of this attempt; unset, invoke() takes the first candidate. */
  readonly deployment?: Deployment;
  /** What the gateway decided that a relayed body must reflect. */
  readonly changes: RelayChanges;
  /** The reasoning level the caller asked for (before mapping to this model's), for a fallback model's own mapping. */
  readonly requestedEffort?: ReasoningEffort;
  /** The models to fall back to when every deployment failed: the configured chain, those the key may use. */
  readonly fallbacks?: readonly ModelInfo[];
  /** An auto route's decision: a cascade ladder, a Pro validator (src/router/cascade.ts reads it). */
  readonly auto?: AutoRoute;
  /** The request's span: each attempt is a child span, and sends its traceparent upstream. */
  readonly trace?: RequestTrace;
  /** Set when the body policy keeps this request's bodies: a relayed stream keeps up to this many bytes of its events to assemble the answer. */
  readonly keepAnswerBytes?: number;
  /** Set when a review rule can apply: the answer is read whole and put under review (src/review/hold.ts). */
  readonly review?: ReviewContext;
  /** Set when the response cache applies to this request (src/cache). */
  readonly cache?: CacheContext;
}

interface OutcomeBase {
  deployment: Deployment;
  /** The model this outcome's deployment served. */
  model: ModelInfo;
  /** Every attempt that led here, this one last. */
  attempts: Attempt[];
  /** performance.now() when this attempt began (its final latency is measured from it). */
  startedAt: number;
  /** Notes for x-switchyard-warnings (billing fallbacks, dropped fields). */
  warnings: string[];
  /** What a cascade or Pro validation did (headers, ledger, log). */
  notes?: RouteNotes;
}

/** What a model call produced, not yet sent: nothing of it has reached the client. */
export type Outcome = OutcomeBase & (
  /** A relayed answer, read whole and checked to be a JSON object (masked if it echoed a key). */
  | { kind: 'relayed-body'; status: number; body: Buffer; usage: Usage }
  /** A relayed stream whose first whole event has arrived (and been tapped). */
  | { kind: 'relayed-stream'; stream: PrimedRelay; tap: StreamTap }
  | { kind: 'response'; response: CanonicalResponse; usage: Usage }
  /** Canonical events, the first already arrived (an early failure was thrown). */
  | { kind: 'events'; events: AsyncIterable<StreamEvent> }
  /** A rendered JSON body (embeddings through an adapter). */
  | { kind: 'json'; body: string; usage: Usage }
  /** An answer held for review, answered 202 with where to fetch it (`Prefer: respond-async`). */
  | { kind: 'held'; review: ReviewRow; response: CanonicalResponse; usage: Usage }
  /** The upstream failed after it worked on the call: billed, not worth another attempt. */
  | { kind: 'failed'; error: GatewayError; usage: Usage }
);

export type Invoke = (call: ModelCall) => Promise<Outcome>;
export type InvokeWrapper = (next: Invoke) => Invoke;

/** `compose(invoke, a, b)` is a(b(invoke)): the first wrapper is the outermost. */
export function compose(base: Invoke, ...wrappers: InvokeWrapper[]): Invoke {
  let invoke = base;
  for (let i = wrappers.length - 1; i >= 0; i--) invoke = wrappers[i](invoke);
  return invoke;
}

/** One attempt on one deployment. Throws a GatewayError (named by the provider, masked) when it failed before any answer. */
export const invoke: Invoke = async (call) => {
  const deployment = call.deployment ?? call.candidates[0];
  const startedAt = performance.now();
  const span = call.trace?.attempt(call.model, deployment, call.request);
  try {
    const outcome = call.api.relay?.accepts(deployment, call.model)
      ? await relay(call, deployment, startedAt, span?.headers)
      : await translate(call, deployment, startedAt, span?.headers);
    // A stream's span stays open until the stream ends (the request's end closes it).
    if (span && outcome.kind !== 'relayed-stream' && outcome.kind !== 'events') span.end(attemptEnd(outcome));
    return outcome;
  } catch (thrown) {
    const error = thrown instanceof GatewayError ? asSaidBy(call.gateway, thrown, deployment) : thrown;
    span?.end({ status: error instanceof GatewayError ? error.status : 500, errorType: error instanceof GatewayError ? error.code : 'internal_error' });
    throw error;
  }
};

/** How a whole (not streamed) answer ends its attempt's span. */
function attemptEnd(outcome: Exclude<Outcome, { kind: 'relayed-stream' | 'events' }>): AttemptEnd {
  if (outcome.kind === 'failed') return { status: outcome.error.status, usage: outcome.usage, errorType: outcome.error.code };
  return { status: outcome.kind === 'relayed-body' ? outcome.status : 200, usage: outcome.usage, responseModel: outcome.model.id };
}

/**
 * Every error of a call passes here on its way out: the provider named as configured
 * (not by its kind), and no configured secret in anything an upstream said.
 */
export function asSaidBy(gateway: Gateway, error: GatewayError, deployment: Deployment): GatewayError {
  return gateway.masker.error(fromProvider(error, deployment));
}

/** Provider usage checked (the gateway's count where it is not valid); a fallback is logged. */
export async function billedUsage(call: ModelCall, model: ModelInfo, reported: Usage | undefined, outputEstimate: () => number, warnings: string[]): Promise<Usage> {
  const before = warnings.length;
  const usage = await billableUsage(reported, call.request, model, outputEstimate, warnings);
  if (warnings.length > before) call.gateway.log.warn({ requestId: call.requestId, model: model.id }, warnings[warnings.length - 1]);
  return usage;
}

function base(call: ModelCall, deployment: Deployment, startedAt: number, status: number, warnings: string[], usage?: Usage): OutcomeBase {
  const attempt: Attempt = { deployment, model: call.model, status, usage, latencyMs: Math.round(performance.now() - startedAt) };
  return { deployment, model: call.model, attempts: [attempt], startedAt, warnings };
}

async function relay(call: ModelCall, deployment: Deployment, startedAt: number, traceHeaders?: Record<string, string>): Promise<Outcome> {
  const spec = call.api.relay!;
  const payload = JSON.stringify(spec.prepare(call.body, deployment, call.changes));
  const headers = forwardedHeaders(call.requestId, call.clientHeaders, deployment);
  if (traceHeaders) Object.assign(headers, traceHeaders);
  for (const name of spec.passHeaders ?? []) {
    const value = call.clientHeaders[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const upstream = await spec.open(deployment, payload, call.signal, call.request.stream, headers);
  if (!call.request.stream) return relayedBody(call, deployment, startedAt, upstream);
  const tapped = spec.tap(call.body);
  const tap = call.keepAnswerBytes ? new CapturingTap(tapped.tap, call.keepAnswerBytes) : tapped.tap;
  const stream = await primeRelay(upstream, tap, deployment, tapped.rewrite, call.signal);
  return { ...base(call, deployment, startedAt, 200, []), kind: 'relayed-stream', stream, tap };
}

/** A relayed non-stream answer: fully read and checked to be a JSON object. */
async function relayedBody(call: ModelCall, deployment: Deployment, startedAt: number, upstream: UpstreamResponse): Promise<Outcome> {
  let raw: Buffer;
  try {
    raw = await readBuffer(upstream.body);
  } catch (err) {
    if (call.signal.aborted) throw err;
    // The upstream worked on it: the prompt is billed, the client told which side failed.
    const usage = estimatedUsage(await countInputTokens(call.request), 0);
    const error = asSaidBy(call.gateway, streamInterrupted(deployment, err as Error, 'its answer'), deployment);
    return { ...base(call, deployment, startedAt, error.status, [], usage), kind: 'failed', error, usage };
  }
  let text = raw.toString('utf8');
  const json = parseObject(text);
  // Nothing was sent yet: a garbage answer is an error the next deployment may do better on.
  if (json === undefined) throw invalidUpstreamResponse(deployment, raw.length === 0 ? 'an empty body' : 'a body that is not a JSON object (cut short, or not JSON at all)');
  const warnings: string[] = [];
  const usage = await billedUsage(call, call.model, call.api.relay!.usage(json), () => countAnswerTokens(json), warnings);
  if (call.gateway.masker.leaks(text)) {
    text = call.gateway.masker.mask(text);
    raw = Buffer.from(text);
  }
  return { ...base(call, deployment, startedAt, upstream.statusCode, warnings, usage), kind: 'relayed-body', status: upstream.statusCode, body: raw, usage };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

async function translate(call: ModelCall, deployment: Deployment, startedAt: number, traceHeaders?: Record<string, string>): Promise<Outcome> {
  const { gateway, request } = call;
  const untranslatable = untranslatableError(request, call.api, gateway.catalog, call.model, deployment);
  if (untranslatable) throw untranslatable;
  const adapter = gateway.adapters.get(deployment.provider);
  if (!adapter) throw new Error(`no adapter for provider ${deployment.provider}`);
  const target = { deployment, model: call.model };
  const forwardHeaders = forwardedHeaders(call.requestId, call.clientHeaders, deployment);
  if (traceHeaders) Object.assign(forwardHeaders, traceHeaders);
  const ctx = { requestId: call.requestId, signal: call.signal, forwardHeaders };
  if (call.api.endpoint === 'embeddings') {
    const { body, usage } = await embedThroughAdapter(adapter, request, target, ctx);
    return { ...base(call, deployment, startedAt, 200, [], usage), kind: 'json', body, usage };
  }
  if (request.stream) {
    const events = await adapter.stream(request, target, ctx);
    return { ...base(call, deployment, startedAt, 200, []), kind: 'events', events };
  }
  const response = await adapter.complete(request, target, ctx);
  const warnings = response.warnings ? [...response.warnings] : [];
  const usage = await billedUsage(call, call.model, response.usage, () => countAnswerTokens(response.content), warnings);
  return { ...base(call, deployment, startedAt, 200, warnings, usage), kind: 'response', response, usage };
}
