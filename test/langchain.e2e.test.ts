// LangChain JS's ChatAnthropic against the gateway's /v1/messages, as a user
// points it: only the API URL and key changed. Its streamed usage_metadata reads
// input tokens from message_start, so a translated stream must carry them there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ChatAnthropic } from '@langchain/anthropic';
import type { AIMessageChunk } from '@langchain/core/messages';
import { startStack, GATEWAY_KEY } from './support/stack.ts';
import type { Stack } from './support/stack.ts';

let stack: Stack;
before(async () => {
  stack = await startStack({ providersFor: (url) => `\n  anthropic: { base_url: ${url}, api_key: k-anthropic }` });
});
after(() => stack.close());

const PROMPT = 'Hello from LangChain';

function chat(model: string): ChatAnthropic {
  return new ChatAnthropic({ model, apiKey: GATEWAY_KEY, anthropicApiUrl: stack.gw.origin, maxRetries: 0, maxTokens: 200 });
}

// gpt-5.4-mini and local-llama are translated (Chat Completions upstream); claude-haiku-4-5 is relayed.
for (const model of ['gpt-5.4-mini', 'local-llama', 'claude-haiku-4-5']) {
  test(`${model}: ChatAnthropic streaming reports the same input tokens as a plain call`, async () => {
    const llm = chat(model);
    let streamed: AIMessageChunk | undefined;
    for await (const chunk of await llm.stream(PROMPT)) streamed = streamed ? streamed.concat(chunk) : chunk;
    const plain = await llm.invoke(PROMPT);
    assert.ok(streamed);
    assert.match(String(streamed.content), /^Echo: Hello from LangChain/);
    assert.ok(plain.usage_metadata && plain.usage_metadata.input_tokens > 0, `plain call usage: ${JSON.stringify(plain.usage_metadata)}`);
    assert.equal(streamed.usage_metadata?.input_tokens, plain.usage_metadata.input_tokens);
    // Output is not compared: LangChain adds message_start's output_tokens to message_delta's, as Anthropic streams them.
    assert.ok((streamed.usage_metadata?.output_tokens ?? 0) > 0);
  });
}
