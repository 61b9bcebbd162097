// Test support: parse a request as a translated route sees it — refused at its first
// note (see untranslatable.ts), as dispatch refuses it before translating.
import type { CanonicalRequest } from '../canonical/types.ts';
import { translationRefusal } from './untranslatable.ts';

export const TRANSLATED_TARGET = { model: 'claude-sonnet-4-5', provider: 'anthropic', relayedFormat: 'an OpenAI Responses model', relayedModels: ['gpt-5.5', 'gpt-5.4'] };

export function parsedForTranslation(parse: (body: unknown) => CanonicalRequest, body: unknown): CanonicalRequest {
  const request = parse(body);
  const refusal = translationRefusal(request, TRANSLATED_TARGET);
  if (refusal) throw refusal;
  return request;
}
