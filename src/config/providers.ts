// The providers the gateway calls: the `providers:` section of switchyard.yaml, with the
// environment (OPENAI_*, ANTHROPIC_*, GEMINI_*, OLLAMA_HOST) filling what the file
// leaves unset, or standing alone without a file. Each provider remembers where each of
// its settings came from, for the start banner — variable names only, never a value.
import type { ConfigFile } from './schema.ts';
import type { ProviderKind } from '../catalog/types.ts';

export interface ProviderInstance {
  name: string;
  kind: ProviderKind;
  baseUrl: string;
  apiKey?: string;
  headers?: Record<string, string>;
  timeoutMs: number;
  discover: boolean;
  forwardHeaders?: string[];
  /**
   * Where its settings came from, for the start banner:
   * "api_key from switchyard.yaml, base_url from OPENAI_BASE_URL".
   */
  origin: string;
}

export const DEFAULT_BASE_URLS: Record<ProviderKind, string> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
  gemini: 'https://generativelanguage.googleapis.com',
  ollama: 'http://127.0.0.1:11434',
};

/** The variables of each provider, for messages that say what to set. */
export const PROVIDER_VARIABLES: Record<ProviderKind, { apiKey?: string; baseUrl: string }> = {
  openai: { apiKey: 'OPENAI_API_KEY', baseUrl: 'OPENAI_BASE_URL' },
  anthropic: { apiKey: 'ANTHROPIC_API_KEY', baseUrl: 'ANTHROPIC_BASE_URL' },
  gemini: { apiKey: 'GEMINI_API_KEY', baseUrl: 'GEMINI_BASE_URL' },
  ollama: { baseUrl: 'OLLAMA_HOST' },
};

const FILE = 'switchyard.yaml';
const KINDS = Object.keys(PROVIDER_VARIABLES) as ProviderKind[];

interface Setting {
  value?: string;
  /** A variable name, or "switchyard.yaml". */
  source?: string;
  /** A variable that was set but lost to the file. */
  ignored?: string;
}

export function resolveProviders(file: ConfigFile, env: NodeJS.ProcessEnv): Map<string, ProviderInstance> {
  const providers = new Map<string, ProviderInstance>();
  for (const [name, entry] of Object.entries(file.providers ?? {})) {
    const kind = (entry.kind ?? (isKind(name) ? name : 'openai')) as ProviderKind;
    // The environment speaks for the provider of its own name only (OPENAI_* for `openai`).
    const fromEnv = name === kind ? envSettings(kind, env) : {};
    const apiKey = pick(entry.api_key, fromEnv.apiKey);
    const baseUrl = pick(entry.base_url, fromEnv.baseUrl);
    providers.set(name, {
      name,
      kind,
      baseUrl: stripSlash(baseUrl.value ?? DEFAULT_BASE_URLS[kind]),
      apiKey: apiKey.value,
      headers: entry.headers,
      timeoutMs: entry.timeout_ms ?? 600_000,
      discover: entry.discover ?? kind === 'ollama',
      forwardHeaders: entry.forward_headers?.map((h) => h.toLowerCase()),
      origin: describeOrigin(kind, apiKey, baseUrl),
    });
  }
  for (const kind of KINDS) {
    if (providers.has(kind)) continue;
    const fromEnv = envSettings(kind, env);
    if (!fromEnv.apiKey && !fromEnv.baseUrl) continue;
    const apiKey: Setting = fromEnv.apiKey ?? {};
    const baseUrl: Setting = fromEnv.baseUrl ?? {};
    providers.set(kind, {
      name: kind, kind, baseUrl: stripSlash(baseUrl.value ?? DEFAULT_BASE_URLS[kind]), apiKey: apiKey.value,
      timeoutMs: 600_000, discover: kind === 'ollama', origin: describeOrigin(kind, apiKey, baseUrl),
    });
  }
  return providers;
}

function isKind(name: string): name is ProviderKind {
  return (KINDS as string[]).includes(name);
}

/** The provider's variables that are set (an empty one counts as unset). */
function envSettings(kind: ProviderKind, env: NodeJS.ProcessEnv): { apiKey?: Setting; baseUrl?: Setting } {
  const names = PROVIDER_VARIABLES[kind];
  const keyName = kind === 'gemini' && !env.GEMINI_API_KEY && env.GOOGLE_API_KEY ? 'GOOGLE_API_KEY' : names.apiKey;
  const out: { apiKey?: Setting; baseUrl?: Setting } = {};
  if (keyName && env[keyName]) out.apiKey = { value: env[keyName], source: keyName };
  const url = env[names.baseUrl];
  if (url) out.baseUrl = { value: kind === 'ollama' ? withScheme(url) : url, source: names.baseUrl };
  return out;
}

function pick(fromFile: string | undefined, fromEnv: Setting | undefined): Setting {
  if (fromFile === undefined) return fromEnv ?? {};
  return { value: fromFile, source: FILE, ignored: fromEnv?.source };
}

function describeOrigin(kind: ProviderKind, apiKey: Setting, baseUrl: Setting): string {
  const parts: string[] = [];
  if (apiKey.source) parts.push(`api_key from ${apiKey.source}`);
  else if (PROVIDER_VARIABLES[kind].apiKey) parts.push('no api_key');
  parts.push(baseUrl.source ? `base_url from ${baseUrl.source}` : 'default base_url');
  const ignored = [apiKey.ignored, baseUrl.ignored].filter(Boolean);
  if (ignored.length) parts.push(`${ignored.join(' and ')} set but not used: ${FILE} sets ${ignored.length > 1 ? 'them' : 'it'}`);
  return parts.join(', ');
}

function withScheme(host: string): string {
  return /^https?:\/\//.test(host) ? host : `http://${host}`;
}

function stripSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/** The mock upstream (npm run mock-upstream) serves these; ollama is not among them. */
export const MOCKED_KINDS = ['openai', 'anthropic', 'gemini'] as const satisfies readonly ProviderKind[];

/** `OPENAI_BASE_URL=http://127.0.0.1:4010/v1 OPENAI_API_KEY=mock`: the variables that point a provider at the mock. */
export function mockVariables(kind: (typeof MOCKED_KINDS)[number], mockOrigin = 'http://127.0.0.1:4010'): string {
  const names = PROVIDER_VARIABLES[kind];
  return `${names.baseUrl}=${mockOrigin}${kind === 'openai' ? '/v1' : ''} ${names.apiKey}=mock`;
}
