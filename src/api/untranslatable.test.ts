import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../canonical/errors.ts';
import { countInputTokens } from '../tokens/count.ts';
import { parseMessagesRequest } from './anthropic-messages/request.ts';
import { parseResponsesRequest } from './openai-responses/parse.ts';
import { translationRefusal } from './untranslatable.ts';

const base = { model: 'claude-sonnet-4-5', max_tokens: 100 };

test('an untranslatable item is counted as input tokens from its JSON, so a relay reserves for it', async () => {
  const question = { role: 'user', content: 'Which city?' };
  const tool = { type: 'namespace', name: 'mcp__docs__', description: 'Search the documentation of this project for a phrase.', tools: [] };
  const without = await countInputTokens(parseResponsesRequest({ model: 'm', input: [question] }));
  const withTool = await countInputTokens(parseResponsesRequest({ model: 'm', input: [question], tools: [tool] }));
  assert.ok(withTool - without >= 10, `the namespace tool adds its tokens (${withTool - without})`);
});

test('inline file data in an untranslatable block costs what an image does, not its base64 text', async () => {
  const pdf = Buffer.alloc(300_000, 7).toString('base64');
  const document = { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: pdf } };
  const request = parseMessagesRequest({ ...base, messages: [{ role: 'user', content: [document, { type: 'text', text: 'Summarise' }] }] });
  assert.equal(request.untranslatable?.[0].param, 'messages[0].content[0].type');
  const tokens = await countInputTokens(request);
  assert.ok(tokens < 2_000, `a 300 kB PDF is not counted as 400k characters of text (${tokens})`);
});

test('a translated route with no relaying model configured says so', () => {
  const request = parseMessagesRequest({ ...base, tools: [{ type: 'web_search_20250305', name: 'web_search' }], messages: [{ role: 'user', content: 'q' }] });
  const refusal = translationRefusal(request, { model: 'gpt-5.4', provider: 'openai', relayedFormat: 'a Claude model', relayedModels: [] });
  assert.ok(refusal instanceof GatewayError);
  assert.equal(refusal.code, 'unsupported_tool_type');
  assert.match(refusal.message, /tools\[0\]\.type 'web_search_20250305' can only be relayed to a Claude model, and none is configured on this gateway; 'gpt-5\.4' is served by openai/);
});

test('a request with nothing untranslatable has no notes and no refusal', () => {
  const request = parseMessagesRequest({ ...base, messages: [{ role: 'user', content: 'q' }] });
  assert.equal(request.untranslatable, undefined);
  assert.equal(translationRefusal(request, { model: 'x', provider: 'openai', relayedFormat: 'a Claude model', relayedModels: [] }), undefined);
});
