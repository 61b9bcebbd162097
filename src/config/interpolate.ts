// ${VAR} and ${VAR:-default} in switchyard.yaml. References are swapped for inert
// placeholders BEFORE the YAML is parsed, and the environment's values are put into
// the parsed scalars AFTER: so `keys: [${TEAM_KEY}]` and `{ api_key: ${KEY} }` parse
// (a bare `${` would open a flow mapping), a value can never change the structure of
// the file whatever characters it holds, and no value ever reaches a YAML error message.
// Placeholders stay on the reference's line, so errors keep their line numbers.
import { isScalar, visit } from 'yaml';
import type { Document, LineCounter } from 'yaml';

export interface EnvReference {
  name: string;
  fallback?: string;
}

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}\n]*))?\}/g;
// Private-use characters: legal in every kind of YAML scalar (plain, quoted, in flow
// collections), never YAML indicators, and not something a config file contains.
const OPEN = '\uE000';
const CLOSE = '\uE001';
const PLACEHOLDER = /\uE000(\d+)\uE001/g;

/** The text with every reference replaced by a placeholder, and the references in order. */
export function protectReferences(text: string): { text: string; references: EnvReference[] } {
  const references: EnvReference[] = [];
  const protectedText = text.replace(REFERENCE, (_match, name: string, fallback: string | undefined) => {
    references.push(fallback === undefined ? { name } : { name, fallback });
    return `${OPEN}${references.length - 1}${CLOSE}`;
  });
  return { text: protectedText, references };
}

export type InterpolationProblem = (line: number, message: string) => Error;

/** Put the environment's values into the parsed document's scalars (keys and values). */
export function resolveReferences(doc: Document, references: EnvReference[], env: NodeJS.ProcessEnv, counter: LineCounter, problem: InterpolationProblem): void {
  visit(doc, {
    Scalar(_key, node) {
      if (!isScalar(node) || typeof node.value !== 'string') return;
      const line = (): number => (node.range ? counter.linePos(node.range[0]).line : 1);
      if (node.value.includes('${')) {
        throw problem(line(), `a '\${' here does not start a valid reference: write \${NAME} or \${NAME:-default} (NAME: letters, digits and _, not starting with a digit).`);
      }
      if (!node.value.includes(OPEN)) return;
      node.value = node.value.replace(PLACEHOLDER, (_match, index: string) => {
        const { name, fallback } = references[Number(index)];
        const value = env[name];
        if (value !== undefined && value !== '') return value;
        if (fallback !== undefined) return fallback;
        throw problem(line(), `\${${name}} is not set in the environment. Export ${name}, or write \${${name}:-default} to give a default.`);
      });
    },
  });
}

