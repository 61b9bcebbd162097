// The fast path: a request in an OpenAI wire format to an upstream that speaks that
// same format is relayed as it is (unknown fields kept), and its answer relayed byte
// for byte as it arrives, while a tap reads the usage out of it.
import type { ServerResponse } from 'node:http';
import type { GatewayError } from '../../canonical/errors.ts';
import { SseParser } from '../../canonical/sse.ts';
import type { SseEvent } from '../../canonical/sse.ts';
import { readText, sendUpstream, transportError } from '../http.ts';
import type { UpstreamResponse } from '../http.ts';
import type { Deployment } from '../types.ts';
import { openaiUpstreamError, streamInterrupted } from './errors.ts';
import type { StreamTap } from './usage-tap.ts';
import { drained } from '../../http/drain.ts';

export function openaiHeaders(deployment: Deployment): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...deployment.headers };
  if (deployment.apiKey) headers.authorization = `Bearer ${deployment.apiKey}`;
  return headers;
}

/** POST to an OpenAI-compatible upstream; a non-2xx answer becomes a GatewayError. */
export async function openUpstream(deployment: Deployment, path: string, body: string, signal: AbortSignal, accept?: string, forwardHeaders?: Record<string, string>): Promise<UpstreamResponse> {
  const headers = openaiHeaders(deployment);
  if (accept) headers.accept = accept;
  const label = `${deployment.provider} (${deployment.id})`;
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

export interface RelayOutcome {
  /** The client went away before the end. */
  clientClosed: boolean;
  /** The upstream failed after the stream had started. */
  error?: GatewayError;
}

/**
 * Relay an upstream SSE body to the client event by event. Bytes go out as soon as
 * they arrive (one write per upstream chunk when no event is dropped); the upstream is
 * paused while the client's socket is full.
 */
export async function relayStream(upstream: UpstreamResponse, res: ServerResponse, tap: StreamTap, deployment: Deployment, rewrite: boolean, errorEvent: (error: GatewayError) => string): Promise<RelayOutcome> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  try {
    for await (const chunk of upstream.body) {
      events.length = 0;
      parser.push(decoder.decode(chunk as Buffer, { stream: true }), events);
      let ok = true;
      if (!rewrite) {
        ok = res.write(chunk);
        for (let i = 0; i < events.length; i++) tap.keep(events[i].data, events[i].event);
      } else {
        let out = '';
        for (let i = 0; i < events.length; i++) {
          const e = events[i];
          if (!tap.keep(e.data, e.event)) continue;
          out += e.event === undefined ? `data: ${stripNullUsage(e.data)}\n\n` : `event: ${e.event}\ndata: ${e.data}\n\n`;
        }
        if (out.length > 0) ok = res.write(out);
      }
      if (!ok && !res.destroyed) await drained(res);
      if (res.destroyed) return { clientClosed: true };
    }
    return { clientClosed: false };
  } catch (err) {
    if (res.destroyed) return { clientClosed: true };
    const error = streamInterrupted(deployment, err as Error);
    res.write(errorEvent(error));
    return { clientClosed: false, error };
  }
}

/** The gateway asked for usage on the client's behalf; chunks then carry "usage":null the client did not ask for. */
function stripNullUsage(data: string): string {
  const at = data.indexOf(',"usage":null');
  return at === -1 ? data : data.slice(0, at) + data.slice(at + 13);
}

