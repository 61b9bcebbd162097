// Reading usage out of an OpenAI-format stream that is relayed as it comes.
import { CountingTap } from '../stream-tap.ts';
import { readChatUsage, readResponsesUsage } from '../usage.ts';

/** The wire formats' usage readers, the same ones the translated path uses. */
export { readChatUsage as chatUsage, readResponsesUsage as responsesUsage };

export class ChatStreamTap extends CountingTap {
  readonly finalEvent = 'data: [DONE]';
  private readonly dropUsageChunk: boolean;

  constructor(dropUsageChunk: boolean) {
    super();
    this.dropUsageChunk = dropUsageChunk;
  }

  keep(data: string): boolean {
    if (data === '[DONE]') {
      this.ended = true;
      return true;
    }
    if (this.model !== undefined && isPlainContentDelta(data)) {
      this.sawDelta(data, undefined);
      return true;
    }
    const chunk = this.parsed(data, undefined);
    if (chunk === undefined) return true;
    // The upstream's own in-band error ends the stream; the client reads why from it.
    if (chunk.error) this.ended = true;
    this.model ??= chunk.model;
    const choice = chunk.choices?.[0];
    if (choice?.delta) {
      const d = choice.delta;
      if (d.content || d.reasoning_content || d.reasoning || d.tool_calls || d.refusal) {
        this.sawContent();
      }
    }
    if (chunk.usage) {
      this.usage = readChatUsage(chunk.usage);
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

const RESPONSES_ENDINGS = new Set(['response.completed', 'response.incomplete', 'response.failed', 'error']);

export class ResponsesStreamTap extends CountingTap {
  readonly finalEvent = 'event: response.completed';

  keep(data: string, event: string | undefined): boolean {
    const type = event ?? '';
    if (type.endsWith('.delta')) {
      this.sawDelta(data, event);
      return true;
    }
    const json = this.parsed(data, event);
    if (json === undefined) return true;
    if (RESPONSES_ENDINGS.has(type)) this.ended = true;
    if (type === 'response.created' || (this.ended && type !== 'error')) {
      const response = json?.response;
      this.model ??= response?.model;
      if (response?.usage) this.usage = readResponsesUsage(response.usage);
    }
    return true;
  }
}
