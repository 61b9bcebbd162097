// Anthropic Messages API (POST /v1/messages) as an inbound wire format.

export { parseMessagesRequest, effortForThinkingBudget } from './request.ts';
export { toMessagesResponse, toolInput, toStopReason, toAnthropicUsage } from './response.ts';
export type { AnthropicMessage, AnthropicContentBlock, AnthropicUsage, AnthropicStopReason, MessagesResponseOptions } from './response.ts';
export { MessagesStreamEncoder, MESSAGES_PING } from './stream.ts';
export type { MessagesStreamEncoderOptions } from './stream.ts';
export { renderAnthropicError } from './errors.ts';
export type { RenderedError } from './errors.ts';
