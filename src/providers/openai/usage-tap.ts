// Reading usage out of an OpenAI-format stream that is relayed as it comes.
import { CountingTap, looksWhole } from '../stream-tap.ts';
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
    const shape = deltaShape(data);
    if (shape !== OTHER) {
      // The first chunk names the model: read by its key where that is unambiguous, else parsed below.
      this.model ??= topLevelModel(data);
      if (this.model !== undefined) {
        if (shape === PLAIN_CONTENT) this.sawDelta(data, undefined);
        else if (!looksWhole(data)) this.sawMalformed(data, undefined);
        return true;
      }
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

const OTHER = 0;
const PLAIN_CONTENT = 1;
const EMPTY_DELTA = 2;

/**
 * Most chunks of a stream need no parse, and the tap can tell them by their keys alone:
 * a text delta (`"content":"` then a character other than `"`: a non-empty string), and
 * the chunk that ends a choice (its first choice's delta is `{}`), each with `"usage"`
 * absent or null. Inside a JSON string every quote is escaped, so these sequences are
 * the chunk's own keys, never text. Anything else (JSON with spaces, tool calls, usage,
 * an error, a first chunk whose model is not plainly its top-level key) is parsed.
 */
function deltaShape(data: string): typeof OTHER | typeof PLAIN_CONTENT | typeof EMPTY_DELTA {
  const usage = find(data, '"', 'usage":');
  if (usage !== -1 && !data.startsWith('null', usage + 8)) return OTHER;
  const content = find(data, '"', 'content":"');
  if (content !== -1) {
    if (data.charCodeAt(content + 11) !== 34) return PLAIN_CONTENT;
    return isRoleOpening(data, content) && find(data, '"', 'error":') === -1 ? EMPTY_DELTA : OTHER;
  }
  return find(data, '"choices":[{"index":0,"', 'delta":{}') !== -1 && find(data, '"', 'error":') === -1 ? EMPTY_DELTA : OTHER;
}

/**
 * Where `lead + tail` first occurs in `data` (-1: nowhere), searched by `tail`, which starts
 * with a letter: a search led by `"`, the commonest character of JSON, is several times slower.
 */
function find(data: string, lead: string, tail: string): number {
  for (let at = data.indexOf(tail); at !== -1; at = data.indexOf(tail, at + 1)) {
    if (at >= lead.length && data.startsWith(lead, at - lead.length)) return at - lead.length;
  }
  return -1;
}

const ROLE_PREFIX = '"delta":{"role":"assistant",';

/** The chunk that opens a choice: its role and an empty text (at `content`), nothing else. */
function isRoleOpening(data: string, content: number): boolean {
  if (!data.startsWith(ROLE_PREFIX, content - ROLE_PREFIX.length)) return false;
  const after = content + 12; // past "content":""
  return data.charCodeAt(after) === 125 || data.startsWith(',"refusal":null}', after);
}

/**
 * The chunk's `"model"` where it is plainly the top-level key: nothing nested before it
 * (no `{` or `[` after the opening brace, even inside a string, which only makes this
 * give up more often), the key after a `,` or `{`, and no escape in its value. Otherwise
 * undefined, and the chunk is parsed.
 */
function topLevelModel(data: string): string | undefined {
  const at = find(data, '"', 'model":"');
  // After `,` or `{` the quote opens a key; after anything else it may close a string.
  const before = at > 0 ? data.charCodeAt(at - 1) : 0;
  if (before !== 44 && before !== 123) return undefined;
  const nested = data.indexOf('{', 1);
  const list = data.indexOf('[');
  if ((nested !== -1 && nested < at) || (list !== -1 && list < at)) return undefined;
  const end = data.indexOf('"', at + 9);
  if (end === -1) return undefined;
  const model = data.slice(at + 9, end);
  return model.indexOf('\\') === -1 ? model : undefined;
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
