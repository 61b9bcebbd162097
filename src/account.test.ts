import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CanonicalRequest } from './canonical/types.ts';
import type { ModelInfo } from './catalog/types.ts';
import type { Route } from './routing/resolve.ts';
import { estimateCost } from './account.ts';

const model = (id: string, input: number, output: number, maxOutputTokens: number) => ({ id, pricing: { input, output }, maxOutputTokens }) as unknown as ModelInfo;
const cheap = model('cheap', 1, 2, 1000);
const dear = model('dear', 10, 40, 500);
const route = { model: cheap, inputTokens: 100 } as Route;
const request = {} as CanonicalRequest;

test('with a fallback chain the reservation is the worst case of the dearest model in it, so a hard budget holds whichever answers', () => {
  const alone = estimateCost(request, route);
  const chained = estimateCost(request, route, [dear]);
  assert.ok(chained.worstCaseUsd > alone.worstCaseUsd);
  assert.equal(chained.worstCaseUsd, estimateCost(request, { ...route, model: dear }).worstCaseUsd, "the dear model's own worst case");
  assert.equal(chained.maxOutputTokens, 1000, 'the cap asked of the first model is unchanged');
});

test('a cheaper fallback does not lower the reservation', () => {
  const cheaper = model('cheaper', 0.1, 0.2, 100);
  assert.equal(estimateCost(request, route, [cheaper]).worstCaseUsd, estimateCost(request, route).worstCaseUsd);
});
