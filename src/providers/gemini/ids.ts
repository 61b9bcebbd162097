// Gemini gives function calls no ids, and Gemini 3 requires each call's
// thoughtSignature back in the next request. Clients echo only the tool-call id
// (OpenAI chat has no place for anything else), so the id carries the signature:
//
//   call_<base><index>                      no signature
//   call_<base><index>_ts_<base64url>       standard base64 signature, alphabet swapped, padding dropped
//   call_<base><index>_tu_<base64url>       any other signature text, utf-8 then base64url
//
// Ids stay within [A-Za-z0-9_-] (what Anthropic accepts for tool_use ids), so a
// conversation can move between providers. <base> is the alphanumeric response id,
// so ids are stable for one response and distinct across responses.
import { randomBytes } from 'node:crypto';

/** Marks a ReasoningPart signature as Gemini's: other providers must not send it. */
export const GEMINI_SIGNATURE_PREFIX = 'gemini:';

/**
 * Gemini 3 rejects an unsigned function call in the current turn; Google documents
 * this value for calls that did not come from Gemini (e.g. another provider's turn).
 */
export const SKIP_SIGNATURE_VALIDATION = 'skip_thought_signature_validator';

const STANDARD_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const SIGNED_ID = /^call_[A-Za-z0-9]+_(ts|tu)_([A-Za-z0-9_-]*)$/;

/** The per-response part of tool-call ids. */
export function toolCallIdBase(responseId: string | undefined): string {
  const alnum = responseId?.replace(/[^A-Za-z0-9]/g, '');
  return alnum ? alnum.slice(0, 24) : randomBytes(9).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x');
}

export function toolCallId(base: string, index: number, signature?: string): string {
  const id = `call_${base}${index}`;
  if (!signature) return id;
  if (signature.length % 4 === 0 && STANDARD_BASE64.test(signature)) {
    return `${id}_ts_${signature.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
  }
  return `${id}_tu_${Buffer.from(signature, 'utf8').toString('base64url')}`;
}

/** The thoughtSignature a tool-call id carries, exactly as Gemini sent it. */
export function signatureOfToolCallId(id: string): string | undefined {
  const match = SIGNED_ID.exec(id);
  if (!match) return undefined;
  if (match[1] === 'tu') return Buffer.from(match[2], 'base64url').toString('utf8');
  const standard = match[2].replace(/-/g, '+').replace(/_/g, '/');
  return standard + '='.repeat((4 - (standard.length % 4)) % 4);
}

/** The Gemini signature inside a ReasoningPart signature, or undefined when it is another provider's. */
export function geminiSignature(signature: string | undefined): string | undefined {
  return signature?.startsWith(GEMINI_SIGNATURE_PREFIX) ? signature.slice(GEMINI_SIGNATURE_PREFIX.length) : undefined;
}
