// GET model lists in each provider's shape, from the shipped catalog: the mock
// lists the models the gateway knows.
import { readFileSync } from 'node:fs';
import { anthropicError } from './anthropic.ts';
import { jsonReply, type MockRequest, type Reply } from './wire.ts';

type Json = Record<string, unknown>;

const OPENAI_HEADERS = { 'content-type': 'application/json' };
const ANTHROPIC_HEADERS = { 'content-type': 'application/json' };
const GOOGLE_HEADERS = { 'content-type': 'application/json; charset=UTF-8' };

interface CatalogModel {
  id: string;
  provider: string;
  displayName?: string;
  dimensions?: number;
}

let catalogModels: CatalogModel[] | undefined;

/** The shipped catalog, read once. */
export function catalog(): CatalogModel[] {
  catalogModels ??= (JSON.parse(readFileSync(new URL('../catalog/models.json', import.meta.url), 'utf8')) as { models: CatalogModel[] }).models;
  return catalogModels;
}

const MODEL_CREATED = 1_700_000_000;
const DEFAULT_DIMENSIONS = 1536;

/** An embedding model's output size from the catalog (`models/` prefix allowed). */
export function modelDimensions(model: string): number {
  const bare = model.startsWith('models/') ? model.slice(7) : model;
  return catalog().find((m) => m.id === bare)?.dimensions ?? DEFAULT_DIMENSIONS;
}


export function listOpenAIModels(): Reply {
  const data = catalog().filter((m) => m.provider === 'openai').map((m) => ({ id: m.id, object: 'model', created: MODEL_CREATED, owned_by: 'system' }));
  return jsonReply(200, { object: 'list', data }, OPENAI_HEADERS);
}

export function getOpenAIModel(id: string): Reply {
  const found = catalog().find((m) => m.id === id && m.provider === 'openai');
  if (!found) return jsonReply(404, { error: { message: `The model '${id}' does not exist`, type: 'invalid_request_error', param: 'model', code: 'model_not_found' } }, OPENAI_HEADERS);
  return jsonReply(200, { id: found.id, object: 'model', created: MODEL_CREATED, owned_by: 'system' }, OPENAI_HEADERS);
}

export function listAnthropicModels(): Reply {
  const data = catalog().filter((m) => m.provider === 'anthropic').map(anthropicModel);
  return jsonReply(200, { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null }, ANTHROPIC_HEADERS);
}

export function getAnthropicModel(req: MockRequest, id: string): Reply {
  const found = catalog().find((m) => m.provider === 'anthropic' && m.id === id);
  return found ? jsonReply(200, anthropicModel(found), ANTHROPIC_HEADERS) : anthropicError(404, { ...req, body: { model: id } }, '0');
}

function anthropicModel(model: { id: string; displayName?: string }): Json {
  return { type: 'model', id: model.id, display_name: model.displayName ?? model.id, created_at: '2025-09-29T00:00:00Z' };
}

export function listGeminiModels(): Reply {
  const models = catalog().filter((m) => m.provider === 'gemini').map((m) => ({
    name: `models/${m.id}`,
    displayName: m.displayName ?? m.id,
    supportedGenerationMethods: m.dimensions ? ['embedContent', 'batchEmbedContents'] : ['generateContent', 'countTokens'],
  }));
  return jsonReply(200, { models }, GOOGLE_HEADERS, true);
}
