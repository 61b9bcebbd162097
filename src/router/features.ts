// Features of a prompt (for the difficulty router) and of a prompt plus a cheap model's
// answer (for the learned cascade check). Words are hashed (FNV-1a over lowercased
// letters/digits, unigrams and word pairs) into HASH_BUCKETS slots; hand features live in
// the slots after them. The prompt pass reads each character once, allocates nothing and
// looks at most at the first HEAD_CHARS and the last TAIL_CHARS of the text.

import { checkArithmetic, finalNumber, numbersOf, sameValue } from './arithmetic.ts';

export { checkArithmetic, type ArithmeticCheck } from './arithmetic.ts';

export const HASH_BITS = 19;
export const HASH_BUCKETS = 1 << HASH_BITS;
const HASH_MASK = HASH_BUCKETS - 1;
const HEAD_CHARS = 4096;
const TAIL_CHARS = 2048;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** Answer words are hashed from another start so they do not share slots with prompt words. */
const ANSWER_SALT = 0x5bd1e995;

/** Names of the hand features; slot of hand feature i is HASH_BUCKETS + i. */
export const HAND_FEATURES = [
  'log_chars', 'log_words', 'log_lines', 'code_markers', 'digit_share', 'log_digits', 'equation_chars',
  'reasoning_words', 'math_words', 'list_lines', 'choice_lines', 'question_marks', 'log_turns', 'avg_word_len',
  'option_overlap', 'option_max_overlap', 'options_numeric', 'long_word_share', 'stem_numbers',
  // answer (cascade) features
  'a_log_chars', 'a_len_ratio', 'a_final_marker', 'a_has_number', 'a_final_fraction', 'a_final_negative',
  'a_claims', 'a_wrong_claims', 'a_any_wrong', 'a_wrong_share', 'a_question_numbers_used', 'a_question_numbers_missing',
  'a_hedges', 'a_truncated', 'a_log_numbers', 'a_final_in_question', 'a_final_is_last_result', 'a_rounding_words',
] as const;
export const FEATURE_DIMENSION = HASH_BUCKETS + HAND_FEATURES.length;
const SLOT = Object.fromEntries(HAND_FEATURES.map((name, i) => [name, HASH_BUCKETS + i])) as Record<(typeof HAND_FEATURES)[number], number>;

/** A reusable sparse vector: the first `length` entries of indices/values are live. Indices may repeat (they add). */
export interface SparseVector {
  indices: Int32Array;
  values: Float32Array;
  length: number;
}

export function createSparseVector(capacity = 16384): SparseVector {
  return { indices: new Int32Array(capacity), values: new Float32Array(capacity), length: 0 };
}

function push(out: SparseVector, index: number, value: number): void {
  if (out.length >= out.indices.length) return;
  out.indices[out.length] = index;
  out.values[out.length] = value;
  out.length++;
}

/** A tiny open-addressing set of 32-bit word hashes (faster than a Set<number> on the hot path). */
interface WordHashTable {
  slots: Uint32Array;
  used: Uint8Array;
}

function hashWord(word: string, salt: number): number {
  let h = FNV_OFFSET ^ salt;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

function wordHashSet(words: string[]): WordHashTable {
  const table: WordHashTable = { slots: new Uint32Array(256), used: new Uint8Array(256) };
  for (const word of words) {
    const h = hashWord(word, 0);
    let at = h & 255;
    while (table.used[at] && table.slots[at] !== h) at = (at + 1) & 255;
    table.slots[at] = h;
    table.used[at] = 1;
  }
  return table;
}

function hasWord(table: WordHashTable, h: number): boolean {
  for (let at = h & 255; table.used[at]; at = (at + 1) & 255) if (table.slots[at] === h) return true;
  return false;
}

const REASONING_WORDS = wordHashSet([
  'prove', 'proof', 'why', 'step', 'steps', 'derive', 'explain', 'justify', 'reason', 'reasoning', 'analyze',
  'analyse', 'compare', 'evaluate', 'implies', 'therefore', 'suppose', 'assume', 'show', 'demonstrate', 'infer',
  'conclude', 'hypothesis', 'statement', 'argument', 'optimal', 'complexity', 'algorithm', 'design', 'tradeoff',
]);
const MATH_WORDS = wordHashSet([
  'equation', 'integral', 'derivative', 'matrix', 'probability', 'theorem', 'polynomial', 'function', 'sum',
  'solve', 'calculate', 'compute', 'value', 'total', 'percent', 'ratio', 'average', 'how', 'many', 'much', 'find',
  'sqrt', 'log', 'limit', 'vector', 'group', 'field', 'prime', 'mod', 'velocity', 'energy', 'mass',
]);

/**
 * Words of the "A." .. "H." option lines (a multiple-choice question), kept as deduplicated hashes:
 * options that share most of their words ask for a fine distinction, options that are all numbers
 * ask for a computation — both where a mid-size model falls behind a frontier one.
 */
const MAX_OPTIONS = 8;
const OPTION_WORDS = 96;
const optionWords = new Uint32Array(MAX_OPTIONS * OPTION_WORDS);
const optionSizes = new Int32Array(MAX_OPTIONS);
const optionLetterWords = new Int32Array(MAX_OPTIONS);
const optionStartsWithNumber = new Uint8Array(MAX_OPTIONS);
let currentOption = -1;
let optionCount = 0;

function addOptionWord(word: number, startsWithDigit: boolean): void {
  const at = currentOption * OPTION_WORDS;
  const size = optionSizes[currentOption];
  if (size === 0 && optionLetterWords[currentOption] === 0) optionStartsWithNumber[currentOption] = startsWithDigit ? 1 : 0;
  if (!startsWithDigit) optionLetterWords[currentOption]++;
  for (let k = 0; k < size; k++) if (optionWords[at + k] === word) return;
  if (size < OPTION_WORDS) optionWords[at + size] = word;
  optionSizes[currentOption] = Math.min(OPTION_WORDS, size + 1);
}

function sharedWords(a: number, b: number): number {
  let shared = 0;
  for (let i = 0; i < optionSizes[a]; i++) {
    const word = optionWords[a * OPTION_WORDS + i];
    for (let j = 0; j < optionSizes[b]; j++) if (optionWords[b * OPTION_WORDS + j] === word) { shared++; break; }
  }
  return shared;
}

interface OptionSimilarity { mean: number; max: number }
const similarity: OptionSimilarity = { mean: 0, max: 0 };

/** Mean and largest Jaccard overlap of the options' word sets over all pairs (0 with under two options). */
function optionSimilarity(options: number): OptionSimilarity {
  similarity.mean = similarity.max = 0;
  let pairs = 0;
  for (let a = 0; a < options; a++) {
    for (let b = a + 1; b < options; b++) {
      const shared = sharedWords(a, b);
      const union = optionSizes[a] + optionSizes[b] - shared;
      const overlap = union ? shared / union : 1;
      similarity.mean += overlap;
      if (overlap > similarity.max) similarity.max = overlap;
      pairs++;
    }
  }
  if (pairs) similarity.mean /= pairs;
  return similarity;
}

/** Every option (two or more) is a number, at most with a one-word unit. */
function optionsAreNumbers(options: number): boolean {
  if (options < 2) return false;
  for (let k = 0; k < options; k++) if (!optionStartsWithNumber[k] || optionLetterWords[k] > 1) return false;
  return true;
}

interface ScanCounts {
  words: number;
  wordChars: number;
  digits: number;
  code: number;
  equation: number;
  reasoning: number;
  math: number;
  questions: number;
  lines: number;
  listLines: number;
  choiceLines: number;
  longWords: number;
  stemNumbers: number;
}

const counts: ScanCounts = {
  words: 0, wordChars: 0, digits: 0, code: 0, equation: 0, reasoning: 0, math: 0, questions: 0, lines: 0, listLines: 0, choiceLines: 0,
  longWords: 0, stemNumbers: 0,
};

function resetCounts(): void {
  counts.words = counts.wordChars = counts.digits = counts.code = counts.equation = 0;
  counts.reasoning = counts.math = counts.questions = counts.listLines = counts.choiceLines = 0;
  counts.longWords = counts.stemNumbers = 0;
  counts.lines = 1;
  optionSizes.fill(0);
  optionLetterWords.fill(0);
  currentOption = -1;
  optionCount = 0;
}

/**
 * Hashes the words of text[from, to) into out.indices (values are set by normaliseWords) and adds
 * to the hand counts. Locals instead of object fields and no calls: this loop is the hot path.
 */
function scanRange(text: string, from: number, to: number, salt: number, out: SparseVector): void {
  const indices = out.indices;
  const capacity = indices.length - 1;
  let length = out.length;
  let hash = FNV_OFFSET ^ salt;
  let wordLength = 0;
  let previous = 0;
  let hasPrevious = false;
  let lineStart = true;
  let wordStartsWithDigit = false;
  let skipOptionLetter = false;
  const trackOptions = salt === 0;
  let longWords = 0, stemNumbers = 0;
  let digits = 0, words = 0, wordChars = 0, reasoning = 0, math = 0, lines = 0, questions = 0, code = 0, equation = 0, listLines = 0, choiceLines = 0;
  for (let i = from; i <= to; i++) {
    const c = i < to ? text.charCodeAt(i) : 32;
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c > 127) {
      if (c <= 57) digits++;
      if (lineStart) {
        lineStart = false;
        // "A." / "B)" option lines and "1." / "1)" list lines
        const next = i + 1 < to ? text.charCodeAt(i + 1) : 0;
        if (next === 46 || next === 41) {
          if (c >= 65 && c <= 72) {
            if (trackOptions && c - 65 === counts.choiceLines + choiceLines && c - 65 < MAX_OPTIONS) {
              currentOption = c - 65;
              optionCount = currentOption + 1;
              skipOptionLetter = true;
            }
            choiceLines++;
          } else if (c <= 57) listLines++;
        }
      }
      if (wordLength === 0) wordStartsWithDigit = c <= 57;
      hash = Math.imul(hash ^ (c >= 65 && c <= 90 ? c | 0x20 : c), FNV_PRIME);
      wordLength++;
      continue;
    }
    if (wordLength > 0) {
      const word = hash >>> 0;
      if (length < capacity) {
        indices[length++] = word & HASH_MASK;
        if (hasPrevious) indices[length++] = ((Math.imul(previous ^ 0x9e3779b9, FNV_PRIME) ^ word) >>> 0) & HASH_MASK;
      }
      if (trackOptions) {
        if (hasWord(REASONING_WORDS, word)) reasoning++;
        else if (hasWord(MATH_WORDS, word)) math++;
        if (skipOptionLetter) skipOptionLetter = false;
        else if (currentOption >= 0) addOptionWord(word, wordStartsWithDigit);
        else if (wordStartsWithDigit && counts.choiceLines + choiceLines === 0) stemNumbers++;
      }
      if (wordLength >= 12) longWords++;
      previous = word;
      hasPrevious = true;
      words++;
      wordChars += wordLength;
      hash = FNV_OFFSET ^ salt;
      wordLength = 0;
    }
    if (c === 10) { lines++; lineStart = true; currentOption = -1; continue; }
    if (c === 32 || c === 9) continue;
    if (c === 63) questions++;
    else if (c === 123 || c === 125 || c === 59 || c === 96) code++;
    else if (c === 61 || c === 43 || c === 42 || c === 47 || c === 94 || c === 60 || c === 62) equation++;
    if (lineStart) {
      if (c === 45 || c === 42 || c === 8226) listLines++;
      lineStart = false;
    }
  }
  out.length = length;
  counts.digits += digits; counts.words += words; counts.wordChars += wordChars; counts.reasoning += reasoning;
  counts.math += math; counts.lines += lines; counts.questions += questions; counts.code += code;
  counts.equation += equation; counts.listLines += listLines; counts.choiceLines += choiceLines;
  counts.longWords += longWords; counts.stemNumbers += stemNumbers;
}

/** Scales the hashed-word entries from `start` to 1/sqrt(count) so long and short texts weigh alike. */
function normaliseWords(out: SparseVector, start: number): void {
  const n = out.length - start;
  if (n === 0) return;
  const scale = 1 / Math.sqrt(n);
  for (let i = start; i < out.length; i++) out.values[i] = scale;
}

function scanCapped(text: string, salt: number, out: SparseVector): void {
  resetCounts();
  const start = out.length;
  if (text.length <= HEAD_CHARS + TAIL_CHARS) scanRange(text, 0, text.length, salt, out);
  else {
    scanRange(text, 0, HEAD_CHARS, salt, out);
    scanRange(text, text.length - TAIL_CHARS, text.length, salt, out);
  }
  normaliseWords(out, start);
}

/** Fills `out` (cleared first) with the features of a prompt; `turns` is the conversation depth. */
export function promptFeatures(text: string, turns: number, out: SparseVector): SparseVector {
  out.length = 0;
  scanCapped(text, 0, out);
  const scanned = Math.min(text.length, HEAD_CHARS + TAIL_CHARS) || 1;
  push(out, SLOT.log_chars, Math.log1p(text.length) / 4);
  push(out, SLOT.log_words, Math.log1p(counts.words) / 4);
  push(out, SLOT.log_lines, Math.log1p(counts.lines) / 2);
  push(out, SLOT.code_markers, Math.log1p(counts.code) / 2);
  push(out, SLOT.digit_share, (counts.digits / scanned) * 4);
  push(out, SLOT.log_digits, Math.log1p(counts.digits) / 3);
  push(out, SLOT.equation_chars, Math.log1p(counts.equation) / 2);
  push(out, SLOT.reasoning_words, Math.log1p(counts.reasoning));
  push(out, SLOT.math_words, Math.log1p(counts.math));
  push(out, SLOT.list_lines, Math.log1p(counts.listLines));
  push(out, SLOT.choice_lines, Math.min(counts.choiceLines, 8) / 4);
  push(out, SLOT.question_marks, Math.log1p(counts.questions));
  // 0 for a single-turn prompt: the training data has only those, so its weight stays 0 until data with turns exists
  push(out, SLOT.log_turns, Math.log1p(Math.max(0, turns - 1)));
  push(out, SLOT.avg_word_len, counts.words ? counts.wordChars / counts.words / 6 : 0);
  const overlap = optionSimilarity(optionCount);
  push(out, SLOT.option_overlap, overlap.mean);
  push(out, SLOT.option_max_overlap, overlap.max);
  push(out, SLOT.options_numeric, optionsAreNumbers(optionCount) ? 1 : 0);
  push(out, SLOT.long_word_share, counts.words ? (counts.longWords / counts.words) * 10 : 0);
  push(out, SLOT.stem_numbers, Math.log1p(counts.stemNumbers) / 2);
  return out;
}

// ---- the cascade check: features of the prompt and of the cheap model's answer ----

const HEDGES = /\b(?:however|assum\w*|approximately|roughly|cannot|can't|unclear|sorry|impossible|actually|wait|mistake|incorrect|not possible|estimate\w*|unless)\b/g;
const ROUNDING = /\b(?:round\w*|nearest|whole number|partial|half an?|can't have|cannot have|fraction of)\b/g;

/** Fills `out` (cleared first) with the prompt's features, the answer's hashed words and the answer checks. */
export function answerFeatures(prompt: string, answer: string, out: SparseVector): SparseVector {
  promptFeatures(prompt, 1, out);
  scanCapped(answer, ANSWER_SALT, out);
  const arithmetic = checkArithmetic(answer);
  const final = finalNumber(answer);
  const questionNumbers = new Set(numbersOf(prompt));
  const answerNumbers = numbersOf(answer);
  const answerSet = new Set(answerNumbers);
  let used = 0;
  for (const n of questionNumbers) if (answerSet.has(n)) used++;
  const marker = /####|answer is/i.test(answer);
  const lower = answer.toLowerCase();
  const trimmed = answer.trimEnd();
  push(out, SLOT.a_log_chars, Math.log1p(answer.length) / 4);
  push(out, SLOT.a_len_ratio, Math.min(4, answer.length / Math.max(1, prompt.length)) / 2);
  push(out, SLOT.a_final_marker, marker ? 1 : 0);
  push(out, SLOT.a_has_number, final === undefined ? 0 : 1);
  push(out, SLOT.a_final_fraction, final !== undefined && !Number.isInteger(final) ? 1 : 0);
  push(out, SLOT.a_final_negative, final !== undefined && final < 0 ? 1 : 0);
  push(out, SLOT.a_claims, Math.log1p(arithmetic.claims));
  push(out, SLOT.a_wrong_claims, Math.log1p(arithmetic.wrong));
  push(out, SLOT.a_any_wrong, arithmetic.wrong > 0 ? 1 : 0);
  push(out, SLOT.a_wrong_share, arithmetic.claims ? arithmetic.wrong / arithmetic.claims : 0);
  push(out, SLOT.a_question_numbers_used, questionNumbers.size ? used / questionNumbers.size : 1);
  push(out, SLOT.a_question_numbers_missing, Math.log1p(questionNumbers.size - used));
  push(out, SLOT.a_hedges, Math.log1p((lower.match(HEDGES) ?? []).length));
  push(out, SLOT.a_truncated, !marker && !/[.!)\]]$/.test(trimmed) ? 1 : 0);
  push(out, SLOT.a_log_numbers, Math.log1p(answerNumbers.length) / 2);
  push(out, SLOT.a_final_in_question, final !== undefined && questionNumbers.has(final) ? 1 : 0);
  push(out, SLOT.a_final_is_last_result, final !== undefined && arithmetic.lastResult !== undefined && sameValue(arithmetic.lastResult, final) ? 1 : 0);
  push(out, SLOT.a_rounding_words, Math.log1p((lower.match(ROUNDING) ?? []).length));
  return out;
}

/** Human-readable name of a feature slot (hand feature name, or "word#<bucket>"). */
export function featureName(index: number): string {
  return index >= HASH_BUCKETS ? (HAND_FEATURES[index - HASH_BUCKETS] ?? `slot#${index}`) : `word#${index}`;
}
