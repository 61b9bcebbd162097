// The route stage for auto routes, on a scorer the test controls: thresholds and shares,
// constraints that move a request up or down the ladder, the cascade ladder, a cost cap,
// budget downgrade bounds, and config problems stopping the start with file:line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfigText } from '../config/load.ts';
import { Catalog } from '../catalog/catalog.ts';
import type { CanonicalRequest } from '../canonical/types.ts';
import type { GatewayError } from '../canonical/errors.ts';
import { routeAuto, type RouterContext } from './decide.ts';
import type { RouterScorer } from './scorer.ts';

function contextFor(yaml: string, score: number, allowed: (id: string) => boolean = () => true): RouterContext {
  const dir = mkdtempSync(join(tmpdir(), 'sy-decide-'));
  try {
    writeFileSync(join(dir, 'switchyard.yaml'), yaml);
    const config = loadConfig({ cwd: dir, env: { OPENAI_API_KEY: 'k' } });
    const scorer: RouterScorer = { difficulty: () => score, thresholdForShare: (share) => 1 - share, answerRisk: () => 0, answerThresholdForShare: () => 1 };
    return { catalog: new Catalog(config), router: config.router, scorer, allowed: (m) => allowed(m.id), routeAllowed: () => true };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ask = (model: string, extra: Partial<CanonicalRequest> = {}): CanonicalRequest => ({ model, messages: [{ role: 'user', content: [{ type: 'text', text: 'Sort these words.' }] }], stream: false, ...extra });

test('the score against the route share picks the tier: auto:balanced sends 40% above mini and 10% to frontier', async () => {
  for (const [score, tier, model] of [[0.3, 'mini', 'gpt-5.4-mini'], [0.7, 'default', 'gpt-5.4'], [0.95, 'frontier', 'gpt-5.5']] as const) {
    const route = await routeAuto(contextFor('', score), ask('auto:balanced'), 'chat', undefined);
    assert.equal(route.auto!.tier, tier, `score ${score}`);
    assert.equal(route.model.id, model);
    assert.match(route.reason, new RegExp(`^auto:balanced → ${tier} \\(${model.replace(/\./g, '\\.')}\\): classifier ${score.toFixed(3)}`));
  }
  const plain = await routeAuto(contextFor('', 0.3), ask('auto'), 'chat', undefined);
  assert.equal(plain.auto!.spec.name, 'auto');
  assert.equal(plain.model.id, 'gpt-5.4-mini');
});

test('a route in config with its own threshold and tier models', async () => {
  const yaml = 'tiers:\n  frontier: [claude-opus-4-5, gpt-5.5]\nroutes:\n  auto:deep:\n    tiers: [default, frontier]\n    threshold: 0.2\n';
  const ctx = contextFor(yaml, 0.25, (id) => id !== 'claude-opus-4-5');
  const route = await routeAuto(ctx, ask('auto:deep'), 'chat', undefined);
  assert.equal(route.auto!.tier, 'frontier');
  assert.equal(route.model.id, 'gpt-5.5', 'claude-opus-4-5 has no provider configured here, so the next model of the tier');
  assert.match(route.reason, /\(threshold\)/);
});

test('reasoning_effort xhigh needs a model that offers it; a cost cap moves down; nothing fits is a clear 400', async () => {
  const ctx = contextFor('', 0.1);
  const deep = await routeAuto(ctx, ask('auto:cheap', { reasoningEffort: 'xhigh' }), 'chat', undefined);
  assert.ok(deep.model.reasoning?.levels.includes('xhigh'), deep.reason);
  assert.match(deep.reason, /has no reasoning_effort xhigh/);
  const capped = await routeAuto(contextFor('', 0.99), ask('auto:quality', { maxOutputTokens: 1000 }), 'chat', 0.003);
  assert.ok(['nano', 'mini'].includes(capped.auto!.tier), capped.reason);
  const error = await routeAuto(ctx, ask('auto:cheap', { maxOutputTokens: 1000 }), 'chat', 1e-9).catch((e: GatewayError) => e);
  assert.equal((error as GatewayError).code, 'max_cost_too_low');
  assert.match((error as GatewayError).message, /Raise x-switchyard-max-cost-usd, or lower max_tokens/);
});

test('a cascade climbs its route tiers from the cheapest; a budget downgrade stays below the refused tier', async () => {
  const ctx = contextFor('', 0.99);
  const cascade = await routeAuto(ctx, ask('auto:cascade'), 'chat', undefined);
  assert.deepEqual(cascade.auto!.ladder!.map((r) => `${r.tier}:${r.model.id}`), ['mini:gpt-5.4-mini', 'default:gpt-5.4', 'frontier:gpt-5.5']);
  const below = await routeAuto(ctx, ask('auto:balanced'), 'chat', undefined, 'frontier');
  assert.equal(below.auto!.tier, 'default');
  const error = await routeAuto(ctx, ask('auto:balanced'), 'chat', undefined, 'nano').catch((e: GatewayError) => e);
  assert.equal((error as GatewayError).code, 'no_tier_fits');
});

test('only models the key may use are chosen, and the reason says which were passed over', async () => {
  const ctx = contextFor('', 0.99, (id) => id.endsWith('-mini') || id.endsWith('-nano'));
  const route = await routeAuto(ctx, ask('auto:quality'), 'chat', undefined);
  assert.equal(route.model.id, 'gpt-5.4-mini');
  assert.match(route.reason, /gpt-5\.5 is not allowed for this key/);
});

test('a field only a relay carries: models it cannot be relayed to are passed over, and a cascade answers directly', async () => {
  const yaml = 'tiers:\n  frontier: [claude-opus-4-5, gpt-5.5]\n';
  const dir = mkdtempSync(join(tmpdir(), 'sy-decide-'));
  writeFileSync(join(dir, 'switchyard.yaml'), yaml);
  const config = loadConfig({ cwd: dir, env: { OPENAI_API_KEY: 'k', ANTHROPIC_API_KEY: 'k' } });
  rmSync(dir, { recursive: true, force: true });
  const scorer: RouterScorer = { difficulty: () => 0.99, thresholdForShare: (share) => 1 - share, answerRisk: () => 0, answerThresholdForShare: () => 1 };
  const ctx: RouterContext = { catalog: new Catalog(config), router: config.router, scorer, allowed: () => true, routeAllowed: () => true, relays: (m) => m.provider === 'openai' };
  const untranslatable = [{ param: 'tools[0].type', what: "'web_search'", code: 'unsupported_tool_type' }];
  const route = await routeAuto(ctx, ask('auto:quality', { untranslatable }), 'chat', undefined);
  assert.equal(route.model.id, 'gpt-5.5');
  const plain = await routeAuto(ctx, ask('auto:quality'), 'chat', undefined);
  assert.equal(plain.model.id, 'claude-opus-4-5', 'without such a field the tier\'s first model');
  assert.deepEqual(plain.auto!.alternatives!.map((m) => m.id), ['gpt-5.5']);
  const cascade = await routeAuto(ctx, ask('auto:cascade', { untranslatable }), 'chat', undefined);
  assert.equal(cascade.auto!.ladder, undefined);
  assert.match(cascade.reason, /no cascade: tools\[0\]\.type can only be relayed/);
});

test('bad router config stops the start with the line and the fix', () => {
  const refused = (text: string): string => {
    try {
      parseConfigText(text, 'switchyard.yaml', {});
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.message;
    }
    return assert.fail('expected a ConfigError');
  };
  assert.match(refused('tiers:\n  mini: [gpt-5.4-mimi]\n'), /switchyard\.yaml:2: tiers\.mini: 'gpt-5\.4-mimi' is not a model of this gateway/);
  assert.match(refused('routes:\n  auto:x:\n    tiers: [default, mini]\n'), /switchyard\.yaml:3: routes\.auto:x\.tiers: list the tiers cheapest first/);
  assert.match(refused('routes:\n  fast:\n    tiers: [mini]\n'), /a route name is 'auto' or 'auto:'/);
  assert.match(refused('routes:\n  auto:x:\n    tiers: [mini, default]\n    strong_share: 1.5\n'), /strong_share.*must be from 0 to 1/);
  assert.match(refused('routes:\n  auto:x:\n    tiers: [mini]\n    cascade: { checks: [vibes] }\n'), /must be one of schema, final_answer, refusal, learned, consistency, verifier/);
});
