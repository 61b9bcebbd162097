// Validation of admin API bodies. Every failure is a 400 naming the field (as a JSON
// path) and what is expected; unknown fields are refused rather than ignored, so a
// typo ("rate_limit") never silently leaves a key unlimited.
import { invalidField, invalidRequest } from '../canonical/errors.ts';
import { PERIODS, type Period } from '../budget/periods.ts';
import { parseIsoTime } from './iso-time.ts';
import type { BudgetScope, KeyEnv, KeyRateLimits, OutputCapPolicy, RateLimits } from '../store/types.ts';
import type { Decision, KeyRole, ReviewQuery, ReviewStatus } from '../review/types.ts';
import { decodeReviewCursor } from '../store/review-rows.ts';

export interface BudgetInput {
  limit_usd: number;
  period: Period;
  model: string | null;
  hard: boolean;
  alert_usd: number | null;
}

export interface KeyInput {
  name?: string;
  env?: KeyEnv;
  project?: string | null;
  owner?: string | null;
  allowed_models?: string[] | null;
  allowed_routes?: string[] | null;
  max_output_tokens?: OutputCapPolicy | null;
  rate_limits?: KeyRateLimits | null;
  budgets?: BudgetInput[];
  expires_at?: string | null;
  metadata?: Record<string, unknown> | null;
  role?: KeyRole | null;
}

export interface ProjectInput {
  name?: string;
  metadata?: Record<string, unknown> | null;
  budgets?: BudgetInput[];
}

export interface BudgetCreateInput extends BudgetInput {
  scope: BudgetScope;
  scope_id: string | null;
}

type Obj = Record<string, unknown>;

function object(value: unknown, path: string): Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidField(path, 'an object', value);
  return value as Obj;
}

function onlyFields(body: Obj, allowed: readonly string[], path: string): void {
  for (const field in body) {
    if (!allowed.includes(field)) {
      throw invalidRequest(`Unknown field '${path ? `${path}.` : ''}${field}'. Allowed fields: ${allowed.join(', ')}.`, path ? `${path}.${field}` : field, 'unknown_field');
    }
  }
}

function text(value: unknown, path: string, max = 200): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) throw invalidField(path, `a non-empty string of at most ${max} characters`, value);
  return value;
}

function positiveInt(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw invalidField(path, 'a positive integer', value);
  return value;
}

function usd(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1e9) throw invalidField(path, 'an amount in USD (a number >= 0)', value);
  return value;
}

function patterns(value: unknown, path: string): string[] {
  if (!Array.isArray(value) || value.length === 0) throw invalidField(path, 'a non-empty array of model ids or globs (e.g. ["gpt-5.4-*"]), or null for all', value);
  return value.map((item, i) => text(item, `${path}[${i}]`));
}

function nullable<T>(value: unknown, parse: (v: unknown) => T): T | null {
  return value === null ? null : parse(value);
}

/** A bare date is midnight UTC. */
function time(value: unknown, path: string): string {
  return parseIsoTime(value, path).toISOString();
}

function metadata(value: unknown, path: string): Obj {
  const obj = object(value, path);
  if (JSON.stringify(obj).length > 16_384) throw invalidField(path, 'an object of at most 16 KiB as JSON');
  return obj;
}

function rateLimits(value: unknown, path: string, allowModels: boolean): KeyRateLimits {
  const body = object(value, path);
  onlyFields(body, allowModels ? ['rpm', 'tpm', 'concurrent', 'models'] : ['rpm', 'tpm', 'concurrent'], path);
  const out: KeyRateLimits = {};
  if (body.rpm !== undefined && body.rpm !== null) out.rpm = positiveInt(body.rpm, `${path}.rpm`);
  if (body.tpm !== undefined && body.tpm !== null) out.tpm = positiveInt(body.tpm, `${path}.tpm`);
  if (body.concurrent !== undefined && body.concurrent !== null) out.concurrent = positiveInt(body.concurrent, `${path}.concurrent`);
  if (allowModels && body.models !== undefined && body.models !== null) {
    const models = object(body.models, `${path}.models`);
    out.models = {};
    for (const pattern in models) out.models[pattern] = rateLimits(models[pattern], `${path}.models.${pattern}`, false) as RateLimits;
  }
  return out;
}

function outputCaps(value: unknown, path: string): OutputCapPolicy {
  const body = object(value, path);
  onlyFields(body, ['default', 'max', 'on_exceed'], path);
  const out: OutputCapPolicy = {};
  if (body.default !== undefined && body.default !== null) out.default = positiveInt(body.default, `${path}.default`);
  if (body.max !== undefined && body.max !== null) out.max = positiveInt(body.max, `${path}.max`);
  if (body.on_exceed !== undefined) {
    if (body.on_exceed !== 'clamp' && body.on_exceed !== 'refuse') throw invalidField(`${path}.on_exceed`, '"clamp" or "refuse"', body.on_exceed);
    out.on_exceed = body.on_exceed;
  }
  if (out.default !== undefined && out.max !== undefined && out.default > out.max) {
    throw invalidField(`${path}.default`, `at most max (${out.max})`, out.default);
  }
  return out;
}

export function budgetInput(value: unknown, path: string, extra: readonly string[] = []): BudgetInput {
  const at = (field: string) => (path ? `${path}.${field}` : field);
  const body = object(value, path || 'body');
  onlyFields(body, ['limit_usd', 'period', 'model', 'hard', 'alert_usd', ...extra], path);
  if (body.limit_usd === undefined) throw invalidField(at('limit_usd'), 'an amount in USD (required)');
  if (!PERIODS.includes(body.period as Period)) throw invalidField(at('period'), `one of ${PERIODS.join(', ')}`, body.period);
  if (body.hard !== undefined && typeof body.hard !== 'boolean') throw invalidField(at('hard'), 'true (refuse) or false (alert only)', body.hard);
  return {
    limit_usd: usd(body.limit_usd, at('limit_usd')),
    period: body.period as Period,
    model: body.model === undefined || body.model === null ? null : budgetModel(body.model, at('model')),
    hard: body.hard !== false,
    alert_usd: body.alert_usd === undefined || body.alert_usd === null ? null : usd(body.alert_usd, at('alert_usd')),
  };
}

function budgetModel(value: unknown, path: string): string {
  const model = text(value, path);
  if (model.includes(':')) throw invalidField(path, 'a model id or glob (tier:/provider: selectors are not supported for budgets)', model);
  return model;
}

function budgetList(value: unknown, path: string): BudgetInput[] {
  if (!Array.isArray(value)) throw invalidField(path, 'an array of budgets ({limit_usd, period, model?, hard?})', value);
  if (value.length > 50) throw invalidField(path, 'at most 50 budgets');
  return value.map((item, i) => budgetInput(item, `${path}[${i}]`));
}

const KEY_FIELDS = ['name', 'env', 'project', 'owner', 'allowed_models', 'allowed_routes', 'max_output_tokens', 'rate_limits', 'budgets', 'expires_at', 'metadata', 'role'] as const;

export const KEY_ROLES: readonly KeyRole[] = ['admin', 'reviewer', 'viewer'];

function role(value: unknown): KeyRole {
  if (!KEY_ROLES.includes(value as KeyRole)) {
    throw invalidField('role', '"viewer" (reads usage, the request log and reviews), "reviewer" (also decides reviews), "admin" (everything), or null (no admin API access)', value);
  }
  return value as KeyRole;
}

export function keyInput(value: unknown, mode: 'create' | 'patch'): KeyInput {
  const body = object(value, 'body');
  onlyFields(body, mode === 'create' ? KEY_FIELDS : KEY_FIELDS.filter((f) => f !== 'env'), '');
  const out: KeyInput = {};
  if (mode === 'create' || body.name !== undefined) out.name = text(body.name, 'name', 100);
  if (body.env !== undefined) {
    if (body.env !== 'live' && body.env !== 'test') throw invalidField('env', '"live" or "test"', body.env);
    out.env = body.env;
  }
  if (body.project !== undefined) out.project = nullable(body.project, (v) => text(v, 'project'));
  if (body.owner !== undefined) out.owner = nullable(body.owner, (v) => text(v, 'owner'));
  if (body.allowed_models !== undefined) out.allowed_models = nullable(body.allowed_models, (v) => patterns(v, 'allowed_models'));
  if (body.allowed_routes !== undefined) out.allowed_routes = nullable(body.allowed_routes, (v) => patterns(v, 'allowed_routes'));
  if (body.max_output_tokens !== undefined) out.max_output_tokens = nullable(body.max_output_tokens, (v) => outputCaps(v, 'max_output_tokens'));
  if (body.rate_limits !== undefined) out.rate_limits = nullable(body.rate_limits, (v) => rateLimits(v, 'rate_limits', true));
  if (body.budgets !== undefined) out.budgets = budgetList(body.budgets, 'budgets');
  if (body.expires_at !== undefined) out.expires_at = nullable(body.expires_at, (v) => time(v, 'expires_at'));
  if (body.metadata !== undefined) out.metadata = nullable(body.metadata, (v) => metadata(v, 'metadata'));
  if (body.role !== undefined) out.role = nullable(body.role, role);
  return out;
}

export function projectInput(value: unknown, mode: 'create' | 'patch'): ProjectInput {
  const body = object(value, 'body');
  onlyFields(body, ['name', 'metadata', 'budgets'], '');
  const out: ProjectInput = {};
  if (mode === 'create' || body.name !== undefined) out.name = text(body.name, 'name', 100);
  if (body.metadata !== undefined) out.metadata = nullable(body.metadata, (v) => metadata(v, 'metadata'));
  if (body.budgets !== undefined) out.budgets = budgetList(body.budgets, 'budgets');
  return out;
}

export function budgetCreateInput(value: unknown): BudgetCreateInput {
  const body = object(value, 'body');
  const budget = budgetInput(body, '', ['scope', 'scope_id']);
  if (body.scope !== 'key' && body.scope !== 'project' && body.scope !== 'global') throw invalidField('scope', '"key", "project" or "global"', body.scope);
  const scopeId = body.scope === 'global' ? null : text(body.scope_id, 'scope_id');
  return { ...budget, scope: body.scope, scope_id: scopeId };
}

export function budgetPatchInput(value: unknown): Partial<BudgetInput> {
  const body = object(value, 'body');
  onlyFields(body, ['limit_usd', 'period', 'model', 'hard', 'alert_usd'], '');
  const out: Partial<BudgetInput> = {};
  if (body.limit_usd !== undefined) out.limit_usd = usd(body.limit_usd, 'limit_usd');
  if (body.period !== undefined) {
    if (!PERIODS.includes(body.period as Period)) throw invalidField('period', `one of ${PERIODS.join(', ')}`, body.period);
    out.period = body.period as Period;
  }
  if (body.model !== undefined) out.model = nullable(body.model, (v) => budgetModel(v, 'model'));
  if (body.hard !== undefined) {
    if (typeof body.hard !== 'boolean') throw invalidField('hard', 'a boolean', body.hard);
    out.hard = body.hard;
  }
  if (body.alert_usd !== undefined) out.alert_usd = nullable(body.alert_usd, (v) => usd(v, 'alert_usd'));
  return out;
}

// --- reviews ---

const REVIEW_STATUSES: readonly ReviewStatus[] = ['pending', 'approved', 'edited', 'rejected', 'expired'];
export type DecisionAction = Decision['action'];

/** GET /admin/reviews?status=&key_id=&limit=&cursor= as a store query; a 400 naming the parameter for any bad value. */
export function reviewListQuery(params: Record<string, string | undefined>): ReviewQuery {
  const limit = params.limit === undefined ? 50 : /^\d{1,4}$/.test(params.limit) ? Number(params.limit) : NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw invalidField('limit', 'an integer from 1 to 500', params.limit);
  const query: ReviewQuery = { limit };
  if (params.status !== undefined && params.status !== '') {
    if (!REVIEW_STATUSES.includes(params.status as ReviewStatus)) throw invalidField('status', `one of ${REVIEW_STATUSES.join(', ')}`, params.status);
    query.status = params.status as ReviewStatus;
  }
  if (params.key_id) query.keyId = text(params.key_id, 'key_id');
  if (params.cursor !== undefined) {
    if (!decodeReviewCursor(params.cursor)) throw invalidField('cursor', 'the next_cursor of a previous page', params.cursor);
    query.cursor = params.cursor;
  }
  return query;
}

/** The body of POST /admin/reviews/{id}/approve|edit|reject (an empty body is {}). */
export function decisionInput(action: DecisionAction, value: unknown): Decision {
  const body = object(value, 'body');
  onlyFields(body, action === 'edit' ? ['text', 'reason'] : ['reason'], '');
  if (body.reason !== undefined && body.reason !== null && typeof body.reason !== 'string') throw invalidField('reason', 'a string', body.reason);
  const reason = typeof body.reason === 'string' && body.reason.trim() !== '' ? body.reason : undefined;
  if (action === 'reject') {
    if (reason === undefined) throw invalidField('reason', "why the answer is refused, a non-empty string (the client's error carries it)", body.reason);
    return { action, reason };
  }
  if (action === 'edit') {
    if (typeof body.text !== 'string' || body.text.trim() === '') throw invalidField('text', 'the answer the client gets instead, a non-empty string', body.text);
    return reason === undefined ? { action, text: body.text } : { action, text: body.text, reason };
  }
  return reason === undefined ? { action } : { action, reason };
}
