// How a review looks from outside: the admin API's and the CLI's JSON (snake_case, like
// the rest of the admin API), and what an edit makes of the model's answer.
import type { CanonicalResponse } from '../canonical/types.ts';
import { answerText } from '../router/text.ts';
import type { ReviewRow } from './types.ts';

export function reviewView(row: ReviewRow): object {
  const answer = parseAnswer(row.answer);
  return {
    object: 'review',
    id: row.id,
    status: row.status,
    mode: row.mode,
    rule: row.rule,
    reason: row.reason,
    request_id: row.requestId,
    key_id: row.keyId,
    project_id: row.projectId,
    endpoint: row.endpoint,
    stream: row.stream,
    model: row.model,
    on_timeout: row.onTimeout,
    created_at: row.createdAt,
    expires_at: row.expiresAt,
    request: parseJsonText(row.request),
    answer_text: answer ? answerText(answer.content) : '',
    tool_calls: answer ? toolCalls(answer) : [],
    usage: row.usage,
    cost_usd: row.costUsd,
    decision: row.status === 'pending' ? null : {
      status: row.status,
      decided_by: row.decidedBy,
      decided_at: row.decidedAt,
      reason: row.decisionReason,
      before_text: answer ? answerText(answer.content) : '',
      after_text: afterText(row),
    },
  };
}

/** The answer an edit releases: the reviewer's text as the whole answer (tool calls and reasoning dropped). */
export function editedAnswer(answer: CanonicalResponse, text: string): CanonicalResponse {
  return { ...answer, content: [{ type: 'text', text }], finishReason: 'stop', providerFinishReason: undefined };
}

function afterText(row: ReviewRow): string | null {
  if (row.status === 'rejected' || !row.finalAnswer) return null;
  const final = parseAnswer(row.finalAnswer);
  return final ? answerText(final.content) : null;
}

function toolCalls(answer: CanonicalResponse): Array<{ name: string; arguments: string }> {
  const calls: Array<{ name: string; arguments: string }> = [];
  for (const part of answer.content) if (part.type === 'tool_call') calls.push({ name: part.name, arguments: part.arguments });
  return calls;
}

export function parseAnswer(text: string): CanonicalResponse | undefined {
  try {
    return JSON.parse(text) as CanonicalResponse;
  } catch {
    return undefined;
  }
}

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
