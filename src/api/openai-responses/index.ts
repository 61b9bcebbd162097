// OpenAI Responses API <-> canonical: inbound (client) and outbound (upstream) sides.
export { parseResponsesRequest } from './parse.ts';
export { toResponseObject, fromResponsesResponse } from './response.ts';
export { ResponsesStreamEncoder } from './stream-encoder.ts';
export type { ResponsesStreamEncoderOptions } from './stream-encoder.ts';
export { ResponsesStreamDecoder } from './stream-decoder.ts';
export type { ResponsesStreamDecoderOptions } from './stream-decoder.ts';
