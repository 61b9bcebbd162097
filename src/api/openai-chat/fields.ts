// Field validators shared by the OpenAI Chat and Responses parsers. Each returns the
// value in canonical form or throws a 400 naming the exact field path. `null` counts
// as absent for optional fields, as OpenAI's SDKs and pydantic clients send it.
import { invalidField, invalidRequest } from '../../canonical/errors.ts';
import { onEveryRoute } from '../untranslatable.ts';
import { REASONING_EFFORTS } from '../../canonical/types.ts';
import type { ImagePart, ReasoningEffort, ResponseFormat } from '../../canonical/types.ts';

import { isObject, missingField, optionalBoolean, optionalInteger, optionalString, requireString } from '../fields.ts';
import type { JsonObject } from '../fields.ts';

export { isObject, missingField, requireObject, requireString, requireNonEmptyString, optionalString, optionalBoolean, optionalNumberInRange, optionalInteger } from '../fields.ts';
export type { JsonObject } from '../fields.ts';

export function optionalPositiveInteger(value: unknown, param: string): number | undefined {
  return optionalInteger(value, param, 1, 'a positive integer');
}

export function optionalReasoningEffort(value: unknown, param: string): ReasoningEffort | undefined {
  if (value === undefined || value === null) return undefined;
  if (!REASONING_EFFORTS.includes(value as ReasoningEffort)) {
    throw invalidField(param, `one of ${REASONING_EFFORTS.join(', ')}`, value);
  }
  return value as ReasoningEffort;
}

/** OpenAI metadata: string keys to string values. */
export function optionalMetadata(value: unknown, param: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw invalidField(param, 'an object of string keys to string values', value);
  for (const key in value) {
    if (typeof value[key] !== 'string') throw invalidField(`${param}.${key}`, 'a string', value[key]);
  }
  return value as Record<string, string>;
}

const NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/** Function and schema names: letters, digits, underscores and dashes, at most 64. */
export function requireName(value: unknown, param: string): string {
  const name = requireString(value, param, 'a name of letters, digits, underscores or dashes (at most 64)');
  if (!NAME_PATTERN.test(name)) {
    throw invalidField(param, 'a name of letters, digits, underscores or dashes (at most 64)', value);
  }
  return name;
}

export function optionalJsonSchema(value: unknown, param: string): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw invalidField(param, 'a JSON Schema object', value);
  return value;
}

/** The json_schema fields (name, schema, strict, description) of a response format. */
export function parseJsonSchemaFormat(spec: JsonObject, param: string): ResponseFormat {
  const name = requireName(spec.name, `${param}.name`);
  const schema = optionalJsonSchema(spec.schema, `${param}.schema`);
  if (schema === undefined) throw missingField(`${param}.schema`, 'a JSON Schema object');
  const format: ResponseFormat = { type: 'json_schema', name, schema };
  const strict = optionalBoolean(spec.strict, `${param}.strict`);
  if (strict !== undefined) format.strict = strict;
  const description = optionalString(spec.description, `${param}.description`);
  if (description !== undefined) format.description = description;
  return format;
}

const DATA_URL = /^data:([^;,]+)((?:;[^;,]+)*);base64,/;

/**
 * An image URL: http(s) or a base64 `data:image/...` URL. Refused on every route when
 * malformed: the provider would refuse it too, and the gateway checks image input.
 */
export function parseImageUrl(url: string, param: string, detail: string | undefined): ImagePart {
  const image: ImagePart = { type: 'image' };
  if (url.startsWith('data:')) {
    const match = DATA_URL.exec(url);
    if (match === null) throw onEveryRoute(invalidField(param, 'a base64 data URL (data:image/png;base64,...) or an http(s) URL', 'a data URL that is not base64'));
    if (!match[1].startsWith('image/')) throw onEveryRoute(invalidField(param, 'an image media type (image/png, image/jpeg, image/gif, image/webp)', match[1]));
    image.mediaType = match[1];
    image.data = requireBase64(url.slice(match[0].length), param);
  } else if (url.startsWith('https://') || url.startsWith('http://')) {
    image.url = url;
  } else {
    throw onEveryRoute(invalidField(param, 'an http(s) URL or a base64 data URL', url));
  }
  if (detail !== undefined) image.detail = detail;
  return image;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Standard base64 (padding optional), as every provider decodes image bytes. */
export function requireBase64(data: string, param: string): string {
  if (!BASE64.test(data) || data.length % 4 === 1) {
    throw onEveryRoute(invalidRequest(`Invalid value for '${param}': the image data is not valid base64 (${data.length === 0 ? 'it is empty' : `it starts ${JSON.stringify(data.slice(0, 12))}`}). Encode the image bytes with standard base64 (A-Z, a-z, 0-9, +, /).`, param, 'invalid_base64'));
  }
  return data;
}

export function optionalImageDetail(value: unknown, param: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (value !== 'auto' && value !== 'low' && value !== 'high' && value !== 'original') {
    throw invalidField(param, 'one of auto, low, high, original', value);
  }
  return value;
}

/** `data:` URL for an inline image, or its http(s) URL. */
export function imageUrlOf(image: ImagePart): string {
  return image.data !== undefined ? `data:${image.mediaType ?? 'image/png'};base64,${image.data}` : (image.url ?? '');
}

/** Copies `source` without the named keys; undefined when nothing is left. */
export function withoutKeys(source: JsonObject, keys: readonly string[]): JsonObject | undefined {
  let rest: JsonObject | undefined;
  for (const key in source) {
    if (keys.includes(key)) continue;
    (rest ??= {})[key] = source[key];
  }
  return rest;
}
