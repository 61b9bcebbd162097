import type { ReasoningEffort } from '../canonical/types.ts';

export type ProviderKind = 'openai' | 'anthropic' | 'gemini' | 'ollama';
export type Tier = 'nano' | 'mini' | 'default' | 'frontier' | 'pro';

/** USD per 1M tokens. */
export interface Pricing {
  input: number;
  cachedInput: number;
  output: number;
  /** Anthropic cache writes; defaults to `input` where absent. */
  cacheWrite?: number;
}

export interface ReasoningSupport {
  /** The levels this model accepts, on the gateway's one scale. */
  levels: ReasoningEffort[];
  /** The level the model uses when the caller names none. */
  default?: ReasoningEffort;
  /**
   * Per level, what the provider is sent: Anthropic thinking budget tokens (number,
   * 0 = thinking off), Gemini thinkingBudget (number) or thinkingLevel (string),
   * OpenAI effort (string, usually the level itself).
   */
  map?: Partial<Record<ReasoningEffort, number | string>>;
}

export interface ModelInfo {
  id: string;
  provider: ProviderKind;
  /** The name sent upstream when it differs from `id`. */
  upstreamId?: string;
  displayName?: string;
  contextWindow: number;
  maxOutputTokens: number;
  pricing: Pricing;
  modalities: { input: Array<'text' | 'image' | 'audio' | 'pdf'>; output: Array<'text' | 'image' | 'embedding'> };
  reasoning?: ReasoningSupport;
  tier: Tier;
  tools: boolean;
  /** Which OpenAI endpoints the upstream itself serves natively. */
  endpoints: Array<'chat' | 'responses' | 'embeddings' | 'messages'>;
  /** Embedding models: output dimensions. */
  dimensions?: number;
}
