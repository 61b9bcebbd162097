import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixtureJson } from '../anthropic/test-support.ts';
import { signatureOfToolCallId, toolCallId, toolCallIdBase } from './ids.ts';

describe('tool-call ids that carry Gemini thought signatures', () => {
  const recorded = fixtureJson('gemini/generate-function-call.vercel.json').candidates[0].content.parts[0].thoughtSignature as string;

  it('round-trips a recorded signature and any other text exactly', () => {
    for (const signature of [recorded, 'EqUCCqICAb4+9vsh8Pd5ta==', 'ab-_url/safe?', 'ünïcode ✓', 'abc']) {
      const id = toolCallId('resp1', 0, signature);
      assert.match(id, /^[A-Za-z0-9_-]+$/, 'usable as an Anthropic tool_use id');
      assert.equal(signatureOfToolCallId(id), signature);
    }
  });

  it('keeps a recorded signature compact (alphabet swap, not re-encoding)', () => {
    assert.ok(toolCallId('r', 0, recorded).length < recorded.length + 20);
  });

  it('ids without a signature, or minted elsewhere, carry none', () => {
    assert.equal(signatureOfToolCallId(toolCallId('r', 3)), undefined);
    assert.equal(signatureOfToolCallId('call_abc123'), undefined);
    assert.equal(signatureOfToolCallId('toolu_01_ts_x'), undefined);
  });

  it('bases come from the response id (stable) or are random and distinct', () => {
    assert.equal(toolCallIdBase('b36L-acjw_M668'), 'b36LacjwM668');
    assert.notEqual(toolCallIdBase(undefined), toolCallIdBase(undefined));
    assert.match(toolCallIdBase(undefined), /^[A-Za-z0-9]+$/);
  });
});
