// The route stage for `model: "auto…"`: which tier (and model) answers, and why.
// Hard constraints first (vision, tools, context length, the requested reasoning
// level, the key's allowed models, a per-request cost cap), then the caller's hint
// (metadata.task), then the local difficulty classifier against the route's
// threshold. A cascade route gets the ladder of tiers it may climb instead of one.
// An explicit model id never comes here: only `auto` and `auto:<name>` do.
import { GatewayError, invalidRequest } from '../canonical/errors.ts';
import type { CanonicalRequest, ReasoningEffort } from '../canonical/types.ts';
import type { Catalog } from '../catalog/catalog.ts';
import { resolveEffort } from '../catalog/catalog.ts';
import { worstCaseCost } from '../catalog/cost.ts';
import type { ModelInfo, Tier } from '../catalog/types.ts';
import type { Principal } from '../services.ts';
import { countInputTokens, inputTokenUpperBound } from '../tokens/count.ts';
import type { Endpoint, Route } from '../routing/resolve.ts';
import { TIER_ORDER, type CascadeSettings, type RouterConfig, type RouteSpec } from './config.ts';
import type { RouterScorer } from './scorer.ts';
import { hasImageInput, questionOf } from './text.ts';

/** One tier a request may be answered on, resolved to the model that will serve it. */
export interface Rung {
  tier: Tier;
  model: ModelInfo;
  /** The tier's other models that can take the request, in order: its fallbacks. */
  alternatives: ModelInfo[];
}

/** What an auto route decided, beside the Route every request has. */
export interface AutoRoute {
  spec: RouteSpec;
  tier: Tier;
  /** The difficulty score (0..1, higher = stronger tier), when the classifier decided. */
  score?: number;
  /** `classifier 0.31 < 0.52 (auto:balanced sends 40% above mini)`, `metadata.task=extraction`, constraints. */
  why: string;
  /** A cascade's tiers from the first to answer to the last that may, each resolved to a model. */
  ladder?: Rung[];
  cascade?: CascadeSettings;
  /** The pro tier's model, when the route is critical. */
  validator?: ModelInfo;
  /** The model the cascade's verifier check asks, when the route has that check. */
  verifier?: ModelInfo;
  /** The chosen tier's other models that can take the request: tried, after configured fallbacks, when it fails. */
  alternatives?: ModelInfo[];
}

export interface RouterContext {
  catalog: Catalog;
  router: RouterConfig;
  scorer: RouterScorer;
  allowed(model: ModelInfo, route: string): boolean;
  routeAllowed(route: string): boolean;
  /** Whether the request can be relayed to this model as it came (needed for fields no translation carries). */
  relays?(model: ModelInfo): boolean;
}

/** Tasks a caller may name in metadata.task that a small model does as well as a big one. */
const SIMPLE_TASKS: Readonly<Record<string, Tier>> = {
  classification: 'nano', classify: 'nano', extraction: 'nano', extract: 'nano', formatting: 'nano', format: 'nano',
  tagging: 'nano', labeling: 'nano', routing: 'nano', 'entity-extraction': 'nano',
  summarization: 'mini', summarize: 'mini', translation: 'mini', translate: 'mini', rewrite: 'mini', rewriting: 'mini',
};

/** Requested levels a model must offer as such (lower ones any reasoning model can approximate). */
const DEMANDING: ReadonlySet<ReasoningEffort> = new Set(['high', 'xhigh']);

export function isAutoRoute(model: string): boolean {
  return model === 'auto' || model.startsWith('auto:');
}

interface Needs {
  vision: boolean;
  tools: boolean;
  inputTokens: number;
  effort?: ReasoningEffort;
  maxOutputTokens?: number;
  maxCostUsd?: number;
  /** The first field of the request only a relay can carry (a cascade, which reads answers whole, cannot). */
  relayOnly?: string;
}

export async function routeAuto(ctx: RouterContext, request: CanonicalRequest, endpoint: Endpoint, maxCostUsd: number | undefined, below?: Tier): Promise<Route> {
  const spec = ctx.router.routes.get(request.model);
  if (!spec) throw routeNotFound(request.model, [...ctx.router.routes.keys()]);
  if (!ctx.routeAllowed(spec.name)) throw new GatewayError({ status: 403, type: 'permission_error', code: 'route_not_allowed', param: 'model', message: `Your key may not use the route '${spec.name}'. Its allowed_routes list the routes it may call; GET /v1/models lists them.` });
  if (endpoint === 'embeddings') throw invalidRequest(`'${spec.name}' routes chat models; call /v1/embeddings with an embedding model id.`, 'model', 'model_is_route');
  const bound = inputTokenUpperBound(request);
  const needs: Needs = {
    vision: hasImageInput(request),
    tools: (request.tools?.length ?? 0) > 0,
    inputTokens: bound <= 8_192 ? bound : await countInputTokens(request),
    effort: request.reasoningEffort,
    maxOutputTokens: request.maxOutputTokens,
    maxCostUsd,
    relayOnly: request.untranslatable?.[0]?.param,
  };
  const notes: string[] = [];
  const wanted = wantedTier(ctx, spec, request, notes);
  const stream = request.stream && spec.cascade?.stream === 'first_tier';
  const cascade = spec.cascade && !stream && !needs.relayOnly ? spec.cascade : undefined;
  if (spec.cascade && stream) notes.push('stream: first tier answers directly (cascade.stream: first_tier)');
  else if (spec.cascade && needs.relayOnly) notes.push(`no cascade: ${needs.relayOnly} can only be relayed, and a cascade reads answers through a translation`);
  const start = spec.cascade ? lowest(spec, wanted.tier) : wanted.tier;
  const first = pick(ctx, spec, needs, start, below, notes);
  const auto: AutoRoute = { spec, tier: first.tier, score: wanted.score, why: [wanted.why, ...notes].join('; ') };
  if (cascade) {
    auto.cascade = cascade;
    auto.ladder = climb(ctx, spec, needs, first, notes);
    if (cascade.checks.includes('verifier')) auto.verifier = judgeModel(ctx, spec, cascade.verifier, needs);
    auto.why = [wanted.why, ...notes].join('; ');
  }
  if (spec.critical) auto.validator = judgeModel(ctx, spec, 'pro', needs);
  const model = first.model;
  auto.alternatives = first.alternatives;
  const effort = resolveEffort(model, request.reasoningEffort);
  return {
    model,
    deployments: ctx.catalog.deployments(model),
    effort,
    requestedEffort: effort !== request.reasoningEffort ? request.reasoningEffort : undefined,
    inputTokens: needs.inputTokens,
    reason: `${spec.name} → ${first.tier} (${model.id}): ${auto.why}`,
    auto,
  };
}

/** The tier the hint or the classifier asks for, before constraints. */
function wantedTier(ctx: RouterContext, spec: RouteSpec, request: CanonicalRequest, notes: string[]): { tier: Tier; score?: number; why: string } {
  const task = request.metadata?.task?.toLowerCase();
  const hinted = task ? SIMPLE_TASKS[task] : undefined;
  if (hinted) return { tier: hinted, why: `metadata.task=${task} → ${hinted}` };
  if (spec.cascade) return { tier: spec.tiers[0], why: `cascade from ${spec.tiers[0]}` };
  if (task) notes.push(`metadata.task=${task} not a simple task: classifier decides`);
  if (spec.tiers.length === 1) return { tier: spec.tiers[0], why: `${spec.name} has one tier` };
  const { text, turns } = questionOf(request);
  const score = ctx.scorer.difficulty(text, turns);
  let step = 0;
  while (step < spec.tiers.length - 1 && score >= thresholdOf(ctx, spec, step)) step++;
  const tier = spec.tiers[step];
  const t = thresholdOf(ctx, spec, Math.min(step, spec.tiers.length - 2));
  const relation = step === 0 ? `${score.toFixed(3)} < ${t.toFixed(3)}` : `${score.toFixed(3)} ≥ ${thresholdOf(ctx, spec, step - 1).toFixed(3)}`;
  const basis = spec.thresholds ? 'threshold' : `strong share ${shareText(spec.strongShares)}`;
  return { tier, score, why: `classifier ${relation} (${basis}) → ${tier}` };
}

function thresholdOf(ctx: RouterContext, spec: RouteSpec, step: number): number {
  return spec.thresholds ? spec.thresholds[step] : ctx.scorer.thresholdForShare(spec.strongShares[step]);
}

function shareText(shares: readonly number[]): string {
  return shares.map((s) => `${Math.round(s * 100)}%`).join('/');
}

/** A cascade starts at the route's cheapest tier, or lower when the hint says so. */
function lowest(spec: RouteSpec, hinted: Tier): Tier {
  return rank(hinted) < rank(spec.tiers[0]) ? hinted : spec.tiers[0];
}

const rank = (tier: Tier): number => TIER_ORDER.indexOf(tier);

/**
 * The first tier from `wanted` with a model that can take the request: up the ladder
 * for a constraint (vision, tools, context, reasoning level, allowed models), down it
 * for the cost cap; never the pro tier unless the route lists it; below `below` only.
 */
function pick(ctx: RouterContext, spec: RouteSpec, needs: Needs, wanted: Tier, below: Tier | undefined, notes: string[]): Rung {
  const top = spec.tiers.includes('pro') ? rank('pro') : rank('frontier');
  const ceiling = below ? rank(below) - 1 : top;
  const from = Math.min(rank(wanted), ceiling);
  const order: Tier[] = [];
  for (let i = from; i <= ceiling; i++) order.push(TIER_ORDER[i]);
  for (let i = from - 1; i >= 0; i--) order.push(TIER_ORDER[i]);
  const skipped: string[] = [];
  for (const tier of order) {
    const found = modelFor(ctx, spec, tier, needs);
    if (found.model) {
      if (skipped.length > 0) notes.push(skipped.join('; '));
      return { tier, model: found.model, alternatives: found.alternatives };
    }
    skipped.push(`${tier} skipped: ${found.why}`);
  }
  throw noTierFits(spec, skipped, below);
}

/** The tiers a cascade may climb after `first`: the route's stronger tiers that can take the request. */
function climb(ctx: RouterContext, spec: RouteSpec, needs: Needs, first: Rung, notes: string[]): Rung[] {
  const ladder = [first];
  let spent = worstCaseOf(first.model, needs);
  for (const tier of spec.tiers) {
    if (rank(tier) <= rank(first.tier)) continue;
    const found = modelFor(ctx, spec, tier, needs);
    if (!found.model) {
      notes.push(`cascade skips ${tier}: ${found.why}`);
      continue;
    }
    const cost = worstCaseOf(found.model, needs);
    if (needs.maxCostUsd !== undefined && spent + cost > needs.maxCostUsd) {
      notes.push(`cascade stops before ${tier}: the cost cap $${needs.maxCostUsd} would be exceeded`);
      break;
    }
    spent += cost;
    ladder.push({ tier, model: found.model, alternatives: found.alternatives });
  }
  return ladder;
}

/** The model a judge (verifier, Pro validator) runs on: it reads text only, and its cost is reserved on top of the cap. */
function judgeModel(ctx: RouterContext, spec: RouteSpec, tier: Tier, needs: Needs): ModelInfo | undefined {
  return modelFor(ctx, spec, tier, { ...needs, vision: false, tools: false, maxCostUsd: undefined }).model;
}

/** The tier's first model that can take the request, and the others that can too. */
function modelFor(ctx: RouterContext, spec: RouteSpec, tier: Tier, needs: Needs): { model?: ModelInfo; alternatives: ModelInfo[]; why: string } {
  const reasons: string[] = [];
  const fits: ModelInfo[] = [];
  for (const id of ctx.router.tiers.get(tier) ?? []) {
    const model = ctx.catalog.get(id);
    const why = !model ? `${id} is not in the catalog` : unfit(ctx, spec, model, needs);
    if (!why) fits.push(model!);
    else if (fits.length === 0) reasons.push(why);
  }
  return { model: fits[0], alternatives: fits.slice(1), why: reasons.join(', ') || 'no model configured' };
}

function unfit(ctx: RouterContext, spec: RouteSpec, model: ModelInfo, needs: Needs): string | undefined {
  if (ctx.catalog.deployments(model).length === 0) return `${model.id} has no configured provider`;
  if (!model.endpoints.includes('chat') && !model.endpoints.includes('responses') && !model.endpoints.includes('messages')) return `${model.id} is not a chat model`;
  if (!ctx.allowed(model, spec.name)) return `${model.id} is not allowed for this key`;
  if (needs.vision && !model.modalities.input.includes('image')) return `${model.id} takes no image input`;
  if (needs.tools && !model.tools) return `${model.id} has no tools`;
  if (needs.inputTokens > model.contextWindow) return `${model.id}'s window (${model.contextWindow}) is under the prompt's ${needs.inputTokens} tokens`;
  if (needs.effort && DEMANDING.has(needs.effort) && !model.reasoning?.levels.includes(needs.effort)) return `${model.id} has no reasoning_effort ${needs.effort}`;
  if (needs.relayOnly && ctx.relays && !ctx.relays(model)) return `${model.id} cannot take ${needs.relayOnly} (no translation carries it; only a model the request is relayed to)`;
  if (needs.maxCostUsd !== undefined) {
    const worst = worstCaseOf(model, needs);
    if (worst > needs.maxCostUsd) return `${model.id}'s worst case $${worst.toFixed(6)} is over the cap $${needs.maxCostUsd}`;
  }
  return undefined;
}

function worstCaseOf(model: ModelInfo, needs: Needs): number {
  return worstCaseCost(needs.inputTokens, Math.min(needs.maxOutputTokens ?? model.maxOutputTokens, model.maxOutputTokens), model.pricing);
}

function routeNotFound(name: string, routes: string[]): GatewayError {
  return new GatewayError({
    status: 404, type: 'invalid_request_error', code: 'model_not_found', param: 'model',
    message: `The route '${name}' does not exist on this gateway. Routes: ${routes.sort().join(', ')} (define more under routes: in switchyard.yaml). GET /v1/models lists them.`,
  });
}

function noTierFits(spec: RouteSpec, skipped: string[], below: Tier | undefined): GatewayError {
  const capped = skipped.some((s) => s.includes('over the cap'));
  return new GatewayError({
    status: 400, type: 'invalid_request_error', code: capped ? 'max_cost_too_low' : 'no_tier_fits', param: capped ? undefined : 'model',
    headers: { 'x-should-retry': 'false' },
    message: `No tier of '${spec.name}'${below ? ` below ${below}` : ''} can take this request: ${skipped.join('; ')}.${capped ? ' Raise x-switchyard-max-cost-usd, or lower max_tokens (the worst case counts every output token the model may write).' : ''}`,
  });
}

/** The next cheaper tier a spent budget may fall to, if the route allows it. */
export function cheaperThan(route: Route): Tier | undefined {
  const auto = route.auto;
  if (!auto?.spec.downgrade || rank(auto.tier) === 0) return undefined;
  return auto.tier;
}
