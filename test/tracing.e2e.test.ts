// OpenTelemetry traces received by an OTLP/HTTP receiver of the test's own on loopback:
// a request span that continues the client's W3C traceparent, a child span per upstream
// attempt named and attributed by the GenAI semantic conventions, token counts matching
// the ledger, the attempt's traceparent passed to the provider, and no prompt text in
// any span. With the OTLP variables unset, the gateway has no tracer at all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import OpenAI from 'openai';
import { startMockUpstream, type MockUpstream } from '../src/mock-upstream/index.ts';
import { tracingFromEnv } from '../src/observability/tracing.ts';
import { startGateway, ledgerRow, type TestGateway } from './support/gateway.ts';
import { serveOnLoopback } from './support/loopback.ts';
import { GATEWAY_KEY, PROVIDER_KEY } from './support/stack.ts';

interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes: Array<{ key: string; value: Record<string, unknown> }> }

const bodies: string[] = [];
let receiver: { url: string; close(): Promise<void> };
let mock: MockUpstream;
let gw: TestGateway;

before(async () => {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  receiver = await serveOnLoopback(server);
  mock = await startMockUpstream({});
  gw = await startGateway({
    env: { OPENAI_BASE_URL: `${mock.url}/v1`, OPENAI_API_KEY: PROVIDER_KEY, SWITCHYARD_API_KEYS: GATEWAY_KEY },
    overrides: { tracing: await tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url.replace(/\/v1$/, ''), OTEL_SERVICE_NAME: 'switchyard-test' }) },
  });
});

after(async () => {
  await gw?.close();
  await mock?.close();
  await receiver?.close();
});

function spans(): OtlpSpan[] {
  return bodies.flatMap((b) => JSON.parse(b).resourceSpans.flatMap((r: any) => r.scopeSpans.flatMap((s: any) => s.spans)));
}

function attr(span: OtlpSpan, key: string): unknown {
  const value = span.attributes.find((a) => a.key === key)?.value;
  if (!value) return undefined;
  return 'intValue' in value ? Number(value.intValue) : Object.values(value)[0];
}

async function flushed(count: number): Promise<OtlpSpan[]> {
  for (let i = 0; i < 50 && spans().length < count; i++) {
    await gw.gateway.tracing!.flush();
    await new Promise((r) => setTimeout(r, 20));
  }
  return spans();
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const PROMPT = 'a very particular question about sea otters';

test('a request span continues the client trace; the attempt span is its child, with GenAI attributes and the ledger usage', async () => {
  const client = new OpenAI({ baseURL: gw.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0, defaultHeaders: { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` } });
  const { response } = await client.chat.completions.create({ model: 'gpt-5.4-mini', max_tokens: 50, messages: [{ role: 'user', content: PROMPT }] }).withResponse();
  const row = await ledgerRow(gw.ledger, response.headers.get('x-request-id')!);
  const all = await flushed(2);
  const request = all.find((s) => s.kind === 2)!;
  const attempt = all.find((s) => s.kind === 3)!;
  assert.equal(request.name, 'chat gpt-5.4-mini');
  assert.equal(request.traceId, TRACE_ID);
  assert.equal(request.parentSpanId, CLIENT_SPAN);
  assert.equal(attr(request, 'gen_ai.operation.name'), 'chat');
  assert.equal(attr(request, 'gen_ai.request.max_tokens'), 50);
  assert.equal(attr(request, 'http.response.status_code'), 200);
  assert.equal(attempt.name, 'chat gpt-5.4-mini');
  assert.equal(attempt.traceId, TRACE_ID);
  assert.equal(attempt.parentSpanId, request.spanId);
  assert.equal(attr(attempt, 'gen_ai.provider.name'), 'openai');
  assert.equal(attr(attempt, 'gen_ai.request.model'), 'gpt-5.4-mini');
  assert.equal(attr(attempt, 'gen_ai.usage.input_tokens'), row.usage.inputTokens);
  assert.equal(attr(attempt, 'gen_ai.usage.output_tokens'), row.usage.outputTokens);
  assert.equal(attr(request, 'gen_ai.usage.output_tokens'), row.usage.outputTokens);
  assert.equal(attr(attempt, 'server.address'), '127.0.0.1');
  // The provider got the attempt's own traceparent: same trace, the attempt span as parent.
  const upstream = mock.requests.at(-1)!;
  assert.equal(upstream.headers.traceparent, `00-${TRACE_ID}-${attempt.spanId}-01`);
  assert.ok(!bodies.join('').includes('sea otters'), 'no prompt text in any span');
});

test('a streamed request: the attempt span ends with the stream, with its usage, in a new trace', async () => {
  bodies.length = 0;
  const client = new OpenAI({ baseURL: gw.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: 'gpt-5.4-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream please' }] }).withResponse();
  for await (const _ of stream.data) { /* drain */ }
  const row = await ledgerRow(gw.ledger, stream.response.headers.get('x-request-id')!);
  const all = await flushed(2);
  const attempt = all.find((s) => s.kind === 3)!;
  assert.equal(attr(attempt, 'switchyard.stream'), true);
  assert.equal(attr(attempt, 'gen_ai.usage.output_tokens'), row.usage.outputTokens);
  assert.ok(row.usage.outputTokens > 0);
  const request = all.find((s) => s.kind === 2)!;
  assert.equal(request.traceId, attempt.traceId);
  assert.notEqual(request.traceId, TRACE_ID, 'no client traceparent: a new trace');
});

test('tracing is off without the OTLP variables, or with OTEL_SDK_DISABLED', async () => {
  assert.equal(await tracingFromEnv({}), undefined);
  assert.equal(await tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }), undefined);
  assert.equal(await tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' }), undefined);
});
