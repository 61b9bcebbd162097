// GET /v1/models and /v1/models/{id}: OpenAI's shape, plus what a caller needs to
// choose a model (window, prices, tier, reasoning levels, modalities).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ModelInfo } from './catalog/types.ts';
import type { Gateway } from './gateway.ts';
import { findModel } from './routing/resolve.ts';
import { sendError, sendJson } from './http/send.ts';
import { chatApi } from './api/inbound.ts';
import { GatewayError, invalidRequest } from './canonical/errors.ts';
import type { Principal } from './services.ts';
import type { RouteSpec } from './router/config.ts';

export function describeModel(model: ModelInfo): Record<string, unknown> {
  return {
    id: model.id,
    object: 'model',
    created: 0,
    owned_by: model.provider,
    context_window: model.contextWindow,
    max_output_tokens: model.maxOutputTokens,
    pricing: {
      unit: 'USD per 1M tokens',
      input: model.pricing.input,
      cached_input: model.pricing.cachedInput,
      output: model.pricing.output,
      ...(model.pricing.cacheWrite !== undefined ? { cache_write: model.pricing.cacheWrite } : {}),
    },
    tier: model.tier,
    modalities: model.modalities,
    reasoning_levels: model.reasoning?.levels ?? [],
    tools: model.tools,
    endpoints: model.endpoints,
  };
}

/** An auto route as /v1/models lists it: its tiers and the models each would use. */
export function describeRoute(gateway: Gateway, route: RouteSpec): Record<string, unknown> {
  const tiers: Record<string, string[]> = {};
  for (const tier of route.tiers) tiers[tier] = [...(gateway.router.config.tiers.get(tier) ?? [])];
  return {
    id: route.name,
    object: 'model',
    created: 0,
    owned_by: 'switchyard',
    kind: 'route',
    description: route.description,
    tiers,
    ...(route.thresholds ? { thresholds: route.thresholds } : { strong_share: route.strongShares }),
    cascade: route.cascade ? { checks: route.cascade.checks, stream: route.cascade.stream } : false,
    critical: route.critical,
    downgrade: route.downgrade,
  };
}

/** A route is listed to a key that may call it and may use a model it can reach (any tier below pro, or pro if listed). */
function routeUsable(gateway: Gateway, principal: Principal, route: RouteSpec): boolean {
  if (!gateway.isRouteAllowed(principal, route.name)) return false;
  for (const [tier, ids] of gateway.router.config.tiers) {
    if (tier === 'pro' && !route.tiers.includes('pro')) continue;
    for (const id of ids) {
      const model = gateway.catalog.get(id);
      if (model && gateway.catalog.deployments(model).length > 0 && gateway.isModelAllowed(principal, model, route.name)) return true;
    }
  }
  return false;
}

/** The models this key may use, then the routes it may call (GET /v1/models; GET /admin/models as the master key). */
export function modelsFor(gateway: Gateway, principal: Principal): Record<string, unknown>[] {
  const models = gateway.catalog.available().filter((m) => gateway.isModelAllowed(principal, m));
  const routes = [...gateway.router.config.routes.values()].filter((r) => routeUsable(gateway, principal, r)).sort((a, b) => a.name.localeCompare(b.name));
  return [...models.map(describeModel), ...routes.map((r) => describeRoute(gateway, r))];
}

export function listModels(gateway: Gateway, _req: IncomingMessage, res: ServerResponse, _path: string, principal: Principal): void {
  sendJson(res, 200, { object: 'list', data: modelsFor(gateway, principal) });
}

export function getModel(gateway: Gateway, _req: IncomingMessage, res: ServerResponse, path: string, principal: Principal): void {
  try {
    const id = modelIdOf(path);
    const route = gateway.router.config.routes.get(id);
    if (route && routeUsable(gateway, principal, route)) return sendJson(res, 200, describeRoute(gateway, route));
    const model = findModel(gateway.catalog, id);
    if (!gateway.isModelAllowed(principal, model)) {
      throw modelNotAllowed(principal.name, id);
    }
    if (gateway.catalog.deployments(model).length === 0) {
      throw new GatewayError({ status: 404, type: 'invalid_request_error', code: 'model_not_found', param: 'model', message: `The model '${id}' is in the catalog but its provider (${model.provider}) is not configured on this gateway, so it cannot be used.` });
    }
    sendJson(res, 200, describeModel(model));
  } catch (err) {
    sendError({ res, api: chatApi }, err as GatewayError);
  }
}

function modelIdOf(path: string): string {
  const encoded = path.slice('/v1/models/'.length);
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw invalidRequest(`The model id in the path ('${encoded.slice(0, 80)}') is not valid percent-encoding. Encode the id with encodeURIComponent (e.g. %2F for '/'), or send it as it is.`, 'model', 'invalid_model_id');
  }
}

/** A key asked about a model it may not use (the model calls' refusal, in admission, also lists the allowed ones). */
export function modelNotAllowed(keyName: string, modelId: string): GatewayError {
  return new GatewayError({ status: 403, type: 'permission_error', code: 'model_not_allowed', param: 'model', message: `Your key '${keyName}' may not use '${modelId}'. GET /v1/models lists the models it may use.` });
}
