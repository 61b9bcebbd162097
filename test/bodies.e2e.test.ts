// The body policy through the real gateway with the official SDKs, on SQLite and on
// PostgreSQL: a key under `redacted` has its prompt and answer stored with secrets and
// personal data masked, a stream stored as its assembled answer (relayed Chat, relayed
// Messages, translated), a key under `full` as sent, and a key under the default `none`
// nothing at all — read back through GET /admin/requests/{id}.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startMockUpstream, type MockUpstream } from '../src/mock-upstream/index.ts';
import { POSTGRES_URL, dropSchema, postgresUnavailable, uniqueName } from '../src/store/testing.ts';
import { mockProvidersYaml } from './support/stack.ts';
import { startGateway, ledgerRow, type TestGateway } from './support/gateway.ts';
import { adminApi, MASTER_KEY } from './support/admin.ts';

const pgSkip = await postgresUnavailable();
if (pgSkip) console.log(`# PostgreSQL body tests skipped: ${pgSkip}`);
const schemas: string[] = [];
after(async () => {
  for (const schema of schemas) await dropSchema(schema);
});

const PII = 'Write to jane.doe@example.com or call +1 (415) 555-2671; card 4111 1111 1111 1111.';

async function start(env: Record<string, string>): Promise<{ gw: TestGateway; mock: MockUpstream }> {
  const mock = await startMockUpstream({});
  const gw = await startGateway({
    env: { SWITCHYARD_MASTER_KEY: MASTER_KEY, ...env },
    yaml: `
${mockProvidersYaml(mock.url)}
log:
  bodies:
    keys: { careful: redacted, verbose: full }
`,
  });
  return { gw, mock };
}

async function detail(gw: TestGateway, requestId: string): Promise<any> {
  await ledgerRow(gw.ledger, requestId);
  await gw.gateway.ledger.flush();
  const reply = await adminApi(gw.origin).call('GET', `/admin/requests/${requestId}`);
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body;
}

function scenario(name: string, env: () => Record<string, string>, skip?: string): void {
  test(`${name}: redacted, full and none, whole answers and assembled streams`, { skip }, async () => {
    const { gw, mock } = await start(env());
    try {
      const admin = adminApi(gw.origin);
      const careful = await admin.createKey({ name: 'careful' });
      const verbose = await admin.createKey({ name: 'verbose' });
      const plain = await admin.createKey({ name: 'plain' });
      const sdk = (key: string) => new OpenAI({ baseURL: gw.baseURL, apiKey: key, maxRetries: 0 });

      const whole = await sdk(careful.key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: PII }] }).withResponse();
      const kept = await detail(gw, whole.response.headers.get('x-request-id')!);
      assert.equal(kept.bodies.policy, 'redacted');
      assert.doesNotMatch(kept.bodies.request, /jane\.doe|555-2671|4111 1111/);
      assert.match(kept.bodies.request, /\[REDACTED:email\].*\[REDACTED:phone\].*\[REDACTED:card\]/);
      assert.equal(JSON.parse(kept.bodies.request).messages[0].role, 'user');
      // The mock echoes the prompt: the answer is kept, and masked the same way.
      assert.match(whole.data.choices[0].message.content!, /jane\.doe@example\.com/);
      assert.equal(JSON.parse(kept.bodies.response).choices[0].message.content, 'Echo: Write to [REDACTED:email] or call [REDACTED:phone]; card [REDACTED:card].');
      assert.deepEqual(kept.bodies.redactions, { email: 2, phone: 2, card: 2 });
      assert.equal(kept.rows[0].attempt, 0);

      const stream = await sdk(careful.key).chat.completions.create({ model: 'gpt-5.4-mini', stream: true, messages: [{ role: 'user', content: 'stream it' }] }).withResponse();
      let text = '';
      for await (const chunk of stream.data) text += chunk.choices[0]?.delta?.content ?? '';
      const streamed = await detail(gw, stream.response.headers.get('x-request-id')!);
      assert.deepEqual(JSON.parse(streamed.bodies.response), { assembled_from_stream: true, content: text });
      assert.ok(text.length > 0);

      const anthropic = new Anthropic({ baseURL: gw.origin, apiKey: careful.key, maxRetries: 0 });
      for (const model of ['claude-haiku-4-5', 'gpt-5.4-mini']) {
        const messages = anthropic.messages.stream({ model, max_tokens: 50, messages: [{ role: 'user', content: 'hello there' }] });
        const final = await messages.finalMessage();
        const id = (await messages.withResponse()).response.headers.get('x-request-id')!;
        const answer = final.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
        const stored = await detail(gw, id);
        assert.equal(JSON.parse(stored.bodies.response).content, answer, `${model}: the stream assembled as the client read it`);
      }

      const full = await sdk(verbose.key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: PII }] }).withResponse();
      const asSent = await detail(gw, full.response.headers.get('x-request-id')!);
      assert.equal(asSent.bodies.policy, 'full');
      assert.equal(JSON.parse(asSent.bodies.request).messages[0].content, PII);
      assert.equal(asSent.bodies.redactions, null);

      const none = await sdk(plain.key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: PII }] }).withResponse();
      assert.equal((await detail(gw, none.response.headers.get('x-request-id')!)).bodies, null);
      assert.equal((await admin.call('GET', '/admin/requests/req_nope')).status, 404);
    } finally {
      await gw.close();
      await mock.close();
    }
  });
}

scenario('SQLite', () => ({}));
scenario('PostgreSQL', () => {
  const schema = uniqueName('bodies');
  schemas.push(schema);
  return { SWITCHYARD_POSTGRES_URL: POSTGRES_URL, SWITCHYARD_POSTGRES_SCHEMA: schema };
}, pgSkip);
