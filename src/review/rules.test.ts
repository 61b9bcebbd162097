// Review rules: which rule applies to a request before and after its answer, that a
// request can ask for review but never opt out of a rule, and that a bad rule stops the
// start with its place in switchyard.yaml.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CanonicalResponse } from '../canonical/types.ts';
import { loadConfig } from '../config/load.ts';
import { model } from '../store/testing.ts';
import type { Principal } from '../services.ts';
import { askedMode, durationMs, reviewSettings, ruleOnAnswer, rulesBefore, type RequestFacts } from './rules.ts';

const app: Principal = { keyId: 'key_1', name: 'support-bot', prefix: 'sy_live_ab', env: 'live', projectId: 'proj_legal' };
const facts = (over: Partial<RequestFacts> = {}): RequestFacts => ({ principal: app, model: model('gpt-5.4-mini'), tier: 'mini', ...over });
const answer = (text: string, tool?: string): CanonicalResponse => ({
  id: 'x', model: 'm', created: 0, finishReason: 'stop', usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1, reasoningTokens: 0 },
  content: [{ type: 'text', text }, ...(tool ? [{ type: 'tool_call' as const, id: 't', name: tool, arguments: '{"amount": 5}' }] : [])],
});

const settings = reviewSettings({
  review: {
    timeout: '2h',
    rules: [
      { name: 'audit', keys: ['support-bot'], mode: 'after' },
      { name: 'legal', projects: ['proj_legal'], models: ['gpt-5.5*'], mode: 'hold', timeout: '3d', on_timeout: 'release' },
      { name: 'refunds', content: 'refund', mode: 'hold' },
      { name: 'pay', tool_calls: ['send_payment'], tiers: ['mini'], mode: 'hold' },
      { name: 'critical', tags: ['validation'], mode: 'hold' },
      { name: 'tagged', metadata: { team: 'risk' }, mode: 'hold' },
    ],
  },
});

test('request-side rules match on key, project, model, tier and metadata; a hold beats an after', () => {
  const plain = rulesBefore(settings, facts(), undefined);
  assert.equal(plain.matched?.rule.name, 'audit');
  assert.equal(plain.matched?.rule.mode, 'after');
  assert.deepEqual(plain.onAnswer.map((r) => r.name), ['refunds', 'pay', 'critical']);
  const big = rulesBefore(settings, facts({ model: model('gpt-5.5'), tier: 'frontier' }), undefined);
  assert.equal(big.matched?.rule.name, 'legal');
  assert.equal(big.matched?.rule.timeoutMs, 3 * 86_400_000);
  assert.equal(big.matched?.rule.onTimeout, 'release');
  assert.deepEqual(big.onAnswer, [], 'nothing stricter than a hold can come from the answer');
  const frontier = rulesBefore(settings, facts({ model: model('gpt-5.4'), tier: 'default' }), undefined);
  assert.deepEqual(frontier.onAnswer.map((r) => r.name), ['refunds', 'critical'], 'the tool rule is for the mini tier only');
  const other = rulesBefore(settings, facts({ principal: { ...app, keyId: 'key_2', name: 'other', projectId: undefined }, metadata: { team: 'risk' } }), undefined);
  assert.equal(other.matched?.rule.name, 'tagged');
  assert.deepEqual(other.onAnswer, [], 'nothing stricter than a hold can come from the answer');
});

test('the request can ask for review (built-in rule, defaults) but not opt out of one', () => {
  const none = reviewSettings({});
  assert.equal(rulesBefore(none, facts(), undefined).matched, undefined);
  const asked = rulesBefore(none, facts(), 'hold').matched!;
  assert.equal(asked.rule.name, 'metadata');
  assert.equal(asked.rule.timeoutMs, 86_400_000);
  assert.equal(asked.rule.onTimeout, 'reject');
  // Asking for `after` under a hold rule still holds.
  const big = rulesBefore(settings, facts({ model: model('gpt-5.5') }), 'after');
  assert.equal(big.matched?.rule.name, 'legal');
  assert.equal(askedMode('hold'), 'hold');
  assert.equal(askedMode(undefined), undefined);
  assert.equal(askedMode('approved'), 'invalid');
  assert.equal(askedMode(true), 'invalid');
});

test('answer-side rules: a content pattern, a tool call, the validator tag; none on an ordinary answer', () => {
  const before = rulesBefore(settings, facts(), undefined);
  assert.equal(ruleOnAnswer(before, answer('all fine'), undefined)?.rule.name, 'audit');
  const refund = ruleOnAnswer(before, answer('You will get a REFUND'), undefined)!;
  assert.equal(refund.rule.name, 'refunds');
  assert.match(refund.reason, /refund/);
  assert.equal(ruleOnAnswer(before, answer('paying', 'send_payment'), undefined)?.rule.name, 'pay');
  assert.equal(ruleOnAnswer(before, answer('paying', 'get_weather'), undefined)?.rule.name, 'audit');
  assert.equal(ruleOnAnswer(before, answer('ok'), { review: 'required (pro validation disagreed)' })?.rule.name, 'critical');
});

test('durations from seconds to days', () => {
  assert.equal(durationMs('90s'), 90_000);
  assert.equal(durationMs('30m'), 1_800_000);
  assert.equal(durationMs('1.5h'), 5_400_000);
  assert.equal(durationMs('7d'), 604_800_000);
});

function loadYaml(yaml: string): () => unknown {
  return () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-review-'));
    try {
      writeFileSync(join(dir, 'switchyard.yaml'), yaml);
      return loadConfig({ cwd: dir, env: {} });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('a bad review config stops the start, naming the place and the fix', () => {
  assert.throws(loadYaml('review:\n  rules:\n    - { name: a, mode: hold, content: "([" }\n'), /switchyard\.yaml:3: review\.rules\[0\] \(a\): content is not a valid regular expression/);
  assert.throws(loadYaml('review:\n  rules:\n    - { name: a, mode: hold }\n    - { name: a, mode: after }\n'), /switchyard\.yaml:4: .*the name 'a' is used twice/);
  assert.throws(loadYaml('review:\n  rules:\n    - { name: metadata, mode: hold }\n'), /built-in rule/);
  assert.throws(loadYaml('review:\n  rules:\n    - { name: a, mode: later }\n'), /must be hold or after/);
  assert.throws(loadYaml('review:\n  timeout: 5 minutes\n'), /a duration such as/);
  assert.throws(loadYaml('review:\n  rules:\n    - { name: a, mode: hold, on_timeout: approve }\n'), /release, reject or pro/);
  assert.throws(loadYaml('review:\n  rules:\n    - { name: a, mode: hold, tags: [disagree] }\n'), /the only tag is validation/);
  assert.doesNotThrow(loadYaml('review:\n  timeout: 30m\n  rules:\n    - { name: a, mode: hold, keys: [k], timeout: 7d, on_timeout: pro }\n'));
});
