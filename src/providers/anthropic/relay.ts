// A Messages API request to a Claude deployment is relayed as it came (cache_control,
// beta fields and all), and the answer relayed as it arrives; only the usage is read.
import type { Usage } from '../../canonical/types.ts';
import { CountingTap } from '../stream-tap.ts';
import { readText, sendUpstream, transportError } from '../http.ts';
import type { UpstreamResponse } from '../http.ts';
import type { Deployment } from '../types.ts';
import { anthropicHeaders, anthropicMessagesUrl } from './index.ts';
import { anthropicHttpError } from './errors.ts';
import { anthropicUsage } from './translate.ts';

export async function openAnthropicUpstream(deployment: Deployment, payload: string, signal: AbortSignal, forwardHeaders?: Record<string, string>): Promise<UpstreamResponse> {
  const target = { deployment } as Parameters<typeof anthropicHeaders>[0];
  const url = anthropicMessagesUrl(deployment.baseUrl);
  const options = {
    headers: anthropicHeaders(target),
    body: payload,
    signal,
    forwardHeaders,
    timeoutMs: deployment.timeoutMs,
    providerLabel: `anthropic (deployment ${deployment.id})`,
  };
  const response = await sendUpstream(url, options);
  if (response.statusCode < 400) return response;
  let text: string;
  try {
    text = await readText(response.body);
  } catch (err) {
    throw transportError(err, url, options);
  }
  throw anthropicHttpError(response.statusCode, text, response.headers, target);
}

/** Usage of a relayed non-stream answer. */
export function relayedAnthropicUsage(json: any): Usage | undefined {
  return json?.usage ? anthropicUsage(json.usage) : undefined;
}

/**
 * Usage of a relayed stream: input (and cache) counts come in message_start, the
 * final output count in the last message_delta.
 */
export class AnthropicStreamTap extends CountingTap {

  keep(data: string, event: string | undefined): boolean {
    if (event === 'content_block_delta') {
      this.sawContent();
    } else if (event === 'message_start' || event === 'message_delta') {
      try {
        const json = JSON.parse(data);
        const reported = event === 'message_start' ? json.message?.usage : json.usage;
        if (event === 'message_start') this.model = json.message?.model;
        if (reported) this.usage = anthropicUsage({ ...toRaw(this.usage), ...withoutNulls(reported) });
      } catch {
        // not JSON: relayed anyway
      }
    }
    return true;
  }
}

function toRaw(usage: Usage | undefined): Record<string, number> {
  if (!usage) return {};
  const cacheWrite = usage.cacheWriteTokens ?? 0;
  return {
    input_tokens: usage.inputTokens - usage.cachedInputTokens - cacheWrite,
    cache_read_input_tokens: usage.cachedInputTokens,
    cache_creation_input_tokens: cacheWrite,
    output_tokens: usage.outputTokens,
  };
}

function withoutNulls(usage: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in usage) if (usage[key] !== null && usage[key] !== undefined) out[key] = usage[key];
  return out;
}
