// A Messages API request to a Claude deployment is relayed as it came (cache_control,
// beta fields and all), and the answer relayed as it arrives; only the usage is read.
import type { Usage } from '../../canonical/types.ts';
import { CountingTap } from '../stream-tap.ts';
import { postUpstream } from '../http.ts';
import type { UpstreamResponse } from '../http.ts';
import type { Deployment } from '../types.ts';
import { anthropicPost } from './index.ts';
import { anthropicUsage, mergeAnthropicUsage } from './translate.ts';

export function openAnthropicUpstream(deployment: Deployment, payload: string, signal: AbortSignal, forwardHeaders?: Record<string, string>): Promise<UpstreamResponse> {
  return postUpstream(anthropicPost(deployment, payload, signal, forwardHeaders));
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
  readonly finalEvent = 'event: message_stop';
  private readonly reported: Record<string, unknown> = {};

  keep(data: string, event: string | undefined): boolean {
    if (event === 'content_block_delta') {
      this.sawDelta(data, event);
      return true;
    }
    const json = this.parsed(data, event);
    if (json === undefined) return true;
    if (event === 'message_stop' || event === 'error') this.ended = true;
    else if (event === 'message_start' || event === 'message_delta') {
      const reported = event === 'message_start' ? json?.message?.usage : json?.usage;
      if (event === 'message_start') this.model = json?.message?.model;
      if (reported) {
        mergeAnthropicUsage(this.reported, reported);
        this.usage = anthropicUsage(this.reported);
      }
    }
    return true;
  }
}
