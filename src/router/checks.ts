// The checks a cascade runs on a cheaper tier's answer before it is accepted. Each
// returns undefined when the answer passes, or the reason to escalate (it goes into
// x-switchyard-cascade and the ledger). The model calls some checks need (a second
// sample, a verifier) are made by cascade.ts; here is only what judges the text.
import { Ajv, type ValidateFunction } from 'ajv';
import type { CanonicalRequest, CanonicalResponse } from '../canonical/types.ts';
import { answerText } from './text.ts';

const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
/** Compiled schemas by their JSON text: an application sends the same few schemas again and again. */
const compiled = new Map<string, ValidateFunction | null>();
const MAX_COMPILED = 200;

function validatorFor(schema: Record<string, unknown>): ValidateFunction | null {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (validate === undefined) {
    try {
      validate = ajv.compile(schema);
    } catch {
      validate = null; // a schema ajv cannot compile is the provider's to judge, not a reason to escalate
    }
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, validate);
  }
  return validate;
}

/** JSON-schema validity of the answer (response_format json_schema / json_object) and of tool-call arguments. */
export function schemaCheck(request: CanonicalRequest, response: CanonicalResponse): string | undefined {
  const format = request.responseFormat;
  if (format && format.type !== 'text' && !response.content.some((p) => p.type === 'tool_call')) {
    const text = answerText(response.content).trim();
    let value: unknown;
    try {
      value = JSON.parse(stripFence(text));
    } catch {
      return format.type === 'json_schema' ? `invalid JSON for the schema '${format.name}'` : 'invalid JSON (json_object asked)';
    }
    if (format.type === 'json_object' && (typeof value !== 'object' || value === null || Array.isArray(value))) return 'not a JSON object (json_object asked)';
    if (format.type === 'json_schema') {
      const validate = validatorFor(format.schema);
      if (validate && !validate(value)) return `JSON does not match the schema '${format.name}' (${ajv.errorsText(validate.errors, { separator: '; ' }).slice(0, 160)})`;
    }
  }
  for (const part of response.content) {
    if (part.type !== 'tool_call') continue;
    const tool = request.tools?.find((t) => t.name === part.name);
    if (!tool) return `a call to the unknown tool '${part.name}'`;
    let args: unknown;
    try {
      args = JSON.parse(part.arguments || '{}');
    } catch {
      return `invalid JSON arguments for the tool '${part.name}'`;
    }
    const validate = tool.parameters ? validatorFor(tool.parameters) : null;
    if (validate && !validate(args)) return `arguments of '${part.name}' do not match its schema`;
  }
  return undefined;
}

function stripFence(text: string): string {
  const fenced = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/.exec(text);
  return fenced ? fenced[1] : text;
}

const CHOICES = /(?:^|\n)\s*\(?[A-D][.)]\s+\S/g;
const MATH_ASK = /\b(how (?:many|much|long|far|old)|what is the (?:total|sum|value|number|probability)|calculate|compute|solve|find the (?:value|number|sum|area|remainder)|evaluate)\b/i;

/** What kind of final answer the question asks for, if one can be told from it. */
export function expectedAnswer(question: string): 'choice' | 'number' | undefined {
  CHOICES.lastIndex = 0;
  let options = 0;
  while (CHOICES.exec(question) && options < 4) options++;
  if (options >= 3) return 'choice';
  if (MATH_ASK.test(question) && /\d/.test(question)) return 'number';
  return undefined;
}

/** The final answer of a text: a choice letter, or the last number (commas and $ dropped). */
export function finalAnswer(text: string, kind: 'choice' | 'number' | undefined): string | undefined {
  if (kind === 'choice') {
    const marked = /(?:answer(?: is)?|correct (?:option|choice) is)\s*[:\-]?\s*\(?([A-D])\b/i.exec(text) ?? /^\s*\(?([A-D])[).:]?(?:\s|$)/.exec(text) ?? /\(([A-D])\)\s*$/.exec(text.trim());
    return marked?.[1].toUpperCase();
  }
  const numbers = text.replace(/(\d),(?=\d{3}\b)/g, '$1').match(/-?\d+(?:\.\d+)?/g);
  if (!numbers) return undefined;
  const marked = /(?:answer(?: is)?|####|total(?: is)?|=)\s*[:\-]?\s*\$?\s*(-?\d[\d,]*(?:\.\d+)?)[^\d]*$/i.exec(text);
  const raw = marked ? marked[1].replace(/,/g, '') : numbers[numbers.length - 1];
  return String(Number(raw));
}

/** A question that asks for a choice or a number has an answer that gives one. */
export function finalAnswerCheck(question: string, response: CanonicalResponse): string | undefined {
  const kind = expectedAnswer(question);
  if (!kind) return undefined;
  if (response.content.some((p) => p.type === 'tool_call')) return undefined;
  return finalAnswer(answerText(response.content), kind) === undefined ? `no final ${kind === 'choice' ? 'choice (A–D)' : 'number'} in the answer` : undefined;
}

const REFUSAL = /\b(?:I(?:'m| am) (?:sorry,? but I )?(?:not able|unable) to|I (?:can(?:'|no)t|cannot|won't) (?:help|assist|answer|provide|do that|comply)|I(?:'m| am) not (?:sure|certain)(?: (?:about|how|what|whether|if|that))?|I don't know|as an AI(?: language model)?,? I|I do not have (?:enough|sufficient) information|it is (?:not possible|impossible) (?:for me )?to (?:determine|say|know)|I apologi[sz]e,? but)\b/i;

/** A refusal, a hedge, or an answer cut off or filtered: the cheap tier did not really answer. */
export function refusalCheck(response: CanonicalResponse): string | undefined {
  if (response.finishReason === 'length') return 'the answer was cut off at the output limit';
  if (response.finishReason === 'content_filter') return 'the answer was filtered by the provider';
  if (response.content.some((p) => p.type === 'tool_call')) return undefined;
  const text = answerText(response.content).trim();
  if (text.length === 0) return 'an empty answer';
  // A refusal or hedge speaks up early; one deep inside a long answer is usually a quoted caveat.
  const head = text.length > 600 ? text.slice(0, 600) : text;
  const found = REFUSAL.exec(head);
  return found ? `refusal or hedging ("${found[0].slice(0, 60)}")` : undefined;
}

/** Two samples of the same tier agree: the same final answer where one is asked for, else much the same words. */
export function samplesAgree(question: string, a: CanonicalResponse, b: CanonicalResponse): boolean {
  const kind = expectedAnswer(question);
  const textA = answerText(a.content);
  const textB = answerText(b.content);
  if (kind) {
    const x = finalAnswer(textA, kind);
    const y = finalAnswer(textB, kind);
    if (x !== undefined || y !== undefined) return x === y;
  }
  if (a.finishReason === 'tool_calls' || b.finishReason === 'tool_calls') return toolNames(a) === toolNames(b);
  return wordOverlap(textA, textB) >= 0.5;
}

function toolNames(response: CanonicalResponse): string {
  let names = '';
  for (const part of response.content) if (part.type === 'tool_call') names += `${part.name},`;
  return names;
}

/** Jaccard overlap of the two texts' word sets (lowercased). */
export function wordOverlap(a: string, b: string): number {
  const words = (s: string) => new Set(s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
  const x = words(a);
  const y = words(b);
  if (x.size === 0 && y.size === 0) return 1;
  let shared = 0;
  for (const w of x) if (y.has(w)) shared++;
  return shared / (x.size + y.size - shared);
}
