// Dispatch stage: send the call to a deployment — relayed as-is where the upstream
// speaks the client's format, else through the provider adapter — and fall over to
// the next deployment on a retryable failure, but never once bytes have gone out.
import type { ServerResponse } from 'node:http';
import { GatewayError } from './canonical/errors.ts';
import type { CanonicalRequest, Usage } from './canonical/types.ts';
import { billableUsage, costFor, countAnswerTokens, estimatedUsage } from './account.ts';
import type { Gateway } from './gateway.ts';
import type { CallState } from './pipeline.ts';
import type { Deployment } from './providers/types.ts';
import { forwardedHeaders } from './providers/forward-headers.ts';
import { relayStream, streamInterrupted } from './providers/relay-stream.ts';
import { embedThroughAdapter } from './embeddings.ts';
import { fromProvider, invalidUpstreamResponse, readBuffer, type UpstreamResponse } from './providers/http.ts';
import { countInputTokens } from './tokens/count.ts';
import { orderDeployments } from './routing/balance.ts';
import { drained } from './http/drain.ts';
import { untranslatableError } from './api/untranslatable.ts';

export interface Attempt {
  deployment: Deployment;
  status: number;
  errorCode?: string;
  usage?: Usage;
  latencyMs: number;
}

export interface DispatchResult {
  status: number;
  usage: Usage;
  costUsd: number;
  attempts: Attempt[];
  deployment?: Deployment;
  ttftMs?: number;
  error?: GatewayError;
}

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' };

export async function dispatch(gateway: Gateway, state: CallState, request: CanonicalRequest, body: Record<string, unknown>): Promise<DispatchResult> {
  const route = state.route!;
  const attempts: Attempt[] = [];
  for (const deployment of orderDeployments(route.deployments)) {
    const started = performance.now();
    try {
      const result = state.api.relay?.accepts(deployment, route.model)
        ? await relay(gateway, state, request, body, deployment)
        : await translate(gateway, state, request, body, deployment);
      if (result.error) result.error = asSaidBy(gateway, result.error, deployment);
      attempts.push({ deployment, status: result.status, usage: result.usage, latencyMs: Math.round(performance.now() - started), errorCode: result.error?.code });
      result.attempts = attempts;
      return result;
    } catch (thrown) {
      if (!(thrown instanceof GatewayError)) throw thrown;
      const err = asSaidBy(gateway, thrown, deployment);
      attempts.push({ deployment, status: err.status, errorCode: err.code, latencyMs: Math.round(performance.now() - started) });
      if (!isRetryable(err) || state.res.headersSent || state.signal.aborted) throw err;
      if (attempts.length === route.deployments.length) throw attempts.length === 1 ? err : allFailed(attempts, err);
    }
  }
  throw new Error('unreachable: no deployment tried');
}

/**
 * Every error of a call passes here on its way out: the provider named as configured
 * (not by its kind), and no configured secret in anything an upstream said.
 */
function asSaidBy(gateway: Gateway, error: GatewayError, deployment: Deployment): GatewayError {
  return gateway.masker.error(fromProvider(error, deployment));
}

/** Provider usage checked (the gateway's count where it is not valid); a fallback is logged. */
async function billed(gateway: Gateway, state: CallState, request: CanonicalRequest, reported: Usage | undefined, outputEstimate: number, warnings: string[]): Promise<Usage> {
  const before = warnings.length;
  const usage = await billableUsage(reported, request, state.route!.model, outputEstimate, warnings);
  if (warnings.length > before) gateway.log.warn({ requestId: state.requestId, model: state.route!.model.id }, warnings[warnings.length - 1]);
  return usage;
}

function isRetryable(error: GatewayError): boolean {
  return error.status === 429 || error.status >= 500;
}

function allFailed(attempts: Attempt[], last: GatewayError): GatewayError {
  const tried = attempts.map((a) => `${a.deployment.id} → ${a.status} ${a.errorCode ?? ''}`.trim()).join('; ');
  return new GatewayError({
    status: last.status === 429 ? 429 : last.status === 504 ? 504 : 502,
    type: 'upstream_error',
    code: 'all_upstreams_failed',
    message: `Every deployment of this model failed: ${tried}. Last error: ${last.message}`,
    headers: last.headers,
    source: last.source,
  });
}

function setRouteHeaders(res: ServerResponse, state: CallState, deployment: Deployment, warnings?: string[]): void {
  const route = state.route!;
  res.setHeader('x-switchyard-model', route.model.id);
  res.setHeader('x-switchyard-provider', deployment.providerName);
  res.setHeader('x-switchyard-deployment', deployment.id);
  res.setHeader('x-switchyard-route', route.model.tier);
  res.setHeader('x-switchyard-route-reason', route.reason);
  if (route.effort) res.setHeader('x-switchyard-reasoning-effort', route.effort);
  if (route.requestedEffort) res.setHeader('x-switchyard-reasoning-effort-requested', route.requestedEffort);
  const admitted = state.admitted;
  if (admitted) for (const name in admitted.headers) res.setHeader(name, admitted.headers[name]);
  const notes = [...(admitted?.warnings ?? []), ...(warnings ?? [])];
  if (notes.length > 0) res.setHeader('x-switchyard-warnings', notes.join('; ').replace(/[^\x20-\x7e]/g, '?'));
}

async function relay(gateway: Gateway, state: CallState, request: CanonicalRequest, body: Record<string, unknown>, deployment: Deployment): Promise<DispatchResult> {
  const { res, api } = state;
  const spec = api.relay!;
  const route = state.route!;
  const changes = { effort: route.requestedEffort !== undefined ? route.effort : undefined, outputCap: state.admitted?.outputCap };
  const payload = JSON.stringify(spec.prepare(body, deployment, changes));
  const headers = forwardedHeaders(state.requestId, state.req.headers, deployment);
  for (const name of spec.passHeaders ?? []) {
    const value = state.req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const upstream = await spec.open(deployment, payload, state.signal, request.stream, headers);
  if (!request.stream) return relayBody(gateway, state, request, deployment, upstream);
  const { tap, rewrite } = spec.tap(body);
  const target = {
    res,
    masker: gateway.masker,
    writeHead() {
      setRouteHeaders(res, state, deployment);
      res.setHeader('trailer', 'x-switchyard-cost-usd');
      res.writeHead(200, SSE_HEADERS);
    },
    errorEvent: (error: GatewayError) => api.encoder(request, route.model.id, body).encode({ type: 'error', error: asSaidBy(gateway, error, deployment) }),
  };
  const outcome = await relayStream(upstream, target, tap, deployment, rewrite);
  const usage = await billed(gateway, state, request, tap.usage, tap.contentEvents, []);
  const costUsd = costFor(usage, route.model);
  finishStream(res, costUsd);
  const ttftMs = tap.firstContentAt ? Math.round(tap.firstContentAt - state.startedAt) : undefined;
  const status = outcome.clientClosed ? 499 : outcome.error ? outcome.error.status : 200;
  return { status, usage, costUsd, attempts: [], deployment, ttftMs, error: outcome.error };
}

/** A relayed non-stream answer: fully read, checked to be a JSON object, then sent as it came. */
async function relayBody(gateway: Gateway, state: CallState, request: CanonicalRequest, deployment: Deployment, upstream: UpstreamResponse): Promise<DispatchResult> {
  const { res } = state;
  const route = state.route!;
  let raw: Buffer;
  try {
    raw = await readBuffer(upstream.body);
  } catch (err) {
    if (state.signal.aborted) throw err;
    // The upstream worked on it: the prompt is billed, the client told which side failed.
    const usage = estimatedUsage(await countInputTokens(request), 0);
    return { status: 502, usage, costUsd: costFor(usage, route.model), attempts: [], deployment, error: streamInterrupted(deployment, err as Error, 'its answer') };
  }
  let text = raw.toString('utf8');
  const json = parseObject(text);
  // Nothing was sent yet: a garbage answer is an error the next deployment may do better on.
  if (json === undefined) throw invalidUpstreamResponse(deployment, raw.length === 0 ? 'an empty body' : 'a body that is not a JSON object (cut short, or not JSON at all)');
  const warnings: string[] = [];
  const usage = await billed(gateway, state, request, state.api.relay!.usage(json), countAnswerTokens(json), warnings);
  const costUsd = costFor(usage, route.model);
  if (gateway.masker.leaks(text)) {
    text = gateway.masker.mask(text);
    raw = Buffer.from(text);
  }
  setRouteHeaders(res, state, deployment, warnings);
  res.setHeader('x-switchyard-cost-usd', costUsd.toFixed(8));
  res.writeHead(upstream.statusCode, { 'content-type': 'application/json', 'content-length': raw.length });
  res.end(raw);
  return { status: upstream.statusCode, usage, costUsd, attempts: [], deployment };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function finishStream(res: ServerResponse, costUsd: number): void {
  if (res.writableEnded || res.destroyed) return;
  res.addTrailers({ 'x-switchyard-cost-usd': costUsd.toFixed(8) });
  res.end();
}

async function translate(gateway: Gateway, state: CallState, request: CanonicalRequest, body: Record<string, unknown>, deployment: Deployment): Promise<DispatchResult> {
  const { res, api } = state;
  const route = state.route!;
  const untranslatable = untranslatableError(request, api, gateway.catalog, route.model, deployment);
  if (untranslatable) throw untranslatable;
  const adapter = gateway.adapters.get(deployment.provider);
  if (!adapter) throw new Error(`no adapter for provider ${deployment.provider}`);
  const target = { deployment, model: route.model };
  const ctx = { requestId: state.requestId, signal: state.signal, forwardHeaders: forwardedHeaders(state.requestId, state.req.headers, deployment) };
  if (api.endpoint === 'embeddings') {
    const result = await embedThroughAdapter(adapter, request, target, ctx);
    setRouteHeaders(res, state, deployment);
    res.setHeader('x-switchyard-cost-usd', costFor(result.usage, route.model).toFixed(8));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(result.body) });
    res.end(result.body);
    return { status: 200, usage: result.usage, costUsd: costFor(result.usage, route.model), attempts: [], deployment };
  }
  if (!request.stream) {
    const response = await adapter.complete(request, target, ctx);
    const warnings = response.warnings ? [...response.warnings] : [];
    const usage = await billed(gateway, state, request, response.usage, countAnswerTokens(response.content), warnings);
    const costUsd = costFor(usage, route.model);
    const out = JSON.stringify(api.render({ ...response, usage }, request, response.model || route.model.id));
    setRouteHeaders(res, state, deployment, warnings);
    res.setHeader('x-switchyard-cost-usd', costUsd.toFixed(8));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
    return { status: 200, usage, costUsd, attempts: [], deployment };
  }
  const events = await adapter.stream(request, target, ctx);
  const encoder = api.encoder(request, route.model.id, body);
  let usage: Usage | undefined;
  let error: GatewayError | undefined;
  let ttftMs: number | undefined;
  let contentEvents = 0;
  let headWritten = false;
  try {
    for await (let event of events) {
      if (!headWritten) {
        setRouteHeaders(res, state, deployment, event.type === 'start' ? event.warnings : undefined);
        res.setHeader('trailer', 'x-switchyard-cost-usd');
        res.writeHead(200, SSE_HEADERS);
        headWritten = true;
      }
      if (event.type === 'finish') usage = event.usage;
      else if (event.type === 'error') {
        error = asSaidBy(gateway, event.error, deployment);
        usage = event.usage;
        event = { ...event, error };
      } else if (event.type !== 'start' && contentEvents++ === 0) ttftMs = Math.round(performance.now() - state.startedAt);
      const text = encoder.encode(event);
      if (text.length > 0 && !res.write(text)) await drained(res);
      if (res.destroyed) break;
    }
  } catch (err) {
    if (!headWritten || (!res.destroyed && !(err instanceof GatewayError))) throw err;
    error = err instanceof GatewayError ? err : undefined;
  }
  const billedUsage = await billed(gateway, state, request, usage, contentEvents, []);
  const costUsd = costFor(billedUsage, route.model);
  finishStream(res, costUsd);
  const status = res.destroyed && !error ? 499 : error ? error.status : 200;
  return { status, usage: billedUsage, costUsd, attempts: [], deployment, ttftMs, error };
}

