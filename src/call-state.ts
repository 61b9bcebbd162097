// The state one client request carries through the pipeline, and the records of what
// its model call did: shared by the pipeline, invoke() and respond().
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayError } from './canonical/errors.ts';
import type { Usage } from './canonical/types.ts';
import type { ModelInfo } from './catalog/types.ts';
import type { InboundApi } from './api/inbound.ts';
import type { Deployment } from './providers/types.ts';
import type { Route } from './routing/resolve.ts';
import type { Admitted, Principal, RowSettlement } from './services.ts';
import type { RequestTrace } from './observability/tracing.ts';
import type { CapturedAnswer } from './observability/bodies.ts';

export interface CallState {
  requestId: string;
  startedAt: number;
  api: InboundApi;
  req: IncomingMessage;
  res: ServerResponse;
  signal: AbortSignal;
  principal?: Principal;
  route?: Route;
  admitted?: Admitted;
  /** The admission's close, for the request row to carry (src/pipeline.ts close()). */
  settlement?: RowSettlement;
  /** The request's span, when tracing is on. */
  trace?: RequestTrace;
  /** The client's body, kept when the body policy stores it. */
  body?: Record<string, unknown>;
  /** The body policy for this request (unset: none). */
  bodyPolicy?: 'redacted' | 'full';
  /** A held review owns the budget reservation now: it settles it when decided (src/review/service.ts). */
  heldByReview?: boolean;
  /** Keep the answer as sent (result.answer): for the body policy, or to queue a streamed answer for review. */
  captureAnswer?: boolean;
  /** A streamed answer under an `after` rule: queued for review from what the client got, once sent. */
  reviewAfterStream?: { id: string; open(result: CallResult): Promise<void> };
}

/** One upstream attempt: which deployment, which model it really called, how it went. */
export interface Attempt {
  deployment: Deployment;
  model: ModelInfo;
  status: number;
  errorCode?: string;
  usage?: Usage;
  latencyMs: number;
  /** What the attempt was for, when not simply answering (a cascade tier, a second sample, a verifier, Pro validation). */
  note?: string;
}

/** What the router's wrappers did, for headers, the ledger and the log. */
export interface RouteNotes {
  /** x-switchyard-cascade: the tiers tried and why each was accepted or escalated. */
  cascade?: string;
  /** The tiers a cascade escalated from, in order (for the escalation metric). */
  escalatedFrom?: string[];
  /** x-switchyard-validation: the Pro validator's verdict. */
  validation?: string;
  /** x-switchyard-review: why the request needs a person's review. */
  review?: string;
  /** x-switchyard-cache: hit, miss, or refresh (Cache-Control: no-cache). */
  cache?: 'hit' | 'miss' | 'refresh';
  /** What the answer cost when it was made (a hit saved that). */
  cacheSavedUsd?: number;
  cachedAt?: string;
}

/** What a model call came to once rendered: what the account and log stages need. */
export interface CallResult {
  status: number;
  usage: Usage;
  costUsd: number;
  attempts: Attempt[];
  deployment?: Deployment;
  /** The model that answered (differs from the route's after a cross-model fallback). */
  model?: ModelInfo;
  ttftMs?: number;
  error?: GatewayError;
  notes?: RouteNotes;
  /** The answer as sent, when the body policy keeps it (a stream's assembled). */
  answer?: CapturedAnswer;
}
