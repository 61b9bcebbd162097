// The models switchyard.yaml may name in its routing sections before the gateway is
// built: the shipped catalog (src/catalog/models.json) with the file's `models:` and
// `aliases:` applied, reduced to the facts routing checks need. Read from the data file
// itself, not through Catalog, so config does not depend on the catalog module that
// depends on it. Models a provider discovers at start are not here (see routing.ts).
import { readFileSync } from 'node:fs';
import type { ModelInfo } from '../catalog/types.ts';
import type { ConfigFile } from './schema.ts';

/** What routing checks know about a model; the real Catalog satisfies this too. */
export interface ModelLookup {
  /** The model for an id or alias. */
  get(id: string): Pick<ModelInfo, 'id' | 'contextWindow' | 'endpoints'> | undefined;
  all(): Array<Pick<ModelInfo, 'id'>>;
}

interface ShippedFile {
  aliases: Record<string, string>;
  models: Array<Pick<ModelInfo, 'id' | 'contextWindow' | 'endpoints'>>;
}

/** What the catalog gives a model that config adds without saying (catalog.ts applyOverride). */
const ADDED_MODEL = { contextWindow: 131_072, endpoints: ['chat'] as ModelInfo['endpoints'] };

let shipped: ShippedFile | undefined;

export function knownModels(file: ConfigFile): ModelLookup {
  shipped ??= JSON.parse(readFileSync(new URL('../catalog/models.json', import.meta.url), 'utf8')) as ShippedFile;
  const models = new Map(shipped.models.map((m) => [m.id, { id: m.id, contextWindow: m.contextWindow, endpoints: m.endpoints }]));
  for (const [id, override] of Object.entries(file.models ?? {})) {
    const base = models.get(id) ?? { id, ...ADDED_MODEL };
    models.set(id, {
      id,
      contextWindow: override.context_window ?? base.contextWindow,
      endpoints: override.endpoints ?? base.endpoints,
    });
  }
  const aliases = new Map([...Object.entries(shipped.aliases), ...Object.entries(file.aliases ?? {})]);
  return {
    get: (id) => models.get(id) ?? models.get(aliases.get(id) ?? ''),
    all: () => [...models.values()],
  };
}
