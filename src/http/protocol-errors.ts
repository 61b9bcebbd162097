// Requests refused before routing because their HTTP is unusable (no Host, an Expect the gateway cannot meet).
import { GatewayError, invalidRequest } from '../canonical/errors.ts';

export function missingHost(): GatewayError {
  return invalidRequest('The request has no Host header, which HTTP/1.1 requires. Send Host: <gateway host:port> (every HTTP client does this itself).', null, 'missing_host');
}

export function expectationFailed(expect: string): GatewayError {
  const shown = expect.length > 40 ? `${expect.slice(0, 40)}…` : expect;
  return new GatewayError({
    status: 417, type: 'invalid_request_error', code: 'expectation_failed',
    message: `The Expect header '${shown}' is not supported; the only expectation this gateway meets is '100-continue'. Remove the header.`,
  });
}
