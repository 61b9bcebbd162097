// Spend alerts: a webhook POST when a budget window's spend passes its alert threshold
// (`alert_usd`, or the limit of a soft budget). At most once per budget window, also
// across processes: the store records each alert before it is sent.
import { request } from 'undici';
import type { BudgetRow, Store } from '../store/types.ts';
import { errorText, type Logger } from '../ledger/logger.ts';
import { toUnits, toUsd } from './money.ts';
import type { BudgetWindow } from './periods.ts';
import { chargeWindow } from './plan.ts';

export interface SpendAlertsOptions {
  store: Store;
  webhookUrl?: string;
  log: Logger;
  timeoutMs?: number;
}

export class SpendAlerts {
  private readonly store: Store;
  private readonly webhookUrl: string | undefined;
  private readonly log: Logger;
  private readonly timeoutMs: number;
  private readonly pending = new Set<Promise<void>>();

  constructor(options: SpendAlertsOptions) {
    this.store = options.store;
    this.webhookUrl = options.webhookUrl;
    this.log = options.log;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /** The spend at which a budget alerts, or null. */
  static thresholdUsd(budget: BudgetRow): number | null {
    return budget.alertUsd ?? (budget.hard ? null : budget.limitUsd);
  }

  /** Called after spend was added: alert when this addition crossed the threshold. */
  check(budget: BudgetRow, window: BudgetWindow, owner: string, totalUnits: number, addedUnits: number): void {
    if (!this.webhookUrl) return;
    const threshold = SpendAlerts.thresholdUsd(budget);
    if (threshold === null) return;
    const thresholdUnits = toUnits(threshold);
    if (totalUnits < thresholdUnits || totalUnits - addedUnits >= thresholdUnits) return;
    const sending = this.send(budget, window, owner, totalUnits, threshold).finally(() => this.pending.delete(sending));
    this.pending.add(sending);
  }

  private async send(budget: BudgetRow, window: BudgetWindow, owner: string, totalUnits: number, threshold: number): Promise<void> {
    try {
      if (!(await this.store.claimAlert(`${budget.id}:${chargeWindow(budget, window)}:${toUnits(threshold)}`))) return;
      const body = JSON.stringify({
        type: 'switchyard.spend_alert',
        time: new Date().toISOString(),
        budget: {
          id: budget.id, scope: budget.scope, scope_id: budget.scopeId, owner, model: budget.model,
          period: budget.period, limit_usd: budget.limitUsd, hard: budget.hard,
        },
        window_start: window.startDay,
        resets_at: window.resetsAt?.toISOString() ?? null,
        threshold_usd: threshold,
        spent_usd: toUsd(totalUnits),
      });
      const response = await request(this.webhookUrl!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'switchyard-alerts' },
        body,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      await response.body.dump();
      if (response.statusCode >= 300) this.log('warn', 'spend alert webhook answered an error', { status: response.statusCode, budget_id: budget.id });
      else this.log('info', 'spend alert sent', { budget_id: budget.id, window: window.key, spent_usd: toUsd(totalUnits) });
    } catch (error) {
      this.log('error', 'spend alert webhook failed', { budget_id: budget.id, error: errorText(error) });
    }
  }

  /** Wait for alerts being sent (at shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
