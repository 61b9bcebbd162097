// A Responses request translated onto a Chat Completions upstream: the Responses-only
// fields Chat cannot carry are not sent, and the client is told which (never silently).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './support/stack.ts';
import type { Stack } from './support/stack.ts';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

const lastUpstream = () => stack.mock.requests[stack.mock.requests.length - 1];
const dropping = { truncation: 'auto', max_tool_calls: 2, include: ['reasoning.encrypted_content'] } as const;

for (const stream of [false, true]) {
  test(`translated onto chat (${stream ? 'stream' : 'non-stream'}): Responses-only fields are named in x-switchyard-warnings, not sent`, async () => {
    const { data, response } = await stack.client.responses
      .create({ model: 'local-llama', input: 'Where is my parcel?', stream, ...dropping } as any)
      .withResponse();
    if (stream) for await (const _event of data as unknown as AsyncIterable<unknown>) { /* drain */ }
    const sent = lastUpstream();
    assert.equal(sent.path.split('?')[0], '/v1/chat/completions');
    for (const key of Object.keys(dropping)) assert.equal((sent.body as any)[key], undefined, `${key} is not sent to a chat upstream`);
    const warnings = response.headers.get('x-switchyard-warnings') ?? '';
    for (const key of Object.keys(dropping)) assert.match(warnings, new RegExp(`'${key}'`), `the warning names ${key}`);
    assert.match(warnings, /Chat Completions cannot carry/);
  });
}

test('translated onto chat: a request without such fields gets no dropped-field warning', async () => {
  const { response } = await stack.client.responses.create({ model: 'local-llama', input: 'hi', text: { verbosity: 'low' } } as any).withResponse();
  assert.doesNotMatch(response.headers.get('x-switchyard-warnings') ?? '', /cannot carry/);
  assert.equal((lastUpstream().body as any).verbosity, 'low', 'verbosity is carried, so not reported');
});
