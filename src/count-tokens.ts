// POST /v1/messages/count_tokens (the Anthropic SDK's messages.countTokens), for every
// model: a Claude deployment counts with Anthropic's own tokenizer (the request is
// relayed as it came); any other model is counted here with o200k, which is an
// estimate for a model with another tokenizer. The response says which counted
// (x-switchyard-tokenizer). Nothing is generated, so nothing is reserved or billed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError, internalError } from './canonical/errors.ts';
import { messagesApi } from './api/inbound.ts';
import { readBody, parseJsonBody } from './http/body.ts';
import { newRequestId } from './http/request-id.ts';
import { presentedKey } from './keys/presented-key.ts';
import { findModel, providerNotConfigured } from './routing/resolve.ts';
import { countInputTokens } from './tokens/count.ts';
import { anthropicMessagesUrl, anthropicPost } from './providers/anthropic/index.ts';
import { postUpstream, readAnswer } from './providers/http.ts';
import type { Deployment, Target } from './providers/types.ts';
import type { ModelInfo } from './catalog/types.ts';
import type { Gateway } from './gateway.ts';
import { sendError } from './http/send.ts';
import { modelNotAllowed } from './models-endpoint.ts';
import { forwardedHeaders } from './providers/forward-headers.ts';

const LOCAL_TOKENIZER = 'o200k (local estimate)';

export async function handleCountTokens(gateway: Gateway, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = newRequestId();
  res.setHeader('x-request-id', requestId);
  try {
    const principal = await gateway.authenticator.authenticate(presentedKey(req.headers));
    const body = parseJsonBody(await readBody(req, gateway.config.maxBodyBytes), req.headers['content-type'], gateway.config.maxJsonDepth) as Record<string, unknown>;
    // count_tokens takes no max_tokens; the request parser needs one.
    const request = messagesApi.parse({ ...body, max_tokens: body.max_tokens ?? 1, stream: false });
    const model = findModel(gateway.catalog, request.model);
    if (!gateway.isModelAllowed(principal, model)) throw modelNotAllowed(principal.name, model.id);
    const deployments = gateway.catalog.deployments(model);
    if (deployments.length === 0) throw providerNotConfigured(model);
    const claude = deployments.find((d) => d.provider === 'anthropic');
    if (claude) return await relayCount(res, { deployment: claude, model }, body, req, requestId);
    // Counted here, the request must be as valid as a translated call needs (a relay lets Anthropic judge).
    const invalid = request.untranslatable?.find((note) => note.refusal)?.refusal;
    if (invalid) throw invalid;
    sendCount(res, await countInputTokens(request), LOCAL_TOKENIZER);
  } catch (err) {
    if (!(err instanceof GatewayError)) gateway.log.error({ requestId, err }, 'unhandled error counting tokens');
    // A provider's error may echo its key: masked like every other upstream error.
    sendError({ res, api: messagesApi, requestId }, err instanceof GatewayError ? gateway.masker.error(err) : internalError(requestId));
  }
}

async function relayCount(res: ServerResponse, target: Target, body: Record<string, unknown>, req: IncomingMessage, requestId: string): Promise<void> {
  const { deployment } = target;
  const url = `${anthropicMessagesUrl(deployment.baseUrl)}/count_tokens`;
  const forwardHeaders = forwardedHeaders(requestId, req.headers, deployment);
  const beta = req.headers['anthropic-beta'];
  if (typeof beta === 'string') forwardHeaders['anthropic-beta'] = beta;
  const post = anthropicPost(deployment, JSON.stringify({ ...body, model: deployment.upstreamModel }), AbortSignal.timeout(deployment.timeoutMs), forwardHeaders, url);
  const text = await readAnswer(await postUpstream(post), post);
  const counted = parseCount(text);
  if (counted === undefined) throw invalidAnswer(deployment, target.model);
  sendCount(res, counted, `anthropic (counted by deployment ${deployment.id})`);
}

function parseCount(text: string): number | undefined {
  try {
    const n = (JSON.parse(text) as { input_tokens?: unknown }).input_tokens;
    return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function sendCount(res: ServerResponse, inputTokens: number, tokenizer: string): void {
  const body = JSON.stringify({ input_tokens: inputTokens });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-switchyard-tokenizer': tokenizer });
  res.end(body);
}


function invalidAnswer(deployment: Deployment, model: ModelInfo): GatewayError {
  return new GatewayError({
    status: 502, type: 'upstream_error', code: 'upstream_invalid_response', source: 'provider:anthropic',
    message: `Anthropic (deployment ${deployment.id}) answered count_tokens for '${model.id}' without a valid input_tokens count. Retry; if it persists, check the provider's base URL.`,
  });
}
