// `switchyard mock-upstream`: run the mock upstream until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { type MockOptions, startMockUpstream } from './server.ts';

export const USAGE = `Usage: switchyard mock-upstream [options]
  --port N             port to listen on (default 4010)
  --host H             address to listen on (default 127.0.0.1)
  --latency-ms N       wait N ms before the first byte of every answer
  --chunk-delay-ms N   wait N ms between stream events
  --chunks N           stream deltas per answer text (default 8)
  --fail-rate R        answer a share R (0..1) of requests with a random 429/500/503
  --api-key KEY        refuse requests without KEY, with the provider's real 401
  --quiet              do not print a line per request
Per-request control headers (x-mock-status, x-mock-latency-ms, x-mock-chunks, ...) are listed in src/mock-upstream/server.ts.
`;

/** Parse the flags, start the mock and resolve once it has been stopped by a signal. Throws on bad flags. */
export async function runMockUpstreamCli(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'latency-ms': { type: 'string' },
      'chunk-delay-ms': { type: 'string' },
      chunks: { type: 'string' },
      'fail-rate': { type: 'string' },
      'api-key': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const options: MockOptions = {
    port: flagNumber(values.port, '--port', 0, 65535) ?? 4010,
    host: values.host ?? '127.0.0.1',
    latencyMs: flagNumber(values['latency-ms'], '--latency-ms', 0),
    chunkDelayMs: flagNumber(values['chunk-delay-ms'], '--chunk-delay-ms', 0),
    chunks: flagNumber(values.chunks, '--chunks', 1),
    failRate: flagNumber(values['fail-rate'], '--fail-rate', 0, 1, true),
    apiKey: values['api-key'],
    // A long-running server for people and benchmarks: keep no request history.
    record: false,
  };
  if (!values.quiet) options.onRequest = (e) => process.stdout.write(`${e.method} ${e.path} ${e.status} ${e.ms}ms${e.outcome === 'served' ? '' : ` (${e.outcome})`}\n`);
  const mock = await startMockUpstream(options);
  const key = options.apiKey === undefined ? 'mock' : '<your --api-key>';
  process.stdout.write(`Mock upstream on ${mock.url} (OpenAI /v1, Anthropic /v1/messages, Gemini /v1beta) — point the gateway at it: OPENAI_BASE_URL=${mock.url}/v1 OPENAI_API_KEY=${key} ANTHROPIC_BASE_URL=${mock.url} ANTHROPIC_API_KEY=${key} GEMINI_BASE_URL=${mock.url} GEMINI_API_KEY=${key} npm start\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void mock.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

function flagNumber(value: string | undefined, flag: string, min: number, max = Number.MAX_SAFE_INTEGER, fraction = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (!fraction && !Number.isInteger(n))) {
    throw new Error(`Invalid ${flag} '${value}': expected ${fraction ? 'a number' : 'a whole number'} from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'up' : max}.`);
  }
  return n;
}
