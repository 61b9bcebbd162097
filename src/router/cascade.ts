// Cascades and Pro validation, as wrappers around the model call (src/invoke.ts):
//   withValidation(withCascade(withModelFallback(withDeploymentFallback(invoke))))
// A cascade asks the cheapest tier of its ladder first, reads the whole answer (no byte
// reaches the client yet), runs the route's checks on it, and either accepts it or
// escalates to the next tier; the last tier's answer is accepted as it is. A critical
// route's final answer then goes to the pro tier with the question; a disagreement tags
// the request for human review. Every call is an attempt with its usage, so the ledger
// has a row per tier, sample and judge, and the request is billed their sum.
import { GatewayError } from '../canonical/errors.ts';
import type { CanonicalResponse } from '../canonical/types.ts';
import { resolveEffort } from '../catalog/catalog.ts';
import type { Attempt, RouteNotes } from '../call-state.ts';
import { isRetryable } from '../deployment-fallback.ts';
import type { Invoke, InvokeWrapper, ModelCall, Outcome } from '../invoke.ts';
import { attemptsOf, rememberAttempts } from '../model-fallback.ts';
import type { CascadeSettings } from './config.ts';
import { finalAnswerCheck, refusalCheck, samplesAgree, schemaCheck } from './checks.ts';
import type { AutoRoute, Rung } from './decide.ts';
import { askJudge, buffered } from './judge.ts';
import { answerText, questionOf } from './text.ts';

type Answered = Extract<Outcome, { kind: 'response' }>;

export function withCascade(): InvokeWrapper {
  return (next: Invoke): Invoke => (call) => {
    const auto = call.auto;
    return auto?.ladder && auto.cascade ? runCascade(next, call, auto, auto.ladder, auto.cascade) : next(call);
  };
}

async function runCascade(next: Invoke, call: ModelCall, auto: AutoRoute, ladder: readonly Rung[], settings: CascadeSettings): Promise<Outcome> {
  const question = questionOf(call.request).text;
  const attempts: Attempt[] = [];
  const steps: string[] = [];
  const escalatedFrom: string[] = [];
  for (let i = 0; i < ladder.length; i++) {
    const rung = ladder[i];
    const last = i === ladder.length - 1;
    const sub = buffered(onRung(call, rung));
    const sampling = !last && settings.checks.includes('consistency');
    const [first, second] = await Promise.allSettled(sampling ? [next(sub), next(sub)] : [next(sub)]);
    if (first.status === 'rejected') {
      const err = first.reason;
      attempts.push(...attemptsOf(err), ...attemptsFrom(second));
      if (last || !(err instanceof GatewayError) || !isRetryable(err) || call.signal.aborted) {
        if (typeof err === 'object' && err !== null) rememberAttempts(err, attempts);
        throw err;
      }
      steps.push(`${rung.tier} escalated (${err.status} ${err.code ?? 'error'})`);
      escalatedFrom.push(rung.tier);
      continue;
    }
    const outcome = first.value;
    if (outcome.kind !== 'response') {
      attempts.push(...outcome.attempts, ...attemptsFrom(second));
      if (last) return withNotes({ ...outcome, attempts }, { cascade: [...steps, `${rung.tier} failed`].join('; '), escalatedFrom });
      steps.push(`${rung.tier} escalated (upstream failed after it took the call)`);
      escalatedFrom.push(rung.tier);
      continue;
    }
    const extra = attemptsFrom(second, `cascade ${rung.tier}: second sample`);
    const why = last ? undefined : await escalation(next, call, auto, settings, question, outcome, second, extra);
    const step = why ? `${rung.tier} escalated (${why})` : `${rung.tier} accepted${last && i > 0 ? ' (last tier)' : ' (checks passed)'}`;
    // The answering attempt stays last (respond() completes it); samples and judges go before it.
    attempts.push(...extra, ...noted(outcome.attempts, `cascade ${step}`));
    steps.push(step);
    if (!why) return withNotes({ ...outcome, attempts }, { cascade: steps.join('; '), escalatedFrom });
    escalatedFrom.push(rung.tier);
  }
  throw new Error('a cascade ladder is never empty');
}

/** The reason to escalate from this answer, or undefined when every check passed. */
async function escalation(next: Invoke, call: ModelCall, auto: AutoRoute, settings: CascadeSettings, question: string, outcome: Answered, second: PromiseSettledResult<Outcome> | undefined, extra: Attempt[]): Promise<string | undefined> {
  const { response } = outcome;
  for (const check of settings.checks) {
    let why: string | undefined;
    switch (check) {
      case 'schema': why = schemaCheck(call.request, response); break;
      case 'final_answer': why = finalAnswerCheck(question, response); break;
      case 'refusal': why = refusalCheck(response); break;
      case 'learned': why = learnedCheck(call, settings, question, response); break;
      case 'consistency': why = consistencyCheck(question, response, second); break;
      case 'verifier': why = await verifierCheck(next, call, auto, response, extra); break;
    }
    if (why) return why;
  }
  return undefined;
}

function learnedCheck(call: ModelCall, settings: CascadeSettings, question: string, response: CanonicalResponse): string | undefined {
  if (response.content.some((p) => p.type === 'tool_call')) return undefined;
  const scorer = call.gateway.router.scorer;
  const threshold = settings.learnedThreshold ?? scorer.answerThresholdForShare(settings.learnedShare);
  const risk = scorer.answerRisk(question, answerText(response.content));
  return risk >= threshold ? `learned check ${risk.toFixed(3)} ≥ ${threshold.toFixed(3)}` : undefined;
}

function consistencyCheck(question: string, response: CanonicalResponse, second: PromiseSettledResult<Outcome> | undefined): string | undefined {
  if (!second || second.status === 'rejected' || second.value.kind !== 'response') return undefined; // no second sample: no signal
  return samplesAgree(question, response, second.value.response) ? undefined : 'two samples disagree';
}

async function verifierCheck(next: Invoke, call: ModelCall, auto: AutoRoute, response: CanonicalResponse, extra: Attempt[]): Promise<string | undefined> {
  if (!auto.verifier) return undefined;
  const verdict = await askJudge(next, withoutRoute(call), auto.verifier, 'You check whether an assistant\'s answer to the conversation is correct and complete.', response);
  extra.push(...noted(verdict.attempts, `cascade verifier ${auto.verifier.id}: ${verdict.ok === undefined ? 'no verdict' : verdict.ok ? 'correct' : 'wrong'}`));
  return verdict.ok === false ? `verifier ${auto.verifier.id}: ${verdict.reason || 'judged wrong'}` : undefined;
}

/** Critical routes: the final answer is shown to the pro tier; a disagreement asks for a person's review. */
export function withValidation(): InvokeWrapper {
  // Not async on the way through: a call that is not critical costs no extra promise.
  return (next: Invoke): Invoke => (call) => (call.auto?.spec.critical ? validated(next, call, call.auto) : next(call));
}

async function validated(next: Invoke, call: ModelCall, auto: AutoRoute): Promise<Outcome> {
  const outcome = await next(auto.ladder ? call : buffered(call));
  if (outcome.kind !== 'response') return outcome;
  const validator = auto.validator;
  if (!validator) return withNotes(outcome, { validation: 'skipped: no pro-tier model can be called', review: 'required (critical route not validated)' });
  const verdict = await askJudge(next, withoutRoute(call), validator, 'You are the final reviewer of an answer to a critical request. Say whether you agree that it is correct, complete and safe to send.', outcome.response);
  const said = verdict.ok === undefined ? 'failed' : verdict.ok ? 'agreed' : 'disagreed';
  const answering = outcome.attempts.length - 1;
  const attempts = [...outcome.attempts.slice(0, answering), ...noted(verdict.attempts, `pro validation ${validator.id}: ${said}`), outcome.attempts[answering]];
  const notes: RouteNotes = { validation: `${said} (${validator.id}${verdict.reason ? `: ${verdict.reason}` : ''})` };
  if (verdict.ok !== true) {
    notes.review = verdict.ok === false ? 'required (pro validation disagreed)' : 'required (pro validation failed)';
    call.gateway.log.warn({ requestId: call.requestId, route: auto.spec.name, validator: validator.id, verdict: said, reason: verdict.reason }, 'critical answer needs review');
  }
  return withNotes({ ...outcome, attempts }, notes);
}

/** The call on one rung of the ladder: its model, deployments and reasoning level; its tier's other models as fallbacks. */
function onRung(call: ModelCall, rung: Rung): ModelCall {
  const asked = call.requestedEffort ?? call.request.reasoningEffort;
  const effort = resolveEffort(rung.model, asked);
  return {
    ...call, model: rung.model, candidates: call.gateway.catalog.deployments(rung.model), deployment: undefined, fallbacks: rung.alternatives, auto: undefined,
    request: { ...call.request, reasoningEffort: effort },
    changes: { ...call.changes, effort: effort !== asked ? effort : undefined },
  };
}

function withoutRoute(call: ModelCall): ModelCall {
  return { ...call, auto: undefined };
}

function attemptsFrom(settled: PromiseSettledResult<Outcome> | undefined, note?: string): Attempt[] {
  if (!settled) return [];
  const attempts = settled.status === 'fulfilled' ? settled.value.attempts : [...attemptsOf(settled.reason)];
  return note ? noted(attempts, note) : attempts;
}

function noted(attempts: readonly Attempt[], note: string): Attempt[] {
  return attempts.map((a, i) => (i === attempts.length - 1 ? { ...a, note } : a));
}

function withNotes(outcome: Outcome, notes: RouteNotes): Outcome {
  return { ...outcome, notes: { ...outcome.notes, ...notes } };
}
