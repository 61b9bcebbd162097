// The tiered auto-router through the real gateway with the official openai SDK: the tier
// its hard constraints require (vision, tools, long context, metadata.task, a cost cap),
// cascades that escalate on invalid JSON, a refusal or two disagreeing samples and stay
// put on a good answer, Pro validation that tags a disagreement for review, and a spent
// budget that downgrades. The fake upstream answers in OpenAI's recorded chat format
// (fixtures/openai/chat-text-full-usage.json), scripted per model.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { readFixtureJson } from '../src/testing/fixtures.ts';
import { startGateway, ledgerRow, type TestGateway } from './support/gateway.ts';
import { serveOnLoopback } from './support/loopback.ts';
import { adminApi, MASTER_KEY } from './support/admin.ts';
import type { LedgerEntry } from '../src/services.ts';

const TEMPLATE = readFixtureJson('openai/chat-text-full-usage.json');

interface Seen { model: string; body: any }
type Script = (model: string, body: any) => { content: string; finish?: string } | undefined;

const seen: Seen[] = [];
let script: Script = () => undefined;

function answer(model: string, body: any): string {
  const scripted = script(model, body) ?? { content: `An answer from ${model}.` };
  const reply = structuredClone(TEMPLATE);
  reply.model = model;
  reply.choices[0].message.content = scripted.content;
  reply.choices[0].finish_reason = scripted.finish ?? 'stop';
  reply.usage.prompt_tokens = 1000;
  reply.usage.completion_tokens = 100;
  reply.usage.total_tokens = 1100;
  return JSON.stringify(reply);
}

/** A chat stream in the recorded shape (fixtures/openai/chat-stream-text-include-usage.jsonl): role, content, finish, usage, [DONE]. */
function streamed(model: string, content: string): string {
  const base = { id: 'chatcmpl-router-test', object: 'chat.completion.chunk', created: 1770933883, model, system_fingerprint: 'fp_test' };
  const chunks = [
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }], usage: null },
    { ...base, choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }], usage: null },
    { ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], usage: null },
    { ...base, choices: [], usage: { prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 } },
  ];
  return chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n';
}

let fake: { url: string; close(): Promise<void> };
let gw: TestGateway;
let client: OpenAI;

const PRICES = {
  'nano-text': { input: 0.1, output: 0.4 },
  'mini-small': { input: 0.5, output: 2 },
  big: { input: 2, output: 10 },
  'frontier-x': { input: 5, output: 30 },
  'pro-x': { input: 30, output: 180 },
} as const;
const costOf = (model: keyof typeof PRICES) => (1000 * PRICES[model].input + 100 * PRICES[model].output) / 1e6;

before(async () => {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      seen.push({ model: body.model, body });
      if (body.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(streamed(body.model, script(body.model, body)?.content ?? `An answer from ${body.model}.`));
        return;
      }
      if (body.model === 'frontier-down') {
        res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'overloaded', type: 'server_error', param: null, code: null } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(answer(body.model, body));
    });
  });
  fake = await serveOnLoopback(server);
  gw = await startGateway({
    env: { SWITCHYARD_MASTER_KEY: MASTER_KEY },
    yaml: `
providers:
  fake: { kind: openai, base_url: ${fake.url}, api_key: fake-provider-key }
models:
  nano-text: { provider: fake, tier: nano, vision: false, tools: false, context_window: 4000, max_output_tokens: 1000, pricing: { input: 0.1, output: 0.4 } }
  mini-small: { provider: fake, tier: mini, vision: false, tools: true, context_window: 8000, max_output_tokens: 1000, pricing: { input: 0.5, output: 2 } }
  big: { provider: fake, tier: default, vision: true, tools: true, context_window: 100000, max_output_tokens: 1000, pricing: { input: 2, output: 10 } }
  frontier-x: { provider: fake, tier: frontier, vision: true, tools: true, context_window: 100000, max_output_tokens: 1000, pricing: { input: 5, output: 30 } }
  frontier-down: { provider: fake, tier: frontier, vision: true, tools: true, context_window: 100000, max_output_tokens: 1000, pricing: { input: 5, output: 30 } }
  pro-x: { provider: fake, tier: pro, vision: true, tools: true, context_window: 100000, max_output_tokens: 1000, pricing: { input: 30, output: 180 } }
tiers:
  nano: [nano-text]
  mini: [mini-small]
  default: [big]
  frontier: [frontier-down, frontier-x]
  pro: [pro-x]
routing:
  retry: { attempts: 0 }
routes:
  auto:json:
    tiers: [mini, default, frontier]
    cascade: { checks: [schema, refusal] }
  auto:vote:
    tiers: [mini, default]
    cascade: { checks: [consistency] }
  auto:critical:
    tiers: [mini]
    critical: true
  auto:deep:
    tiers: [frontier]
  auto:live:
    tiers: [mini, default]
    cascade: { checks: [refusal], stream: first_tier }
  auto:thrifty:
    tiers: [mini, default]
    threshold: 0
    downgrade: true
`,
  });
  client = new OpenAI({ baseURL: gw.baseURL, apiKey: MASTER_KEY, maxRetries: 0 });
});

after(async () => {
  await gw?.close();
  await fake?.close();
});

beforeEach(() => {
  seen.length = 0;
  script = () => undefined;
});

async function ask(model: string, params: Record<string, unknown>, headers: Record<string, string> = {}) {
  const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Reformat this list as CSV: apples, pears' }], ...params } as any, { headers }).withResponse();
  const requestId = response.headers.get('x-request-id')!;
  return { data: data as OpenAI.Chat.Completions.ChatCompletion, headers: response.headers, requestId, row: await ledgerRow(gw.ledger, requestId) };
}

function attemptRows(requestId: string): LedgerEntry[] {
  return gw.ledger.entries.filter((e) => e.requestId === requestId && e.attempt > 0).sort((a, b) => a.attempt - b.attempt);
}

const IMAGE = { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==' } };
const TOOL = { type: 'function', function: { name: 'lookup', description: 'Look a word up', parameters: { type: 'object', properties: { word: { type: 'string' } }, required: ['word'] } } };

test('metadata.task of a simple task sends the request to nano, even on auto:quality', async () => {
  const { headers, row } = await ask('auto:quality', { metadata: { task: 'classification' } });
  assert.equal(headers.get('x-switchyard-route'), 'auto:quality; tier=nano');
  assert.match(headers.get('x-switchyard-route-reason')!, /metadata\.task=classification/);
  assert.deepEqual(seen.map((s) => s.model), ['nano-text']);
  assert.match(row.route!, /^auto:quality → nano \(nano-text\)/);
});

test('hard constraints move the request up to the first tier that can take it', async () => {
  const cases: Array<{ name: string; params: Record<string, unknown>; tier: string; model: string; why: RegExp }> = [
    { name: 'vision', params: { metadata: { task: 'extraction' }, messages: [{ role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }, IMAGE] }] }, tier: 'default', model: 'big', why: /nano-text takes no image input.*mini-small takes no image input/ },
    { name: 'tools', params: { metadata: { task: 'extraction' }, tools: [TOOL] }, tier: 'mini', model: 'mini-small', why: /nano-text has no tools/ },
    { name: 'long context', params: { metadata: { task: 'extraction' }, messages: [{ role: 'user', content: 'word '.repeat(9000) }] }, tier: 'default', model: 'big', why: /mini-small's window \(8000\) is under/ },
  ];
  for (const c of cases) {
    seen.length = 0;
    const { headers } = await ask('auto:cheap', c.params);
    assert.equal(headers.get('x-switchyard-route'), `auto:cheap; tier=${c.tier}`, c.name);
    assert.match(headers.get('x-switchyard-route-reason')!, c.why, c.name);
    assert.deepEqual(seen.map((s) => s.model), [c.model], c.name);
  }
});

test('the classifier decides when nothing else does, and says its score against the threshold', async () => {
  const { headers } = await ask('auto', {});
  assert.match(headers.get('x-switchyard-route')!, /^auto; tier=(mini|default|frontier)$/);
  assert.match(headers.get('x-switchyard-route-reason')!, /classifier 0\.\d{3} (<|>=) 0\.\d{3} \(strong share 40%\/10%\)/);
});

test('an explicit model id is never overridden, and an unknown route says which exist', async () => {
  const { headers } = await ask('mini-small', { metadata: { task: 'classification' } });
  assert.equal(headers.get('x-switchyard-route'), 'mini');
  assert.deepEqual(seen.map((s) => s.model), ['mini-small']);
  const error = await client.chat.completions.create({ model: 'auto:nope', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
  assert.ok(error instanceof OpenAI.NotFoundError);
  assert.equal(error.code, 'model_not_found');
  assert.match(error.message, /auto:balanced.*auto:cascade|auto:cascade.*auto:balanced/);
});

test('a cascade escalates when the cheap tier returns invalid JSON for the schema, and bills both calls', async () => {
  script = (model) => (model === 'mini-small' ? { content: '{"city": "Paris", ' } : { content: '{"city": "Paris", "country": "FR"}' });
  const schema = { type: 'object', properties: { city: { type: 'string' }, country: { type: 'string' } }, required: ['city', 'country'], additionalProperties: false };
  const { data, headers, requestId, row } = await ask('auto:json', { response_format: { type: 'json_schema', json_schema: { name: 'place', schema, strict: true } } });
  assert.deepEqual(JSON.parse(data.choices[0].message.content!), { city: 'Paris', country: 'FR' });
  assert.deepEqual(seen.map((s) => s.model), ['mini-small', 'big']);
  assert.equal(headers.get('x-switchyard-cascade'), "mini escalated (invalid JSON for the schema 'place'); default accepted (checks passed)");
  const attempts = attemptRows(requestId);
  assert.deepEqual(attempts.map((a) => [a.modelUsed, a.costUsd]), [['mini-small', costOf('mini-small')], ['big', costOf('big')]]);
  assert.match(attempts[0].route!, /cascade mini escalated/);
  const total = costOf('mini-small') + costOf('big');
  assert.ok(Math.abs(row.costUsd - total) < 1e-9, `request row ${row.costUsd} = sum of attempts ${total}`);
  assert.equal(Number(headers.get('x-switchyard-cost-usd')), Number(total.toFixed(8)));
  assert.match(row.route!, /cascade: mini escalated/);
  const metrics = await (await fetch(`${gw.origin}/metrics`, { headers: { authorization: `Bearer ${MASTER_KEY}` } })).text();
  assert.match(metrics, /^switchyard_cascade_escalations_total\{route="auto:json",from_tier="mini"\} [1-9]/m);
});

test('a cascade escalates on a refusal and does not when the cheap answer is good', async () => {
  script = (model) => (model === 'mini-small' ? { content: "I'm sorry, but I can't help with that request." } : undefined);
  const refused = await ask('auto:json', {});
  assert.deepEqual(seen.map((s) => s.model), ['mini-small', 'big']);
  assert.match(refused.headers.get('x-switchyard-cascade')!, /^mini escalated \(refusal or hedging/);
  assert.equal(refused.data.choices[0].message.content, 'An answer from big.');

  seen.length = 0;
  script = () => undefined;
  const good = await ask('auto:json', {});
  assert.deepEqual(seen.map((s) => s.model), ['mini-small']);
  assert.equal(good.headers.get('x-switchyard-cascade'), 'mini accepted (checks passed)');
  assert.equal(good.headers.get('x-switchyard-route'), 'auto:json; tier=mini');
  assert.equal(good.data.choices[0].message.content, 'An answer from mini-small.');
  assert.equal(attemptRows(good.requestId).length, 0, 'one call: the request row only');
  assert.ok(Math.abs(good.row.costUsd - costOf('mini-small')) < 1e-9);
});

test('a streamed cascade buffers the cheap answer and streams the accepted one in chat chunks', async () => {
  script = (model) => (model === 'mini-small' ? { content: 'I cannot answer that.' } : { content: 'Apples,pears' });
  const stream = await client.chat.completions.create({ model: 'auto:json', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'CSV please: apples, pears' }] });
  let text = '';
  let usage: OpenAI.CompletionUsage | undefined | null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, 'Apples,pears');
  assert.equal(usage?.completion_tokens, 100);
  assert.deepEqual(seen.map((s) => [s.model, s.body.stream ?? false]), [['mini-small', false], ['big', false]]);
});

test('two cheap samples that disagree escalate; two that agree do not', async () => {
  let n = 0;
  script = (model) => (model === 'mini-small' ? { content: n++ % 2 === 0 ? 'The capital of Australia is Canberra.' : 'Sydney is the answer, as the largest city.' } : undefined);
  const split = await ask('auto:vote', {});
  assert.deepEqual(seen.map((s) => s.model).sort(), ['big', 'mini-small', 'mini-small']);
  assert.match(split.headers.get('x-switchyard-cascade')!, /^mini escalated \(two samples disagree\); default accepted/);
  assert.equal(attemptRows(split.requestId).length, 3);

  seen.length = 0;
  script = (model) => (model === 'mini-small' ? { content: 'The capital of Australia is Canberra.' } : undefined);
  const agreed = await ask('auto:vote', {});
  assert.deepEqual(seen.map((s) => s.model), ['mini-small', 'mini-small']);
  assert.equal(agreed.headers.get('x-switchyard-cascade'), 'mini accepted (checks passed)');
  assert.ok(Math.abs(agreed.row.costUsd - 2 * costOf('mini-small')) < 1e-9, 'both samples are paid for');
});

test('Pro validation: a disagreement tags the request for review; an agreement does not', async () => {
  script = (model) => (model === 'pro-x' ? { content: '{"ok": false, "reason": "The total is wrong."}' } : undefined);
  const disputed = await ask('auto:critical', {});
  assert.deepEqual(seen.map((s) => s.model), ['mini-small', 'pro-x']);
  assert.match(seen[1].body.messages[1].content, /<answer>\nAn answer from mini-small\.\n<\/answer>/);
  assert.equal(disputed.headers.get('x-switchyard-review'), 'required (pro validation disagreed)');
  assert.equal(disputed.headers.get('x-switchyard-validation'), 'disagreed (pro-x: The total is wrong.)');
  assert.equal(disputed.data.choices[0].message.content, 'An answer from mini-small.');
  assert.match(disputed.row.route!, /review: required \(pro validation disagreed\)/);
  assert.ok(Math.abs(disputed.row.costUsd - costOf('mini-small') - costOf('pro-x')) < 1e-9);

  seen.length = 0;
  script = (model) => (model === 'pro-x' ? { content: '{"ok": true, "reason": "Correct."}' } : undefined);
  const agreed = await ask('auto:critical', {});
  assert.equal(agreed.headers.get('x-switchyard-review'), null);
  assert.equal(agreed.headers.get('x-switchyard-validation'), 'agreed (pro-x: Correct.)');
});

test('x-switchyard-max-cost-usd: the router picks no tier over the cap; an explicit model over it is refused', async () => {
  // auto:quality wants default/frontier; a cap under their worst case leaves only the cheaper tiers.
  const cap = (4000 * 0.5 + 1000 * 2) / 1e6 + 1e-7; // mini-small's worst case for this prompt is under it
  const { headers } = await ask('auto:quality', { max_tokens: 1000 }, { 'x-switchyard-max-cost-usd': String(cap) });
  assert.match(headers.get('x-switchyard-route')!, /^auto:quality; tier=(mini|nano)$/);
  assert.match(headers.get('x-switchyard-route-reason')!, /over the cap/);
  const error = await client.chat.completions.create({ model: 'big', max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-switchyard-max-cost-usd': '0.000001' } }).catch((e) => e);
  assert.ok(error instanceof OpenAI.BadRequestError);
  assert.equal(error.code, 'max_cost_too_low');
  assert.equal(error.headers.get('x-should-retry'), 'false');
  const bad = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-switchyard-max-cost-usd': 'cheap' } }).catch((e) => e);
  assert.equal(bad.code, 'invalid_max_cost');
  assert.equal(seen.length, 1, 'the refused requests never reached the provider');
});

test('a spent tier budget downgrades a route with downgrade: true to the next cheaper tier', async () => {
  const admin = adminApi(gw.origin);
  const key = await admin.createKey({ name: 'thrifty', budgets: [{ limit_usd: 0.000001, period: 'day', model: 'big' }] });
  const keyed = new OpenAI({ baseURL: gw.baseURL, apiKey: key.key, maxRetries: 0 });
  const { data, response } = await keyed.chat.completions.create({ model: 'auto:thrifty', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  assert.equal(response.headers.get('x-switchyard-route'), 'auto:thrifty; tier=mini');
  assert.match(response.headers.get('x-switchyard-route-reason')!, /downgraded from default \(big\) refused by the budget/);
  assert.equal(data.choices[0].message.content, 'An answer from mini-small.');
  assert.deepEqual(seen.map((s) => s.model), ['mini-small']);
  // The explicit model is never downgraded: the same budget refuses it.
  const refused = await keyed.chat.completions.create({ model: 'big', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
  assert.equal(refused.code, 'insufficient_quota');
});

test('GET /v1/models lists the routes with their tiers', async () => {
  const list = await client.models.list();
  const ids = list.data.map((m) => m.id);
  for (const route of ['auto', 'auto:cheap', 'auto:balanced', 'auto:quality', 'auto:cascade', 'auto:json', 'auto:critical']) assert.ok(ids.includes(route), route);
  const json = list.data.find((m) => m.id === 'auto:json') as any;
  assert.deepEqual(json.tiers, { mini: ['mini-small'], default: ['big'], frontier: ['frontier-down', 'frontier-x'] });
  assert.deepEqual(json.cascade.checks, ['schema', 'refusal']);
  const one = (await client.models.retrieve('auto:critical')) as any;
  assert.equal(one.critical, true);
});

test('@anthropic-ai/sdk on /v1/messages: a cascade answers in the Messages format, whole and streamed', async () => {
  const anthropic = new Anthropic({ baseURL: gw.origin, apiKey: MASTER_KEY, maxRetries: 0 });
  script = (model) => (model === 'mini-small' ? { content: "I'm not able to answer that." } : { content: 'Bonjour.' });
  const { data, response } = await anthropic.messages.create({ model: 'auto:json', max_tokens: 200, messages: [{ role: 'user', content: 'Say hello in French.' }] }).withResponse();
  assert.equal(data.type, 'message');
  assert.deepEqual(data.content, [{ type: 'text', text: 'Bonjour.' }]);
  assert.equal(data.stop_reason, 'end_turn');
  assert.match(response.headers.get('x-switchyard-cascade')!, /^mini escalated \(refusal or hedging/);
  assert.deepEqual(seen.map((s) => s.model), ['mini-small', 'big']);

  seen.length = 0;
  const stream = anthropic.messages.stream({ model: 'auto:json', max_tokens: 200, messages: [{ role: 'user', content: 'Say hello in French.' }] });
  const final = await stream.finalMessage();
  assert.deepEqual(final.content.map((b) => (b.type === 'text' ? b.text : b.type)), ['Bonjour.']);
  assert.equal(final.usage.output_tokens, 100);
  assert.deepEqual(seen.map((s) => s.model), ['mini-small', 'big']);
});

test('a tier with several models: when the first fails, the next model of the tier answers', async () => {
  const { data, headers, requestId } = await ask('auto:deep', {});
  assert.deepEqual(seen.map((s) => s.model), ['frontier-down', 'frontier-x']);
  assert.equal(data.choices[0].message.content, 'An answer from frontier-x.');
  assert.equal(headers.get('x-switchyard-route'), 'auto:deep; tier=frontier');
  assert.match(headers.get('x-switchyard-fallback')!, /^from frontier-down at .*: 503/);
  assert.deepEqual(attemptRows(requestId).map((a) => [a.modelUsed, a.status]), [['frontier-down', 503], ['frontier-x', 200]]);
});

test('allowed_routes: a key may call only its routes, and a route it may call picks models outside allowed_models', async () => {
  const admin = adminApi(gw.origin);
  const key = await admin.createKey({ name: 'routed', allowed_models: ['nano-text'], allowed_routes: ['auto:json'] });
  const keyed = new OpenAI({ baseURL: gw.baseURL, apiKey: key.key, maxRetries: 0 });
  const refused = await keyed.chat.completions.create({ model: 'auto:quality', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
  assert.ok(refused instanceof OpenAI.PermissionDeniedError);
  assert.equal(refused.code, 'route_not_allowed');
  assert.equal(seen.length, 0);
  const { response } = await keyed.chat.completions.create({ model: 'auto:json', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  assert.equal(response.headers.get('x-switchyard-route'), 'auto:json; tier=mini');
  const listed = (await keyed.models.list()).data.map((m) => m.id);
  assert.ok(listed.includes('auto:json') && !listed.includes('auto:quality'), listed.join(', '));
});

test('cascade.stream: first_tier streams the first tier directly, with no check', async () => {
  script = (model) => (model === 'mini-small' ? { content: "I'm not sure." } : undefined);
  const stream = await client.chat.completions.create({ model: 'auto:live', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  assert.equal(text, "I'm not sure.");
  assert.deepEqual(seen.map((s) => [s.model, s.body.stream]), [['mini-small', true]]);
});

test('the learned check escalates a cheap answer whose arithmetic does not add up, and accepts one that does', async () => {
  const question = "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?";
  const wrong = 'She eats 3, so 16 - 3 = 12 eggs are left.\nShe bakes with 4, so 12 - 4 = 7 eggs.\nShe sells them at $2 each: 7 * $2 = $15.\nThe answer is 15.';
  const right = 'She eats 3, so 16 - 3 = 13 eggs are left.\nShe bakes with 4, so 13 - 4 = 9 eggs.\nShe sells them at $2 each: 9 * $2 = $18.\nThe answer is 18.';
  script = (model) => (model === 'mini-small' ? { content: wrong } : { content: right });
  const escalated = await ask('auto:cascade', { messages: [{ role: 'user', content: question }] });
  assert.match(escalated.headers.get('x-switchyard-cascade')!, /^mini escalated \(learned check 0\.\d{3} >= 0\.\d{3}\); default accepted/);
  assert.equal(escalated.data.choices[0].message.content, right);

  seen.length = 0;
  script = () => ({ content: right });
  const accepted = await ask('auto:cascade', { messages: [{ role: 'user', content: question }] });
  assert.equal(accepted.headers.get('x-switchyard-cascade'), 'mini accepted (checks passed)');
  assert.deepEqual(seen.map((s) => s.model), ['mini-small']);
});
