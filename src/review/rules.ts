// Which requests a person reviews: the `review:` rules of switchyard.yaml, plus one
// built in — a request whose `metadata.review` (or `x-switchyard-review` header) is
// "hold" or "after" is reviewed in that mode. A request can ask for review, never opt
// out of a rule: of every rule that matches, a hold wins over an after.
//
// A rule's conditions all have to hold (a list: any of its entries). Those about the
// request (key, project, route, tier, model, metadata) are known before the call;
// those about the answer (the router's tag, a content pattern, a tool call) only once
// it is read, so a rule with one of them makes every request it could apply to wait for
// its whole answer before anything is sent.
import { ConfigError } from '../config/errors.ts';
import type { ConfigFile, ReviewRuleFile } from '../config/schema.ts';
import type { CanonicalResponse } from '../canonical/types.ts';
import type { ModelInfo } from '../catalog/types.ts';
import type { RouteNotes } from '../call-state.ts';
import { matchesAny } from '../limits/patterns.ts';
import type { Principal } from '../services.ts';
import type { ReviewMode, TimeoutPolicy } from './types.ts';

export interface ReviewRule {
  name: string;
  mode: ReviewMode;
  timeoutMs: number;
  onTimeout: TimeoutPolicy;
  webhook?: { url: string; secret?: string };
  /** The conditions on the request; true when the rule has none. */
  appliesTo(facts: RequestFacts): boolean;
  /** The conditions on the answer; undefined when the rule has none (it is decided before the call). */
  answerReason?: (answer: CanonicalResponse, notes: RouteNotes | undefined) => string | undefined;
  /** Why the request-side conditions matched, for the reviewer. */
  describe: string;
}

export interface ReviewSettings {
  rules: ReviewRule[];
  /** The built-in rule's timeout and policy (review.timeout / review.on_timeout). */
  defaults: { timeoutMs: number; onTimeout: TimeoutPolicy; webhook?: { url: string; secret?: string } };
  keepaliveMs: number;
}

export interface RequestFacts {
  principal: Principal;
  /** The auto route (`auto:critical`), if one chose the model. */
  route?: string;
  tier?: string;
  model: ModelInfo;
  metadata?: Record<string, string>;
}

/** What applies to one request before its call: a rule already matched, and those still waiting on the answer. */
export interface RulesBefore {
  matched?: { rule: ReviewRule; reason: string };
  onAnswer: ReviewRule[];
}

const DAY_MS = 86_400_000;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS };

export function durationMs(text: string): number {
  const unit = text.slice(-1);
  return Math.round(Number(text.slice(0, -1)) * UNIT_MS[unit]);
}

/** The review settings of a config (the built-in rule always exists); `where(i)` names rule i's place in the file for errors. */
export function reviewSettings(file: ConfigFile, where: (index: number) => string = (i) => `review.rules[${i}]`): ReviewSettings {
  const review = file.review ?? {};
  const fallbackHook = review.webhook ? { url: review.webhook, secret: review.webhook_secret } : undefined;
  const defaults = { timeoutMs: review.timeout ? durationMs(review.timeout) : DAY_MS, onTimeout: review.on_timeout ?? 'reject' as TimeoutPolicy, webhook: fallbackHook };
  const names = new Set<string>();
  const rules = (review.rules ?? []).map((spec, i) => {
    if (names.has(spec.name) || spec.name === 'metadata') throw new ConfigError(`${where(i)}: review.rules[${i}]: the name '${spec.name}' is ${spec.name === 'metadata' ? "the built-in rule's" : 'used twice'}; give each rule its own name.`);
    names.add(spec.name);
    return compileRule(spec, `${where(i)}: review.rules[${i}] (${spec.name})`, defaults);
  });
  return { rules, defaults, keepaliveMs: (review.keepalive_seconds ?? 15) * 1000 };
}

function compileRule(spec: ReviewRuleFile, at: string, defaults: ReviewSettings['defaults']): ReviewRule {
  let content: RegExp | undefined;
  if (spec.content !== undefined) {
    try {
      content = new RegExp(spec.content, 'iu');
    } catch (err) {
      throw new ConfigError(`${at}: content is not a valid regular expression (${(err as Error).message}).`);
    }
  }
  const keys = spec.keys && new Set(spec.keys);
  const projects = spec.projects && new Set(spec.projects);
  const routes = spec.routes && new Set(spec.routes);
  const tiers = spec.tiers && new Set<string>(spec.tiers);
  const tools = spec.tool_calls && new Set(spec.tool_calls);
  const wantsTag = spec.tags !== undefined;
  const hasAnswerSide = wantsTag || content !== undefined || tools !== undefined;
  const rule: ReviewRule = {
    name: spec.name,
    mode: spec.mode,
    timeoutMs: spec.timeout ? durationMs(spec.timeout) : defaults.timeoutMs,
    onTimeout: spec.on_timeout ?? defaults.onTimeout,
    webhook: spec.webhook ? { url: spec.webhook, secret: spec.webhook_secret } : defaults.webhook,
    describe: describeRule(spec),
    appliesTo: (facts) =>
      (!keys || keys.has(facts.principal.keyId) || keys.has(facts.principal.name))
      && (!projects || (facts.principal.projectId !== undefined && projects.has(facts.principal.projectId)))
      && (!routes || (facts.route !== undefined && routes.has(facts.route)))
      && (!tiers || (facts.tier !== undefined && tiers.has(facts.tier)))
      && (!spec.models || matchesAny(spec.models, facts.model))
      && (!spec.metadata || Object.entries(spec.metadata).every(([k, v]) => facts.metadata?.[k] === v)),
  };
  if (hasAnswerSide) {
    rule.answerReason = (answer, notes) => {
      const found: string[] = [];
      if (wantsTag) {
        if (!notes?.review) return undefined;
        found.push(`router: ${notes.review}`);
      }
      if (tools) {
        const called = answer.content.find((part) => part.type === 'tool_call' && tools.has(part.name));
        if (!called) return undefined;
        found.push(`calls ${called.type === 'tool_call' ? called.name : ''}`);
      }
      if (content) {
        const match = content.exec(searchableText(answer));
        if (!match) return undefined;
        found.push(`answer matches /${spec.content}/`);
      }
      return found.join('; ');
    };
  }
  return rule;
}

function describeRule(spec: ReviewRuleFile): string {
  const parts: string[] = [];
  if (spec.keys) parts.push(`key ${spec.keys.join('|')}`);
  if (spec.projects) parts.push(`project ${spec.projects.join('|')}`);
  if (spec.routes) parts.push(`route ${spec.routes.join('|')}`);
  if (spec.tiers) parts.push(`tier ${spec.tiers.join('|')}`);
  if (spec.models) parts.push(`model ${spec.models.join('|')}`);
  if (spec.metadata) parts.push(`metadata ${Object.entries(spec.metadata).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  return parts.join('; ');
}

/** The answer's text and its tool calls' names and arguments: what a content rule reads. */
function searchableText(answer: CanonicalResponse): string {
  let text = '';
  for (const part of answer.content) {
    if (part.type === 'text') text += `${part.text}\n`;
    else if (part.type === 'tool_call') text += `${part.name}(${part.arguments})\n`;
  }
  return text;
}

/** The rules for one request before its call; `asked` is the request's own metadata.review / header. */
export function rulesBefore(settings: ReviewSettings, facts: RequestFacts, asked: ReviewMode | undefined): RulesBefore {
  let matched: RulesBefore['matched'];
  if (asked) matched = { rule: builtInRule(settings, asked), reason: `the request asked for review (${asked})` };
  const onAnswer: ReviewRule[] = [];
  for (const rule of settings.rules) {
    if (!rule.appliesTo(facts)) continue;
    if (rule.answerReason) onAnswer.push(rule);
    else if (!matched || stronger(rule, matched.rule)) matched = { rule, reason: `rule ${rule.name}${rule.describe ? ` (${rule.describe})` : ''}` };
  }
  // An answer-side rule only counts where it is stricter than what matched already.
  return { matched, onAnswer: matched ? onAnswer.filter((rule) => stronger(rule, matched.rule)) : onAnswer };
}

/** The rule the answer brings in, if one beats what matched before the call. */
export function ruleOnAnswer(before: RulesBefore, answer: CanonicalResponse, notes: RouteNotes | undefined): RulesBefore['matched'] {
  let best = before.matched;
  for (const rule of before.onAnswer) {
    if (best && !stronger(rule, best.rule)) continue;
    const why = rule.answerReason!(answer, notes);
    if (why !== undefined) best = { rule, reason: `rule ${rule.name}: ${why}` };
  }
  return best;
}

/** A hold is stronger than an after; between equals, the first one stays. */
function stronger(a: ReviewRule, b: ReviewRule): boolean {
  return a.mode === 'hold' && b.mode === 'after';
}

function builtInRule(settings: ReviewSettings, mode: ReviewMode): ReviewRule {
  return { name: 'metadata', mode, ...settings.defaults, describe: 'metadata.review', appliesTo: () => true };
}

/** The review a request asks for itself: metadata.review or the x-switchyard-review header ("hold" | "after"); anything else is refused. */
export function askedMode(value: unknown): ReviewMode | undefined | 'invalid' {
  if (value === undefined || value === null || value === '') return undefined;
  return value === 'hold' || value === 'after' ? value : 'invalid';
}
