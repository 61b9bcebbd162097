// Human review through the real gateway with the official SDKs as unchanged clients:
// a held request answers once a reviewer approves (the answer), edits (the edit) or
// rejects (the SDK's error, code review_rejected); `Prefer: respond-async` gets 202 and
// the poll URL; `after` answers at once and queues the review; timeouts follow their
// policy; a restart in the middle of a hold loses nothing and never calls the model
// twice; reviewer and viewer roles; another key's review is not found.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startMockUpstream, type MockUpstream } from '../src/mock-upstream/index.ts';
import { mockProvidersYaml } from './support/stack.ts';
import { startGateway, ledgerRow, type TestGateway } from './support/gateway.ts';
import { adminApi, MASTER_KEY } from './support/admin.ts';
import { POSTGRES_URL, dropSchema, postgresUnavailable, uniqueName } from '../src/store/testing.ts';

const pgSkip = await postgresUnavailable();
if (pgSkip) console.log(`# PostgreSQL review tests skipped: ${pgSkip}`);

const mock: MockUpstream = await startMockUpstream({});
after(() => mock.close());

const hooks: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
const hookServer = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => { hooks.push({ headers: req.headers, body }); res.end('ok'); });
});
await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
const hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hook`;
after(() => new Promise<void>((r) => hookServer.close(() => r())));
const HOOK_SECRET = 'review-hook-secret-0001';

function yaml(): string {
  return `
${mockProvidersYaml(mock.url)}
log:
  bodies:
    keys: { careful: redacted }
review:
  keepalive_seconds: 1
  rules:
    - { name: audited, keys: [audited], mode: after }
    - { name: refunds, content: 'refund', mode: hold, webhook: ${hookUrl}, webhook_secret: ${HOOK_SECRET} }
    - { name: payments, tool_calls: [send_payment], mode: hold }
    - { name: quick-release, keys: [hurried], mode: hold, timeout: 1s, on_timeout: release }
    - { name: quick-reject, keys: [strict], mode: hold, timeout: 1s, on_timeout: reject }
    - { name: quick-pro, keys: [escalate], mode: hold, timeout: 1s, on_timeout: pro }
`;
}

async function start(dir?: string, env: Record<string, string> = {}): Promise<TestGateway> {
  return startGateway({ env: { SWITCHYARD_MASTER_KEY: MASTER_KEY, ...env }, yaml: yaml(), dir });
}

const openai = (gw: TestGateway, key: string) => new OpenAI({ baseURL: gw.baseURL, apiKey: key, maxRetries: 0, timeout: 30_000 });

/** The pending review of a request, once the gateway has stored it (the admin API, as a reviewer sees it). */
async function pendingReview(gw: TestGateway, reviewerKey = MASTER_KEY, predicate: (r: any) => boolean = () => true): Promise<any> {
  const admin = adminApi(gw.origin, reviewerKey);
  for (let i = 0; i < 300; i++) {
    const reply = await admin.call('GET', '/admin/reviews?status=pending');
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const found = reply.body.data.find(predicate);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('no pending review appeared');
}

function decide(gw: TestGateway, id: string, action: 'approve' | 'edit' | 'reject', body: object = {}, key = MASTER_KEY) {
  return adminApi(gw.origin, key).call('POST', `/admin/reviews/${id}/${action}`, body);
}

test('held (openai SDK): approve returns the answer, edit the edit, reject raises review_rejected; a decision is final', async () => {
  const gw = await start();
  try {
    const admin = adminApi(gw.origin);
    const app = await admin.createKey({ name: 'app' });
    const reviewer = await admin.createKey({ name: 'alice', role: 'reviewer' });
    const client = openai(gw, app.key);
    const served = mock.servedCount;

    const approved = client.chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'Draft the contract' }], metadata: { review: 'hold', ticket: 'T-1' } }).withResponse();
    const first = await pendingReview(gw, reviewer.key);
    assert.equal(first.mode, 'hold');
    assert.equal(first.rule, 'metadata');
    assert.match(first.answer_text, /Draft the contract/);
    assert.equal(first.request.metadata?.review, undefined, 'the gateway instruction does not go upstream');
    const ok = await decide(gw, first.id, 'approve', { reason: 'fine' }, reviewer.key);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const { data, response } = await approved;
    assert.match(data.choices[0].message.content!, /Echo: Draft the contract/);
    assert.equal(response.headers.get('x-switchyard-review-id'), first.id);
    const upstream = mock.requests.at(-1)!;
    assert.deepEqual((upstream.body as any).metadata, { ticket: 'T-1' });

    const again = await decide(gw, first.id, 'reject', { reason: 'too late' }, reviewer.key);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'review_already_decided');

    const edited = client.chat.completions.create({ model: 'gpt-5.4-mini', stream: true, messages: [{ role: 'user', content: 'Say something risky' }], metadata: { review: 'hold' } });
    const second = await pendingReview(gw, reviewer.key, (r) => r.id !== first.id);
    assert.equal(second.stream, true);
    // Long enough for a keep-alive comment (keepalive_seconds: 1), which the SDK's SSE parser skips.
    await new Promise((r) => setTimeout(r, 1_200));
    assert.equal((await decide(gw, second.id, 'edit', { text: 'A safe, edited answer.' }, reviewer.key)).status, 200);
    let text = '';
    for await (const chunk of await edited) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(text, 'A safe, edited answer.');

    const rejected = client.chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'Leak the roadmap' }], metadata: { review: 'hold' } });
    const third = await pendingReview(gw, reviewer.key, (r) => ![first.id, second.id].includes(r.id));
    assert.equal((await decide(gw, third.id, 'reject', { reason: 'confidential' }, reviewer.key)).status, 200);
    await assert.rejects(rejected, (err: any) => {
      assert.ok(err instanceof OpenAI.PermissionDeniedError, String(err));
      assert.equal(err.code, 'review_rejected');
      assert.match(err.message, /confidential/);
      assert.equal(err.headers.get('x-should-retry'), 'false');
      return true;
    });

    // Each decision is kept with who, when and before/after text.
    const shown = await admin.call('GET', `/admin/reviews/${second.id}`);
    assert.equal(shown.body.status, 'edited');
    assert.match(shown.body.decision.decided_by, /alice/);
    assert.match(shown.body.decision.before_text, /Say something risky/);
    assert.equal(shown.body.decision.after_text, 'A safe, edited answer.');
    assert.equal(mock.servedCount - served, 3, 'one model call per request');
    const metrics = await (await fetch(`${gw.origin}/metrics`, { headers: { authorization: `Bearer ${MASTER_KEY}` } })).text();
    assert.match(metrics, /switchyard_reviews_total\{mode="hold",rule="metadata"\} 3\n/);
    for (const status of ['approved', 'edited', 'rejected']) assert.match(metrics, new RegExp(`switchyard_review_decisions_total\\{status="${status}"\\} 1\n`));
  } finally {
    await gw.close();
  }
});

test('held streams keep the connection alive and a rejection ends the stream with the error the SDK raises', async () => {
  const gw = await start();
  try {
    const app = await adminApi(gw.origin).createKey({ name: 'app' });
    const stream = await openai(gw, app.key).chat.completions.create({ model: 'gpt-5.4-mini', stream: true, messages: [{ role: 'user', content: 'hello' }], metadata: { review: 'hold' } });
    const review = await pendingReview(gw);
    await decide(gw, review.id, 'reject', { reason: 'not today' });
    await assert.rejects(async () => { for await (const _ of stream) { /* drain */ } }, (err: any) => {
      assert.match(String(err.message), /review_rejected|not today/);
      return true;
    });
  } finally {
    await gw.close();
  }
});

test('a held stream gets its SSE head at once and keep-alive comments while it waits; the SDK skips them', async () => {
  const gw = await start();
  try {
    const app = await adminApi(gw.origin).createKey({ name: 'app' });
    const response = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${app.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5.4-mini', stream: true, messages: [{ role: 'user', content: 'keep me alive' }], metadata: { review: 'hold' } }),
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let seen = '';
    while (!/: review pending/.test(seen)) seen += decoder.decode((await reader.read()).value);
    assert.match(seen, /^: held for review rev_/);
    assert.doesNotMatch(seen, /data:/, 'no answer byte before the decision');
    const review = await pendingReview(gw);
    await decide(gw, review.id, 'approve');
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value);
    }
    assert.match(seen, /keep me alive/);
    assert.match(seen, /data: \[DONE\]/);
  } finally {
    await gw.close();
  }
});

test('a review keeps the request under the key\'s body policy (redacted), while the client gets the answer whole', async () => {
  const gw = await start();
  try {
    const careful = await adminApi(gw.origin).createKey({ name: 'careful' });
    const pii = 'Mail jane.doe@example.com about the refund';
    const answered = openai(gw, careful.key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: pii }] });
    const review = await pendingReview(gw, MASTER_KEY, (r) => r.key_id === careful.id);
    assert.equal(review.rule, 'refunds');
    assert.doesNotMatch(JSON.stringify(review.request), /jane\.doe/);
    assert.match(JSON.stringify(review.request), /\[REDACTED:email\]/);
    await decide(gw, review.id, 'approve');
    assert.match((await answered).choices[0].message.content!, /jane\.doe@example\.com/);
  } finally {
    await gw.close();
  }
});

test('a client that drops its connection while held fetches the decided answer by id; the reservation settles at the decision', async () => {
  const gw = await start();
  try {
    const admin = adminApi(gw.origin);
    const app = await admin.createKey({ name: 'app', budgets: [{ limit_usd: 5, period: 'month' }] });
    const abort = new AbortController();
    const dropped = openai(gw, app.key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'I will hang up' }], metadata: { review: 'hold' } }, { signal: abort.signal }).catch((err) => err);
    const review = await pendingReview(gw);
    abort.abort();
    assert.ok((await dropped) instanceof Error);
    const row = await ledgerRow(gw.ledger, review.request_id);
    assert.equal(row.status, 499);
    const budgetOf = async () => (await admin.call('GET', `/admin/keys/${app.id}`)).body.budgets[0];
    // The store's view of open reservations trails the journal by a write batch.
    await gw.gateway.ledger.flush();
    const pendingBudget = await budgetOf();
    assert.ok(pendingBudget.reserved_usd > 0, `still reserved while the review is pending: ${JSON.stringify(pendingBudget)}`);
    assert.equal(pendingBudget.spent_usd, 0);
    await decide(gw, review.id, 'approve');
    const fetched = await fetch(`${gw.origin}/v1/reviews/${review.id}`, { headers: { authorization: `Bearer ${app.key}` } });
    assert.equal(fetched.status, 200);
    assert.match((await fetched.json()).choices[0].message.content, /I will hang up/);
    let budget: any;
    for (let i = 0; i < 100; i++) {
      budget = await budgetOf();
      if (budget.reserved_usd === 0 && budget.spent_usd > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(budget.reserved_usd, 0);
    assert.ok(Math.abs(budget.spent_usd - review.cost_usd) < 1e-7, `${budget.spent_usd} vs ${review.cost_usd}`);
  } finally {
    await gw.close();
  }
});

test('Prefer: respond-async gets 202 and a poll URL for its own key only; the poll returns the approved answer', async () => {
  const gw = await start();
  try {
    const admin = adminApi(gw.origin);
    const app = await admin.createKey({ name: 'app' });
    const other = await admin.createKey({ name: 'other' });
    const raw = await openai(gw, app.key).chat.completions.create(
      { model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'async please' }], metadata: { review: 'hold' } },
      { headers: { Prefer: 'respond-async' } },
    ).asResponse();
    assert.equal(raw.status, 202);
    const accepted = await raw.json();
    assert.equal(raw.headers.get('location'), `/v1/reviews/${accepted.id}`);
    assert.equal(accepted.status, 'pending');
    const poll = (key: string) => fetch(`${gw.origin}${raw.headers.get('location')}`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal((await poll(app.key)).status, 202);
    const foreign = await poll(other.key);
    assert.equal(foreign.status, 404);
    assert.equal((await foreign.json()).error.code, 'review_not_found');
    await decide(gw, accepted.id, 'approve');
    const done = await poll(app.key);
    assert.equal(done.status, 200);
    const completion = await done.json();
    assert.equal(completion.object, 'chat.completion');
    assert.match(completion.choices[0].message.content, /async please/);
    const row = await ledgerRow(gw.ledger, raw.headers.get('x-request-id')!);
    assert.equal(row.status, 202);
    assert.ok(row.costUsd > 0, 'the model call is billed');
  } finally {
    await gw.close();
  }
});

test('after mode answers at once and queues the review; content and tool-call rules hold only the answers they match', async () => {
  const gw = await start();
  try {
    const admin = adminApi(gw.origin);
    const audited = await admin.createKey({ name: 'audited' });
    const app = await admin.createKey({ name: 'app' });
    const { data, response } = await openai(gw, audited.key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'ordinary question' }] }).withResponse();
    assert.match(data.choices[0].message.content!, /ordinary question/);
    const queued = await pendingReview(gw, MASTER_KEY, (r) => r.id === response.headers.get('x-switchyard-review-id'));
    assert.equal(queued.mode, 'after');
    assert.equal(queued.rule, 'audited');

    // A stream under an after rule streams as it comes and is queued from what it sent.
    const streamed = await openai(gw, audited.key).chat.completions.create({ model: 'gpt-5.4-mini', stream: true, messages: [{ role: 'user', content: 'stream and audit' }] }).withResponse();
    let text = '';
    for await (const chunk of streamed.data) text += chunk.choices[0]?.delta?.content ?? '';
    const streamedId = streamed.response.headers.get('x-switchyard-review-id');
    assert.ok(streamedId);
    const queuedStream = await pendingReview(gw, MASTER_KEY, (r) => r.id === streamedId);
    assert.equal(queuedStream.mode, 'after');
    assert.equal(queuedStream.answer_text, text);
    assert.ok(queuedStream.cost_usd > 0);

    // A request cannot opt out of a rule: asking for `after` under a hold rule still holds.
    const plain = await openai(gw, app.key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'no rule here' }] }).withResponse();
    assert.equal(plain.response.headers.get('x-switchyard-review-id'), null);
    const refund = openai(gw, app.key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'I want a refund now' }], metadata: { review: 'after' } }).withResponse();
    const held = await pendingReview(gw, MASTER_KEY, (r) => r.rule === 'refunds');
    assert.equal(held.mode, 'hold');
    assert.match(held.reason, /refund/);
    await decide(gw, held.id, 'approve');
    assert.match((await refund).data.choices[0].message.content!, /refund/);
    // The rule's webhook got the decision, signed.
    for (let i = 0; i < 100 && hooks.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const hook = hooks.at(-1)!;
    const expected = createHmac('sha256', HOOK_SECRET).update(`${hook.headers['x-switchyard-timestamp']}.${hook.body}`).digest('hex');
    assert.equal(hook.headers['x-switchyard-signature'], `sha256=${expected}`);
    assert.equal(JSON.parse(hook.body).review.status, 'approved');

    const tools = [{ type: 'function' as const, function: { name: 'send_payment', parameters: { type: 'object', properties: { amount: { type: 'number' } } } } }];
    const paying = openai(gw, app.key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'pay 5' }], tools });
    const payment = await pendingReview(gw, MASTER_KEY, (r) => r.rule === 'payments');
    assert.equal(payment.tool_calls[0].name, 'send_payment');
    await decide(gw, payment.id, 'approve');
    const call = (await paying).choices[0].message.tool_calls?.[0] as any;
    assert.equal(call?.function?.name, 'send_payment');
  } finally {
    await gw.close();
  }
});

test('timeouts follow the rule: release sends the answer, reject raises review_expired, pro answers with the pro tier', async () => {
  const gw = await start();
  try {
    const admin = adminApi(gw.origin);
    const hurried = await admin.createKey({ name: 'hurried' });
    const strict = await admin.createKey({ name: 'strict' });
    const escalate = await admin.createKey({ name: 'escalate' });
    const ask = (key: string) => openai(gw, key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'nobody is watching' }] }).withResponse();
    const [released, rejected, pro] = await Promise.allSettled([ask(hurried.key), ask(strict.key), ask(escalate.key)]);
    assert.equal(released.status, 'fulfilled');
    assert.match(released.value.data.choices[0].message.content!, /nobody is watching/);
    assert.equal(rejected.status, 'rejected');
    assert.equal((rejected.reason as any).code, 'review_expired');
    assert.equal(pro.status, 'fulfilled');
    const proReview = await admin.call('GET', `/admin/reviews/${pro.value.response.headers.get('x-switchyard-review-id')}`);
    assert.equal(proReview.body.status, 'expired');
    assert.equal(proReview.body.model, 'gpt-5.5-pro');
    assert.ok(mock.requests.some((r) => (r.body as any)?.model === 'gpt-5.5-pro'), 'the pro tier was called');
    // Its call is a request row of its own, so usage reports and the settled spend agree.
    const proRow = await ledgerRow(gw.ledger, `${pro.value.response.headers.get('x-request-id')}.pro`);
    assert.equal(proRow.modelUsed, 'gpt-5.5-pro');
    assert.ok(proRow.costUsd > 0);
    const original = await ledgerRow(gw.ledger, pro.value.response.headers.get('x-request-id')!);
    assert.ok(Math.abs(proReview.body.cost_usd - (original.costUsd + proRow.costUsd)) < 1e-8, 'the review bills both calls');
  } finally {
    await gw.close();
  }
});

function restartScenario(name: string, env: () => Record<string, string>, skip?: string): void {
  test(`${name}: a restart in the middle of a hold loses nothing — decided on the new process, fetched by id, the model called once, the reservation kept then settled`, { skip }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-review-'));
    try {
      let gw = await start(dir, env());
      const admin = adminApi(gw.origin);
      const app = await admin.createKey({ name: 'app' });
      const created = await admin.call('POST', '/admin/budgets', { scope: 'key', scope_id: app.id, period: 'month', limit_usd: 5 });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const budget = created.body;
      const served = mock.servedCount;
      const raw = await openai(gw, app.key).chat.completions.create(
        { model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'survive a restart' }], metadata: { review: 'hold' } },
        { headers: { Prefer: 'respond-async' } },
      ).asResponse();
      const { id } = await raw.json();
      // A client still waiting when the gateway stops is told so at once, with the review to fetch.
      const waiting = openai(gw, app.key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'waiting through a restart' }], metadata: { review: 'hold' } });
      const second = await pendingReview(gw, MASTER_KEY, (r) => r.id !== id);
      const told = waiting.then(() => undefined, (err: any) => err);
      const streamWaiting = await openai(gw, app.key).chat.completions.create({ model: 'gpt-5.4-mini', stream: true, messages: [{ role: 'user', content: 'streaming through a restart' }], metadata: { review: 'hold' } });
      const third = await pendingReview(gw, MASTER_KEY, (r) => r.id !== id && r.id !== second.id);
      const streamTold = (async () => { for await (const _ of streamWaiting) { /* none */ } })().then(() => undefined, (e: any) => e);
      await gw.close();
      const streamErr = await streamTold;
      assert.match(String(streamErr?.message), new RegExp(`/v1/reviews/${third.id}`), 'a held stream is ended with the error event, not left open');
      const err = await told;
      assert.equal(err?.status, 503);
      assert.equal(err.code, 'gateway_restarting');
      assert.match(err.message, new RegExp(`/v1/reviews/${second.id}`));

      gw = await start(dir, env());
      try {
        const adminB = adminApi(gw.origin);
        const pending = await adminB.call('GET', `/admin/reviews/${id}`);
        assert.equal(pending.body.status, 'pending');
        // Reconciliation at start billed nothing: both held reservations are still open.
        const held = (await adminB.call('GET', `/admin/budgets/${budget.id}`)).body;
        assert.equal(held.spent_usd, 0);
        assert.ok(held.reserved_usd > 0, JSON.stringify(held));
        assert.equal((await decide(gw, id, 'approve')).status, 200);
        assert.equal((await decide(gw, second.id, 'edit', { text: 'edited after the restart' })).status, 200);
        assert.equal((await decide(gw, third.id, 'reject', { reason: 'after the restart' })).status, 200);
        const done = await fetch(`${gw.origin}/v1/reviews/${id}`, { headers: { authorization: `Bearer ${app.key}` } });
        assert.equal(done.status, 200);
        assert.match((await done.json()).choices[0].message.content, /survive a restart/);
        const edited = await (await fetch(`${gw.origin}/v1/reviews/${second.id}`, { headers: { authorization: `Bearer ${app.key}` } })).json();
        assert.equal(edited.choices[0].message.content, 'edited after the restart');
        assert.equal(mock.servedCount - served, 3, 'the model is never called again');
        // Settled at what the three calls cost (a rejected answer was paid for too), not at their worst case.
        let cost = 0;
        for (const review of [id, second.id, third.id]) cost += (await adminB.call('GET', `/admin/reviews/${review}`)).body.cost_usd;
        let settled: any;
        for (let i = 0; i < 100; i++) {
          settled = (await adminB.call('GET', `/admin/budgets/${budget.id}`)).body;
          if (settled.reserved_usd === 0) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(settled.reserved_usd, 0);
        assert.ok(Math.abs(settled.spent_usd - cost) < 1e-7, `${settled.spent_usd} vs ${cost}`);
      } finally {
        await gw.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

restartScenario('SQLite', () => ({}));
const pgSchema = uniqueName('review');
restartScenario('PostgreSQL', () => ({ SWITCHYARD_POSTGRES_URL: POSTGRES_URL, SWITCHYARD_POSTGRES_SCHEMA: pgSchema }), pgSkip);
after(async () => { if (!pgSkip) await dropSchema(pgSchema); });

test('the Messages API (@anthropic-ai/sdk): held and approved, rejected with the SDK error, async poll in Anthropic format', async () => {
  const gw = await start();
  try {
    const app = await adminApi(gw.origin).createKey({ name: 'app' });
    const anthropic = new Anthropic({ baseURL: gw.origin, apiKey: app.key, maxRetries: 0, defaultHeaders: { 'x-switchyard-review': 'hold' } });
    const approved = anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'check this' }] });
    const one = await pendingReview(gw);
    assert.equal(one.endpoint, 'messages');
    await decide(gw, one.id, 'edit', { text: 'Edited for Claude clients.' });
    const message = await approved;
    assert.equal(message.content[0].type === 'text' ? message.content[0].text : '', 'Edited for Claude clients.');

    const rejected = anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'no' }] });
    const two = await pendingReview(gw, MASTER_KEY, (r) => r.id !== one.id);
    await decide(gw, two.id, 'reject', { reason: 'policy' });
    await assert.rejects(rejected, (err: any) => {
      assert.ok(err instanceof Anthropic.PermissionDeniedError, String(err));
      assert.equal((err.error as any)?.error?.type, 'permission_error');
      assert.match(err.message, /review_rejected.*policy/);
      return true;
    });

    // after: answered at once, queued; a timeout under `reject`: the SDK's error with review_expired.
    const admin = adminApi(gw.origin);
    const audited = new Anthropic({ baseURL: gw.origin, apiKey: (await admin.createKey({ name: 'audited' })).key, maxRetries: 0 });
    const quick = await audited.messages.create({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'audit me' }] }).withResponse();
    assert.match(quick.data.content[0].type === 'text' ? quick.data.content[0].text : '', /audit me/);
    assert.equal((await pendingReview(gw, MASTER_KEY, (r) => r.id === quick.response.headers.get('x-switchyard-review-id'))).mode, 'after');
    const strict = new Anthropic({ baseURL: gw.origin, apiKey: (await admin.createKey({ name: 'strict' })).key, maxRetries: 0 });
    await assert.rejects(strict.messages.create({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'too slow' }] }), (err: any) => {
      assert.equal(err.status, 403);
      assert.match(err.message, /review_expired|nobody decided/);
      return true;
    });

    const raw = await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'later' }] }, { headers: { prefer: 'respond-async' } }).asResponse();
    assert.equal(raw.status, 202);
    const { id } = await raw.json();
    await decide(gw, id, 'approve');
    const polled = await (await fetch(`${gw.origin}/v1/reviews/${id}`, { headers: { 'x-api-key': app.key } })).json();
    assert.equal(polled.type, 'message');
    assert.match(polled.content[0].text, /later/);
  } finally {
    await gw.close();
  }
});

test('roles: a viewer reads the queue but cannot decide, a reviewer decides but cannot manage keys, a plain key reaches neither; bad input is refused', async () => {
  const gw = await start();
  try {
    const admin = adminApi(gw.origin);
    const app = await admin.createKey({ name: 'app' });
    const viewer = await admin.createKey({ name: 'val', role: 'viewer' });
    const reviewer = await admin.createKey({ name: 'rita', role: 'reviewer' });
    const pendingCall = openai(gw, app.key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'roles' }], metadata: { review: 'hold' } });
    const review = await pendingReview(gw, viewer.key);
    const refused = await decide(gw, review.id, 'approve', {}, viewer.key);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'insufficient_role');
    assert.equal((await adminApi(gw.origin, reviewer.key).call('POST', '/admin/keys', { name: 'sneaky' })).status, 403);
    assert.equal((await adminApi(gw.origin, app.key).call('GET', '/admin/reviews')).status, 403);
    assert.equal((await decide(gw, review.id, 'edit', {}, reviewer.key)).status, 400);
    assert.equal((await decide(gw, review.id, 'reject', {}, reviewer.key)).status, 400);
    assert.equal((await decide(gw, 'rev_doesnotexist', 'approve', {}, reviewer.key)).status, 404);
    await decide(gw, review.id, 'approve', {}, reviewer.key);
    await pendingCall;

    // The request's own words cannot approve it, and a bad review mode is a clear 400.
    await assert.rejects(
      openai(gw, app.key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'x' }], metadata: { review: 'approved' } }),
      (err: any) => err.status === 400 && err.param === 'metadata.review',
    );
  } finally {
    await gw.close();
  }
});
