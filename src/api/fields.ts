// Readers for untrusted JSON shared by every inbound API. Each returns the value or
// throws a 400 naming the exact field path and what was expected. `null` counts as
// absent for optional fields, as the OpenAI and Anthropic SDKs send it.
import { invalidField, invalidRequest } from '../canonical/errors.ts';
import type { GatewayError } from '../canonical/errors.ts';

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function missingField(param: string, expected: string): GatewayError {
  return invalidRequest(`Missing required parameter '${param}': expected ${expected}.`, param, 'missing_required_parameter');
}

export function requireObject(value: unknown, param: string, expected = 'an object'): JsonObject {
  if (value === undefined || value === null) throw missingField(param, expected);
  if (!isObject(value)) throw invalidField(param, expected, value);
  return value;
}

export function requireString(value: unknown, param: string, expected = 'a string'): string {
  if (value === undefined || value === null) throw missingField(param, expected);
  if (typeof value !== 'string') throw invalidField(param, expected, value);
  return value;
}

export function requireNonEmptyString(value: unknown, param: string, expected = 'a non-empty string'): string {
  const text = requireString(value, param, expected);
  if (text.length === 0) throw invalidField(param, expected, value);
  return text;
}

export function optionalString(value: unknown, param: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidField(param, 'a string', value);
  return value;
}

export function optionalBoolean(value: unknown, param: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidField(param, 'a boolean (true or false)', value);
  return value;
}

export function optionalNumberInRange(value: unknown, param: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalidField(param, `a number from ${min} to ${max}`, value);
  }
  return value;
}

export function optionalInteger(value: unknown, param: string, min: number, expected: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw invalidField(param, expected, value);
  return value;
}

export function requireArray(value: unknown, param: string, expected = 'an array'): unknown[] {
  if (value === undefined || value === null) throw missingField(param, expected);
  if (!Array.isArray(value)) throw invalidField(param, expected, value);
  return value;
}

export function requireInteger(value: unknown, param: string, min: number): number {
  const expected = min === 1 ? 'a positive integer' : `an integer of at least ${min}`;
  if (value === undefined || value === null) throw missingField(param, expected);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw invalidField(param, expected, value);
  return value;
}

/** System-like content: a string, or an array of text parts (of `partType`) joined by newlines. */
export function joinTextParts(content: unknown, path: string, partType = 'text'): string {
  if (typeof content === 'string') return content;
  const expected = `a string or an array of ${partType} parts`;
  if (content === undefined || content === null) throw missingField(path, expected);
  if (!Array.isArray(content)) throw invalidField(path, expected, content);
  let text = '';
  for (let i = 0; i < content.length; i++) {
    const part = requireObject(content[i], `${path}[${i}]`);
    if (part.type !== partType) throw invalidField(`${path}[${i}].type`, `'${partType}' (only text is allowed here)`, part.type);
    text += (i > 0 ? '\n' : '') + requireString(part.text, `${path}[${i}].text`);
  }
  return text;
}
