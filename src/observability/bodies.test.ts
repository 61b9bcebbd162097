import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BodyKeeper } from './bodies.ts';
import { CapturingTap } from './stream-capture.ts';
import { ChatStreamTap } from '../providers/openai/usage-tap.ts';
import { ConfigError } from '../config/errors.ts';
import type { Principal } from '../services.ts';

const principal = (over: Partial<Principal> = {}): Principal => ({ keyId: 'key_1', name: 'ci-bot', prefix: 'sy_live_ab', env: 'live', projectId: 'proj_1', ...over });
const noMask = (text: string) => text;

test('the most specific rule wins: key (id or name), then route, then project, then the default', async () => {
  const keeper = await BodyKeeper.create({ log: { bodies: { policy: 'none', keys: { 'ci-bot': 'full' }, routes: { 'auto:legal': 'redacted' }, projects: { proj_2: 'redacted' } } } }, noMask);
  assert.equal(keeper.policyFor(principal(), undefined), 'full');
  assert.equal(keeper.policyFor(principal({ name: 'other' }), 'auto:legal'), 'redacted');
  assert.equal(keeper.policyFor(principal({ name: 'other', projectId: 'proj_2' }), undefined), 'redacted');
  assert.equal(keeper.policyFor(principal({ name: 'other' }), undefined), 'none');
  assert.equal((await BodyKeeper.create({}, noMask)).neverKeeps, true);
});

test('redacted: secrets and personal data are masked in the request and the answer, counted by kind; full keeps them', async () => {
  const keeper = await BodyKeeper.create({ log: { bodies: { policy: 'redacted' } } }, noMask, ['sk-provider-secret-123456']);
  const request = { model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'Mail jane.doe@example.com, key sk-provider-secret-123456' }] };
  const stored = keeper.keep('redacted', request, { body: JSON.stringify({ choices: [{ message: { content: 'Call +1 (415) 555-2671 now' } }] }) });
  assert.doesNotMatch(stored.request, /jane\.doe|sk-provider-secret/);
  assert.match(stored.request, /\[REDACTED:email\]/);
  assert.match(stored.response, /\[REDACTED:phone\]/);
  assert.equal(JSON.parse(stored.request).messages[0].role, 'user', 'the structure is kept');
  assert.ok((stored.redactions!.email ?? 0) >= 1 && (stored.redactions!.phone ?? 0) >= 1, JSON.stringify(stored.redactions));
  const full = keeper.keep('full', request, { text: 'streamed answer' });
  assert.match(full.request, /jane\.doe@example\.com/);
  assert.deepEqual(JSON.parse(full.response), { assembled_from_stream: true, content: 'streamed answer' });
});

test('bodies over max_kb are cut and marked; a bad pattern stops the start', async () => {
  const keeper = await BodyKeeper.create({ log: { bodies: { policy: 'full', max_kb: 1 } } }, noMask);
  const stored = keeper.keep('full', { text: 'x'.repeat(5000) }, { body: '{}' });
  assert.equal(stored.truncated, true);
  assert.ok(Buffer.byteLength(stored.request) < 1200);
  await assert.rejects(BodyKeeper.create({ log: { bodies: { policy: 'redacted', patterns: [{ name: 'bad', pattern: '(' }] } } }, noMask), (err: unknown) => err instanceof ConfigError && /'bad' is not a valid regular expression/.test(err.message));
});

test('a relayed chat stream is assembled from the events the billing tap saw, without changing what it reads', () => {
  const tap = new CapturingTap(new ChatStreamTap(false), 1 << 20);
  const chunk = (delta: object, extra: object = {}) => JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'gpt-5.4-mini', choices: [{ index: 0, delta, finish_reason: null }], ...extra });
  for (const data of [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hel' }), chunk({ content: 'lo' }), chunk({ tool_calls: [{ index: 0, id: 't', function: { name: 'lookup', arguments: '{"w":' } }] }), chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }), JSON.stringify({ id: 'c', choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }), '[DONE]']) tap.keep(data, undefined);
  assert.deepEqual(tap.assembled('chat'), { text: 'Hello', toolCalls: [{ name: 'lookup', arguments: '{"w":1}' }] });
  assert.equal(tap.usage?.outputTokens, 2);
  assert.equal(tap.ended, true);
});
