import type { ProviderKind } from '../catalog/types.ts';
import type { ProviderAdapter } from './types.ts';
import { openaiProvider } from './openai/index.ts';
import { anthropicProvider } from './anthropic/index.ts';
import { geminiProvider } from './gemini/index.ts';

/** Adding a provider means adding its folder and one line here. */
export function providerAdapters(): Map<ProviderKind, ProviderAdapter> {
  return new Map<ProviderKind, ProviderAdapter>([
    ['openai', openaiProvider],
    ['ollama', openaiProvider],
    ['anthropic', anthropicProvider],
    ['gemini', geminiProvider],
  ]);
}
