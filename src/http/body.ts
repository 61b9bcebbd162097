import type { IncomingMessage } from 'node:http';
import { GatewayError, invalidRequest } from '../canonical/errors.ts';

export function bodyTooLarge(limitBytes: number, sizeBytes?: number): GatewayError {
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return new GatewayError({
    status: 413,
    type: 'request_too_large',
    code: 'request_too_large',
    message: `The request body${sizeBytes ? ` (${mb(sizeBytes)})` : ''} is over this gateway's limit of ${mb(limitBytes)}. Send less (e.g. smaller or URL-referenced images), or raise server.max_body_mb in switchyard.yaml.`,
  });
}

/**
 * Read the whole body, refusing with 413 before buffering past the limit: at once
 * from Content-Length, or as soon as the running count passes it.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) {
    return Promise.reject(bodyTooLarge(limitBytes, Number(declared)));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        cleanup();
        chunks.length = 0;
        req.resume();
        reject(bodyTooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** Parse a JSON body; a syntax error becomes a 400 that says where. */
export function parseJsonBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) {
    throw invalidRequest('The request body is empty. Send a JSON object with Content-Type: application/json.', null, 'empty_body');
  }
  if (contentType && !/json/i.test(contentType)) {
    throw invalidRequest(`Content-Type '${contentType}' is not supported. Send the body as JSON with Content-Type: application/json.`, null, 'unsupported_content_type');
  }
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw invalidRequest(`The request body is not valid JSON (${(err as Error).message}). Check quoting and commas, and that the body is one JSON object.`, null, 'invalid_json');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidRequest('The request body must be a JSON object (got ' + (Array.isArray(value) ? 'an array' : typeof value) + ').', null, 'invalid_json');
  }
  return value;
}
