// OpenAI's official OpenAPI document (fixtures/openai/openapi.yaml) as JSON
// Schema validators, for checking that what the gateway sends a client is what
// OpenAI's own API would send. The 3 MB document is parsed once per process.
//
// OpenAPI 3.0 leftovers in the 3.1 document are normalised before ajv sees them:
// `nullable: true` becomes `anyOf: [schema, {type: "null"}]` (ajv only accepts
// `nullable` beside `type`, and would not let null through an `enum`). OpenAPI's
// annotation keywords (`discriminator`, `x-*`, ...) are registered as known keywords.
//
// Where the document is stricter than what OpenAI's API really sends, a test may
// build an `OpenApiSchemas` with `SchemaPatch`es; each patch names the component
// schema it loosens and why.
import { readFileSync } from 'node:fs';
import { AssertionError } from 'node:assert';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';

const OPENAPI_PATH = new URL('../../fixtures/openai/openapi.yaml', import.meta.url);
const DOCUMENT_ID = 'https://switchyard.test/openai-openapi.json';
/** OpenAPI keywords that are annotations only (the `x-*` ones are collected from the document). */
const OPENAPI_KEYWORDS = ['discriminator', 'example', 'xml', 'externalDocs'];
const NAME_MAPS = new Set(['properties', 'patternProperties', '$defs', 'dependentSchemas']);
const MAX_LISTED_ERRORS = 25;

export type JsonSchema = Record<string, any>;

export interface SchemaPatch {
  /** The component schema (`#/components/schemas/<schema>`) to change. */
  schema: string;
  /** What OpenAI really sends that the document does not allow. */
  why: string;
  /** Changes a private copy of the component schema in place. */
  apply(schema: JsonSchema): void;
}

interface Document {
  schemas: Record<string, JsonSchema>;
  keywords: string[];
  /** Responses stream event `type` -> the component schema of that event. */
  streamEvents: Map<string, string>;
}

let parsed: Document | undefined;

function openApiDocument(): Document {
  if (parsed) return parsed;
  const raw = parse(readFileSync(OPENAPI_PATH, 'utf8'), { maxAliasCount: -1 }) as { components: { schemas: JsonSchema } };
  const extensionKeywords = new Set<string>();
  const schemas = normaliseNameMap(raw.components.schemas, extensionKeywords);
  parsed = { schemas, keywords: [...OPENAPI_KEYWORDS, ...extensionKeywords], streamEvents: streamEventTypes(schemas) };
  return parsed;
}

function normalise(node: unknown, extensionKeywords: Set<string>): unknown {
  if (Array.isArray(node)) return node.map((item) => normalise(item, extensionKeywords));
  if (node === null || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-')) extensionKeywords.add(key);
    if (key === 'nullable') continue;
    out[key] = NAME_MAPS.has(key) && isPlainObject(value) ? normaliseNameMap(value, extensionKeywords) : normalise(value, extensionKeywords);
  }
  return (node as JsonSchema).nullable === true ? { anyOf: [out, { type: 'null' }] } : out;
}

/** `properties` and the like map names to schemas: a property called "nullable" is not the keyword. */
function normaliseNameMap(map: JsonSchema, extensionKeywords: Set<string>): JsonSchema {
  const out: JsonSchema = {};
  for (const [name, schema] of Object.entries(map)) out[name] = normalise(schema, extensionKeywords);
  return out;
}

function isPlainObject(value: unknown): value is JsonSchema {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function streamEventTypes(schemas: Record<string, JsonSchema>): Map<string, string> {
  const types = new Map<string, string>();
  for (const option of schemas.ResponseStreamEvent.anyOf as JsonSchema[]) {
    const name = String(option.$ref).split('/').pop()!;
    for (const value of (schemas[name].properties?.type?.enum as string[] | undefined) ?? []) types.set(value, name);
  }
  return types;
}

/** The component schema of one Responses stream event type, or undefined when OpenAI has no such event. */
export function streamEventSchemaName(type: string): string | undefined {
  return openApiDocument().streamEvents.get(type);
}

/** The component schemas of the document, optionally patched, compiled on first use. */
export class OpenApiSchemas {
  readonly patches: readonly SchemaPatch[];
  #ajv: Ajv2020 | undefined;
  #validators = new Map<string, ValidateFunction>();

  constructor(patches: readonly SchemaPatch[] = []) {
    this.patches = patches;
  }

  validator(name: string): ValidateFunction {
    let validate = this.#validators.get(name);
    if (validate) return validate;
    if (!openApiDocument().schemas[name]) throw new Error(`OpenAI's OpenAPI document has no schema '${name}'`);
    const compiled = this.#compiler().getSchema(`${DOCUMENT_ID}#/components/schemas/${name}`)!;
    this.#validators.set(name, compiled);
    return compiled;
  }

  matches(name: string, value: unknown): boolean {
    return this.validator(name)(value) === true;
  }

  /** Throws an AssertionError listing ajv's errors (path, rule, offending value) when `value` breaks schema `name`. */
  assertMatches(name: string, value: unknown, label = name): void {
    const validate = this.validator(name);
    if (validate(value)) return;
    throw new AssertionError({
      message: `${label} does not match OpenAI's ${name} schema:\n${describeErrors(validate.errors ?? [], value)}\nbody: ${truncate(JSON.stringify(value), 1500)}`,
    });
  }

  #compiler(): Ajv2020 {
    if (this.#ajv) return this.#ajv;
    const document = openApiDocument();
    let schemas = document.schemas;
    if (this.patches.length > 0) {
      schemas = { ...schemas };
      for (const patch of this.patches) {
        if (!schemas[patch.schema]) throw new Error(`patch for unknown schema '${patch.schema}'`);
        schemas[patch.schema] = structuredClone(schemas[patch.schema]);
        patch.apply(schemas[patch.schema]);
      }
    }
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    for (const keyword of document.keywords) ajv.addKeyword(keyword);
    ajv.addSchema({ $id: DOCUMENT_ID, components: { schemas } });
    this.#ajv = ajv;
    return ajv;
  }
}

function describeErrors(errors: ErrorObject[], root: unknown): string {
  // Under anyOf every failed alternative reports; the deepest paths usually point at the culprit.
  const sorted = [...errors].sort((a, b) => depth(b.instancePath) - depth(a.instancePath));
  const lines = sorted.slice(0, MAX_LISTED_ERRORS).map((error) => {
    const found = truncate(JSON.stringify(valueAt(root, error.instancePath)) ?? 'undefined', 120);
    return `  ${error.instancePath || '(root)'}: ${error.message} ${JSON.stringify(error.params)} [schema ${error.schemaPath}] value: ${found}`;
  });
  if (errors.length > MAX_LISTED_ERRORS) lines.push(`  ... and ${errors.length - MAX_LISTED_ERRORS} more`);
  if (errors.some((error) => error.keyword === 'anyOf' || error.keyword === 'oneOf')) {
    lines.push('  (a union failed: every alternative reports; read the errors of the alternative whose `type` matches)');
  }
  return lines.join('\n');
}

function depth(pointer: string): number {
  return pointer === '' ? 0 : pointer.split('/').length;
}

function valueAt(root: unknown, pointer: string): unknown {
  let node = root as any;
  for (const segment of pointer.split('/').slice(1)) node = node?.[segment.replace(/~1/g, '/').replace(/~0/g, '~')];
  return node;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
