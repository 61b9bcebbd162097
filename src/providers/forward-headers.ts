// Which client headers an upstream call carries.
import type { IncomingHttpHeaders } from 'node:http';
import type { Deployment } from './types.ts';

const NEVER_FORWARDED = new Set(['authorization', 'x-api-key', 'cookie', 'host', 'content-length', 'content-type', 'connection', 'transfer-encoding']);

/**
 * Headers the upstream gets from this call: our request id (so a provider's logs can be
 * matched to ours) and the client headers the deployment is configured to receive.
 */
export function forwardedHeaders(requestId: string, headers: IncomingHttpHeaders, deployment: Deployment): Record<string, string> {
  const out: Record<string, string> = { 'x-client-request-id': requestId };
  const allow = deployment.forwardHeaders;
  if (!allow || allow.length === 0) return out;
  for (const name in headers) {
    const value = headers[name];
    if (typeof value !== 'string' || NEVER_FORWARDED.has(name)) continue;
    if (allow.some((a) => (a.endsWith('*') ? name.startsWith(a.slice(0, -1)) : name === a))) out[name] = value;
  }
  return out;
}
