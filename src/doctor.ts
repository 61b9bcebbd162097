// switchyard doctor: walk the debug order against a running gateway —
// base URL reachable → key valid → model id exists → one small request → streaming —
// and stop at the first failure with what to fix.
import { parseArgs } from 'node:util';

interface Step {
  name: string;
  run(): Promise<string>;
}

class StepFailed extends Error {}

export const DOCTOR_HELP = `Usage: switchyard doctor [--url URL] [--key KEY] [--model ID]      (npm run doctor -- [options])

Check a running gateway step by step: base URL reachable, key valid, model id exists,
one small request, streaming. Stops at the first failure and says what to fix.

Options:
  --url URL      the gateway's base URL (default SWITCHYARD_URL, else http://127.0.0.1:8787/v1)
  --key KEY      the key to try (default SWITCHYARD_API_KEY, else SWITCHYARD_MASTER_KEY)
  --model ID     the model to try (default a mini or nano model the gateway serves)
  -h, --help     print this help
`;

export async function runDoctor(argv: string[], out: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { url: { type: 'string' }, key: { type: 'string' }, model: { type: 'string' } }, strict: true });
  const base = (values.url ?? process.env.SWITCHYARD_URL ?? `http://127.0.0.1:${process.env.SWITCHYARD_PORT ?? 8787}/v1`).replace(/\/$/, '');
  const key = values.key ?? process.env.SWITCHYARD_API_KEY ?? process.env.SWITCHYARD_MASTER_KEY ?? '';
  let model = values.model ?? '';
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const call = async (path: string, init: RequestInit = {}) => {
    try {
      return await fetch(base + path, { ...init, headers: { ...headers, ...(init.headers as object) }, signal: AbortSignal.timeout(60_000) });
    } catch (err) {
      throw new StepFailed(`Cannot reach ${base} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}). Is the gateway running (npm start)? Is the host and port right?`);
    }
  };
  const errorText = async (res: Response) => {
    const text = await res.text();
    try {
      return JSON.parse(text).error?.message ?? text;
    } catch {
      return text.slice(0, 300);
    }
  };
  const steps: Step[] = [
    { name: 'base URL reachable', async run() {
      const res = await call('/models', { headers: { authorization: '' } });
      if (res.status === 404) throw new StepFailed(`${base}/models is not found: ${await errorText(res)} The base URL must end in /v1.`);
      await res.body?.cancel();
      return `${base} answers (HTTP ${res.status})`;
    } },
    { name: 'key valid', async run() {
      if (!key) throw new StepFailed('No key given. Pass --key, or set SWITCHYARD_API_KEY (or SWITCHYARD_MASTER_KEY).');
      const res = await call('/models');
      if (res.status === 401) throw new StepFailed(`The gateway refused the key: ${await errorText(res)}`);
      if (!res.ok) throw new StepFailed(`GET /models answered ${res.status}: ${await errorText(res)}`);
      const list = (await res.json()) as { data: Array<{ id: string }> };
      if (list.data.length === 0) throw new StepFailed('The key works but no model is available: no provider is configured. Set OPENAI_API_KEY (or another provider) and restart the gateway.');
      model ||= list.data.find((m) => /mini|nano/.test(m.id))?.id ?? list.data[0].id;
      return `key accepted; ${list.data.length} models available`;
    } },
    { name: `model id exists`, async run() {
      const res = await call(`/models/${encodeURIComponent(model)}`);
      if (!res.ok) throw new StepFailed(await errorText(res));
      return `'${model}' is served`;
    } },
    { name: 'one small request works', async run() {
      const res = await call('/chat/completions', { method: 'POST', body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Say OK.' }], max_completion_tokens: 16 }) });
      if (!res.ok) throw new StepFailed(`POST /chat/completions answered ${res.status}: ${await errorText(res)}`);
      await res.json();
      return `answered by ${res.headers.get('x-switchyard-model') ?? model} via ${res.headers.get('x-switchyard-provider') ?? '?'}, cost $${res.headers.get('x-switchyard-cost-usd') ?? '?'}`;
    } },
    { name: 'streaming works', async run() {
      const res = await call('/chat/completions', { method: 'POST', body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'Say OK.' }], max_completion_tokens: 16 }) });
      if (!res.ok) throw new StepFailed(`A streamed request answered ${res.status}: ${await errorText(res)}`);
      const text = await res.text();
      const chunks = text.split('\n\n').filter((e) => e.startsWith('data: ')).length;
      if (!text.includes('data: [DONE]')) throw new StepFailed(`The stream ended without data: [DONE] after ${chunks} events. A proxy between you and the gateway may be buffering or cutting streams.`);
      return `${chunks} events, ended with [DONE]`;
    } },
  ];
  out(`switchyard doctor — ${base}`);
  for (const [i, step] of steps.entries()) {
    try {
      out(`  ${i + 1}. ${step.name}: ok — ${await step.run()}`);
    } catch (err) {
      out(`  ${i + 1}. ${step.name}: FAILED\n     ${err instanceof StepFailed ? err.message : (err as Error).message}`);
      return 1;
    }
  }
  out('All checks passed.');
  return 0;
}
