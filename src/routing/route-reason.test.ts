// What the route stage says about itself: the reason of a route (exact id or alias), and
// the 503 of a model whose provider is missing, naming THAT provider's variables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalog } from '../catalog/catalog.ts';
import type { ModelInfo } from '../catalog/types.ts';
import type { CanonicalRequest } from '../canonical/types.ts';
import { loadConfig } from '../config/load.ts';
import { providerNotConfigured, resolveRoute } from './resolve.ts';

function catalogWith(yaml: string): Catalog {
  const dir = mkdtempSync(join(tmpdir(), 'sy-route-'));
  writeFileSync(join(dir, 'switchyard.yaml'), yaml);
  return new Catalog(loadConfig({ cwd: dir, env: { OPENAI_API_KEY: 'k', ANTHROPIC_API_KEY: 'k' } }));
}

const ask = (model: string): CanonicalRequest => ({ model, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], stream: false }) as CanonicalRequest;

test('a route names the alias it came through; an exact id says so', async () => {
  const catalog = catalogWith('aliases:\n  fast: gpt-5.4-mini\n');
  const viaAlias = await resolveRoute(catalog, ask('fast'), 'chat');
  assert.deepEqual([viaAlias.model.id, viaAlias.reason], ['gpt-5.4-mini', 'alias fast -> gpt-5.4-mini']);
  assert.equal((await resolveRoute(catalog, ask('fast'), 'responses')).reason, 'alias fast -> gpt-5.4-mini (responses)');
  assert.equal((await resolveRoute(catalog, ask('gpt-5.4-mini'), 'chat')).reason, 'exact model id');
  assert.equal((await resolveRoute(catalog, ask('claude-haiku-4-5-20251001'), 'chat')).reason, 'alias claude-haiku-4-5-20251001 -> claude-haiku-4-5', 'the shipped aliases too');
});

const VARIABLES: Record<string, string[]> = {
  openai: ['OPENAI_API_KEY', 'OPENAI_BASE_URL'],
  anthropic: ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL'],
  gemini: ['GEMINI_API_KEY', 'GEMINI_BASE_URL'],
  ollama: ['OLLAMA_HOST'],
};

test('provider_not_configured names the variables of the model\'s own provider, and no other', () => {
  for (const [provider, own] of Object.entries(VARIABLES)) {
    const error = providerNotConfigured({ id: `some-${provider}-model`, provider } as ModelInfo);
    assert.deepEqual([error.status, error.code, error.headers?.['x-should-retry']], [503, 'provider_not_configured', 'false']);
    for (const name of own) assert.ok(error.message.includes(name), `${provider}: ${error.message}`);
    assert.ok(error.message.includes(`providers.${provider}`), error.message);
    for (const [other, names] of Object.entries(VARIABLES)) {
      if (other !== provider) for (const name of names) assert.ok(!error.message.includes(name), `${provider} names ${name}: ${error.message}`);
    }
  }
  assert.match(providerNotConfigured({ id: 'claude-haiku-4-5', provider: 'anthropic' } as ModelInfo).message, /npm run mock-upstream, then ANTHROPIC_BASE_URL=http:\/\/127\.0\.0\.1:4010 ANTHROPIC_API_KEY=mock npm start/);
});
