import type { Deployment } from '../providers/types.ts';

/**
 * The order to try a model's deployments in: weighted random for the first choice
 * (so traffic splits by weight), the rest after it as fallbacks.
 */
export function orderDeployments(deployments: Deployment[]): Deployment[] {
  if (deployments.length === 1) return deployments;
  let total = 0;
  for (const d of deployments) total += d.weight;
  let pick = Math.random() * total;
  let first = 0;
  for (let i = 0; i < deployments.length; i++) {
    pick -= deployments[i].weight;
    if (pick <= 0) {
      first = i;
      break;
    }
  }
  return [deployments[first], ...deployments.filter((_, i) => i !== first)];
}
