// A deterministic value that satisfies a JSON Schema, for mock tool-call arguments
// and structured outputs. Covers what tool and response schemas use in practice:
// type (also Gemini's upper-case names and type arrays), properties, required,
// items/prefixItems, enum/const, anyOf/oneOf/allOf, $ref into $defs/definitions,
// string formats and length bounds, numeric bounds. `pattern` is not solved.

type Schema = Record<string, unknown>;

const MAX_DEPTH = 8;

const FORMAT_SAMPLES: Record<string, string> = {
  'date-time': '2025-01-01T00:00:00Z',
  date: '2025-01-01',
  time: '00:00:00',
  email: 'mock@example.com',
  uri: 'https://example.com/',
  url: 'https://example.com/',
  uuid: '00000000-0000-4000-8000-000000000000',
  hostname: 'example.com',
  ipv4: '127.0.0.1',
  ipv6: '::1',
};

export function sampleFromSchema(schema: unknown, label = 'value'): unknown {
  return sample(schema, isObject(schema) ? schema : {}, label, 0);
}

function sample(schema: unknown, root: Schema, label: string, depth: number): unknown {
  if (!isObject(schema)) return schema === false ? null : `mock ${label}`;
  const resolved = resolveRef(schema, root);
  if ('const' in resolved) return resolved.const;
  if (Array.isArray(resolved.enum) && resolved.enum.length > 0) return resolved.enum[0];
  const branch = firstBranch(resolved.anyOf) ?? firstBranch(resolved.oneOf);
  if (branch) return sample(branch, root, label, depth + 1);
  if (Array.isArray(resolved.allOf)) return sample(mergeAll(resolved, root), root, label, depth + 1);

  switch (typeOf(resolved)) {
    case 'object': return sampleObject(resolved, root, depth);
    case 'array': return sampleArray(resolved, root, label, depth);
    case 'string': return sampleString(resolved, label);
    case 'integer': return sampleNumber(resolved, true);
    case 'number': return sampleNumber(resolved, false);
    case 'boolean': return true;
    case 'null': return null;
    default: return `mock ${label}`;
  }
}

function sampleObject(schema: Schema, root: Schema, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  for (const name of Object.keys(properties)) {
    // Deep in a recursive schema only what is required, so the value stays finite.
    if (depth >= MAX_DEPTH && !required.has(name)) continue;
    out[name] = depth >= MAX_DEPTH * 2 ? null : sample(properties[name], root, name, depth + 1);
  }
  return out;
}

function sampleArray(schema: Schema, root: Schema, label: string, depth: number): unknown[] {
  if (Array.isArray(schema.prefixItems)) return schema.prefixItems.map((item) => sample(item, root, label, depth + 1));
  const min = typeof schema.minItems === 'number' ? schema.minItems : 1;
  const max = typeof schema.maxItems === 'number' ? schema.maxItems : Math.max(min, 1);
  const count = depth >= MAX_DEPTH ? min : Math.min(Math.max(min, 1), max);
  const out: unknown[] = [];
  for (let i = 0; i < count; i++) out.push(sample(schema.items ?? {}, root, label, depth + 1));
  return out;
}

function sampleString(schema: Schema, label: string): string {
  const format = typeof schema.format === 'string' ? FORMAT_SAMPLES[schema.format] : undefined;
  let value = format ?? `mock ${label}`;
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity;
  if (value.length < min) value = value.padEnd(min, 'x');
  if (value.length > max) value = value.slice(0, max);
  return value;
}

function sampleNumber(schema: Schema, integer: boolean): number {
  const lo = finite(schema.minimum) ?? finite(schema.exclusiveMinimum);
  const hi = finite(schema.maximum) ?? finite(schema.exclusiveMaximum);
  const loOpen = lo !== undefined && finite(schema.minimum) === undefined;
  const hiOpen = hi !== undefined && finite(schema.maximum) === undefined;
  let value: number;
  if (integer) {
    if (lo !== undefined) value = loOpen ? Math.floor(lo) + 1 : Math.ceil(lo);
    else if (hi !== undefined) value = hiOpen ? Math.ceil(hi) - 1 : Math.min(Math.floor(hi), 1);
    else value = 1;
  } else if (lo !== undefined && hi !== undefined) value = loOpen || hiOpen ? (lo + hi) / 2 : lo;
  else if (lo !== undefined) value = loOpen ? lo + 1 : lo;
  else if (hi !== undefined) value = hiOpen ? hi - 1 : Math.min(hi, 1.5);
  else value = 1.5;
  const step = finite(schema.multipleOf);
  if (step !== undefined && step > 0) {
    value = Math.ceil(value / step) * step;
    if (loOpen && value <= (lo as number)) value += step;
  }
  return value;
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function typeOf(schema: Schema): string | undefined {
  let type = schema.type;
  if (Array.isArray(type)) type = type.find((t) => typeof t === 'string' && t.toLowerCase() !== 'null') ?? type[0];
  if (typeof type === 'string') return type.toLowerCase();
  if (isObject(schema.properties)) return 'object';
  if (schema.items !== undefined || schema.prefixItems !== undefined) return 'array';
  return undefined;
}

function firstBranch(branches: unknown): Schema | undefined {
  if (!Array.isArray(branches) || branches.length === 0) return undefined;
  const nonNull = branches.find((b) => isObject(b) && String(b.type).toLowerCase() !== 'null');
  return (nonNull ?? branches[0]) as Schema;
}

function mergeAll(schema: Schema, root: Schema): Schema {
  const merged: Schema = { ...schema, properties: {}, required: [] };
  for (const part of [schema, ...(schema.allOf as unknown[])]) {
    if (!isObject(part)) continue;
    const resolved = resolveRef(part, root);
    if (resolved.type !== undefined && merged.type === undefined) merged.type = resolved.type;
    Object.assign(merged.properties as Schema, isObject(resolved.properties) ? resolved.properties : {});
    if (Array.isArray(resolved.required)) (merged.required as unknown[]).push(...resolved.required);
  }
  delete merged.allOf;
  return merged;
}

function resolveRef(schema: Schema, root: Schema): Schema {
  let current = schema;
  for (let hops = 0; hops < 16 && typeof current.$ref === 'string'; hops++) {
    const target = lookupPointer(root, current.$ref);
    if (!target) return { ...current, $ref: undefined };
    current = target;
  }
  return current;
}

function lookupPointer(root: Schema, ref: string): Schema | undefined {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/')) {
    if (raw === '') continue;
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = isObject(node) ? node[key] : undefined;
  }
  return isObject(node) ? node : undefined;
}

function isObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
