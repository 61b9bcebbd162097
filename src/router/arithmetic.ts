// The arithmetic in a cheap model's answer, re-checked for the cascade's learned check:
// claims like `13 - 4 = 9`, `9 * $2 = $18` or GSM8K's `<<9*2=18>>`, evaluated and compared
// with what the answer says they come to, and the answer's final number.

const NUMBER = /-?\$?\d[\d,]*(?:\.\d+)?/g;
const EXPRESSION_CHARS = /[0-9.,$% +\-*/x×÷()]/;

function parseNumber(token: string): number {
  return Number(token.replace(/[$,]/g, ''));
}

/** Evaluates + - * / x × ÷ ( ) over numbers; undefined when the text is not one whole expression. */
function evaluate(expression: string, percentAsFraction: boolean): { value: number; operators: number } | undefined {
  const tokens = expression.match(/\$?\d[\d,]*(?:\.\d+)?%?|[-+*/x×÷()]/g);
  if (!tokens || tokens.join('').length !== expression.replace(/\s+/g, '').length) return undefined;
  let position = 0;
  let operators = 0;
  const atom = (): number => {
    const token = tokens[position++];
    if (token === undefined) return NaN;
    if (token === '(') { const v = sum(); return tokens[position++] === ')' ? v : NaN; }
    if (token === '-') return -atom();
    const percent = token.endsWith('%');
    const value = parseNumber(percent ? token.slice(0, -1) : token);
    return percent && percentAsFraction ? value / 100 : value;
  };
  const product = (): number => {
    let value = atom();
    for (let op = tokens[position]; op === '*' || op === '/' || op === 'x' || op === '×' || op === '÷'; op = tokens[position]) {
      position++; operators++;
      const right = atom();
      value = op === '/' || op === '÷' ? value / right : value * right;
    }
    return value;
  };
  const sum = (): number => {
    let value = product();
    for (let op = tokens[position]; op === '+' || op === '-'; op = tokens[position]) {
      position++; operators++;
      const right = product();
      value = op === '+' ? value + right : value - right;
    }
    return value;
  };
  const value = sum();
  return position === tokens.length && Number.isFinite(value) ? { value, operators } : undefined;
}

export function sameValue(computed: number, claimed: number): boolean {
  const difference = Math.abs(computed - claimed);
  if (difference <= 0.005 * Math.abs(claimed) + 0.01) return true;
  return !Number.isInteger(computed) && Number.isInteger(claimed) && difference < 1;
}

function trimExpression(run: string): string {
  return run.replace(/^[^0-9$(-]+/, '').replace(/[^0-9%)]+$/, '');
}

/** Claimed result of `left = right` checked by re-computing left; undefined when it is no arithmetic claim. */
function checkClaim(left: string, right: string): { correct: boolean; result: number } | undefined {
  const l = trimExpression(left);
  const r = trimExpression(right);
  if (!l || !r) return undefined;
  const computed = evaluate(l, true);
  const claimed = evaluate(r, true);
  if (!computed || !claimed || computed.operators === 0) return undefined;
  if (sameValue(computed.value, claimed.value)) return { correct: true, result: claimed.value };
  // "x% of y" style: a percent may be meant as a fraction or as a plain number on either side
  const plain = evaluate(l, false);
  const plainClaim = evaluate(r, false);
  const correct = [computed.value, plain?.value].some((c) => c !== undefined && [claimed.value, plainClaim?.value].some((v) => v !== undefined && sameValue(c, v)));
  return { correct, result: claimed.value };
}

export interface ArithmeticCheck {
  claims: number;
  wrong: number;
  lastResult: number | undefined;
}

/** Re-checks claims like `13 - 4 = 9`, `9 * $2 = $18` and `<<9*2=18>>` in an answer. */
export function checkArithmetic(answer: string): ArithmeticCheck {
  const check: ArithmeticCheck = { claims: 0, wrong: 0, lastResult: undefined };
  const record = (left: string, right: string): void => {
    const claim = checkClaim(left, right);
    if (!claim) return;
    check.claims++;
    if (!claim.correct) check.wrong++;
    check.lastResult = claim.result;
  };
  const plain = answer.replace(/\\([*$])/g, '$1').replace(/<<([^<>]*)>>/g, (_, inner: string) => {
    const at = inner.lastIndexOf('=');
    if (at > 0) record(inner.slice(0, at), inner.slice(at + 1));
    return '';
  });
  for (let at = plain.indexOf('='); at >= 0; at = plain.indexOf('=', at + 1)) {
    if (plain[at + 1] === '=' || plain[at - 1] === '=' || plain[at - 1] === '<' || plain[at - 1] === '>') continue;
    let from = at;
    while (from > 0 && EXPRESSION_CHARS.test(plain[from - 1])) from--;
    let to = at + 1;
    while (to < plain.length && EXPRESSION_CHARS.test(plain[to])) to++;
    record(plain.slice(from, at), plain.slice(at + 1, to));
  }
  return check;
}

export function numbersOf(text: string): number[] {
  return (text.match(NUMBER) ?? []).map(parseNumber).filter(Number.isFinite);
}

export function finalNumber(answer: string): number | undefined {
  const marked = /####\s*(-?\$?\d[\d,]*(?:\.\d+)?)/.exec(answer) ?? /answer is:?\s*\$?(-?\d[\d,]*(?:\.\d+)?)/i.exec(answer);
  if (marked) return parseNumber(marked[1]);
  const all = numbersOf(answer);
  return all.length ? all[all.length - 1] : undefined;
}
