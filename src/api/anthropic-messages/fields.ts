// Small readers for untrusted JSON: each returns the value or throws a 400 that
// names the field path and what was expected. `null` counts as absent for
// optional fields, as Anthropic's API treats it.

import { invalidField } from '../../canonical/errors.ts';

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function requireObject(value: unknown, path: string, expected = 'an object'): JsonObject {
  if (!isObject(value)) throw invalidField(path, expected, value);
  return value;
}

export function requireString(value: unknown, path: string, expected = 'a string'): string {
  if (typeof value !== 'string') throw invalidField(path, expected, value);
  return value;
}

export function requireNonEmptyString(value: unknown, path: string, expected = 'a non-empty string'): string {
  if (typeof value !== 'string' || value.length === 0) throw invalidField(path, expected, value);
  return value;
}

export function optionalString(value: unknown, path: string): string | undefined {
  return value === undefined || value === null ? undefined : requireString(value, path);
}

export function optionalBoolean(value: unknown, path: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidField(path, 'true or false', value);
  return value;
}

export function requireArray(value: unknown, path: string, expected = 'an array'): unknown[] {
  if (!Array.isArray(value)) throw invalidField(path, expected, value);
  return value;
}

export function optionalNumberInRange(value: unknown, path: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalidField(path, `a number from ${min} to ${max}`, value);
  }
  return value;
}

export function requireInteger(value: unknown, path: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw invalidField(path, min === 1 ? 'a positive integer' : `an integer of at least ${min}`, value);
  }
  return value;
}
