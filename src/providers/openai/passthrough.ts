// The fast path's transport for OpenAI-compatible upstreams: the client's request is
// sent as it came (unknown fields kept); src/providers/relay-stream.ts relays the answer.
import { postUpstream, type UpstreamPost, type UpstreamResponse } from '../http.ts';
import type { Deployment } from '../types.ts';
import { openaiUpstreamError } from './errors.ts';

export function openaiHeaders(deployment: Deployment): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...deployment.headers };
  if (deployment.apiKey) headers.authorization = `Bearer ${deployment.apiKey}`;
  return headers;
}

/** The POST of a body to an OpenAI-compatible upstream's `path`. */
export function openaiPost(deployment: Deployment, path: string, body: string, signal: AbortSignal, accept?: string, forwardHeaders?: Record<string, string>): UpstreamPost {
  const headers = openaiHeaders(deployment);
  if (accept) headers.accept = accept;
  return {
    deployment, url: deployment.baseUrl + path, headers, body, signal, forwardHeaders,
    httpError: (status, text, responseHeaders) => {
      const retryAfter = responseHeaders['retry-after'];
      return openaiUpstreamError(status, text, deployment, typeof retryAfter === 'string' ? retryAfter : undefined);
    },
  };
}

/** POST to an OpenAI-compatible upstream; a non-2xx answer becomes a GatewayError. */
export function openUpstream(deployment: Deployment, path: string, body: string, signal: AbortSignal, accept?: string, forwardHeaders?: Record<string, string>): Promise<UpstreamResponse> {
  return postUpstream(openaiPost(deployment, path, body, signal, accept, forwardHeaders));
}
