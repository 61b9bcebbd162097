// The router's settings as the route stage reads them: tier → models (the seed's
// defaults, overridable per tier), and the named routes (built in, plus `routes:` of
// switchyard.yaml, which may redefine a built-in one), every default filled in.
import type { ConfigFile, RouteFile } from '../config/schema.ts';
import type { Tier } from '../catalog/types.ts';

/** Cheapest first: a constraint moves up this ladder, a cost cap or a spent budget down it. */
export const TIER_ORDER: readonly Tier[] = ['nano', 'mini', 'default', 'frontier', 'pro'];

export const DEFAULT_TIERS: Readonly<Record<Tier, readonly string[]>> = {
  nano: ['gpt-5.4-nano'],
  mini: ['gpt-5.4-mini'],
  default: ['gpt-5.4'],
  frontier: ['gpt-5.5'],
  pro: ['gpt-5.5-pro'],
};

export type CheckName = 'schema' | 'final_answer' | 'refusal' | 'learned' | 'consistency' | 'verifier';

export const DEFAULT_CHECKS: readonly CheckName[] = ['schema', 'final_answer', 'refusal', 'learned'];

export interface CascadeSettings {
  checks: readonly CheckName[];
  /** The learned check escalates above this score; unset = from `learnedShare`. */
  learnedThreshold?: number;
  learnedShare: number;
  verifier: Tier;
  stream: 'buffer' | 'first_tier';
}

export interface RouteSpec {
  name: string;
  description: string;
  /** Cheapest first. */
  tiers: readonly Tier[];
  /** One per step up: the share of requests above tiers[i] (when thresholds are not given). */
  strongShares: readonly number[];
  /** One per step up, when given in config: a classifier score from which a request goes up. */
  thresholds?: readonly number[];
  cascade?: CascadeSettings;
  critical: boolean;
  downgrade: boolean;
  builtIn: boolean;
}

export interface RouterConfig {
  tiers: ReadonlyMap<Tier, readonly string[]>;
  routes: ReadonlyMap<string, RouteSpec>;
}

const BUILT_IN: Record<string, RouteFile> = {
  'auto:cheap': { tiers: ['nano', 'mini', 'default'], strong_share: [0.5, 0.1], description: 'Mostly nano and mini; the hardest tenth to the default tier.' },
  'auto:balanced': { tiers: ['mini', 'default', 'frontier'], strong_share: [0.4, 0.1], description: 'Mini for the easy majority, gpt-5.4 for the harder 30%, gpt-5.5 for the hardest 10%.' },
  'auto:quality': { tiers: ['default', 'frontier'], strong_share: [0.5], description: 'gpt-5.4 or better; the harder half to gpt-5.5.' },
  'auto:cascade': { tiers: ['mini', 'default', 'frontier'], cascade: {}, description: 'Mini answers first; a failed check on its answer escalates to gpt-5.4, then gpt-5.5.' },
};

export function resolveRouter(file: ConfigFile): RouterConfig {
  const tiers = new Map<Tier, readonly string[]>();
  for (const tier of TIER_ORDER) tiers.set(tier, file.tiers?.[tier] ?? DEFAULT_TIERS[tier]);
  const written: Record<string, RouteFile> = { ...BUILT_IN, ...file.routes };
  const routes = new Map<string, RouteSpec>();
  for (const [name, route] of Object.entries(written)) routes.set(name, routeSpec(name, route, !file.routes?.[name]));
  if (!routes.has('auto')) routes.set('auto', { ...routes.get('auto:balanced')!, name: 'auto', description: `The same as auto:balanced. ${routes.get('auto:balanced')!.description}`, builtIn: !file.routes?.['auto:balanced'] });
  return { tiers, routes };
}

function routeSpec(name: string, route: RouteFile, builtIn: boolean): RouteSpec {
  const steps = route.tiers.length - 1;
  const shares = listOf(route.strong_share);
  const cascade = route.cascade;
  return {
    name,
    description: route.description ?? '',
    tiers: route.tiers,
    strongShares: Array.from({ length: steps }, (_, i) => shares[i] ?? defaultShare(i, steps)),
    thresholds: route.threshold === undefined ? undefined : Array.from({ length: steps }, (_, i) => listOf(route.threshold)[i] ?? listOf(route.threshold).at(-1)!),
    cascade: cascade && {
      checks: cascade.checks ?? DEFAULT_CHECKS,
      learnedThreshold: cascade.learned_threshold,
      learnedShare: cascade.learned_share ?? 0.35,
      verifier: cascade.verifier ?? 'nano',
      stream: cascade.stream ?? 'buffer',
    },
    critical: route.critical ?? false,
    downgrade: route.downgrade ?? false,
    builtIn,
  };
}

function listOf(value: number | number[] | undefined): number[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Without shares in config: 40% above the first tier, and each further step a quarter of the one before. */
function defaultShare(step: number, _steps: number): number {
  return 0.4 / 4 ** step;
}

const ROUTE_NAME = /^auto(:[a-z0-9][a-z0-9._-]*)?$/;

/** Problems of the router config against the models the gateway knows (ids), as messages. */
export function routerProblems(router: RouterConfig, knows: (id: string) => boolean, routeLine: (name: string) => string, tierLine: (tier: Tier) => string): string[] {
  const problems: string[] = [];
  for (const [tier, ids] of router.tiers) {
    for (const id of ids) if (!knows(id)) problems.push(`${tierLine(tier)}: tiers.${tier}: '${id}' is not a model of this gateway; name a catalog id or one added under models:`);
  }
  for (const route of router.routes.values()) {
    if (route.builtIn) continue;
    if (!ROUTE_NAME.test(route.name)) {
      problems.push(`${routeLine(route.name)}: routes.${route.name}: a route name is 'auto' or 'auto:' then lowercase letters, digits, '.', '_' or '-' (e.g. auto:support); only auto routes choose a model, an explicit id never changes`);
      continue;
    }
    const shares = route.strongShares;
    for (let i = 1; i < shares.length; i++) {
      if (shares[i] > shares[i - 1]) problems.push(`${routeLine(route.name)}: routes.${route.name}.strong_share: each step up must send no more requests than the one below (${shares.join(', ')})`);
    }
    const t = route.thresholds;
    if (t) for (let i = 1; i < t.length; i++) {
      if (t[i] < t[i - 1]) problems.push(`${routeLine(route.name)}: routes.${route.name}.threshold: each step up needs a score at least as high as the one below (${t.join(', ')})`);
    }
    for (let i = 1; i < route.tiers.length; i++) {
      if (TIER_ORDER.indexOf(route.tiers[i]) <= TIER_ORDER.indexOf(route.tiers[i - 1])) {
        problems.push(`${routeLine(route.name)}: routes.${route.name}.tiers: list the tiers cheapest first, each once (${TIER_ORDER.join(' < ')})`);
        break;
      }
    }
  }
  return problems;
}
