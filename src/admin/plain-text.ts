// Text the admin API takes (query parameters, every string and key of a JSON body) must
// be storable by both stores: PostgreSQL refuses NUL bytes and lone UTF-16 surrogates
// (in text and in jsonb), so they are refused up front with a 400 naming the field.
import { invalidField, invalidRequest } from '../canonical/errors.ts';

const EXPECTED = 'text without NUL bytes (\\u0000) or unpaired surrogates';

function storable(text: string): boolean {
  return !text.includes('\u0000') && text.isWellFormed();
}

export function checkQuery(url: URL): void {
  for (const [name, value] of url.searchParams) {
    if (!storable(name)) throw invalidRequest(`A query parameter name contains a NUL byte or invalid Unicode; use ${EXPECTED}.`, null, 'invalid_value');
    if (!storable(value)) throw invalidField(name, EXPECTED);
  }
}

/** Walks a parsed JSON body (iteratively: no depth can overflow the stack) and returns it. */
export function checkBodyText(body: unknown): unknown {
  const stack: Array<[unknown, string]> = [[body, '']];
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (!storable(value)) throw invalidField(path || 'body', EXPECTED);
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) stack.push([value[i], `${path}[${i}]`]);
    } else if (value !== null && typeof value === 'object') {
      for (const key of Object.keys(value)) {
        const at = path ? `${path}.${key}` : key;
        if (!storable(key)) throw invalidField(path ? `${path} (a key)` : 'body (a key)', EXPECTED);
        stack.push([(value as Record<string, unknown>)[key], at]);
      }
    }
  }
  return body;
}
