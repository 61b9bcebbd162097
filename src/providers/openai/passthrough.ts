// The fast path's transport for OpenAI-compatible upstreams: the client's request is
// sent as it came (unknown fields kept); src/providers/relay-stream.ts relays the answer.
import { providerLabel, readText, sendUpstream, transportError } from '../http.ts';
import type { UpstreamResponse } from '../http.ts';
import type { Deployment } from '../types.ts';
import { openaiUpstreamError } from './errors.ts';

export function openaiHeaders(deployment: Deployment): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...deployment.headers };
  if (deployment.apiKey) headers.authorization = `Bearer ${deployment.apiKey}`;
  return headers;
}

/** POST to an OpenAI-compatible upstream; a non-2xx answer becomes a GatewayError. */
export async function openUpstream(deployment: Deployment, path: string, body: string, signal: AbortSignal, accept?: string, forwardHeaders?: Record<string, string>): Promise<UpstreamResponse> {
  const headers = openaiHeaders(deployment);
  if (accept) headers.accept = accept;
  const label = providerLabel(deployment);
  const url = deployment.baseUrl + path;
  const response = await sendUpstream(url, { headers, body, signal, timeoutMs: deployment.timeoutMs, providerLabel: label, forwardHeaders });
  if (response.statusCode >= 400) {
    let text: string;
    try {
      text = await readText(response.body);
    } catch (err) {
      throw transportError(err, url, { providerLabel: label, timeoutMs: deployment.timeoutMs, signal });
    }
    const retryAfter = response.headers['retry-after'];
    throw openaiUpstreamError(response.statusCode, text, deployment, typeof retryAfter === 'string' ? retryAfter : undefined);
  }
  return response;
}
