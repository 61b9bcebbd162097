import { GatewayError } from '../../canonical/errors.ts';
import type { ErrorType } from '../../canonical/errors.ts';
import { redactSecrets } from '../http.ts';
import type { Deployment } from '../types.ts';

/**
 * An OpenAI-compatible upstream's HTTP error, relayed with its status, type, code and
 * message, but saying that it was the provider that refused and never echoing a key.
 */
export function openaiUpstreamError(status: number, bodyText: string, deployment: Deployment, retryAfter?: string): GatewayError {
  let upstream: { message?: string; type?: string; code?: string | null; param?: string | null } = {};
  try {
    const parsed = JSON.parse(bodyText) as { error?: typeof upstream | string; message?: string; detail?: string };
    if (parsed && typeof parsed.error === 'object' && parsed.error) upstream = parsed.error;
    else if (typeof parsed.error === 'string') upstream = { message: parsed.error };
    else upstream = { message: parsed.message ?? parsed.detail };
  } catch {
    upstream = { message: bodyText.slice(0, 300) };
  }
  const who = `${deployment.providerName} (${deployment.id})`;
  const said = redactSecrets(upstream.message ?? `HTTP ${status}`);
  const message =
    status === 401 || status === 403
      ? `Provider ${who} rejected the gateway's provider key: ${said} Fix the provider key in switchyard.yaml (providers.${deployment.providerName}.api_key)${deployment.providerName === deployment.provider ? ` or the ${deployment.provider.toUpperCase()}_API_KEY variable` : ''}. Your Switchyard key was accepted.`
      : `Provider ${who} answered ${status}: ${said}`;
  const headers: Record<string, string> = {};
  if (retryAfter) headers['retry-after'] = retryAfter;
  return new GatewayError({
    status,
    type: (upstream.type as ErrorType) ?? (status >= 500 ? 'upstream_error' : 'invalid_request_error'),
    code: upstream.code ?? (status === 401 || status === 403 ? 'provider_auth_failed' : `upstream_${status}`),
    param: upstream.param ?? null,
    message,
    headers,
    source: `provider:${deployment.providerName}`,
  });
}
