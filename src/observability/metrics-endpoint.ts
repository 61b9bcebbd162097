// GET /metrics in the Prometheus text format: on the gateway's port behind the admin key,
// and, with `metrics.listen` in switchyard.yaml, on a separate address of its own
// without a key (keep that address on loopback or a private network).
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { GatewayError } from '../canonical/errors.ts';
import { chatApi } from '../api/inbound.ts';
import { sendError } from '../http/send.ts';
import type { Gateway } from '../gateway.ts';

/** The handler on the gateway's own port: the admin key is required (metrics name key ids and spend). */
export function metricsOnGatewayPort(gateway: Gateway, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const refusal = adminKeyRefusal(gateway.config.masterKey, req.headers.authorization);
  if (refusal) {
    sendError({ res, api: chatApi }, refusal);
    return Promise.resolve();
  }
  return sendMetrics(gateway, res);
}

export async function sendMetrics(gateway: Gateway, res: ServerResponse): Promise<void> {
  const text = await gateway.metrics.render();
  res.writeHead(200, { 'content-type': gateway.metrics.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function adminKeyRefusal(masterKey: string | undefined, authorization: string | undefined): GatewayError | undefined {
  if (!masterKey) {
    return new GatewayError({ status: 401, type: 'authentication_error', code: 'admin_disabled', message: 'GET /metrics on the gateway port takes the admin key, and none is configured. Set SWITCHYARD_MASTER_KEY, or serve metrics on an address of their own with metrics.listen in switchyard.yaml.' });
  }
  const token = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : '';
  const digest = (value: string) => createHash('sha256').update(value).digest();
  if (!token || !timingSafeEqual(digest(token), digest(masterKey))) {
    return new GatewayError({ status: 401, type: 'authentication_error', code: token ? 'invalid_admin_key' : 'missing_admin_key', message: "GET /metrics takes the admin key: send 'Authorization: Bearer <admin key>' (SWITCHYARD_MASTER_KEY), or scrape the metrics.listen address." });
  }
  return undefined;
}

/** The separate metrics listener (metrics.listen): GET /metrics only. */
export function createMetricsServer(gateway: Gateway): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Only GET /metrics is served here.\n');
      return;
    }
    sendMetrics(gateway, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('metrics could not be collected; see the gateway log\n');
    });
  });
}
