// Builds the keys, admission (limits + budgets) and ledger services for a config.
import type { GatewayConfig } from './config/load.ts';
import type { GatewayOverrides } from './gateway.ts';

export async function buildServices(_config: GatewayConfig): Promise<GatewayOverrides> {
  return {};
}
