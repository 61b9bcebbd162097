// Reading usage out of an OpenAI-format stream that is relayed as it comes.
import type { Usage } from '../../canonical/types.ts';
import { CountingTap } from '../stream-tap.ts';

/** Usage in a Chat Completions body or chunk (`usage` object). */
export function chatUsage(u: any): Usage | undefined {
  if (!u || typeof u !== 'object') return undefined;
  return {
    inputTokens: u.prompt_tokens ?? 0,
    cachedInputTokens: u.prompt_tokens_details?.cached_tokens ?? 0,
    outputTokens: u.completion_tokens ?? 0,
    reasoningTokens: u.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

/** Usage in a Responses API `response` object. */
export function responsesUsage(u: any): Usage | undefined {
  if (!u || typeof u !== 'object') return undefined;
  return {
    inputTokens: u.input_tokens ?? 0,
    cachedInputTokens: u.input_tokens_details?.cached_tokens ?? 0,
    outputTokens: u.output_tokens ?? 0,
    reasoningTokens: u.output_tokens_details?.reasoning_tokens ?? 0,
  };
}

export class ChatStreamTap extends CountingTap {
  private readonly dropUsageChunk: boolean;

  constructor(dropUsageChunk: boolean) {
    super();
    this.dropUsageChunk = dropUsageChunk;
  }

  keep(data: string): boolean {
    if (data === '[DONE]') return true;
    if (this.model !== undefined && isPlainContentDelta(data)) {
      this.sawContent();
      return true;
    }
    let chunk: any;
    try {
      chunk = JSON.parse(data);
    } catch {
      return true;
    }
    this.model ??= chunk.model;
    const choice = chunk.choices?.[0];
    if (choice?.delta) {
      const d = choice.delta;
      if (d.content || d.reasoning_content || d.reasoning || d.tool_calls || d.refusal) {
        this.sawContent();
      }
    }
    if (chunk.usage) {
      this.usage = chatUsage(chunk.usage);
      if (this.dropUsageChunk && (!chunk.choices || chunk.choices.length === 0)) return false;
    }
    return true;
  }
}

/**
 * Most chunks of a stream are a text delta and nothing else the tap needs, which it
 * can tell without parsing them: `"content":"` then a character other than `"` (a
 * non-empty string) and `"usage"` absent or null. Inside a JSON string every quote is
 * escaped, so these sequences are the chunk's own keys, never text. Anything else
 * (JSON with spaces, tool calls, an empty delta, usage, the first chunk) is parsed.
 */
function isPlainContentDelta(data: string): boolean {
  const content = data.indexOf('"content":"');
  if (content === -1 || data.charCodeAt(content + 11) === 34) return false;
  const usage = data.indexOf('"usage":');
  return usage === -1 || data.startsWith('null', usage + 8);
}

export class ResponsesStreamTap extends CountingTap {

  keep(data: string, event: string | undefined): boolean {
    const type = event ?? '';
    if (type.endsWith('.delta')) {
      this.sawContent();
      return true;
    }
    if (type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed' || type === 'response.created') {
      try {
        const response = JSON.parse(data).response;
        this.model ??= response?.model;
        if (response?.usage) this.usage = responsesUsage(response.usage);
      } catch {
        // not JSON: relay it anyway
      }
    }
    return true;
  }
}
