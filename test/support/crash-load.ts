// Mixed load for the crash test and the crash bench: workers send back to back until
// stopped, half non-stream and half streaming slowly (so some streams are mid-way when
// the process dies), and remember the request ids the client saw answered. Failures
// (the kill) are expected and swallowed.
import OpenAI from 'openai';

export interface CrashLoad {
  done: Promise<void>;
  stop(): void;
  answered: Set<string>;
}

export function startCrashLoad(baseURL: string, secret: string, workers: number, model: string, maxTokens: number): CrashLoad {
  const sdk = new OpenAI({ baseURL, apiKey: secret, maxRetries: 0, timeout: 5_000 });
  const answered = new Set<string>();
  let stopped = false;
  const worker = async (n: number) => {
    for (let i = 0; !stopped; i++) {
      const messages = [{ role: 'user' as const, content: `worker ${n} request ${i}` }];
      try {
        if (n % 2 === 0) {
          const { response } = await sdk.chat.completions.create({ model, max_tokens: maxTokens, messages }).withResponse();
          answered.add(response.headers.get('x-request-id')!);
        } else {
          const { data, response } = await sdk.chat.completions.create({ model, max_tokens: maxTokens, stream: true, messages }, { headers: { 'x-mock-chunk-delay-ms': '5' } }).withResponse();
          for await (const _chunk of data);
          answered.add(response.headers.get('x-request-id')!);
        }
      } catch {
        if (stopped) return;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  const done = Promise.all(Array.from({ length: workers }, (_, n) => worker(n))).then(() => undefined);
  return { done, answered, stop: () => { stopped = true; } };
}
