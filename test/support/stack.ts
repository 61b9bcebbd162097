// The usual end-to-end set-up: the fake provider, a gateway in front of it, and an
// official OpenAI SDK client pointed at the gateway.
import OpenAI from 'openai';
import { startMockUpstream } from '../../src/mock-upstream/index.ts';
import type { MockUpstream } from '../../src/mock-upstream/index.ts';
import { startGateway } from './gateway.ts';
import type { TestGateway, StartOptions } from './gateway.ts';

export const GATEWAY_KEY = 'sy-test-gateway-key-0001';
export const PROVIDER_KEY = 'mock-provider-secret-0001';

export interface Stack {
  mock: MockUpstream;
  gw: TestGateway;
  client: OpenAI;
  close(): Promise<void>;
}

/** The `providers:` block of a config with the mock as the OpenAI and Anthropic upstream. */
export function mockProvidersYaml(mockUrl: string): string {
  return `providers:
  openai: { base_url: ${mockUrl}/v1, api_key: ${PROVIDER_KEY} }
  anthropic: { base_url: ${mockUrl}, api_key: mock-provider-secret-0002 }`;
}

/** Extra models on a chat-only OpenAI-compatible server (like Ollama or vLLM). */
export function localModelsYaml(mockUrl: string, extraProviders = ''): string {
  return `
providers:${extraProviders}
  openai:
    base_url: ${mockUrl}/v1
    api_key: ${PROVIDER_KEY}
    forward_headers: [x-mock-*]
  local:
    kind: openai
    base_url: ${mockUrl}/v1
    forward_headers: [x-mock-*]
models:
  local-llama:
    provider: local
    endpoints: [chat]
    context_window: 32768
    pricing: { input: 0.1, output: 0.2 }
  tiny-window:
    provider: local
    endpoints: [chat]
    context_window: 50
`;
}

/**
 * A gateway config with the mock as the OpenAI provider (x-mock-* headers passed on) and
 * the given models priced per 1M tokens, so tests can reason about exact costs.
 */
export function pricedMockYaml(mockUrl: string, prices: Record<string, { input: number; output: number }>, providerKey = PROVIDER_KEY): string {
  const models = Object.entries(prices).map(([id, p]) => `  ${id}: { pricing: { input: ${p.input}, cached_input: ${p.input}, output: ${p.output} } }`);
  return `
providers:
  openai:
    base_url: ${mockUrl}/v1
    api_key: ${providerKey}
    forward_headers: [x-mock-*]
models:
${models.join('\n')}
`;
}

export interface StackOptions extends StartOptions {
  mockOptions?: Parameters<typeof startMockUpstream>[0];
  /** More provider entries (YAML lines indented by two spaces) pointing at the mock. */
  providersFor?: (mockUrl: string) => string;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const mock = await startMockUpstream({ ...options.mockOptions });
  const gw = await startGateway({
    ...options,
    yaml: options.yaml ?? localModelsYaml(mock.url, options.providersFor?.(mock.url)),
    env: { OPENAI_BASE_URL: `${mock.url}/v1`, OPENAI_API_KEY: PROVIDER_KEY, SWITCHYARD_API_KEYS: GATEWAY_KEY, ...options.env },
  });
  const client = new OpenAI({ baseURL: gw.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
  return {
    mock,
    gw,
    client,
    async close() {
      await gw.close();
      await mock.close();
    },
  };
}
