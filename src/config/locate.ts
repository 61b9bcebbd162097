// Where a field of switchyard.yaml is: the line of a value (a wrong value) or of a key
// (a misspelt field, an unknown model id used as a key), from the parsed document's ranges.
import type { Document, LineCounter } from 'yaml';

export type FieldPath = Array<string | number>;

export interface SourceLocator {
  /** The line a field's value starts on (the nearest enclosing field that exists). */
  valueLine(path: FieldPath): number;
  /** The line of the key `key` inside the mapping at `parent`. */
  keyLine(parent: FieldPath, key: string): number;
}

export function locatorFor(doc: Document, counter: LineCounter): SourceLocator {
  const valueLine = (path: FieldPath): number => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return counter.linePos(node.range[0]).line;
    }
    return 1;
  };
  const keyLine = (parent: FieldPath, key: string): number => {
    const map = (parent.length === 0 ? doc.contents : doc.getIn(parent, true)) as { items?: Array<{ key?: { value?: unknown; range?: [number, number, number] } }> } | null;
    const pair = map?.items?.find((item) => String(item.key?.value) === key);
    return pair?.key?.range ? counter.linePos(pair.key.range[0]).line : valueLine(parent);
  };
  return { valueLine, keyLine };
}

/** `fallbacks.gpt-5.5.1`: the dotted form every config message uses for a field. */
export function fieldName(path: FieldPath): string {
  return path.join('.') || '(top level)';
}
