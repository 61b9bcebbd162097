// The text the router looks at: the question (the last user turn, with the system
// prompt's instructions before it) and an answer's text. No copies of images or tool
// payloads: only what a classifier or a check reads.
import type { AssistantContent, CanonicalRequest, Message } from '../canonical/types.ts';

/** The last user message's text (the question), and how many user turns came before it. */
export function questionOf(request: CanonicalRequest): { text: string; turns: number } {
  let turns = 0;
  let last: Message | undefined;
  for (const message of request.messages) {
    if (message.role === 'user') {
      turns++;
      last = message;
    }
  }
  let text = '';
  if (last && last.role === 'user') {
    for (const part of last.content) if (part.type === 'text') text += (text ? '\n' : '') + part.text;
  }
  return { text, turns };
}

/** The whole conversation as plain text, for a validator or verifier that must see the question in context. */
export function conversationText(request: CanonicalRequest, limitChars = 24_000): string {
  let out = '';
  for (const message of request.messages) {
    if (message.role === 'system') out += `[system]\n${message.content}\n\n`;
    else if (message.role === 'tool') out += `[tool result]\n${message.content}\n\n`;
    else {
      let text = '';
      for (const part of message.content) {
        if (part.type === 'text') text += part.text;
        else if (part.type === 'image') text += '[image]';
        else if (part.type === 'tool_call') text += `[tool call ${part.name}(${part.arguments})]`;
      }
      out += `[${message.role}]\n${text}\n\n`;
    }
  }
  // The end of a long conversation is what the answer replies to.
  return out.length > limitChars ? `…${out.slice(out.length - limitChars)}` : out;
}

export function answerText(content: readonly AssistantContent[]): string {
  let text = '';
  for (const part of content) {
    if (part.type === 'text') text += part.text;
    else if (part.type === 'tool_call') text += `${text ? '\n' : ''}[tool call ${part.name}(${part.arguments})]`;
  }
  return text;
}

export function hasImageInput(request: CanonicalRequest): boolean {
  for (const message of request.messages) {
    if (message.role === 'user') for (const part of message.content) if (part.type === 'image') return true;
  }
  return false;
}
