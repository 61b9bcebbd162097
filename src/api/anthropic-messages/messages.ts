// Anthropic `messages[]` (and `system`) -> canonical messages.
//
// A user turn may hold tool_result blocks next to text and images. The canonical
// form has a separate `tool` role, and OpenAI-style upstreams need every tool
// answer right after the assistant turn that asked for it, so such a turn becomes:
// all its tool messages (in block order), then one user message with the other
// blocks (in block order). Canonical tool content is text only, so an image inside
// a tool_result moves to the front of that user message, and the tool message
// says so in one line; the image is not lost.
//
// A `system` message inside `messages` (the mid-conversation-system beta, which
// Claude Code sends) becomes a canonical system message at that position.
//
// Blocks, roles and sources no translation carries, and invalid values the gateway
// does not need, are noted (../untranslatable.ts) rather than refused: a relay to
// Claude passes them as they came.

import { GatewayError, invalidField } from '../../canonical/errors.ts';
import type { AssistantContent, ImagePart, Message, Untranslatable, UserContent } from '../../canonical/types.ts';
import {
  isObject,
  optionalBoolean,
  requireArray,
  requireNonEmptyString,
  requireObject,
  requireString,
  type JsonObject,
} from '../fields.ts';
import { requireBase64 } from '../openai-chat/fields.ts';
import { NotTranslatable, onEveryRoute, tolerate } from '../untranslatable.ts';

const IMAGE_MEDIA_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/** `system`: a string or an array of text blocks (joined with a blank line; cache_control ignored). */
export function parseSystem(value: unknown, param = 'system'): Message | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.length === 0 ? undefined : { role: 'system', content: value };
  const blocks = requireArray(value, param, 'a string or an array of text blocks');
  const texts: string[] = [];
  for (let i = 0; i < blocks.length; i++) {
    const path = `${param}[${i}]`;
    const block = requireObject(blocks[i], path, 'a text block {"type": "text", "text": ...}');
    if (block.type !== 'text') throw invalidField(`${path}.type`, '"text" (system takes text blocks only)', block.type);
    const text = requireString(block.text, `${path}.text`);
    if (text.length > 0) texts.push(text);
  }
  return texts.length === 0 ? undefined : { role: 'system', content: texts.join('\n\n') };
}

export function parseMessages(value: unknown, out: Message[], notes: Untranslatable[]): void {
  const messages = requireArray(value, 'messages', 'a non-empty array of messages');
  if (messages.length === 0) tolerate(notes, undefined, () => { throw invalidField('messages', 'a non-empty array of messages', value); });
  for (let i = 0; i < messages.length; i++) tolerate(notes, messages[i], parseMessage, messages[i], `messages[${i}]`, out, notes);
}

function parseMessage(value: unknown, path: string, out: Message[], notes: Untranslatable[]): void {
  const message = requireObject(value, path, 'a message object {"role", "content"}');
  if (message.role === 'user') parseUserTurn(message.content, `${path}.content`, out, notes);
  else if (message.role === 'assistant') out.push({ role: 'assistant', content: parseAssistantContent(message.content, `${path}.content`, notes) });
  else if (message.role === 'system') {
    const system = parseSystem(message.content, `${path}.content`);
    if (system !== undefined) out.push(system);
  } else if (typeof message.role === 'string') {
    throw new NotTranslatable(`${path}.role`, `'${message.role}'`, 'unsupported_value', 'Roles Switchyard translates: "user", "assistant", "system".');
  } else throw invalidField(`${path}.role`, '"user", "assistant" or "system"', message.role);
}

function parseUserTurn(content: unknown, path: string, out: Message[], notes: Untranslatable[]): void {
  if (typeof content === 'string') {
    out.push({ role: 'user', content: [{ type: 'text', text: content }] });
    return;
  }
  const blocks = requireArray(content, path, 'a string or an array of content blocks');
  const turn: UserTurn = { parts: [], toolImages: undefined, out };
  for (let j = 0; j < blocks.length; j++) tolerate(notes, blocks[j], parseUserBlock, blocks[j], `${path}[${j}]`, turn);
  const parts = turn.toolImages === undefined ? turn.parts : [...turn.toolImages, ...turn.parts];
  // A turn of tool results only adds no user message; an empty turn stays an empty user message.
  if (parts.length > 0 || (turn.toolImages === undefined && blocks.length === 0)) out.push({ role: 'user', content: parts });
}

/** A user turn being read: its own parts, images its tool results returned, and the messages so far. */
interface UserTurn {
  parts: UserContent[];
  toolImages: ImagePart[] | undefined;
  out: Message[];
}

function parseUserBlock(value: unknown, blockPath: string, turn: UserTurn): void {
  const block = requireBlock(value, blockPath);
  switch (block.type) {
    case 'text':
      turn.parts.push({ type: 'text', text: requireString(block.text, `${blockPath}.text`) });
      break;
    case 'image':
      turn.parts.push(parseImage(block, blockPath));
      break;
    case 'tool_result':
      turn.toolImages = parseToolResult(block, blockPath, turn.out, turn.toolImages);
      break;
    case 'tool_use': case 'thinking': case 'redacted_thinking':
      throw invalidField(`${blockPath}.type`, `a user content block (text, image, tool_result); "${block.type}" belongs in an assistant message`, block.type);
    default:
      throw unsupportedBlock(block.type, blockPath, 'text, image, tool_result');
  }
}

function parseToolResult(block: JsonObject, path: string, out: Message[], images: ImagePart[] | undefined): ImagePart[] | undefined {
  const toolCallId = requireNonEmptyString(block.tool_use_id, `${path}.tool_use_id`, 'the id of the tool_use block this answers');
  const isError = optionalBoolean(block.is_error, `${path}.is_error`);
  let text = '';
  let imageCount = 0;
  const content = block.content;
  if (typeof content === 'string') text = content;
  else if (content !== undefined && content !== null) {
    const parts = requireArray(content, `${path}.content`, 'a string or an array of text and image blocks');
    const texts: string[] = [];
    for (let k = 0; k < parts.length; k++) {
      const partPath = `${path}.content[${k}]`;
      const part = requireBlock(parts[k], partPath);
      if (part.type === 'text') texts.push(requireString(part.text, `${partPath}.text`));
      else if (part.type === 'image') {
        (images ??= []).push(parseImage(part, partPath));
        imageCount++;
      } else throw unsupportedBlock(part.type, partPath, 'text, image');
    }
    if (imageCount > 0) texts.push(`(${imageCount === 1 ? 'The tool returned 1 image; it follows' : `The tool returned ${imageCount} images; they follow`} in the next user message.)`);
    text = texts.join('\n');
  }
  out.push(isError === true ? { role: 'tool', toolCallId, content: text, isError: true } : { role: 'tool', toolCallId, content: text });
  return images;
}

function parseAssistantContent(content: unknown, path: string, notes: Untranslatable[]): AssistantContent[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  const blocks = requireArray(content, path, 'a string or an array of content blocks');
  const parts: AssistantContent[] = [];
  for (let j = 0; j < blocks.length; j++) tolerate(notes, blocks[j], parseAssistantBlock, blocks[j], `${path}[${j}]`, parts);
  return parts;
}

function parseAssistantBlock(value: unknown, blockPath: string, parts: AssistantContent[]): void {
  const block = requireBlock(value, blockPath);
  switch (block.type) {
    case 'text':
      parts.push({ type: 'text', text: requireString(block.text, `${blockPath}.text`) });
      break;
    case 'tool_use':
      parts.push(parseToolUse(block, blockPath));
      break;
    case 'thinking': {
      const text = requireString(block.thinking, `${blockPath}.thinking`);
      const signature = block.signature === undefined || block.signature === null ? undefined : requireString(block.signature, `${blockPath}.signature`);
      parts.push(signature === undefined ? { type: 'reasoning', text } : { type: 'reasoning', text, signature });
      break;
    }
    case 'redacted_thinking':
      parts.push({ type: 'reasoning', text: '', redacted: requireNonEmptyString(block.data, `${blockPath}.data`, 'the opaque redacted_thinking data string') });
      break;
    case 'image': case 'tool_result':
      throw invalidField(`${blockPath}.type`, `an assistant content block (text, tool_use, thinking, redacted_thinking); "${block.type}" belongs in a user message`, block.type);
    default:
      throw unsupportedBlock(block.type, blockPath, 'text, tool_use, thinking, redacted_thinking');
  }
}

function parseToolUse(block: JsonObject, path: string): AssistantContent {
  const id = requireNonEmptyString(block.id, `${path}.id`);
  const name = requireNonEmptyString(block.name, `${path}.name`);
  const input = block.input === undefined || block.input === null ? {} : requireObject(block.input, `${path}.input`, 'an object (the tool arguments)');
  return { type: 'tool_call', id, name, arguments: JSON.stringify(input) };
}

function parseImage(block: JsonObject, path: string): ImagePart {
  const source = requireObject(block.source, `${path}.source`, 'an image source {"type": "base64", "media_type", "data"} or {"type": "url", "url"}');
  if (source.type === 'base64') {
    const mediaType = source.media_type;
    if (typeof mediaType !== 'string' || !IMAGE_MEDIA_TYPES.has(mediaType)) {
      throw invalidField(`${path}.source.media_type`, 'one of image/jpeg, image/png, image/gif, image/webp', mediaType);
    }
    // The gateway checks image input, and the provider would refuse these: every route.
    const data = requireBase64(requireOnEveryRoute(() => requireNonEmptyString(source.data, `${path}.source.data`, 'base64 image bytes (no data: prefix)')), `${path}.source.data`);
    return { type: 'image', data, mediaType };
  }
  if (source.type === 'url') {
    const url = source.url;
    if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) throw invalidField(`${path}.source.url`, 'an http(s) URL', url);
    return { type: 'image', url };
  }
  if (source.type === 'file') {
    throw new NotTranslatable(`${path}.source.type`, "'file' (a Files API source)", 'unsupported_value', 'File sources are not supported by translation; send the image as {"type": "base64"} or {"type": "url"}.');
  }
  throw invalidField(`${path}.source.type`, '"base64" or "url"', source.type);
}

function requireBlock(value: unknown, path: string): JsonObject {
  if (!isObject(value) || typeof value.type !== 'string') throw invalidField(path, 'a content block object with a string "type"', value);
  return value;
}

function unsupportedBlock(type: unknown, path: string, supported: string) {
  return new NotTranslatable(`${path}.type`, `'${String(type)}'`, 'unsupported_content_type', `Content blocks of this type are not supported by translation here; supported: ${supported}.`);
}

function requireOnEveryRoute<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw err instanceof GatewayError ? onEveryRoute(err) : err;
  }
}
