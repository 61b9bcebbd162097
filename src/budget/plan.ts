// Which budgets a request is charged to, the counter charges for them, and the error
// that names the budget a request would exceed.
import { GatewayError } from '../canonical/errors.ts';
import type { ModelInfo } from '../catalog/types.ts';
import type { BudgetCharge } from '../limits/counters.ts';
import { matchesPattern } from '../limits/patterns.ts';
import type { BudgetRow, Charge } from '../store/types.ts';
import { formatUsd, toUnits, toUsd } from './money.ts';
import { windowOf, type BudgetWindow } from './periods.ts';

/** Counters of a window live a day past its end (then the store's spend is the record). */
const COUNTER_GRACE_MS = 24 * 3600 * 1000;

export interface BudgetPlan {
  budgets: BudgetRow[];
  windows: BudgetWindow[];
  charges: BudgetCharge[];
}

export function budgetApplies(budget: BudgetRow, model: ModelInfo): boolean {
  return budget.model === null || matchesPattern(budget.model, model);
}

export function planBudgets(budgets: readonly BudgetRow[], model: ModelInfo, units: number, now: number, timezone: string): BudgetPlan {
  const plan: BudgetPlan = { budgets: [], windows: [], charges: [] };
  for (const budget of budgets) {
    if (!budgetApplies(budget, model)) continue;
    const window = windowOf(budget.period, now, timezone);
    plan.budgets.push(budget);
    plan.windows.push(window);
    plan.charges.push({
      key: counterKey(budget.id, chargeWindow(budget, window)),
      limitUnits: toUnits(budget.limitUsd),
      units,
      hard: budget.hard,
      expiresAt: window.resetsAt ? window.resetsAt.getTime() + COUNTER_GRACE_MS : null,
    });
  }
  return plan;
}

export function counterKey(budgetId: string, windowKey: string): string {
  return `${budgetId}:${windowKey}`;
}

/**
 * The window a charge is booked on. It names the budget's model and period too, so a
 * budget edited in place (PATCH to another period or model) starts a fresh counter.
 */
export function chargeWindow(budget: BudgetRow, window: BudgetWindow): string {
  return `${budget.period}:${budget.model ?? '*'}:${window.key}`;
}

/** The durable form of a plan's charges, kept on the reservation row. */
export function chargesOf(plan: BudgetPlan): Charge[] {
  return plan.charges.map((charge, i) => ({ budgetId: plan.budgets[i].id, window: chargeWindow(plan.budgets[i], plan.windows[i]), units: charge.units }));
}

/** "key 'ci' monthly budget", "key 'ci' daily budget for gpt-5.5", "project 'acme' total budget". */
export function describeBudget(budget: BudgetRow, owner: string): string {
  const period = budget.period === 'total' ? 'total' : `${budget.period === 'day' ? 'daily' : `${budget.period}ly`}`;
  const scope = budget.scope === 'global' ? 'gateway-wide' : owner;
  return `${scope} ${period} budget${budget.model ? ` for ${budget.model}` : ''}`;
}

export function budgetExceeded(args: {
  budget: BudgetRow;
  window: BudgetWindow;
  owner: string;
  settledUnits: number;
  reservedUnits: number;
  requestUnits: number;
  timezone: string;
  /** Rate-limit headers to carry on the refusal too. */
  headers?: Record<string, string>;
}): GatewayError {
  const { budget, window } = args;
  const spent = toUsd(args.settledUnits);
  const inFlight = toUsd(args.reservedUnits);
  const resets = window.resetsAt ? `It resets at ${window.resetsAt.toISOString()} (${args.timezone} calendar ${budget.period}).` : 'It is a total budget and does not reset.';
  const fix = budget.scope === 'key' ? 'raise the key\'s budget (PATCH /admin/keys/{id})'
    : budget.scope === 'project' ? 'raise the project\'s budget (PATCH /admin/projects/{id})'
      : 'raise the budget (PATCH /admin/budgets/{id})';
  const headers: Record<string, string> = { ...args.headers };
  if (window.resetsAt) headers['x-switchyard-budget-resets-at'] = window.resetsAt.toISOString();
  // Settled spend alone leaves no room: the same request cannot fit before the reset, so
  // SDKs must not retry it. (When requests in flight hold the room, a retry may fit.)
  if (args.settledUnits + args.requestUnits > toUnits(budget.limitUsd)) headers['x-should-retry'] = 'false';
  return new GatewayError({
    status: 429,
    type: 'insufficient_quota',
    code: 'insufficient_quota',
    headers,
    message: `Budget exceeded: the ${describeBudget(budget, args.owner)} has spent ${formatUsd(spent)} of its ${formatUsd(budget.limitUsd)} limit`
      + `${inFlight > 0 ? ` (plus ${formatUsd(inFlight)} reserved by requests in flight)` : ''}, and this request could cost up to ${formatUsd(toUsd(args.requestUnits))}. `
      + `${resets} Lower max_tokens, wait for the reset, or ${fix}.`,
  });
}
