import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CanonicalRequest, CanonicalResponse, FinishReason } from '../canonical/types.ts';
import { expectedAnswer, finalAnswer, finalAnswerCheck, refusalCheck, samplesAgree, schemaCheck, wordOverlap } from './checks.ts';

function answer(text: string, finishReason: FinishReason = 'stop'): CanonicalResponse {
  return { id: 'r', model: 'm', created: 0, content: [{ type: 'text', text }], finishReason, usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1, reasoningTokens: 0 } };
}

function request(extra: Partial<CanonicalRequest> = {}): CanonicalRequest {
  return { model: 'auto', messages: [{ role: 'user', content: [{ type: 'text', text: 'q' }] }], stream: false, ...extra };
}

const PLACE = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };

test('schema: invalid JSON, JSON that breaks the schema, and a valid answer (fenced or not)', () => {
  const asked = request({ responseFormat: { type: 'json_schema', name: 'place', schema: PLACE } });
  assert.equal(schemaCheck(asked, answer('{"city": ')), "invalid JSON for the schema 'place'");
  assert.match(schemaCheck(asked, answer('{"town": "Paris"}'))!, /^JSON does not match the schema 'place' \(/);
  assert.equal(schemaCheck(asked, answer('{"city": "Paris"}')), undefined);
  assert.equal(schemaCheck(asked, answer('```json\n{"city": "Paris"}\n```')), undefined);
  const object = request({ responseFormat: { type: 'json_object' } });
  assert.equal(schemaCheck(object, answer('[1, 2]')), 'not a JSON object (json_object asked)');
  assert.equal(schemaCheck(request(), answer('plain text is fine')), undefined);
});

test('schema: tool-call arguments are checked against the tool, and an unknown tool fails', () => {
  const withTool = request({ tools: [{ name: 'lookup', parameters: { type: 'object', properties: { word: { type: 'string' } }, required: ['word'] } }] });
  const call = (name: string, args: string): CanonicalResponse => ({ ...answer(''), content: [{ type: 'tool_call', id: 'c', name, arguments: args }], finishReason: 'tool_calls' });
  assert.equal(schemaCheck(withTool, call('lookup', '{"word": "x"}')), undefined);
  assert.equal(schemaCheck(withTool, call('lookup', '{"word": ')), "invalid JSON arguments for the tool 'lookup'");
  assert.equal(schemaCheck(withTool, call('lookup', '{}')), "arguments of 'lookup' do not match its schema");
  assert.equal(schemaCheck(withTool, call('other', '{}')), "a call to the unknown tool 'other'");
});

test('a schema ajv cannot compile is not a reason to escalate', () => {
  const odd = request({ responseFormat: { type: 'json_schema', name: 'odd', schema: { type: 'no-such-type' } } });
  assert.equal(schemaCheck(odd, answer('{"a": 1}')), undefined);
});

test('final answer: multiple choice and math questions need a choice or a number', () => {
  const mc = 'Which is a prime?\nA. 4\nB. 6\nC. 7\nD. 9\nAnswer:';
  assert.equal(expectedAnswer(mc), 'choice');
  assert.equal(finalAnswer('The answer is C.', 'choice'), 'C');
  assert.equal(finalAnswer('C', 'choice'), 'C');
  assert.equal(finalAnswerCheck(mc, answer('Primes are numbers with two divisors.')), 'no final choice (A–D) in the answer');
  const math = 'Janet has 16 eggs and eats 3. How many are left?';
  assert.equal(expectedAnswer(math), 'number');
  assert.equal(finalAnswer('16 - 3 = 13 eggs.\n#### 13', 'number'), '13');
  assert.equal(finalAnswer('She makes $1,234.50 in total.', 'number'), '1234.5');
  assert.equal(finalAnswerCheck(math, answer('She has some eggs left.')), 'no final number in the answer');
  assert.equal(finalAnswerCheck('Write a haiku about autumn.', answer('Leaves fall...')), undefined);
});

test('refusals, hedges, cut-off and empty answers escalate; a caveat deep in a long answer does not', () => {
  assert.match(refusalCheck(answer("I'm sorry, but I can't help with that."))!, /^refusal or hedging/);
  assert.match(refusalCheck(answer("I'm not sure what the capital is."))!, /^refusal or hedging/);
  assert.match(refusalCheck(answer('As an AI language model, I cannot browse.'))!, /^refusal or hedging/);
  assert.equal(refusalCheck(answer('Half an answ', 'length')), 'the answer was cut off at the output limit');
  assert.equal(refusalCheck(answer('', 'content_filter')), 'the answer was filtered by the provider');
  assert.equal(refusalCheck(answer('   ')), 'an empty answer');
  assert.equal(refusalCheck(answer('Paris is the capital of France.')), undefined);
  assert.equal(refusalCheck(answer(`${'A long and useful answer. '.repeat(40)} I don't know the exact 1850 figure.`)), undefined);
});

test('two samples agree on the same final answer, or on much the same words', () => {
  const math = 'Tom has 5 apples and buys 7. How many apples does he have?';
  assert.equal(samplesAgree(math, answer('5 + 7 = 12. The answer is 12.'), answer('He has 12 apples.')), true);
  assert.equal(samplesAgree(math, answer('5 + 7 = 12. The answer is 12.'), answer('The answer is 11.')), false);
  assert.equal(samplesAgree('Name the capital of Australia.', answer('The capital of Australia is Canberra.'), answer('Canberra is the capital of Australia.')), true);
  assert.equal(samplesAgree('Name the capital of Australia.', answer('The capital of Australia is Canberra.'), answer('Sydney, the largest city.')), false);
  assert.equal(wordOverlap('', ''), 1);
});
