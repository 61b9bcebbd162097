// The one place a model call's outcome reaches the client: route headers, the cost
// header (or trailer, for a stream), the body or the SSE stream, an error event when
// the upstream breaks mid-stream. Returns what the account and log stages need.
import type { ServerResponse } from 'node:http';
import { GatewayError } from './canonical/errors.ts';
import type { StreamEvent, Usage } from './canonical/types.ts';
import { costFor, earlierCost, sumUsage } from './account.ts';
import type { Attempt, CallResult, CallState } from './call-state.ts';
import { drained, writeCorked } from './http/drain.ts';
import { sendError } from './http/send.ts';
import { asSaidBy, billedUsage, type ModelCall, type Outcome } from './invoke.ts';
import { pipeRelay } from './providers/relay-stream.ts';
import { replayEvents } from './canonical/replay.ts';
import { CapturingTap } from './observability/stream-capture.ts';

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' };

type Of<K extends Outcome['kind']> = Extract<Outcome, { kind: K }>;
type Rendered = Omit<CallResult, 'attempts' | 'deployment' | 'model'>;

export async function respond(state: CallState, call: ModelCall, outcome: Outcome): Promise<CallResult> {
  const earlier = earlierCost(outcome.attempts);
  const rendered = await render(state, call, outcome, earlier.costUsd);
  if (rendered.error && !state.res.headersSent) sendError(state, rendered.error);
  const attempts = outcome.attempts.slice();
  // The answering attempt, as it ended: its final status, billed usage and whole duration.
  const last = attempts.length - 1;
  attempts[last] = { ...attempts[last], status: rendered.status, usage: rendered.usage, errorCode: rendered.error?.code, latencyMs: Math.round(performance.now() - outcome.startedAt) };
  const result: CallResult = { ...rendered, attempts, deployment: outcome.deployment, model: outcome.model, notes: outcome.notes };
  if (state.captureAnswer) result.answer = rendered.answer;
  // A request pays for every attempt that did work (a cascade's cheaper tiers, samples, judges), not only the answering one.
  if (earlier.usage) {
    result.usage = sumUsage(earlier.usage, rendered.usage);
    result.costUsd = rendered.costUsd + earlier.costUsd;
  }
  return result;
}

function render(state: CallState, call: ModelCall, outcome: Outcome, earlierUsd: number): Promise<Rendered> | Rendered {
  switch (outcome.kind) {
    case 'relayed-body':
      return sendBody(state, outcome, outcome.status, outcome.body, outcome.usage, earlierUsd);
    case 'json':
      return sendBody(state, outcome, 200, outcome.body, outcome.usage, earlierUsd);
    case 'response': {
      const { response, usage } = outcome;
      // An answer read whole (a cascade, a validated answer) for a client that asked for a stream: streamed now.
      if (call.request.stream) return sendEvents(state, call, { ...outcome, kind: 'events', events: replayEvents({ ...response, usage }) }, earlierUsd);
      const out = JSON.stringify(state.api.render({ ...response, usage }, call.request, response.model || outcome.model.id));
      return sendBody(state, outcome, 200, out, usage, earlierUsd);
    }
    case 'held':
      return sendHeld(state, outcome, earlierUsd);
    case 'failed':
      return { status: outcome.error.status, usage: outcome.usage, costUsd: costFor(outcome.usage, outcome.model) + earlierUsd, error: outcome.error };
    case 'relayed-stream':
      return sendRelayedStream(state, call, outcome, earlierUsd);
    case 'events':
      return sendEvents(state, call, outcome, earlierUsd);
  }
}

function setRouteHeaders(state: CallState, outcome: Outcome, warnings?: readonly string[]): void {
  const { res } = state;
  const route = state.route!;
  res.setHeader('x-switchyard-model', outcome.model.id);
  res.setHeader('x-switchyard-provider', outcome.deployment.providerName);
  res.setHeader('x-switchyard-deployment', outcome.deployment.id);
  const auto = route.auto;
  res.setHeader('x-switchyard-route', auto ? `${auto.spec.name}; tier=${auto.tier}` : route.model.tier);
  res.setHeader('x-switchyard-route-reason', headerSafe(route.reason));
  const notes = outcome.notes;
  if (notes?.cascade) res.setHeader('x-switchyard-cascade', headerSafe(notes.cascade));
  if (notes?.validation) res.setHeader('x-switchyard-validation', headerSafe(notes.validation));
  if (notes?.review) res.setHeader('x-switchyard-review', headerSafe(notes.review));
  if (notes?.cache) res.setHeader('x-switchyard-cache', notes.cache);
  if (notes?.cacheSavedUsd !== undefined) res.setHeader('x-switchyard-cache-saved-usd', notes.cacheSavedUsd.toFixed(8));
  if (notes?.cachedAt) res.setHeader('x-switchyard-cached-at', notes.cachedAt);
  if (route.effort) res.setHeader('x-switchyard-reasoning-effort', route.effort);
  if (route.requestedEffort) res.setHeader('x-switchyard-reasoning-effort-requested', route.requestedEffort);
  res.setHeader('x-switchyard-attempts', String(outcome.attempts.length));
  const fallback = fallbackNote(outcome.attempts);
  if (fallback) res.setHeader('x-switchyard-fallback', fallback);
  // Another model answered with no attempt on the routed one: each of its deployments was refused by its breaker.
  else if (outcome.model.id !== route.model.id && !notes?.cascade) res.setHeader('x-switchyard-fallback', `from ${route.model.id}: every deployment paused by its circuit breaker`);
  const admitted = state.admitted;
  if (admitted) for (const name in admitted.headers) res.setHeader(name, admitted.headers[name]);
  const said = [...(admitted?.warnings ?? []), ...(warnings ?? [])];
  if (said.length > 0) res.setHeader('x-switchyard-warnings', headerSafe(said.join('; ')));
}

/** Header values are Latin-1 without controls: anything else (≥, →, a model's words) is replaced. */
function headerSafe(text: string): string {
  return text.replace(/≥/g, '>=').replace(/→/g, '->').replace(/[^\x20-\x7e]/g, '?').slice(0, 2000);
}

/** What the attempts before the answering one came to: `from <model> at <deployment>: <status> <code>`, each. */
function fallbackNote(attempts: readonly Attempt[]): string {
  let note = '';
  for (let i = 0; i < attempts.length - 1; i++) {
    const a = attempts[i];
    // A cascade's tiers, samples and judges are not fallbacks (x-switchyard-cascade tells them).
    if (a.note) continue;
    note += `${note ? ', ' : ''}from ${a.model.id} at ${a.deployment.id}: ${a.status}${a.errorCode ? ` ${a.errorCode}` : ''}`;
  }
  return headerSafe(note);
}

function sendBody(state: CallState, outcome: Outcome, status: number, body: string | Buffer, usage: Usage, earlierUsd: number): Rendered {
  const { res } = state;
  const costUsd = costFor(usage, outcome.model);
  setRouteHeaders(state, outcome, outcome.warnings);
  res.setHeader('x-switchyard-cost-usd', (costUsd + earlierUsd).toFixed(8));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
  // Embedding vectors are not a body worth keeping: only their count is.
  const answer = !state.captureAnswer ? undefined : outcome.kind === 'json' ? { body: '{"note": "embedding vectors are not stored"}' } : { body: typeof body === 'string' ? body : body.toString('utf8') };
  return { status, usage, costUsd, answer };
}

/** 202 for a held answer (`Prefer: respond-async`): the review's id and where to fetch the answer. */
function sendHeld(state: CallState, outcome: Of<'held'>, earlierUsd: number): Rendered {
  const { res } = state;
  const { review } = outcome;
  const costUsd = costFor(outcome.usage, outcome.model);
  setRouteHeaders(state, outcome, outcome.warnings);
  res.setHeader('x-switchyard-cost-usd', (costUsd + earlierUsd).toFixed(8));
  res.setHeader('location', `/v1/reviews/${review.id}`);
  res.setHeader('preference-applied', 'respond-async');
  res.setHeader('retry-after', '5');
  const body = JSON.stringify({ object: 'review', id: review.id, status: review.status, mode: review.mode, reason: review.reason, created_at: review.createdAt, expires_at: review.expiresAt, url: `/v1/reviews/${review.id}` });
  res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
  return { status: 202, usage: outcome.usage, costUsd };
}

function writeStreamHead(state: CallState, outcome: Outcome, warnings?: readonly string[]): void {
  // A stream held for review sent its head (and keep-alive comments) while it waited.
  if (state.res.headersSent) return;
  setRouteHeaders(state, outcome, warnings);
  state.res.setHeader('trailer', 'x-switchyard-cost-usd');
  state.res.writeHead(200, SSE_HEADERS);
}

function finishStream(res: ServerResponse, costUsd: number): void {
  if (res.writableEnded || res.destroyed) return;
  res.addTrailers({ 'x-switchyard-cost-usd': costUsd.toFixed(8) });
  res.end();
}

async function sendRelayedStream(state: CallState, call: ModelCall, outcome: Of<'relayed-stream'>, earlierUsd: number): Promise<Rendered> {
  const { res } = state;
  const { stream, tap, deployment } = outcome;
  if (!stream.clientClosed) writeStreamHead(state, outcome);
  const target = {
    res,
    masker: call.gateway.masker,
    errorEvent: (error: GatewayError) => state.api.encoder(call.request, outcome.model.id, call.body).encode({ type: 'error', error: asSaidBy(call.gateway, error, deployment) }),
  };
  const relayed = await pipeRelay(stream, target);
  const usage = await billedUsage(call, outcome.model, tap.usage, () => tap.contentEvents, []);
  const costUsd = costFor(usage, outcome.model);
  finishStream(res, costUsd + earlierUsd);
  const ttftMs = tap.firstContentAt ? Math.round(tap.firstContentAt - state.startedAt) : undefined;
  const status = relayed.clientClosed ? 499 : relayed.error ? relayed.error.status : 200;
  const answer = state.captureAnswer && tap instanceof CapturingTap ? tap.assembled(state.api.endpoint) : undefined;
  return { status, usage, costUsd, ttftMs, error: relayed.error, answer };
}

async function sendEvents(state: CallState, call: ModelCall, outcome: Of<'events'>, earlierUsd: number): Promise<Rendered> {
  const { res } = state;
  const encoder = state.api.encoder(call.request, outcome.model.id, call.body);
  let usage: Usage | undefined;
  let error: GatewayError | undefined;
  let ttftMs: number | undefined;
  let contentEvents = 0;
  let headWritten = false;
  const answer = state.captureAnswer ? { text: '', toolCalls: [] as Array<{ name: string; arguments: string }> } : undefined;
  try {
    for await (let event of outcome.events) {
      if (answer) assemble(answer, event);
      if (!headWritten) {
        writeStreamHead(state, outcome, event.type === 'start' ? event.warnings : undefined);
        headWritten = true;
      }
      if (event.type === 'finish') usage = event.usage;
      else if (event.type === 'error') {
        error = asSaidBy(call.gateway, event.error, outcome.deployment);
        usage = event.usage;
        event = { ...event, error };
      } else if (event.type !== 'start' && contentEvents++ === 0) ttftMs = Math.round(performance.now() - state.startedAt);
      const text = encoder.encode(event);
      if (text.length > 0 && !writeCorked(res, text)) await drained(res);
      if (res.destroyed) break;
    }
  } catch (err) {
    if (!headWritten || (!res.destroyed && !(err instanceof GatewayError))) throw err;
    error = err instanceof GatewayError ? err : undefined;
  }
  const billed = await billedUsage(call, outcome.model, usage, () => contentEvents, []);
  const costUsd = costFor(billed, outcome.model);
  finishStream(res, costUsd + earlierUsd);
  const status = res.destroyed && !error ? 499 : error ? error.status : 200;
  return { status, usage: billed, costUsd, ttftMs, error, answer };
}

/** A canonical stream's answer, for the body policy: text and tool calls, as they were sent. */
function assemble(answer: { text: string; toolCalls: Array<{ name: string; arguments: string }> }, event: StreamEvent): void {
  if (event.type === 'text-delta') answer.text += event.text;
  else if (event.type === 'tool-call-start') answer.toolCalls[event.index] = { name: event.name, arguments: '' };
  else if (event.type === 'tool-call-delta' && answer.toolCalls[event.index]) answer.toolCalls[event.index].arguments += event.argumentsDelta;
}
