// The OpenTelemetry implementation of tracing.ts's Tracing (see there): loaded only when
// the OTLP variables turn tracing on.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, defaultTextMapGetter, defaultTextMapSetter, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { IncomingHttpHeaders } from 'node:http';
import type { CanonicalRequest, Usage } from '../canonical/types.ts';
import type { ModelInfo, ProviderKind } from '../catalog/types.ts';
import type { Deployment } from '../providers/types.ts';
import type { AttemptEnd, AttemptTrace, RequestTrace, Tracing } from './tracing.ts';

/** gen_ai.provider.name values of the semantic conventions, per provider kind. */
const PROVIDER_NAMES: Readonly<Record<ProviderKind, string>> = { openai: 'openai', anthropic: 'anthropic', gemini: 'gcp.gemini', ollama: 'ollama' };

const propagator = new W3CTraceContextPropagator();

export function otlpTracing(url: string, serviceName: string): Tracing {
  // The exporter and the batch processor read the rest of the OTEL_* variables (headers, delays) themselves.
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  const tracer = provider.getTracer('switchyard');
  return {
    startRequest: (headers, endpoint, startedAtMs) => new Request(tracer, headers, endpoint, startedAtMs),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

const OPERATIONS: Readonly<Record<string, string>> = { chat: 'chat', responses: 'chat', messages: 'chat', embeddings: 'embeddings' };

class Request implements RequestTrace {
  private readonly span: Span;
  private readonly context: Context;
  private readonly tracer: Tracer;
  private readonly operation: string;
  private open: Attempt | undefined;

  constructor(tracer: Tracer, headers: IncomingHttpHeaders, endpoint: string, startedAtMs: number) {
    this.tracer = tracer;
    this.operation = OPERATIONS[endpoint] ?? endpoint;
    const parent = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    this.span = tracer.startSpan(this.operation, { kind: SpanKind.SERVER, startTime: performance.timeOrigin + startedAtMs, attributes: { 'gen_ai.operation.name': this.operation, 'switchyard.endpoint': endpoint } }, parent);
    this.context = trace.setSpan(parent, this.span);
  }

  describe(request: CanonicalRequest): void {
    this.span.updateName(`${this.operation} ${request.model}`);
    this.span.setAttributes(requestAttributes(request));
  }

  attempt(model: ModelInfo, deployment: Deployment, request: CanonicalRequest): AttemptTrace {
    const span = this.tracer.startSpan(`${this.operation} ${model.id}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        ...requestAttributes(request), 'gen_ai.operation.name': this.operation, 'gen_ai.request.model': model.id,
        'gen_ai.provider.name': PROVIDER_NAMES[deployment.provider], 'switchyard.provider': deployment.providerName, 'switchyard.deployment': deployment.id,
        ...serverAddress(deployment.baseUrl),
      },
    }, this.context);
    const attempt = new Attempt(span);
    propagator.inject(trace.setSpan(this.context, span), attempt.headers, defaultTextMapSetter);
    this.open = attempt;
    return attempt;
  }

  end(result: { status: number; model?: string; usage?: Usage; costUsd?: number; route?: string; tier?: string; errorCode?: string }): void {
    if (this.open && !this.open.ended) this.open.end({ status: result.status, usage: result.usage, responseModel: result.model, errorType: result.errorCode });
    const attributes: Attributes = { 'http.response.status_code': result.status };
    if (result.model) attributes['gen_ai.response.model'] = result.model;
    if (result.usage) Object.assign(attributes, usageAttributes(result.usage));
    if (result.costUsd !== undefined) attributes['switchyard.cost_usd'] = result.costUsd;
    if (result.route) attributes['switchyard.route'] = result.route;
    if (result.tier) attributes['switchyard.tier'] = result.tier;
    if (result.status >= 400) {
      attributes['error.type'] = result.errorCode ?? String(result.status);
      this.span.setStatus({ code: SpanStatusCode.ERROR });
    }
    this.span.setAttributes(attributes);
    this.span.end();
  }
}

class Attempt implements AttemptTrace {
  readonly headers: Record<string, string> = {};
  ended = false;
  private readonly span: Span;

  constructor(span: Span) {
    this.span = span;
  }

  end(result: AttemptEnd): void {
    if (this.ended) return;
    this.ended = true;
    const attributes: Attributes = { 'http.response.status_code': result.status };
    if (result.responseModel) attributes['gen_ai.response.model'] = result.responseModel;
    if (result.usage) Object.assign(attributes, usageAttributes(result.usage));
    if (result.status >= 400) {
      attributes['error.type'] = result.errorType ?? String(result.status);
      this.span.setStatus({ code: SpanStatusCode.ERROR });
    }
    this.span.setAttributes(attributes);
    this.span.end();
  }
}

function requestAttributes(request: CanonicalRequest): Attributes {
  const a: Attributes = { 'gen_ai.request.model': request.model };
  if (request.maxOutputTokens !== undefined) a['gen_ai.request.max_tokens'] = request.maxOutputTokens;
  if (request.temperature !== undefined) a['gen_ai.request.temperature'] = request.temperature;
  if (request.topP !== undefined) a['gen_ai.request.top_p'] = request.topP;
  if (request.seed !== undefined) a['gen_ai.request.seed'] = request.seed;
  if (request.stop?.length) a['gen_ai.request.stop_sequences'] = request.stop;
  if (request.stream) a['switchyard.stream'] = true;
  return a;
}

function usageAttributes(usage: Usage): Attributes {
  return {
    'gen_ai.usage.input_tokens': usage.inputTokens,
    'gen_ai.usage.output_tokens': usage.outputTokens,
    'gen_ai.usage.cached_input_tokens': usage.cachedInputTokens,
    'gen_ai.usage.reasoning_tokens': usage.reasoningTokens,
  };
}

function serverAddress(baseUrl: string): Attributes {
  try {
    const url = new URL(baseUrl);
    return { 'server.address': url.hostname, 'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
  } catch {
    return {};
  }
}
