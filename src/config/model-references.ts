// The models named by the routing sections of switchyard.yaml (strategies:, fallbacks:,
// context_fallbacks:), each with the file:line it was written on, and the checks that
// refuse a reference that cannot work: an unknown model, a model falling back to itself,
// a cycle, a context fallback that is not larger, an embedding model in a chat chain.
import { closestIds } from '../catalog/closest.ts';
import type { ConfigFile } from './schema.ts';
import type { ModelLookup } from './known-models.ts';
import { fieldName, type FieldPath, type SourceLocator } from './locate.ts';

/**
 * strategy: a key of strategies:; chain: a key of fallbacks:; fallback: an entry of a
 * chain; context: a key of context_fallbacks:; context-target: its value.
 */
export type ReferenceRole = 'strategy' | 'chain' | 'fallback' | 'context' | 'context-target';

export interface ModelReference {
  role: ReferenceRole;
  /** As written in the file. */
  written: string;
  /** The model id it stands for (an alias resolved), as far as known at load. */
  id: string;
  /** For `fallback` and `context-target`: the model id whose chain or context fallback it is. */
  owner?: string;
  line: number;
  /** `switchyard.yaml:12: fallbacks.gpt-5.5.1`: where it is, for messages. */
  where: string;
}

export interface Problem {
  line: number;
  text: string;
}

export interface SourceFile {
  path: string;
  locate: SourceLocator;
}

/** Every model the routing sections name, in file order. */
export function collectReferences(file: ConfigFile, source: SourceFile, models: ModelLookup): ModelReference[] {
  const aliases = file.aliases ?? {};
  const idOf = (written: string): string => models.get(written)?.id ?? aliases[written] ?? written;
  const refs: ModelReference[] = [];
  const add = (role: ReferenceRole, written: string, path: FieldPath, line: number, owner?: string): void => {
    refs.push({ role, written, id: idOf(written), owner, line, where: `${source.path}:${line}: ${fieldName(path)}` });
  };
  const keyRef = (section: 'strategies' | 'fallbacks' | 'context_fallbacks', role: ReferenceRole, key: string): void => {
    add(role, key, [section, key], source.locate.keyLine([section], key));
  };
  for (const key of Object.keys(file.strategies ?? {})) keyRef('strategies', 'strategy', key);
  for (const [key, chain] of Object.entries(file.fallbacks ?? {})) {
    keyRef('fallbacks', 'chain', key);
    chain.forEach((entry, i) => add('fallback', entry, ['fallbacks', key, i], source.locate.valueLine(['fallbacks', key, i]), idOf(key)));
  }
  for (const [key, target] of Object.entries(file.context_fallbacks ?? {})) {
    keyRef('context_fallbacks', 'context', key);
    add('context-target', target, ['context_fallbacks', key], source.locate.valueLine(['context_fallbacks', key]), idOf(key));
  }
  return refs;
}

const problem = (ref: ModelReference, message: string): Problem => ({ line: ref.line, text: `${ref.where}: ${message}` });

const named = (ref: ModelReference): string => (ref.written === ref.id ? `'${ref.id}'` : `'${ref.written}' (alias of ${ref.id})`);

/**
 * References to models the lookup does not have. With `deferUnknown` (a provider will
 * discover its models at start) they are returned to be checked once it has; otherwise
 * each is a problem naming the closest ids.
 */
export function checkKnown(refs: readonly ModelReference[], models: ModelLookup, deferUnknown: boolean): { problems: Problem[]; unknown: ModelReference[] } {
  const unknown = refs.filter((ref) => !models.get(ref.id));
  if (deferUnknown) return { problems: [], unknown };
  const ids = models.all().map((m) => m.id);
  return { problems: unknown.map((ref) => problem(ref, unknownModel(ref, ids))), unknown };
}

export function unknownModel(ref: ModelReference, ids: string[]): string {
  const near = closestIds(ref.written, ids, 3);
  return `'${ref.written}' is not a model on this gateway${near.length ? `; the closest are: ${near.join(', ')}` : ''}. Use a model id or alias as GET /v1/models lists them (exact: case and dashes matter), or add the model under models: with its provider.`;
}

/** What can be told from the names alone: a model as its own fallback, a model listed twice. */
export function checkShape(refs: readonly ModelReference[]): Problem[] {
  const problems: Problem[] = [];
  const owners = new Map<string, ModelReference>();
  const inChain = new Map<string, ModelReference>();
  for (const ref of refs) {
    if (ref.role === 'fallback' || ref.role === 'context-target') {
      if (ref.id === ref.owner) problems.push(problem(ref, `${named(ref)} is the model this ${ref.role === 'fallback' ? 'chain' : 'context fallback'} is for: a model cannot fall back to itself (its other deployments are tried first anyway). Name a different model.`));
      const seen = inChain.get(`${ref.owner}\n${ref.id}`);
      if (seen && ref.role === 'fallback') problems.push(problem(ref, `${named(ref)} is already in this chain (line ${seen.line}). List each model once.`));
      inChain.set(`${ref.owner}\n${ref.id}`, ref);
      continue;
    }
    const key = `${ref.role}\n${ref.id}`;
    const first = owners.get(key);
    if (first) problems.push(problem(ref, `${named(ref)} is the same model as '${first.written}' on line ${first.line}. Keep one entry for it.`));
    else owners.set(key, ref);
  }
  return problems;
}

/**
 * A model's chain continues with the chains of the models in it, and a context fallback
 * with the target's own, so a cycle would never end: each one found is named.
 */
export function checkCycles(refs: readonly ModelReference[]): Problem[] {
  return [...findCycles(refs, 'fallback', 'fallbacks'), ...findCycles(refs, 'context-target', 'context fallbacks')];
}

function findCycles(refs: readonly ModelReference[], role: 'fallback' | 'context-target', what: string): Problem[] {
  const edges = new Map<string, ModelReference[]>();
  for (const ref of refs) if (ref.role === role && ref.owner !== ref.id) edges.set(ref.owner!, [...(edges.get(ref.owner!) ?? []), ref]);
  const done = new Set<string>();
  const problems: Problem[] = [];
  const visit = (id: string, path: string[]): void => {
    if (done.has(id)) return;
    for (const edge of edges.get(id) ?? []) {
      const at = path.indexOf(edge.id);
      if (at >= 0) {
        const cycle = [...path.slice(at), edge.id].join(' → ');
        problems.push(problem(edge, `the ${what} form a cycle: ${cycle}. A model's fallbacks continue with the fallbacks of the models they name, so this would never end; remove one of these entries.`));
      } else visit(edge.id, [...path, edge.id]);
    }
    done.add(id);
  };
  for (const owner of edges.keys()) visit(owner, [owner]);
  return problems;
}

/** What needs the models' facts: a context fallback that is not larger, embedding and chat models mixed. */
export function checkFacts(refs: readonly ModelReference[], models: ModelLookup): Problem[] {
  const problems: Problem[] = [];
  for (const ref of refs) {
    if (ref.role !== 'fallback' && ref.role !== 'context-target') continue;
    const target = models.get(ref.id);
    const owner = models.get(ref.owner!);
    if (!target || !owner || target.id === owner.id) continue;
    if (isEmbedding(target) !== isEmbedding(owner)) {
      problems.push(problem(ref, `${named(ref)} is ${isEmbedding(target) ? 'an embedding model' : 'not an embedding model'} and ${owner.id} is ${isEmbedding(owner) ? 'one' : 'not'}: a fallback must serve the same requests. Name ${isEmbedding(owner) ? 'an embedding' : 'a chat'} model.`));
    } else if (ref.role === 'context-target' && target.contextWindow <= owner.contextWindow) {
      problems.push(problem(ref, notLarger(ref, target, owner, models)));
    }
  }
  return problems;
}

type Facts = NonNullable<ReturnType<ModelLookup['get']>>;

function isEmbedding(model: Facts): boolean {
  return model.endpoints.includes('embeddings');
}

function notLarger(ref: ModelReference, target: Facts, owner: Facts, models: ModelLookup): string {
  const larger = models.all()
    .map((m) => models.get(m.id)!)
    .filter((m) => m.contextWindow > owner.contextWindow && isEmbedding(m) === isEmbedding(owner))
    .sort((a, b) => a.contextWindow - b.contextWindow || a.id.localeCompare(b.id))
    .slice(0, 3)
    .map((m) => `${m.id} (${m.contextWindow})`);
  const instead = larger.length ? `Name a model with a larger window, such as ${larger.join(', ')}` : `No model on this gateway has a larger window than ${owner.id}; remove the entry`;
  return `${named(ref)} has a context window of ${target.contextWindow} tokens, not more than ${owner.id}'s ${owner.contextWindow}, so it could never take a prompt too long for ${owner.id}. ${instead}, or set models.${target.id}.context_window if the catalog's is wrong.`;
}

/**
 * Each chain followed to its end: the models written for `id` first, in order, then
 * the chains of those models (breadth first), each model once. Chains have no cycles.
 */
export function expandChains(refs: readonly ModelReference[]): Map<string, readonly string[]> {
  const direct = new Map<string, string[]>();
  for (const ref of refs) if (ref.role === 'fallback') direct.set(ref.owner!, [...(direct.get(ref.owner!) ?? []), ref.id]);
  const expanded = new Map<string, readonly string[]>();
  for (const owner of direct.keys()) {
    const order: string[] = [];
    const seen = new Set([owner]);
    for (let i = -1; i < order.length; i++) {
      for (const next of direct.get(i < 0 ? owner : order[i]) ?? []) {
        if (!seen.has(next)) {
          seen.add(next);
          order.push(next);
        }
      }
    }
    expanded.set(owner, order);
  }
  return expanded;
}
