// The Responses API through the gateway: relayed to upstreams that have it, and
// translated onto Chat Completions for those that do not (Ollama, vLLM).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './support/stack.ts';
import type { Stack } from './support/stack.ts';
import { ledgerRow } from './support/gateway.ts';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

const lastUpstream = () => stack.mock.requests[stack.mock.requests.length - 1];

const tools = [{
  type: 'function' as const,
  name: 'lookup_order',
  description: 'Find an order',
  parameters: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'], additionalProperties: false },
  strict: true,
}];

for (const [model, path] of [['gpt-5.4-mini', '/v1/responses'], ['local-llama', '/v1/chat/completions']] as const) {
  const how = path === '/v1/responses' ? 'relayed' : 'translated onto chat';
  test(`${model} (${how}): non-stream answer with output_text and usage`, async () => {
    const { data, response } = await stack.client.responses
      .create({ model, instructions: 'Be brief.', input: 'Where is my parcel?', reasoning: model === 'gpt-5.4-mini' ? { effort: 'low' } : undefined })
      .withResponse();
    assert.equal(lastUpstream().path.split('?')[0], path);
    assert.equal(data.object, 'response');
    assert.equal(data.status, 'completed');
    assert.match(data.output_text, /Where is my parcel\?/);
    assert.ok(data.usage && data.usage.input_tokens > 0 && data.usage.output_tokens > 0);
    if (path.endsWith('completions')) {
      const sent = lastUpstream().body as any;
      assert.deepEqual(sent.messages[0], { role: 'system', content: 'Be brief.' });
    }
    const row = await ledgerRow(stack.gw.ledger, response.headers.get('x-request-id')!);
    assert.equal(row.usage.outputTokens, data.usage!.output_tokens);
    assert.ok(Number(response.headers.get('x-switchyard-cost-usd')) > 0);
  });

  test(`${model} (${how}): stream has the typed events in order and reassembles`, async () => {
    const stream = await stack.client.responses.create({ model, input: [{ role: 'user', content: 'Stream a reply' }], stream: true });
    const types: string[] = [];
    let text = '';
    let completed: any;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') completed = event.response;
    }
    assert.equal(types[0], 'response.created');
    assert.ok(types.includes('response.output_item.added'));
    assert.ok(types.includes('response.output_text.delta'));
    assert.ok(types.indexOf('response.output_text.done') > types.lastIndexOf('response.output_text.delta'));
    assert.equal(types[types.length - 1], 'response.completed');
    assert.match(text, /Stream a reply/);
    assert.ok(completed.usage.output_tokens > 0);
  });

  test(`${model} (${how}): function tools, then the function output, round-trip`, async () => {
    const first = await stack.client.responses.create({ model, input: 'Where is order A-17?', tools });
    const call = first.output.find((item) => item.type === 'function_call');
    assert.ok(call && call.type === 'function_call', 'the model called the tool');
    assert.equal(call.name, 'lookup_order');
    assert.equal(typeof JSON.parse(call.arguments).order_id, 'string');
    const second = await stack.client.responses.create({
      model, tools,
      input: [
        { role: 'user', content: 'Where is order A-17?' },
        { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: 'function_call_output', call_id: call.call_id, output: '{"status":"shipped"}' },
      ],
    });
    assert.ok(second.output_text.length > 0);
    const sent = lastUpstream().body as any;
    if (path.endsWith('completions')) {
      const toolMessage = sent.messages.find((m: any) => m.role === 'tool');
      assert.equal(toolMessage.tool_call_id, call.call_id);
      assert.equal(toolMessage.content, '{"status":"shipped"}');
    } else {
      assert.equal(sent.input[2].call_id, call.call_id);
    }
  });

  test(`${model} (${how}): streamed function-call arguments reassemble via the SDK`, async () => {
    const stream = stack.client.responses.stream({ model, input: 'Where is order B-2?', tools });
    let argumentDeltas = '';
    stream.on('response.function_call_arguments.delta', (e) => (argumentDeltas += e.delta));
    const final = await stream.finalResponse();
    const call = final.output.find((item) => item.type === 'function_call');
    assert.ok(call && call.type === 'function_call');
    assert.equal(argumentDeltas, call.arguments);
    assert.doesNotThrow(() => JSON.parse(call.arguments));
  });
}
