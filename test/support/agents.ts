// Runs the real coding agents (Claude Code's `claude`, the Codex CLI's `codex`) from
// node_modules against a loopback gateway, offline: a temp HOME so no real
// config or credential is read, every phone-home switched off, and every
// connection not to loopback sent to a proxy that refuses it and notes the host.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN_DIR = fileURLToPath(new URL('../../node_modules/.bin/', import.meta.url));
const RUN_TIMEOUT_MS = 90_000;

export interface Agent {
  path: string;
  version: string;
}

/** The agent's binary and version, or why it cannot run here (the reason a test skips with). */
export function findAgent(name: 'claude' | 'codex'): Agent | { missing: string } {
  const path = join(BIN_DIR, name);
  if (!existsSync(path)) return { missing: `${path} is not installed (run npm ci)` };
  // The claude package's postinstall copies the platform binary over a stub; on a
  // platform without one the stub (or codex's launcher) exits non-zero.
  const probe = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 20_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() } });
  if (probe.status !== 0) return { missing: `${name} --version failed here (no native binary for ${process.platform}-${process.arch}?): ${(probe.stderr || probe.stdout || String(probe.error)).trim().split('\n')[0]}` };
  return { path, version: probe.stdout.trim() };
}

export interface Exchange {
  method: string;
  path: string;
  status: number;
  headers: IncomingHttpHeaders;
  /** The request body as sent (JSON parsed when it is JSON). */
  body: unknown;
  /** The answer's body text for an error status (for the failure message). */
  errorBody?: string;
}

/** A loopback front for the gateway that notes each exchange and passes bytes through untouched. */
export interface Front {
  url: string;
  exchanges: Exchange[];
  close(): Promise<void>;
}

export async function startFront(target: string): Promise<Front> {
  const exchanges: Exchange[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const exchange: Exchange = { method: req.method ?? '', path: req.url ?? '', status: 0, headers: req.headers, body: parseBody(raw) };
      exchanges.push(exchange);
      const upstream = httpRequest(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (answer) => {
        exchange.status = answer.statusCode ?? 0;
        res.writeHead(exchange.status, answer.headers);
        if (exchange.status >= 400) {
          let text = '';
          answer.on('data', (c: Buffer) => (text += c.toString('utf8')));
          answer.on('end', () => (exchange.errorBody = text.slice(0, 2_000)));
        }
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      upstream.end(raw);
    });
  });
  return { url: await listen(server), exchanges, close: () => close(server) };
}

function parseBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Refuses every proxied connection and remembers where it was going. */
export interface BlockingProxy {
  url: string;
  attempts: string[];
  close(): Promise<void>;
}

export async function startBlockingProxy(): Promise<BlockingProxy> {
  const attempts: string[] = [];
  const server = createServer((req, res) => {
    attempts.push(`${req.method} ${req.url}`);
    res.writeHead(403).end('offline test: no network beyond loopback');
  });
  server.on('connect', (req, socket) => {
    attempts.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  return { url: await listen(server), attempts, close: () => close(server) };
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A temp HOME, work dir and Codex home; `remove()` deletes them. */
export interface Sandbox {
  home: string;
  cwd: string;
  codexHome: string;
  remove(): void;
}

export function makeSandbox(): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'switchyard-agent-'));
  const dirs = { home: join(root, 'home'), cwd: join(root, 'work'), codexHome: join(root, 'codex-home') };
  for (const dir of Object.values(dirs)) mkdirSync(dir);
  return { ...dirs, remove: () => rmSync(root, { recursive: true, force: true }) };
}

function baseEnv(sandbox: Sandbox, proxy: BlockingProxy): Record<string, string> {
  const env: Record<string, string> = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: sandbox.home, TERM: 'dumb', NO_COLOR: '1' };
  for (const name of ['HTTPS_PROXY', 'HTTP_PROXY', 'ALL_PROXY']) env[name] = env[name.toLowerCase()] = proxy.url;
  env.NO_PROXY = env.no_proxy = '127.0.0.1,localhost,::1';
  return env;
}

/** Claude Code's environment: only base URL and key point at the gateway; the rest keeps it offline. */
export function claudeEnv(sandbox: Sandbox, proxy: BlockingProxy, baseURL: string, apiKey: string): Record<string, string> {
  return {
    ...baseEnv(sandbox, proxy),
    ANTHROPIC_BASE_URL: baseURL,
    ANTHROPIC_API_KEY: apiKey,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
  };
}

export const CODEX_KEY_VARIABLE = 'SWITCHYARD_API_KEY';

/** Codex's config.toml: a provider at the gateway (Responses API), plugin sync and analytics off. */
export function writeCodexConfig(sandbox: Sandbox, baseURL: string, model: string): void {
  const toml = [
    `model = "${model}"`,
    'model_provider = "switchyard"',
    'check_for_update_on_startup = false',
    '',
    '[model_providers.switchyard]',
    'name = "Switchyard"',
    `base_url = "${baseURL}"`,
    `env_key = "${CODEX_KEY_VARIABLE}"`,
    'wire_api = "responses"',
    '',
    '[analytics]',
    'enabled = false',
    '',
    // Plugins fetch catalogs from GitHub and ChatGPT at start; they add no tool to the request.
    '[features]',
    'plugins = false',
    '',
  ].join('\n');
  writeFileSync(join(sandbox.codexHome, 'config.toml'), toml);
}

export function codexEnv(sandbox: Sandbox, proxy: BlockingProxy, apiKey: string): Record<string, string> {
  return { ...baseEnv(sandbox, proxy), CODEX_HOME: sandbox.codexHome, [CODEX_KEY_VARIABLE]: apiKey };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

/** Runs the agent with no stdin; killed after `timeoutMs` (reported, not hidden). */
export function runAgent(path: string, args: string[], env: Record<string, string>, cwd: string, timeoutMs = RUN_TIMEOUT_MS): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stdout, stderr });
    });
  });
}

/** What went wrong, for an assertion message: exit, output, and every error the gateway answered. */
export function explain(run: RunResult, exchanges: Exchange[]): string {
  const errors = exchanges.filter((e) => e.status >= 400).map((e) => `  ${e.method} ${e.path} -> ${e.status} ${e.errorBody ?? ''}`);
  return [
    `exit ${run.code ?? run.signal}${run.timedOut ? ' (killed: timed out)' : ''}; ${exchanges.length} request(s) at the gateway`,
    ...errors,
    `stdout: ${run.stdout.slice(0, 1_500)}`,
    `stderr: ${run.stderr.slice(0, 1_500)}`,
  ].join('\n');
}
