// OpenAI Chat Completions <-> canonical: inbound (client) and outbound (upstream) sides.
export { parseChatRequest, includeUsageRequested } from './parse.ts';
export { toChatRequest, chatDroppedFields, chatDroppedWarning } from './request.ts';
export { fromChatResponse, toChatCompletion } from './response.ts';
export { ChatStreamDecoder } from './stream-decoder.ts';
export type { ChatStreamDecoderOptions } from './stream-decoder.ts';
export { ChatStreamEncoder } from './stream-encoder.ts';
export type { ChatStreamEncoderOptions } from './stream-encoder.ts';
