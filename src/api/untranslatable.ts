// Tolerant parsing: an inbound parser refuses only what the gateway itself needs
// (model, stream, output cap, the input it counts, image data it checks), and notes
// the rest on the request instead of throwing. A relay passes the body as it came and
// lets the provider judge; a translated route refuses the first noted item, naming
// the field, and — for a type no translation carries — the models that take it.
import { GatewayError, invalidField } from '../canonical/errors.ts';
import type { CanonicalRequest, Untranslatable } from '../canonical/types.ts';
import type { Catalog } from '../catalog/catalog.ts';
import type { ModelInfo } from '../catalog/types.ts';
import type { Deployment } from '../providers/types.ts';
import type { InboundApi, Relay } from './inbound.ts';

/** Thrown by a parser step for something valid that no translation carries (a tool, part or item type). */
export class NotTranslatable extends GatewayError {
  readonly what: string;
  readonly hint: string | undefined;

  constructor(param: string, what: string, code: string, hint?: string) {
    super({ status: 400, type: 'invalid_request_error', code, param, message: `${param} ${what} cannot be translated.${hint ? ` ${hint}` : ''}` });
    this.what = what;
    this.hint = hint;
  }
}

const EVERY_ROUTE = new WeakSet<GatewayError>();

/** Marks a refusal that holds on every route (the provider would certainly refuse it too). */
export function onEveryRoute(error: GatewayError): GatewayError {
  EVERY_ROUTE.add(error);
  return error;
}

/**
 * Runs one parser step, read(a, b, c, d), whose failure the gateway can leave to the
 * provider: a refusal becomes a note on `notes` (with `json`, the item as it came,
 * when the canonical request will lack it) and the step yields undefined. (The step
 * and its arguments are passed apart so that parsing allocates no closure per field.)
 */
export function tolerate<A, B, C, D, R>(notes: Untranslatable[], json: unknown, read: (a: A, b: B, c: C, d: D) => R, a?: A, b?: B, c?: C, d?: D): R | undefined {
  try {
    return read(a as A, b as B, c as C, d as D);
  } catch (err) {
    if (!(err instanceof GatewayError) || EVERY_ROUTE.has(err)) throw err;
    notes.push(noteOf(err, json));
    return undefined;
  }
}

function noteOf(err: GatewayError, json: unknown): Untranslatable {
  const note: Untranslatable = err instanceof NotTranslatable
    ? { param: err.param ?? '', what: err.what, code: err.code }
    : { param: err.param ?? '', what: 'an invalid value', code: err.code, refusal: err };
  if (err instanceof NotTranslatable && err.hint) note.hint = err.hint;
  if (json !== undefined) note.json = json;
  return note;
}

/**
 * A list field read item by item: a non-array, and each item its reader refuses, is
 * noted (the relay passes it as it came); the items read are returned.
 */
export function tolerateList<T>(notes: Untranslatable[], value: unknown, param: string, expected: string, readItem: (item: unknown, path: string) => T): T[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    tolerate(notes, value, refuseNonArray, param, expected, value);
    return undefined;
  }
  const items: T[] = [];
  for (let i = 0; i < value.length; i++) {
    const item = tolerate(notes, value[i], readItem, value[i], `${param}[${i}]`);
    if (item !== undefined) items.push(item);
  }
  return items;
}

function refuseNonArray(param: string, expected: string, value: unknown): never {
  throw invalidField(param, expected, value);
}

/** Sets the notes on the request (only when there are some). */
export function attachNotes(request: CanonicalRequest, notes: Untranslatable[]): CanonicalRequest {
  if (notes.length > 0) request.untranslatable = notes;
  return request;
}

/** Who a translated route serves, as its refusal names them. */
export interface TranslationTarget {
  model: string;
  provider: string;
  /** e.g. "an OpenAI Responses model". */
  relayedFormat: string;
  /** Models on this gateway whose upstream takes the client's wire format as it is. */
  relayedModels: string[];
}

const LISTED_MODELS = 4;

/** A translated route's refusal of a request with notes (undefined when it has none). */
export function untranslatableError(request: CanonicalRequest, api: InboundApi, catalog: Catalog, model: ModelInfo, deployment: Deployment): GatewayError | undefined {
  if (request.untranslatable === undefined) return undefined;
  const relay = api.relay;
  return translationRefusal(request, {
    model: model.id,
    provider: deployment.providerName,
    relayedFormat: relay?.format ?? 'a model whose upstream speaks this API',
    relayedModels: relay ? relayedModels(relay, catalog) : [],
  });
}

/**
 * The first note's own refusal for an invalid value; for a type no translation
 * carries, one naming the field, the type, and the models that relay it.
 */
export function translationRefusal(request: CanonicalRequest, target: TranslationTarget): GatewayError | undefined {
  const first = request.untranslatable?.[0];
  if (first === undefined) return undefined;
  if (first.refusal) return first.refusal;
  const models = target.relayedModels;
  const where = models.length > 0
    ? `can only be relayed to ${target.relayedFormat} such as ${models.slice(0, LISTED_MODELS).join(', ')}`
    : `can only be relayed to ${target.relayedFormat}, and none is configured on this gateway`;
  return new GatewayError({
    status: 400,
    type: 'invalid_request_error',
    code: first.code,
    param: first.param,
    message: `${first.param} ${first.what} ${where}; '${target.model}' is served by ${target.provider} through translation, which cannot carry it.${first.hint ? ` ${first.hint}` : ''}`,
  });
}

function relayedModels(relay: Relay, catalog: Catalog): string[] {
  const out: string[] = [];
  for (const model of catalog.available()) {
    if (catalog.deployments(model).some((d) => relay.accepts(d, model))) out.push(model.id);
  }
  return out;
}
