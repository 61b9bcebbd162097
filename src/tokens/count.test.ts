import test from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { countInputTokens, countTextTokens, inputTokenUpperBound } from './count.ts';
import type { CanonicalRequest } from '../canonical/types.ts';

// The reference: gpt-tokenizer's o200k encoder, with special-token text taken as plain
// text (what a provider does with a prompt that mentions "<|endoftext|>").
const reference = (text: string) => countTokens(text, { disallowedSpecial: new Set() });
const FIXTURES = new URL('../../fixtures/', import.meta.url);

test('counts every recorded provider exchange exactly as the reference tokenizer does', () => {
  let files = 0;
  for (const dir of ['openai', 'anthropic', 'gemini']) {
    for (const name of readdirSync(new URL(`${dir}/`, FIXTURES))) {
      const text = readFileSync(new URL(`${dir}/${name}`, FIXTURES), 'utf8');
      assert.equal(countTextTokens(text), reference(text), `${dir}/${name}`);
      files++;
    }
  }
  assert.ok(files > 20, 'the fixtures were found');
});

test('counts scripts, emoji, numbers, code, contractions and whitespace runs exactly', () => {
  const samples = [
    'Hello, World!  How are you?\n\n  fine',
    "I'm here, they're there, we've done it, you'll see, he'd know, it's OK, DON'T",
    '你好世界，这是一个测试。日本語のテキストも。한국어 문장.',
    'Привет, мир! مرحبا بالعالم. שלום עולם. नमस्ते दुनिया',
    '🌍🎉 👩‍👩‍👧‍👦 flags 🇫🇷🇯🇵 and skin tones 👍🏽',
    '3.14159265358979 1,000,000 0x1F 2024-05-01T12:00:00Z',
    'function f(x) {\n\treturn x ** 2; // squared\n}\r\n\r\n    indented\n',
    'camelCaseIdentifier SCREAMING_SNAKE kebab-case naïve café ＡＢＣ全角',
    '\u0000\u0001\u001f control\u00a0nbsp\u2028line separator',
    'x'.repeat(3000),
    'ab'.repeat(1500) + ' ' + 'Ω'.repeat(700),
  ];
  for (const text of samples) assert.equal(countTextTokens(text), reference(text), JSON.stringify(text.slice(0, 40)));
});

test('counts any string exactly as the reference does (property)', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 300 }), fc.string({ maxLength: 300 })), (text) => {
      assert.equal(countTextTokens(text), reference(text));
    }),
    { numRuns: 400 },
  );
});

test('long texts, ASCII (counted in place) and not, count exactly, long unbroken runs included', () => {
  const prose = 'The quick brown fox, 1234567 times; naïve résumé — "quoted" (x) => y.\n';
  const ascii = 'Header line\n' + 'zq'.repeat(2500) + ' ' + prose.replace(/[^\x00-\x7f]/g, 'e').repeat(80) + 'a'.repeat(6000) + '!';
  const unicode = prose.repeat(80) + 'ü'.repeat(3000);
  for (const text of [ascii, unicode]) {
    assert.ok(text.length > 4096);
    assert.equal(countTextTokens(text), reference(text));
  }
});

test('lone surrogates count as U+FFFD, as the UTF-8 encoder writes them', () => {
  for (const text of ['\ud800', 'a\udc00b', '\udbff\udbff x', 'end \ud83d']) assert.equal(countTextTokens(text), reference(text));
});

test('a prompt that mentions a special token is counted, not refused', () => {
  const text = 'What does <|endoftext|> mean, and <|im_start|>?';
  assert.equal(countTextTokens(text), reference(text));
  assert.ok(countTextTokens(text) > 5, 'the special-token text is counted as the several tokens it spells');
});

test('a request counts its framing, every text and tool, and a fixed cost per image', async () => {
  const request: CanonicalRequest = {
    model: 'gpt-5.4-mini',
    stream: false,
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }, { type: 'image', url: 'https://example.com/a.png' }] },
      { role: 'assistant', content: [{ type: 'tool_call', id: 'call_1', name: 'look', arguments: '{"zoom":2}' }] },
      { role: 'tool', toolCallId: 'call_1', content: 'a cat' },
    ],
    tools: [{ name: 'look', description: 'Look closer.', parameters: { type: 'object', properties: { zoom: { type: 'number' } } } }],
  };
  const texts = ['Be brief.', 'What is in this picture?', 'look', '{"zoom":2}', 'a cat', 'look', 'Look closer.', JSON.stringify(request.tools![0].parameters)];
  const expected = 3 + 4 * 4 + 1_105 + texts.reduce((sum, text) => sum + reference(text), 0);
  assert.equal(await countInputTokens(request), expected);
  assert.ok(inputTokenUpperBound(request) >= expected, 'the byte bound is never below the count');
});
