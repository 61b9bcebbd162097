// Anthropic `messages[]` (and `system`) -> canonical messages.
//
// A user turn may hold tool_result blocks next to text and images. The canonical
// form has a separate `tool` role, and OpenAI-style upstreams need every tool
// answer right after the assistant turn that asked for it, so such a turn becomes:
// all its tool messages (in block order), then one user message with the other
// blocks (in block order). Canonical tool content is text only, so an image inside
// a tool_result moves to the front of that user message, and the tool message
// says so in one line; the image is not lost.

import { invalidField, invalidRequest } from '../../canonical/errors.ts';
import type { AssistantContent, ImagePart, Message, UserContent } from '../../canonical/types.ts';
import {
  isObject,
  optionalBoolean,
  requireArray,
  requireNonEmptyString,
  requireObject,
  requireString,
  type JsonObject,
} from '../fields.ts';

const IMAGE_MEDIA_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/** `system`: a string or an array of text blocks (joined with a blank line; cache_control ignored). */
export function parseSystem(value: unknown): Message | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.length === 0 ? undefined : { role: 'system', content: value };
  const blocks = requireArray(value, 'system', 'a string or an array of text blocks');
  const texts: string[] = [];
  for (let i = 0; i < blocks.length; i++) {
    const path = `system[${i}]`;
    const block = requireObject(blocks[i], path, 'a text block {"type": "text", "text": ...}');
    if (block.type !== 'text') throw invalidField(`${path}.type`, '"text" (system takes text blocks only)', block.type);
    const text = requireString(block.text, `${path}.text`);
    if (text.length > 0) texts.push(text);
  }
  return texts.length === 0 ? undefined : { role: 'system', content: texts.join('\n\n') };
}

export function parseMessages(value: unknown, out: Message[]): void {
  const messages = requireArray(value, 'messages', 'a non-empty array of messages');
  if (messages.length === 0) throw invalidField('messages', 'a non-empty array of messages', value);
  for (let i = 0; i < messages.length; i++) {
    const path = `messages[${i}]`;
    const message = requireObject(messages[i], path, 'a message object {"role", "content"}');
    if (message.role === 'user') parseUserTurn(message.content, `${path}.content`, out);
    else if (message.role === 'assistant') out.push({ role: 'assistant', content: parseAssistantContent(message.content, `${path}.content`) });
    else throw invalidField(`${path}.role`, '"user" or "assistant" (put system text in the top-level "system" field)', message.role);
  }
}

function parseUserTurn(content: unknown, path: string, out: Message[]): void {
  if (typeof content === 'string') {
    out.push({ role: 'user', content: [{ type: 'text', text: content }] });
    return;
  }
  const blocks = requireArray(content, path, 'a string or an array of content blocks');
  const userParts: UserContent[] = [];
  let toolImages: ImagePart[] | undefined;
  for (let j = 0; j < blocks.length; j++) {
    const blockPath = `${path}[${j}]`;
    const block = requireBlock(blocks[j], blockPath);
    switch (block.type) {
      case 'text':
        userParts.push({ type: 'text', text: requireString(block.text, `${blockPath}.text`) });
        break;
      case 'image':
        userParts.push(parseImage(block, blockPath));
        break;
      case 'tool_result':
        toolImages = parseToolResult(block, blockPath, out, toolImages);
        break;
      case 'tool_use': case 'thinking': case 'redacted_thinking':
        throw invalidField(`${blockPath}.type`, `a user content block (text, image, tool_result); "${block.type}" belongs in an assistant message`, block.type);
      default:
        throw unsupportedBlock(block.type, blockPath, 'text, image, tool_result');
    }
  }
  const parts = toolImages === undefined ? userParts : [...toolImages, ...userParts];
  // A turn of tool results only adds no user message; an empty turn stays an empty user message.
  if (parts.length > 0 || (toolImages === undefined && blocks.length === 0)) out.push({ role: 'user', content: parts });
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

function parseAssistantContent(content: unknown, path: string): AssistantContent[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  const blocks = requireArray(content, path, 'a string or an array of content blocks');
  const parts: AssistantContent[] = [];
  for (let j = 0; j < blocks.length; j++) {
    const blockPath = `${path}[${j}]`;
    const block = requireBlock(blocks[j], blockPath);
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
  return parts;
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
    const data = requireNonEmptyString(source.data, `${path}.source.data`, 'base64 image bytes (no data: prefix)');
    return { type: 'image', data, mediaType };
  }
  if (source.type === 'url') {
    const url = source.url;
    if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) throw invalidField(`${path}.source.url`, 'an http(s) URL', url);
    return { type: 'image', url };
  }
  if (source.type === 'file') {
    throw invalidRequest(`Invalid value for '${path}.source.type': file sources (Files API) are not supported by Switchyard; send the image as {"type": "base64"} or {"type": "url"}.`, `${path}.source.type`, 'unsupported_value');
  }
  throw invalidField(`${path}.source.type`, '"base64" or "url"', source.type);
}

function requireBlock(value: unknown, path: string): JsonObject {
  if (!isObject(value) || typeof value.type !== 'string') throw invalidField(path, 'a content block object with a string "type"', value);
  return value;
}

function unsupportedBlock(type: unknown, path: string, supported: string) {
  return invalidRequest(
    `Invalid value for '${path}.type': content blocks of type ${JSON.stringify(type)} are not supported by Switchyard here; supported: ${supported}.`,
    `${path}.type`,
    'unsupported_value',
  );
}
