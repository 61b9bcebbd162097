// An error an OpenAI-style upstream reports inside a 200 stream -> GatewayError.
import { GatewayError } from '../../canonical/errors.ts';
import type { ErrorType } from '../../canonical/errors.ts';

export function streamedUpstreamError(error: any, providerLabel: string): GatewayError {
  const code = typeof error?.code === 'string' ? error.code : typeof error?.type === 'string' ? error.type : 'upstream_error';
  const detail = typeof error?.message === 'string' ? error.message : 'no message';
  let status = 502;
  let type: ErrorType = 'upstream_error';
  if (code === 'insufficient_quota') { status = 429; type = 'insufficient_quota'; }
  else if (code === 'rate_limit_exceeded') { status = 429; type = 'rate_limit_error'; }
  return new GatewayError({
    status, type, code,
    message: `${providerLabel} reported an error mid-stream: ${detail}`,
    param: typeof error?.param === 'string' ? error.param : null,
    source: `provider:${providerLabel}`,
  });
}

export function incompleteStreamError(providerLabel: string, what: string): GatewayError {
  return new GatewayError({
    status: 502, type: 'upstream_error', code: 'upstream_stream_incomplete',
    message: `${providerLabel} ended its stream before ${what}; the answer is incomplete. Retry the request.`,
    source: `provider:${providerLabel}`,
  });
}
