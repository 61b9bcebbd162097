// The model catalog: the shipped data file, overridden and extended by config, with
// the deployments (provider endpoints + keys) each model can be called on.
import { readFileSync } from 'node:fs';
import type { ReasoningEffort } from '../canonical/types.ts';
import { REASONING_EFFORTS } from '../canonical/types.ts';
import type { GatewayConfig, ProviderInstance } from '../config/load.ts';
import type { ModelConfig } from '../config/schema.ts';
import type { Deployment } from '../providers/types.ts';
import type { ModelInfo } from './types.ts';
import { closestIds } from './closest.ts';

interface CatalogFile {
  aliases: Record<string, string>;
  models: ModelInfo[];
}

let shipped: CatalogFile | undefined;

export function shippedCatalog(): CatalogFile {
  shipped ??= JSON.parse(readFileSync(new URL('./models.json', import.meta.url), 'utf8')) as CatalogFile;
  return shipped;
}

export class Catalog {
  private readonly models = new Map<string, ModelInfo>();
  private readonly aliases = new Map<string, string>();
  private readonly deploymentsByModel = new Map<string, Deployment[]>();
  private readonly config: GatewayConfig;

  constructor(config: GatewayConfig) {
    this.config = config;
    const file = shippedCatalog();
    for (const model of file.models) this.models.set(model.id, model);
    for (const [alias, id] of Object.entries(file.aliases)) this.aliases.set(alias, id);
    for (const [id, override] of Object.entries(config.file.models ?? {})) this.applyOverride(id, override);
    for (const [alias, id] of Object.entries(config.file.aliases ?? {})) this.aliases.set(alias, id);
    this.rebuildDeployments();
  }

  /** Add models a provider reported at start (Ollama and other local servers): free, text. */
  addDiscovered(provider: ProviderInstance, ids: string[]): void {
    for (const id of ids) {
      if (this.models.has(id)) continue;
      this.models.set(id, {
        id, provider: provider.kind, contextWindow: 131_072, maxOutputTokens: 32_768,
        pricing: { input: 0, cachedInput: 0, output: 0 }, modalities: { input: ['text'], output: ['text'] },
        tier: 'default', tools: true, endpoints: ['chat'],
      });
      this.deploymentsByModel.set(id, [this.deploymentOn(provider, id, 1)]);
    }
  }

  /** The model for an id or alias, or undefined. */
  get(id: string): ModelInfo | undefined {
    return this.models.get(id) ?? this.models.get(this.aliases.get(id) ?? '');
  }

  deployments(model: ModelInfo): Deployment[] {
    return this.deploymentsByModel.get(model.id) ?? [];
  }

  /** The larger-window model a prompt too long for `model` goes to (context_fallbacks), if it can be called. */
  contextFallback(model: ModelInfo): ModelInfo | undefined {
    const id = this.config.contextFallbacks?.get(model.id);
    const larger = id === undefined ? undefined : this.models.get(id);
    return larger && this.deploymentsByModel.has(larger.id) ? larger : undefined;
  }

  /** Models that can be called (have at least one deployment). */
  available(): ModelInfo[] {
    return [...this.models.values()].filter((m) => this.deploymentsByModel.has(m.id));
  }

  all(): ModelInfo[] {
    return [...this.models.values()];
  }

  closest(id: string, count = 3): string[] {
    const names = this.available().map((m) => m.id);
    return closestIds(id, names.length > 0 ? names : [...this.models.keys()], count);
  }

  private applyOverride(id: string, o: ModelConfig): void {
    const base = this.models.get(id);
    const providerKind = o.provider ? this.config.providers.get(o.provider)?.kind : undefined;
    const model: ModelInfo = {
      ...(base ?? {
        id, provider: providerKind ?? 'openai', contextWindow: 131_072, maxOutputTokens: 16_384,
        pricing: { input: 0, cachedInput: 0, output: 0 }, modalities: { input: ['text'], output: ['text'] },
        tier: 'default', tools: true, endpoints: ['chat'],
      }),
    };
    if (providerKind) model.provider = providerKind;
    if (o.upstream_id) model.upstreamId = o.upstream_id;
    if (o.context_window) model.contextWindow = o.context_window;
    if (o.max_output_tokens) model.maxOutputTokens = o.max_output_tokens;
    if (o.pricing) {
      model.pricing = { input: o.pricing.input, output: o.pricing.output, cachedInput: o.pricing.cached_input ?? o.pricing.input };
      if (o.pricing.cache_write !== undefined) model.pricing.cacheWrite = o.pricing.cache_write;
    }
    if (o.tier) model.tier = o.tier;
    if (o.reasoning_levels) model.reasoning = { ...model.reasoning, levels: o.reasoning_levels };
    if (o.vision !== undefined) model.modalities = { ...model.modalities, input: o.vision ? ['text', 'image'] : ['text'] };
    if (o.tools !== undefined) model.tools = o.tools;
    if (o.endpoints) model.endpoints = o.endpoints;
    this.models.set(id, model);
  }

  private rebuildDeployments(): void {
    this.deploymentsByModel.clear();
    const explicit = this.config.file.deployments ?? {};
    for (const model of this.models.values()) {
      const listed = explicit[model.id];
      if (listed) {
        const deployments = listed.map((d, i) => {
          const provider = this.config.providers.get(d.provider);
          if (!provider) throw new Error(`deployments.${model.id}[${i}].provider '${d.provider}' is not a configured provider`);
          return this.deploymentOn(provider, d.upstream_id ?? model.upstreamId ?? model.id, d.weight ?? 1, i);
        });
        this.deploymentsByModel.set(model.id, deployments);
        continue;
      }
      const provider = this.defaultProviderFor(model);
      if (provider) this.deploymentsByModel.set(model.id, [this.deploymentOn(provider, model.upstreamId ?? model.id, 1)]);
    }
  }

  private defaultProviderFor(model: ModelInfo): ProviderInstance | undefined {
    const named = this.config.file.models?.[model.id]?.provider;
    if (named) return this.config.providers.get(named);
    const byName = this.config.providers.get(model.provider);
    if (byName?.kind === model.provider) return byName;
    for (const p of this.config.providers.values()) if (p.kind === model.provider) return p;
    return undefined;
  }

  private deploymentOn(provider: ProviderInstance, upstreamModel: string, weight: number, index = 0): Deployment {
    return {
      id: `${provider.name}:${upstreamModel}#${index}`,
      provider: provider.kind,
      providerName: provider.name,
      // Ollama speaks the OpenAI wire format under /v1.
      baseUrl: provider.kind === 'ollama' ? `${provider.baseUrl}/v1` : provider.baseUrl,
      apiKey: provider.apiKey,
      upstreamModel,
      headers: provider.headers,
      forwardHeaders: provider.forwardHeaders,
      weight,
      timeoutMs: Math.min(provider.timeoutMs, this.config.upstreamTimeoutMs),
    };
  }
}

/**
 * The caller's reasoning level mapped onto the levels the model has: the same level
 * if listed, else the nearest one on the scale (ties go to the higher level).
 */
export function resolveEffort(model: ModelInfo, requested: ReasoningEffort | undefined): ReasoningEffort | undefined {
  const levels = model.reasoning?.levels;
  if (!requested || !levels || levels.length === 0) return undefined;
  if (levels.includes(requested)) return requested;
  const want = REASONING_EFFORTS.indexOf(requested);
  let best = levels[0];
  let bestDistance = Infinity;
  for (const level of levels) {
    const distance = Math.abs(REASONING_EFFORTS.indexOf(level) - want);
    if (distance < bestDistance || (distance === bestDistance && REASONING_EFFORTS.indexOf(level) > REASONING_EFFORTS.indexOf(best))) {
      best = level;
      bestDistance = distance;
    }
  }
  return best;
}
