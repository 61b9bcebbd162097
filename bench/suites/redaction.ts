// Time of redacting one realistic ~4 KB OpenAI chat body (system prompt, a user turn with prose,
// code, logs and config, a tool call whose JSON arguments hold one API key, a tool result, and a
// user turn with an email and a phone number),
// through redactJson with a redactor built once. One performance.now() pair per call.
import { createRedactor, redactJson } from '../../src/redact/redact.ts';

const WARMUP = 500;
const ITERATIONS = 3000;
const TARGET_BYTES = 4096;

function filler(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; out.length < length; i++) out += alphabet[(i * 17 + 5) % alphabet.length];
  return out;
}

// Parts of a support/debugging conversation: prose, code, a log excerpt, a config snippet.
const USER_PARTS = [
  'Hi! Our checkout service started returning HTTP 502 for roughly one request in two hundred after we ' +
    'deployed release v4.12.1 on 2024-03-15 (commit 9fceb02d0ae598e95dc970b74767f19372d61af8). Nothing in the ' +
    'upstream changed as far as we can tell, and the error budget for March is already at 38%.\n\n',
  'Here is the handler that calls the payment provider:\n```ts\nexport async function charge(order: Order) {\n' +
    '  for (let attempt = 0; attempt < 3; attempt++) {\n    const res = await fetch(PAYMENT_URL, {\n' +
    "      method: 'POST',\n      body: JSON.stringify({ amount: order.totalCents, currency: 'EUR' }),\n" +
    '      signal: AbortSignal.timeout(30_000),\n    });\n    if (res.ok) return res.json();\n' +
    '    await sleep(2 ** attempt * 250);\n  }\n  throw new Error(`charge failed for ${order.id}`);\n}\n```\n\n',
  'And an excerpt of the logs around the first failure:\n```\n2024-03-15T09:12:44.120Z INFO  req=7f3c order=A-118734 amount=1234.56 EUR\n' +
    '2024-03-15T09:12:44.871Z WARN  upstream=payments status=502 latency_ms=751 attempt=1\n' +
    '2024-03-15T09:12:45.402Z WARN  upstream=payments status=502 latency_ms=530 attempt=2\n' +
    '2024-03-15T09:12:46.990Z ERROR charge failed for A-118734 after 3 attempts\n```\n\n',
  'The deployment config is:\n```yaml\nreplicas: 6\nresources:\n  limits: { cpu: "2", memory: 1Gi }\n' +
    'payments:\n  url: https://payments.internal.example/v2/charges\n  timeout_ms: 30000\n  retries: 3\n```\n\n',
  'Questions: (1) could the retry loop double-charge when the first attempt actually succeeded upstream but ' +
    'timed out on our side? (2) what idempotency key should we send, and how long should the provider keep it? ' +
    '(3) is the backoff of 250 ms, 500 ms, 1 s reasonable under a 2 s p99 budget? Please be specific and ' +
    'point at the lines you rely on. We run Node 24 on Kubernetes 1.30 with 6 replicas behind an ALB.\n\n',
];

export function benchChatBody(): unknown {
  const messages: unknown[] = [
    { role: 'system', content: 'You are a senior SRE. Answer concisely and cite the log lines you rely on.' },
  ];
  const body = { model: 'gpt-4o-mini', temperature: 0.2, messages };
  let history = '';
  for (let i = 0; Buffer.byteLength(JSON.stringify(body), 'utf8') + history.length < TARGET_BYTES - 700; i++) {
    history += USER_PARTS[i % USER_PARTS.length];
  }
  messages.push(
    { role: 'user', content: history },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{
        id: 'call_1', type: 'function',
        function: {
          name: 'query_payments',
          arguments: JSON.stringify({ order: 'A-118734', since: '2024-03-15T09:00:00Z', api_key: `sk_live_${filler(24)}` }),
        },
      }],
    },
    { role: 'tool', tool_call_id: 'call_1', content: JSON.stringify({ status: 'captured', attempts: 2, amount: 1234.56 }) },
    { role: 'user', content: 'The customer is jane.doe@example.com, phone +1 (415) 555-2671. What should we tell them?' },
  );
  return body;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export async function runRedactionBench(): Promise<{ p50Ms: number; p99Ms: number; bytes: number }> {
  const redactor = createRedactor({ defaultRegion: 'US', secrets: [`upstream-${filler(20)}`] });
  const body = benchChatBody();
  const expected = redactJson(body, redactor).found;
  if (expected.email !== 1 || expected.phone !== 1 || expected.stripe !== 1) {
    throw new Error(`redaction bench body is not redacted as designed: ${JSON.stringify(expected)}`);
  }
  let sink = 0;
  for (let i = 0; i < WARMUP; i++) sink += Object.keys(redactJson(body, redactor).found).length;
  const times = new Float64Array(ITERATIONS);
  for (let i = 0; i < ITERATIONS; i++) {
    const start = performance.now();
    sink += Object.keys(redactJson(body, redactor).found).length;
    times[i] = performance.now() - start;
  }
  if (sink === 0) throw new Error('redaction found nothing');
  times.sort();
  return { p50Ms: percentile(times, 0.5), p99Ms: percentile(times, 0.99), bytes: Buffer.byteLength(JSON.stringify(body), 'utf8') };
}
