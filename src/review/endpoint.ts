// GET /v1/reviews/{id}: where a client that sent `Prefer: respond-async` (or lost its
// connection while held) fetches the decided answer, with the key it asked with. Pending:
// 202 and Retry-After. Decided: the answer in the format the request was made in
// (Chat Completions, Responses, Messages), rendered from the stored answer — the model
// is never called again. Rejected (or expired under `reject`): the same error the
// waiting client would have got. Another key's review is "not found", like a missing one.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayError } from '../canonical/errors.ts';
import type { CanonicalResponse } from '../canonical/types.ts';
import type { Gateway } from '../gateway.ts';
import { sendError, sendJson } from '../http/send.ts';
import { presentedKey } from '../keys/presented-key.ts';
import { reviewNotFound } from './desk.ts';
import { reviewRefused } from './hold.ts';
import { apiOf, storedRequestOf } from './pro.ts';

export async function handleReviewPoll(gateway: Gateway, req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  let api = apiOf('chat');
  try {
    const principal = await gateway.authenticator.authenticate(presentedKey(req.headers));
    const row = /^rev_[A-Za-z0-9]{1,64}$/.test(id) ? await gateway.reviews?.find(id) : undefined;
    if (!row || row.keyId !== principal.keyId) throw reviewNotFound(id);
    api = apiOf(row.endpoint);
    res.setHeader('x-switchyard-review-id', row.id);
    res.setHeader('x-switchyard-review-status', row.status);
    if (row.status === 'pending') {
      res.setHeader('retry-after', '5');
      return sendJson(res, 202, { object: 'review', id: row.id, status: row.status, mode: row.mode, reason: row.reason, created_at: row.createdAt, expires_at: row.expiresAt });
    }
    if (!row.finalAnswer) throw reviewRefused(row);
    const answer = JSON.parse(row.finalAnswer) as CanonicalResponse;
    const request = storedRequestOf(row) ?? { model: row.model, messages: [], stream: false };
    res.setHeader('x-request-id', row.requestId);
    sendJson(res, 200, api.render(answer, { ...request, stream: false }, answer.model || row.model));
  } catch (err) {
    sendError({ res, api }, err as GatewayError);
  }
}
