// What the admin API and the CLI (in direct-to-store mode) do: keys, projects,
// budgets, usage and the request log, as JSON-ready views. Secrets leave only in the
// answers to create and rotate; records show the key's prefix.
import { GatewayError, invalidField } from '../canonical/errors.ts';
import { toUnits, toUsd } from '../budget/money.ts';
import { chargeWindow } from '../budget/plan.ts';
import { startOfDay, windowOf } from '../budget/periods.ts';
import { parseIsoTime } from './iso-time.ts';
import { generateSecret, hashSecret, newId, shownPrefix } from '../keys/secret.ts';
import { decodeCursor } from '../store/rows.ts';
import { MAX_TEXT } from '../store/sanitize.ts';
import type {
  BudgetRow, BudgetScope, KeyRow, ProjectRow, RequestQuery, RequestRow, ReservationRow, Store, UsageGroup, UsageRow,
} from '../store/types.ts';
import {
  budgetCreateInput, budgetPatchInput, keyInput, projectInput, type BudgetInput, type KeyInput,
} from './validate.ts';
import { keyWarnings } from './key-warnings.ts';
import type { ModelInfo, Tier } from '../catalog/types.ts';
import { shippedCatalog } from '../catalog/catalog.ts';
import { costOf, roundUsd } from '../catalog/cost.ts';
import { STATS_GROUPS, type StatsCell, type StatsGroup } from '../store/stats.ts';

/** GET /admin/requests query parameters, as sent. */
export interface RequestLogParams {
  key_id?: string; project_id?: string; model?: string; route?: string; tier?: string; status?: string;
  from?: string; to?: string; attempts?: string; limit?: string; cursor?: string;
}

const TIERS: readonly string[] = ['nano', 'mini', 'default', 'frontier', 'pro'] satisfies readonly Tier[];

function withWarnings(view: KeyView): KeyView {
  const warnings = keyWarnings(view);
  return warnings.length ? { ...view, warnings } : view;
}

export interface BudgetView {
  id: string;
  scope: BudgetScope;
  scope_id: string | null;
  model: string | null;
  period: string;
  limit_usd: number;
  hard: boolean;
  alert_usd: number | null;
  spent_usd: number;
  reserved_usd: number;
  remaining_usd: number;
  window_start: string | null;
  resets_at: string | null;
}

export interface KeyView {
  id: string;
  object: 'key';
  name: string;
  env: KeyRow['env'];
  prefix: string;
  status: 'active' | 'revoked' | 'expired';
  project: string | null;
  owner: string | null;
  allowed_models: string[] | null;
  allowed_routes: string[] | null;
  max_output_tokens: KeyRow['maxOutputTokens'];
  rate_limits: KeyRow['rateLimits'];
  budgets: BudgetView[];
  expires_at: string | null;
  metadata: Record<string, unknown> | null;
  created_at: string;
  updated_at: string;
  revoked_at: string | null;
  rotated_at: string | null;
  /** The key's admin API role; null: none (data plane only). */
  role: KeyRow['role'];
  /** On create and update only: settings that cannot work as meant (see key-warnings.ts). */
  warnings?: string[];
}

export interface ProjectView {
  id: string;
  object: 'project';
  name: string;
  metadata: Record<string, unknown> | null;
  budgets: BudgetView[];
  created_at: string;
  updated_at: string;
}

export interface AdminServiceOptions {
  store: Store;
  timezone?: string;
  /** Called after every write, e.g. to drop cached keys so the change applies at once. */
  onChange?: () => void;
  /** The catalog as configured (prices for GET /admin/stats' frontier cost); default: the shipped one. */
  models?: () => readonly ModelInfo[];
}

const USAGE_GROUPS: readonly UsageGroup[] = ['key', 'model', 'project', 'day'];

/** GET /admin/stats query parameters, as sent. */
export interface StatsParams { window?: string; group_by?: string; frontier?: string; routed?: string }

/** Each stats window: how many buckets of what width (bucket edges on whole multiples of the width, UTC). */
const STATS_WINDOWS = {
  hour: { buckets: 60, bucketMs: 60_000 },
  day: { buckets: 48, bucketMs: 30 * 60_000 },
  week: { buckets: 56, bucketMs: 3 * 3_600_000 },
  month: { buckets: 60, bucketMs: 12 * 3_600_000 },
} as const;
const DEFAULT_FRONTIER = 'gpt-5.5';
const SPIKE_FACTOR = 3;
/** Groups beyond these (the ones with fewest requests) are left out of the answer; the totals count them. */
const MAX_STATS_GROUPS = 25;

export class AdminService {
  private readonly store: Store;
  private readonly timezone: string;
  private readonly onChange: () => void;
  private readonly models: () => readonly ModelInfo[];

  constructor(options: AdminServiceOptions) {
    this.store = options.store;
    this.timezone = options.timezone ?? 'UTC';
    this.onChange = options.onChange ?? (() => {});
    this.models = options.models ?? (() => shippedCatalog().models);
  }

  // --- keys ---

  async createKey(body: unknown): Promise<{ record: KeyView; key: string }> {
    const input = keyInput(body, 'create');
    const env = input.env ?? 'live';
    const secret = generateSecret(env);
    const now = new Date().toISOString();
    const row: KeyRow = {
      id: newId('key'), name: input.name!, env, prefix: shownPrefix(secret), hash: hashSecret(secret), previousHash: null,
      status: 'active', projectId: input.project ? await this.projectId(input.project) : null, owner: input.owner ?? null,
      allowedModels: input.allowed_models ?? null, allowedRoutes: input.allowed_routes ?? null,
      maxOutputTokens: input.max_output_tokens ?? null, rateLimits: input.rate_limits ?? null,
      expiresAt: input.expires_at ?? null, metadata: input.metadata ?? null,
      createdAt: now, updatedAt: now, revokedAt: null, rotatedAt: null, role: input.role ?? null,
    };
    await this.store.insertKey(row);
    if (input.budgets) await this.store.replaceBudgets('key', row.id, this.budgetRows('key', row.id, input.budgets));
    this.onChange();
    return { record: withWarnings(await this.keyView(row)), key: secret };
  }

  async listKeys(): Promise<KeyView[]> {
    const [rows, open] = await Promise.all([this.store.listKeys(), this.store.openReservations()]);
    return Promise.all(rows.map((row) => this.keyView(row, open)));
  }

  async getKey(id: string): Promise<KeyView> {
    return this.keyView(await this.findKey(id));
  }

  async updateKey(id: string, body: unknown): Promise<KeyView> {
    const row = await this.findKey(id);
    const input: KeyInput = keyInput(body, 'patch');
    const patch: Partial<KeyRow> = { updatedAt: new Date().toISOString() };
    if (input.name !== undefined) patch.name = input.name;
    if (input.project !== undefined) patch.projectId = input.project === null ? null : await this.projectId(input.project);
    if (input.owner !== undefined) patch.owner = input.owner;
    if (input.allowed_models !== undefined) patch.allowedModels = input.allowed_models;
    if (input.allowed_routes !== undefined) patch.allowedRoutes = input.allowed_routes;
    if (input.max_output_tokens !== undefined) patch.maxOutputTokens = input.max_output_tokens;
    if (input.rate_limits !== undefined) patch.rateLimits = input.rate_limits;
    if (input.expires_at !== undefined) patch.expiresAt = input.expires_at;
    if (input.metadata !== undefined) patch.metadata = input.metadata;
    if (input.role !== undefined) patch.role = input.role;
    const updated = (await this.store.updateKey(row.id, patch))!;
    if (input.budgets) await this.replaceBudgetsKeepingIds('key', row.id, input.budgets);
    this.onChange();
    return withWarnings(await this.keyView(updated));
  }

  async revokeKey(id: string): Promise<KeyView> {
    const row = await this.findKey(id);
    if (row.status === 'revoked') return this.keyView(row);
    const now = new Date().toISOString();
    const updated = (await this.store.updateKey(row.id, { status: 'revoked', revokedAt: now, updatedAt: now }))!;
    this.onChange();
    return this.keyView(updated);
  }

  async rotateKey(id: string): Promise<{ record: KeyView; key: string }> {
    const row = await this.findKey(id);
    if (row.status === 'revoked') throw conflict(`Key '${row.name}' (${row.id}) is revoked; a revoked key cannot be rotated. Create a new key instead.`);
    const secret = generateSecret(row.env);
    const now = new Date().toISOString();
    const updated = (await this.store.updateKey(row.id, {
      hash: hashSecret(secret), previousHash: row.hash, prefix: shownPrefix(secret), rotatedAt: now, updatedAt: now,
    }))!;
    this.onChange();
    return { record: await this.keyView(updated), key: secret };
  }

  // --- projects ---

  async createProject(body: unknown): Promise<ProjectView> {
    const input = projectInput(body, 'create');
    if (await this.store.getProject(input.name!)) throw conflict(`A project named '${input.name}' already exists; names are unique.`);
    const now = new Date().toISOString();
    const row: ProjectRow = { id: newId('proj'), name: input.name!, metadata: input.metadata ?? null, createdAt: now, updatedAt: now };
    await this.store.insertProject(row);
    if (input.budgets) await this.store.replaceBudgets('project', row.id, this.budgetRows('project', row.id, input.budgets));
    this.onChange();
    return this.projectView(row);
  }

  async listProjects(): Promise<ProjectView[]> {
    const [rows, open] = await Promise.all([this.store.listProjects(), this.store.openReservations()]);
    return Promise.all(rows.map((row) => this.projectView(row, open)));
  }

  async getProject(id: string): Promise<ProjectView> {
    return this.projectView(await this.findProject(id));
  }

  async updateProject(id: string, body: unknown): Promise<ProjectView> {
    const row = await this.findProject(id);
    const input = projectInput(body, 'patch');
    if (input.name !== undefined && input.name !== row.name && await this.store.getProject(input.name)) {
      throw conflict(`A project named '${input.name}' already exists; names are unique.`);
    }
    const updated = (await this.store.updateProject(row.id, { name: input.name, metadata: input.metadata, updatedAt: new Date().toISOString() }))!;
    if (input.budgets) await this.replaceBudgetsKeepingIds('project', row.id, input.budgets);
    this.onChange();
    return this.projectView(updated);
  }

  // --- budgets ---

  async listBudgets(scope?: string, scopeId?: string): Promise<BudgetView[]> {
    if (scope !== undefined && scope !== 'key' && scope !== 'project' && scope !== 'global') throw invalidField('scope', '"key", "project" or "global"', scope);
    const [rows, open] = await Promise.all([this.store.listBudgets(scope as BudgetScope | undefined, scopeId), this.store.openReservations()]);
    return Promise.all(rows.map((row) => this.budgetView(row, open)));
  }

  async getBudget(id: string): Promise<BudgetView> {
    return this.budgetView(await this.findBudget(id));
  }

  async createBudget(body: unknown): Promise<BudgetView> {
    const input = budgetCreateInput(body);
    let scopeId = input.scope_id;
    if (input.scope === 'key') scopeId = (await this.findKey(scopeId!)).id;
    if (input.scope === 'project') scopeId = (await this.findProject(scopeId!)).id;
    const [row] = this.budgetRows(input.scope, scopeId, [input]);
    await this.store.insertBudget(row);
    this.onChange();
    return this.budgetView(row);
  }

  async updateBudget(id: string, body: unknown): Promise<BudgetView> {
    await this.findBudget(id);
    const input = budgetPatchInput(body);
    const updated = (await this.store.updateBudget(id, {
      limitUsd: input.limit_usd, period: input.period, model: input.model, hard: input.hard, alertUsd: input.alert_usd,
    }))!;
    this.onChange();
    return this.budgetView(updated);
  }

  async deleteBudget(id: string): Promise<{ id: string; object: 'budget'; deleted: true }> {
    await this.findBudget(id);
    await this.store.deleteBudget(id);
    this.onChange();
    return { id, object: 'budget', deleted: true };
  }

  // --- usage and the request log ---

  async usage(query: { from?: string; to?: string; group_by?: string; key_id?: string; project_id?: string }): Promise<{ from: string; to: string; group_by: UsageGroup[]; data: UsageRow[] }> {
    // Default: this calendar month so far, in the budget time zone.
    const fromIso = query.from
      ? this.parseTime(query.from, 'from').toISOString()
      : new Date(startOfDay(windowOf('month', Date.now(), this.timezone).startDay!, this.timezone)).toISOString();
    const to = query.to ? this.parseTime(query.to, 'to', true).toISOString() : new Date(Date.now() + 1).toISOString();
    const groupBy = (query.group_by ?? '').split(',').map((g) => g.trim()).filter(Boolean) as UsageGroup[];
    for (const group of groupBy) {
      if (!USAGE_GROUPS.includes(group)) throw invalidField('group_by', `a comma-separated list of ${USAGE_GROUPS.join(', ')}`, query.group_by);
    }
    const data = await this.store.usage({ from: fromIso, to, groupBy: [...new Set(groupBy)], keyId: query.key_id, projectId: query.project_id });
    return { from: fromIso, to, group_by: groupBy, data };
  }

  /** GET /admin/requests/{id}: every row of one request (attempt 0 first) and the bodies its policy kept. */
  async requestDetail(requestId: string): Promise<object> {
    const { rows, bodies } = await this.store.requestDetail(requestId);
    if (rows.length === 0) throw notFound(`No request with id '${requestId}' in the request log (it may be older than log.retention_days). List requests with GET /admin/requests.`);
    return { object: 'request', request_id: requestId, rows, bodies };
  }

  async requests(query: RequestLogParams): Promise<{ data: RequestRow[]; next_cursor: string | null }> {
    const page = await this.store.requests(this.requestQuery(query));
    return { data: page.rows, next_cursor: page.nextCursor };
  }

  /** The store query for GET /admin/requests; a 400 naming the parameter for any bad value. */
  private requestQuery(query: RequestLogParams): RequestQuery {
    const limit = query.limit === undefined ? 50 : Number(query.limit);
    if (!/^\d+$/.test(query.limit ?? '50') || !Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalidField('limit', 'an integer from 1 to 1000', query.limit);
    if (query.cursor !== undefined && !decodeCursor(query.cursor)) throw invalidField('cursor', 'the next_cursor of a previous page', query.cursor);
    const result: RequestQuery = { limit, cursor: query.cursor };
    if (query.status === 'errors') result.statusClass = 'errors';
    else if (query.status !== undefined) {
      const status = Number(query.status);
      if (!/^\d{1,3}$/.test(query.status) || status > 999) throw invalidField('status', "an HTTP status code such as 429, or 'errors' for every status from 400 up", query.status);
      result.status = status;
    }
    if (query.tier && !TIERS.includes(query.tier)) throw invalidField('tier', `one of ${TIERS.join(', ')}`, query.tier);
    if (query.attempts !== undefined && query.attempts !== 'true' && query.attempts !== 'false') {
      throw invalidField('attempts', "'true' (request rows and the rows of each upstream attempt, the default) or 'false' (request rows only)", query.attempts);
    }
    // An empty text filter is no filter, as `key_id=` and `model=` always were.
    for (const [param, value] of [['key_id', query.key_id], ['project_id', query.project_id], ['model', query.model], ['route', query.route]] as const) {
      if (value && value.length > MAX_TEXT) throw invalidField(param, `an id of at most ${MAX_TEXT} characters`, value);
    }
    if (query.key_id) result.keyId = query.key_id;
    if (query.project_id) result.projectId = query.project_id;
    if (query.model) result.model = query.model;
    if (query.route) result.routeName = query.route;
    if (query.tier) result.tier = query.tier;
    if (query.attempts !== undefined) result.attempts = query.attempts === 'true';
    if (query.from) result.from = this.parseTime(query.from, 'from').toISOString();
    if (query.to) result.to = this.parseTime(query.to, 'to', true).toISOString();
    if (result.from && result.to && result.from >= result.to) throw invalidField('to', `a time after from (${query.from})`, query.to);
    return result;
  }

  /**
   * GET /admin/stats: the window's numbers in time buckets, in total and per group, with
   * what the same tokens would have cost at the frontier model's price (`frontier`, default
   * gpt-5.5) and the buckets whose spend is a spike (over 3× the median of the buckets with spend).
   */
  async stats(params: StatsParams): Promise<object> {
    const windowName = params.window ?? 'day';
    const window = STATS_WINDOWS[windowName as keyof typeof STATS_WINDOWS];
    if (!window) throw invalidField('window', `one of ${Object.keys(STATS_WINDOWS).join(', ')}`, params.window);
    if (params.group_by !== undefined && !STATS_GROUPS.includes(params.group_by as StatsGroup)) throw invalidField('group_by', `one of ${STATS_GROUPS.join(', ')}`, params.group_by);
    if (params.routed !== undefined && params.routed !== 'auto' && params.routed !== 'all') throw invalidField('routed', "'auto' (only requests an auto route chose the model for) or 'all' (the default)", params.routed);
    const frontierId = params.frontier ?? DEFAULT_FRONTIER;
    const frontier = this.models().find((m) => m.id === frontierId);
    if (!frontier) throw invalidField('frontier', 'a model id of the catalog (its price is the comparison)', params.frontier);
    const to = Math.ceil((Date.now() + 1) / window.bucketMs) * window.bucketMs;
    const from = to - window.buckets * window.bucketMs;
    const groupBy = params.group_by as StatsGroup | undefined;
    const result = await this.store.stats({
      from: new Date(from).toISOString(), to: new Date(to).toISOString(), bucketMs: window.bucketMs, buckets: window.buckets,
      groupBy, autoRouted: params.routed === 'auto',
    });
    const cell = (c: StatsCell) => {
      const frontierCost = costOf({ inputTokens: c.input_tokens, cachedInputTokens: c.cached_input_tokens, cacheWriteTokens: c.cache_write_tokens, outputTokens: c.output_tokens, reasoningTokens: 0 }, frontier.pricing);
      return {
        ...c,
        error_rate: c.requests === 0 ? 0 : c.errors / c.requests,
        frontier_cost_usd: frontierCost,
        savings_usd: roundUsd(frontierCost - c.cost_usd),
      };
    };
    const start = (i: number) => new Date(from + i * window.bucketMs).toISOString();
    const spent = result.buckets.map((b) => b.cost_usd).filter((usd) => usd > 0).sort((a, b) => a - b);
    const median = spent.length === 0 ? 0 : spent.length % 2 ? spent[(spent.length - 1) / 2] : (spent[spent.length / 2 - 1] + spent[spent.length / 2]) / 2;
    // Fewer than three buckets with spend have no baseline to spike against.
    const spikes = spent.length < 3 ? [] : result.buckets.flatMap((b, i) => {
      if (b.cost_usd <= SPIKE_FACTOR * median) return [];
      const top = result.groups.reduce<{ key: string | null; cost_usd: number } | null>((best, g) => (g.buckets[i].cost_usd > (best?.cost_usd ?? 0) ? { key: g.key, cost_usd: g.buckets[i].cost_usd } : best), null);
      return [{ bucket: i, start: start(i), cost_usd: b.cost_usd, median_usd: roundUsd(median), top_group: top }];
    });
    return {
      object: 'stats', window: windowName, group_by: groupBy ?? null, routed: params.routed ?? 'all',
      from: new Date(from).toISOString(), to: new Date(to).toISOString(), bucket_seconds: window.bucketMs / 1000,
      frontier_model: frontier.id, frontier_pricing: frontier.pricing,
      totals: cell(result.totals),
      buckets: result.buckets.map((b, i) => ({ start: start(i), ...cell(b) })),
      groups: result.groups.slice(0, MAX_STATS_GROUPS).map((g) => ({ key: g.key, totals: cell(g.totals), buckets: g.buckets.map(cell) })),
      groups_total: result.groups.length,
      spikes,
    };
  }

  /**
   * GET /admin/stats/context: latency and time to first token against input size over the
   * window (the stats windows), in log2 bins of input tokens, aggregated by the store. The
   * dashboard's "slow response — long context" diagnosis reads it.
   */
  async contextStats(params: { window?: string }): Promise<object> {
    const windowName = params.window ?? 'day';
    const window = STATS_WINDOWS[windowName as keyof typeof STATS_WINDOWS];
    if (!window) throw invalidField('window', `one of ${Object.keys(STATS_WINDOWS).join(', ')}`, params.window);
    const to = Math.ceil((Date.now() + 1) / window.bucketMs) * window.bucketMs;
    const from = to - window.buckets * window.bucketMs;
    const result = await this.store.contextStats({ from: new Date(from).toISOString(), to: new Date(to).toISOString() });
    return { object: 'context_stats', window: windowName, from: new Date(from).toISOString(), to: new Date(to).toISOString(), ...result };
  }

  // --- helpers ---

  /** A bare date means local midnight in the budget time zone; as `to`, the end of that day. */
  private parseTime(value: string, param: string, endOfDay = false): Date {
    return parseIsoTime(value, param, this.timezone, endOfDay);
  }

  private async findKey(id: string): Promise<KeyRow> {
    const row = await this.store.getKey(id);
    if (!row) throw notFound(`No key with id '${id}'. List keys with GET /admin/keys (or 'switchyard keys list').`);
    return row;
  }

  private async findProject(idOrName: string): Promise<ProjectRow> {
    const row = await this.store.getProject(idOrName);
    if (!row) throw notFound(`No project with id or name '${idOrName}'. Create it with POST /admin/projects, or list them with GET /admin/projects.`);
    return row;
  }

  private async findBudget(id: string): Promise<BudgetRow> {
    const row = await this.store.getBudget(id);
    if (!row) throw notFound(`No budget with id '${id}'. List budgets with GET /admin/budgets.`);
    return row;
  }

  private async projectId(idOrName: string): Promise<string> {
    const project = await this.store.getProject(idOrName);
    if (!project) throw invalidField('project', 'the id or name of an existing project (create it with POST /admin/projects)', idOrName);
    return project.id;
  }

  private budgetRows(scope: BudgetScope, scopeId: string | null, inputs: BudgetInput[], ids: string[] = []): BudgetRow[] {
    // Budgets list in creation order: each one of a list is stamped a millisecond after the previous.
    const now = Date.now();
    return inputs.map((b, i) => ({
      id: ids[i] ?? newId('bud'), scope, scopeId, model: b.model, period: b.period, limitUsd: b.limit_usd,
      hard: b.hard, alertUsd: b.alert_usd, createdAt: new Date(now + i).toISOString(),
    }));
  }

  /** Replace a scope's budgets; a budget with the same model and period keeps its id (and so its live counter). */
  private async replaceBudgetsKeepingIds(scope: BudgetScope, scopeId: string, inputs: BudgetInput[]): Promise<void> {
    const existing = await this.store.listBudgets(scope, scopeId);
    const ids = inputs.map((b) => existing.find((e) => e.model === b.model && e.period === b.period)?.id ?? '');
    const rows = this.budgetRows(scope, scopeId, inputs, ids.map((id) => id || newId('bud')));
    await this.store.replaceBudgets(scope, scopeId, rows);
  }

  private async keyView(row: KeyRow, open?: ReservationRow[]): Promise<KeyView> {
    const budgets = await this.store.listBudgets('key', row.id);
    open ??= await this.store.openReservations();
    const expired = row.expiresAt !== null && Date.parse(row.expiresAt) <= Date.now();
    return {
      id: row.id, object: 'key', name: row.name, env: row.env, prefix: row.prefix,
      status: row.status === 'revoked' ? 'revoked' : expired ? 'expired' : 'active',
      project: row.projectId, owner: row.owner, allowed_models: row.allowedModels, allowed_routes: row.allowedRoutes,
      max_output_tokens: row.maxOutputTokens, rate_limits: row.rateLimits,
      budgets: await Promise.all(budgets.map((b) => this.budgetView(b, open))),
      expires_at: row.expiresAt, metadata: row.metadata, created_at: row.createdAt, updated_at: row.updatedAt,
      revoked_at: row.revokedAt, rotated_at: row.rotatedAt, role: row.role,
    };
  }

  private async projectView(row: ProjectRow, open?: ReservationRow[]): Promise<ProjectView> {
    const budgets = await this.store.listBudgets('project', row.id);
    open ??= await this.store.openReservations();
    return {
      id: row.id, object: 'project', name: row.name, metadata: row.metadata,
      budgets: await Promise.all(budgets.map((b) => this.budgetView(b, open))),
      created_at: row.createdAt, updated_at: row.updatedAt,
    };
  }

  private async budgetView(row: BudgetRow, open?: ReservationRow[]): Promise<BudgetView> {
    const window = windowOf(row.period, Date.now(), this.timezone);
    open ??= await this.store.openReservations();
    const spent = await this.store.spentUnits({ scope: row.scope, scopeId: row.scopeId, model: row.model, fromDay: window.startDay, toDay: window.endDay });
    const booked = chargeWindow(row, window);
    let reserved = 0;
    for (const reservation of open) for (const c of reservation.charges) if (c.budgetId === row.id && c.window === booked) reserved += c.units;
    return {
      id: row.id, scope: row.scope, scope_id: row.scopeId, model: row.model, period: row.period,
      limit_usd: row.limitUsd, hard: row.hard, alert_usd: row.alertUsd,
      spent_usd: toUsd(spent), reserved_usd: toUsd(reserved),
      remaining_usd: Math.max(0, toUsd(toUnits(row.limitUsd) - spent - reserved)),
      window_start: window.startDay, resets_at: window.resetsAt?.toISOString() ?? null,
    };
  }
}

function notFound(message: string): GatewayError {
  return new GatewayError({ status: 404, type: 'not_found_error', code: 'not_found', message });
}

function conflict(message: string): GatewayError {
  return new GatewayError({ status: 409, type: 'invalid_request_error', code: 'conflict', message });
}
