// Closed-loop load with autocannon (programmatic), bounded in time and in count,
// loopback only. Latencies are kept exactly, one sample per response.
import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  connections: number;
  /** Seconds. */
  duration: number;
  /** Stop early after this many responses. */
  maxRequests: number;
  headers: Record<string, string>;
  body: string;
}

export interface LoadRun {
  /** ms per 2xx response. */
  latencies: number[];
  responses: number;
  non2xx: number;
  errors: number;
  seconds: number;
}

export async function runLoad(spec: LoadSpec): Promise<LoadRun> {
  if (!spec.url.startsWith('http://127.0.0.1:')) throw new Error(`load is loopback only: ${spec.url}`);
  const latencies: number[] = [];
  let responses = 0;
  let non2xx = 0;
  const instance = autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.duration,
    timeout: 10,
    method: 'POST',
    headers: spec.headers,
    body: spec.body,
  });
  instance.on('response', (_client, status, _bytes, ms) => {
    responses++;
    if (status >= 200 && status < 300) latencies.push(ms);
    else non2xx++;
    if (responses >= spec.maxRequests) instance.stop();
  });
  const started = performance.now();
  const result = await instance;
  const seconds = (performance.now() - started) / 1000;
  return { latencies, responses, non2xx, errors: result.errors, seconds };
}
