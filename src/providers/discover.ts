// Ask a local model server which models it has (Ollama's /api/tags, or /v1/models).
import { sendUpstream, readText } from './http.ts';
import type { ProviderInstance } from '../config/load.ts';

export type Discovery = { ok: true; ids: string[] } | { ok: false; reason: string };

export async function discoverModels(provider: ProviderInstance, timeoutMs = 2_000): Promise<Discovery> {
  const url = provider.kind === 'ollama' ? `${provider.baseUrl}/api/tags` : `${provider.baseUrl}/models`;
  const headers: Record<string, string> = { ...provider.headers };
  if (provider.apiKey) headers.authorization = `Bearer ${provider.apiKey}`;
  try {
    const response = await sendUpstream(url, { method: 'GET', headers, signal: AbortSignal.timeout(timeoutMs), timeoutMs, providerLabel: provider.name });
    const text = await readText(response.body);
    if (response.statusCode !== 200) return { ok: false, reason: `HTTP ${response.statusCode}` };
    const json = JSON.parse(text) as { models?: Array<{ name?: string; model?: string }>; data?: Array<{ id: string }> };
    const ids = json.models ? json.models.map((m) => m.name ?? m.model ?? '').filter(Boolean) : (json.data ?? []).map((m) => m.id);
    return { ok: true, ids };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}
