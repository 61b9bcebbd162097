import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRedactor, redactJson } from './redact.ts';
import { SECRETS } from './test-corpus.ts';

const redactor = createRedactor({ defaultRegion: 'US' });

function chatBody() {
  return {
    model: 'gpt-4o-mini',
    temperature: 0.2,
    stream: false,
    messages: [
      { role: 'system', content: 'You are a billing assistant.' },
      { role: 'user', content: 'I am jane.doe@example.com, call me at (415) 555-2671.' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{
          id: 'call_1',
          type: 'function',
          function: {
            name: 'lookup_customer',
            arguments: JSON.stringify({ email: 'jane.doe@example.com', card: '4111 1111 1111 1111', limit: 5 }),
          },
        }],
      },
      { role: 'tool', tool_call_id: 'call_1', content: JSON.stringify({ customer: { id: 42, api_key: SECRETS.stripe, vip: true } }) },
      { role: 'user', content: [{ type: 'text', text: `my key is ${SECRETS.switchyardLive}` }, { type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] },
    ],
    tools: [{ type: 'function', function: { name: 'lookup_customer', parameters: { type: 'object', properties: { email: { type: 'string' } } } } }],
  };
}

test('an OpenAI chat body keeps its structure; only strings change', () => {
  const body = chatBody();
  const before = structuredClone(body);
  const { value, found } = redactJson(body, redactor);
  assert.deepEqual(body, before, 'the input is not modified');
  const expected = chatBody();
  expected.messages[1].content = 'I am [REDACTED:email], call me at [REDACTED:phone].';
  expected.messages[2].tool_calls![0].function.arguments = JSON.stringify({ email: '[REDACTED:email]', card: '[REDACTED:card]', limit: 5 });
  expected.messages[3].content = JSON.stringify({ customer: { id: 42, api_key: '[REDACTED:stripe]', vip: true } });
  (expected.messages[4].content as Array<{ text?: string }>)[0].text = 'my key is [REDACTED:switchyard_key]';
  assert.deepEqual(value, expected);
  assert.deepEqual(found, { email: 2, phone: 1, card: 1, stripe: 1, switchyard_key: 1 });
});

test('keys are never redacted, and JSON strings without findings keep their formatting', () => {
  const pretty = JSON.stringify({ note: 'nothing here' }, null, 2);
  const input = { 'jane.doe@example.com': 'x', args: pretty, nested: [[{ deep: 'ok' }]], count: 3, none: null };
  const { value, found } = redactJson(input, redactor);
  assert.deepEqual(value, input);
  assert.notEqual(value, input, 'a copy is returned');
  assert.deepEqual(found, {});
});

test('strings that only look like JSON are redacted as text', () => {
  const { value } = redactJson({ content: '{not json, mail jane@example.com}' }, redactor);
  assert.deepEqual(value, { content: '{not json, mail [REDACTED:email]}' });
});

test('very deep nesting is redacted as text past the depth limit instead of overflowing the stack', () => {
  let deep: unknown = { secret: SECRETS.githubClassic };
  for (let i = 0; i < 1000; i++) deep = [deep];
  const { value, found } = redactJson(deep, redactor);
  assert.deepEqual(found, { github: 1 });
  assert.ok(!JSON.stringify(value).includes(SECRETS.githubClassic));
  let deeper: unknown = { secret: SECRETS.githubClassic };
  for (let i = 0; i < 20_000; i++) deeper = [deeper];
  assert.equal(JSON.stringify(redactJson(deeper, redactor)).includes(SECRETS.githubClassic), false);
});
