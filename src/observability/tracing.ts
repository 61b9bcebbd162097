// OpenTelemetry traces, off unless the standard OTLP variables say where to send them
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; OTEL_SDK_DISABLED
// and OTEL_TRACES_EXPORTER=none turn them off). One span per request and one per
// upstream attempt, named and attributed by the GenAI semantic conventions
// (`chat gpt-5.4-mini`, gen_ai.provider.name, gen_ai.request.model, gen_ai.usage.*). The
// client's W3C traceparent is the request span's parent; each attempt sends its own
// traceparent to the provider. No prompt or completion text is put in a span.
// Off, the gateway holds no tracer and the pipeline's only cost is `gateway.tracing?.`.
import type { IncomingHttpHeaders } from 'node:http';
import type { CanonicalRequest, Usage } from '../canonical/types.ts';
import type { ModelInfo } from '../catalog/types.ts';
import type { Deployment } from '../providers/types.ts';

export interface Tracing {
  /** The request's span, a child of the client's traceparent when it sent one. */
  startRequest(headers: IncomingHttpHeaders, endpoint: string, startedAtMs: number): RequestTrace;
  /** Send what is buffered now (tests; shutdown does it too). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface AttemptEnd {
  status: number;
  usage?: Usage;
  responseModel?: string;
  errorType?: string;
}

export interface AttemptTrace {
  /** traceparent (and tracestate) for the upstream call. */
  headers: Record<string, string>;
  end(result: AttemptEnd): void;
}

export interface RequestTrace {
  /** Name and attributes once the request is parsed. */
  describe(request: CanonicalRequest): void;
  attempt(model: ModelInfo, deployment: Deployment, request: CanonicalRequest): AttemptTrace;
  /** Ends the request span, and a streamed attempt still open, with what the request came to. */
  end(result: { status: number; model?: string; usage?: Usage; costUsd?: number; route?: string; tier?: string; errorCode?: string }): void;
}

/** The tracer the OTEL_* variables ask for, or undefined; the SDK (about 17 MB) is loaded only then. */
export async function tracingFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<Tracing | undefined> {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (!url) return undefined;
  const { otlpTracing } = await import('./otel.ts');
  return otlpTracing(url, env.OTEL_SERVICE_NAME ?? 'switchyard');
}
