// JSON Schema -> the OpenAPI-subset Schema that Gemini's FunctionDeclaration.parameters
// accepts. Keywords outside the subset are dropped (additionalProperties, $schema,
// not, if/then/else, patternProperties...) or rewritten where a close equivalent
// exists: $ref is inlined from $defs/definitions, oneOf becomes anyOf, a type list or
// a null member becomes `nullable`, const becomes a one-value enum, allOf is merged.

type Schema = Record<string, unknown>;

const COPIED_KEYS = [
  'title', 'description', 'pattern', 'minLength', 'maxLength', 'minItems', 'maxItems',
  'minProperties', 'maxProperties', 'minimum', 'maximum', 'example', 'default', 'propertyOrdering',
] as const;
const FORMATS: Record<string, ReadonlySet<string>> = {
  STRING: new Set(['enum', 'date-time']),
  NUMBER: new Set(['float', 'double']),
  INTEGER: new Set(['int32', 'int64']),
};
/** Deep enough for real tool schemas; stops recursive $refs. */
const MAX_DEPTH = 24;

export function toGeminiSchema(schema: unknown): Schema {
  if (!isSchema(schema)) return { type: 'OBJECT', properties: {} };
  const defs = { ...asSchema(schema.definitions), ...asSchema(schema.$defs) };
  return convert(schema, defs, 0);
}

function convert(input: Schema, defs: Schema, depth: number): Schema {
  if (depth > MAX_DEPTH) return {};
  const schema = flatten(input, defs);
  const union = (schema.anyOf ?? schema.oneOf) as unknown;
  const types = (Array.isArray(schema.type) ? schema.type : schema.type === undefined ? [] : [schema.type]) as string[];
  let nullable = schema.nullable === true || types.includes('null');
  const out: Schema = {};

  if (Array.isArray(union)) {
    const members = union.filter((member) => isSchema(member) && member.type !== 'null') as Schema[];
    nullable ||= members.length < union.length;
    const { anyOf: _a, oneOf: _o, ...rest } = schema;
    if (members.length === 1) return withNullable(convert({ ...rest, ...members[0] }, defs, depth + 1), nullable);
    out.anyOf = members.map((member) => convert(member, defs, depth + 1));
    copyAnnotations(schema, out);
    return withNullable(out, nullable);
  }

  const concrete = types.filter((type) => type !== 'null');
  if (concrete.length > 1) {
    out.anyOf = concrete.map((type) => convert({ ...schema, type }, defs, depth + 1));
    copyAnnotations(schema, out);
    return withNullable(out, nullable);
  }
  const type = concrete[0] ?? inferType(schema);
  if (type) out.type = type.toUpperCase();
  copyAnnotations(schema, out);
  const format = schema.format;
  if (typeof format === 'string' && FORMATS[out.type as string]?.has(format)) out.format = format;
  const values = 'const' in schema ? [schema.const] : schema.enum;
  if (Array.isArray(values) && values.length > 0 && values.every((value) => typeof value === 'string')) {
    out.type = 'STRING';
    out.enum = values;
  }
  if (isSchema(schema.properties)) {
    const properties: Schema = {};
    for (const [name, property] of Object.entries(schema.properties)) {
      properties[name] = isSchema(property) ? convert(property, defs, depth + 1) : {};
    }
    out.properties = properties;
    if (Array.isArray(schema.required)) out.required = schema.required.filter((name) => typeof name === 'string' && name in properties);
  }
  // Tuples (prefixItems, items as a list) have no Gemini form: their first member stands for all.
  const items = schema.items ?? schema.prefixItems;
  const item = Array.isArray(items) ? items[0] : items;
  if (isSchema(item)) out.items = convert(item, defs, depth + 1);
  return withNullable(out, nullable);
}

/** Inline a $ref and merge allOf members, so only plain keywords remain. */
function flatten(schema: Schema, defs: Schema): Schema {
  let out = schema;
  if (typeof out.$ref === 'string') {
    const name = out.$ref.replace(/^#\/(\$defs|definitions)\//, '');
    const { $ref: _ref, ...rest } = out;
    out = { ...asSchema(defs[name]), ...rest };
  }
  if (Array.isArray(out.allOf)) {
    const { allOf, ...rest } = out;
    let merged: Schema = rest;
    for (const member of allOf) {
      if (!isSchema(member)) continue;
      const part = flatten(member, defs);
      const properties = { ...asSchema(part.properties), ...asSchema(merged.properties) };
      const required = [...asArray(part.required), ...asArray(merged.required)];
      merged = { ...part, ...merged };
      if (Object.keys(properties).length > 0) merged.properties = properties;
      if (required.length > 0) merged.required = required;
    }
    out = merged;
  }
  return out;
}

function inferType(schema: Schema): string | undefined {
  if (isSchema(schema.properties)) return 'object';
  if (schema.items !== undefined) return 'array';
  if (Array.isArray(schema.enum) || 'const' in schema) return 'string';
  return undefined;
}

function copyAnnotations(from: Schema, to: Schema): void {
  for (const key of COPIED_KEYS) if (from[key] !== undefined) to[key] = from[key];
}

function withNullable(schema: Schema, nullable: boolean): Schema {
  if (nullable) schema.nullable = true;
  return schema;
}

function isSchema(value: unknown): value is Schema {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function asSchema(value: unknown): Schema {
  return isSchema(value) ? value : {};
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
