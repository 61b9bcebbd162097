import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRedactor } from './redact.ts';
import { SECRETS, filler } from './test-corpus.ts';

const redactor = createRedactor({ defaultRegion: 'FR' });

function masked(text: string, region = 'FR') {
  return (region === 'FR' ? redactor : createRedactor({ defaultRegion: region })).redactText(text);
}

test('secrets of each provider are masked with the rule that found them', () => {
  const cases: Array<[string, string]> = [
    [`OPENAI_API_KEY=${SECRETS.openai}`, 'OPENAI_API_KEY=[REDACTED:openai]'],
    [`key: ${SECRETS.anthropic}`, 'key: [REDACTED:anthropic]'],
    [`id ${SECRETS.awsAccessKeyId} here`, 'id [REDACTED:aws] here'],
    [`aws_secret_access_key = ${SECRETS.awsSecretAccessKey}`, 'aws_secret_access_key = [REDACTED:aws]'],
    [`token ${SECRETS.githubClassic}.`, 'token [REDACTED:github].'],
    [`GITHUB_TOKEN="${SECRETS.githubFineGrained}"`, 'GITHUB_TOKEN="[REDACTED:github]"'],
    [`slack ${SECRETS.slackBot}`, 'slack [REDACTED:slack]'],
    [`stripe.key = '${SECRETS.stripe}'`, "stripe.key = '[REDACTED:stripe]'"],
    [`maps?key=${SECRETS.google}&q=1`, 'maps?key=[REDACTED:google_api_key]&q=1'],
    [`session ${SECRETS.jwt} end`, 'session [REDACTED:jwt] end'],
    [`key:\n${SECRETS.rsaPrivateKey}\nthanks`, 'key:\n[REDACTED:privatekey]\nthanks'],
    [`key:\n${SECRETS.pkcs8PrivateKey}\nthanks`, 'key:\n[REDACTED:privatekey]\nthanks'],
    [`Authorization: Bearer ${SECRETS.opaqueBearer}`, 'Authorization: Bearer [REDACTED:bearer]'],
    [`Authorization: Bearer ${SECRETS.jwt}`, 'Authorization: Bearer [REDACTED:jwt]'],
    [`use ${SECRETS.switchyardLive} or ${SECRETS.switchyardTest}`, 'use [REDACTED:switchyard_key] or [REDACTED:switchyard_key]'],
    ['DATABASE_URL=postgres://admin:S3cr3tPw0rd@db.internal:5432/app', 'DATABASE_URL=[REDACTED:database-connection-string]'],
  ];
  for (const [input, expected] of cases) assert.equal(masked(input).text, expected, expected);
});

test('emails in several scripts and with plus addressing', () => {
  const result = masked('Write to jane.doe+billing@example.com, müller@exämple.de, 用户@例子.中国 or o\'neil@mail.co.uk.');
  assert.equal(result.text, "Write to [REDACTED:email], [REDACTED:email], [REDACTED:email] or o'[REDACTED:email].");
  assert.deepEqual(result.found, { email: 4 });
});

test('phone numbers: international formats, and national ones for the default region', () => {
  const international = [
    '+1 (415) 555-2671', '+44 20 7946 0958', '+49 30 901820', '+49 (0)30 901820', '+81 3-1234-5678',
    '+81 90-1234-5678', '+33 6 12 34 56 78', '+33612345678', '00 33 1 42 68 53 00', '+34 912 34 56 78',
    '+91 98765 43210', '+55 11 91234-5678',
  ];
  for (const phone of international) assert.equal(masked(`tel: ${phone}.`).text, 'tel: [REDACTED:phone].', phone);
  assert.equal(masked('appelle le 0612345678 ou le 06 12 34 56 78').text, 'appelle le [REDACTED:phone] ou le [REDACTED:phone]');
  assert.equal(masked('<a href="tel:0612345678">').text, '<a href="tel:[REDACTED:phone]">');
  assert.equal(masked('call (415) 555-2671 or 415.555.2671', 'US').text, 'call [REDACTED:phone] or [REDACTED:phone]');
  assert.equal(masked('電話: 03-1234-5678', 'JP').text, '電話: [REDACTED:phone]');
  assert.equal(masked('電話: ０３－１２３４－５６７８', 'JP').text, '電話: [REDACTED:phone]');
});

test('card numbers that pass Luhn, with spaces or dashes', () => {
  const result = masked('Visa 4111 1111 1111 1111, MC 5500-0000-0000-0004, Amex 378282246310005, 2-series 2223003122003222.');
  assert.equal(result.text, 'Visa [REDACTED:card], MC [REDACTED:card], Amex [REDACTED:card], 2-series [REDACTED:card].');
  assert.deepEqual(result.found, { card: 4 });
});

test('IBANs with a valid checksum, with and without spaces', () => {
  const result = masked(
    'DE: DE89 3704 0044 0532 0130 00 / DE89370400440532013000; FR: FR76 3000 6000 0112 3456 7890 189; ' +
      'GB: GB82WEST12345698765432 and GB82 WEST 1234 5698 7654 32 THE END',
  );
  assert.equal(
    result.text,
    'DE: [REDACTED:iban] / [REDACTED:iban]; FR: [REDACTED:iban]; GB: [REDACTED:iban] and [REDACTED:iban] THE END',
  );
  assert.deepEqual(result.found, { iban: 5 });
});

test('lookalikes stay as they are', () => {
  const lookalikes = [
    'order 4111111111111112 (fails Luhn)', 'order #2024-118734 shipped', 'version 1.2.3 and v10.4.2-beta',
    'uuid 123e4567-e89b-12d3-a456-426614174000', 'sha 4b825dc642cb6eb9a060e54bf8d69288fbee4904',
    'price $1,234.56 or 1 234,56 €', 'dates 2024-03-15, 15/03/2024, 15.03.2024 12:30, 2024-03-15T09:12:44.120Z',
    'ISBN 978-3-16-148410-0 and 9783161484100', 'hosts 192.168.10.254, 10.0.0.1 and 2001:db8::1',
    'short numbers 12345, 555-1234, 42', 'the words token, password, secret and api_key alone',
    'timestamps 1717171717171 and 1717171717 and 20241203123000', 'IBAN-like DE89 3704 0044 0532 0130 01',
    'AWS docs example AKIAIOSFODNN7EXAMPLE', 'Bearer token', 'sk_live_short', 'sy_live_tooShort123',
    'ports 8080-8090, ranges 100000-200000', 'matrix [[1, 2, 3], [4, 5, 6]]',
    'log order=A-2024118734 req_id=4155552671 ticket #0612345678 path /users/0612345678/orders',
  ];
  for (const text of lookalikes) assert.deepEqual(masked(text), { text, found: {} }, text);
});

test('counts by kind over a mixed text', () => {
  const text = [
    `Hi, I'm Ana (ana.lima@empresa.com.br, +55 11 91234-5678). My card 4111-1111-1111-1111 was charged twice.`,
    `Refund to FR76 3000 6000 0112 3456 7890 189 please. Our key ${SECRETS.githubClassic} leaked, and`,
    `the header was Authorization: Bearer ${SECRETS.opaqueBearer}; also ${SECRETS.switchyardLive}.`,
    'Order 4111111111111112, version v10.4.2-beta, commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904.',
  ].join('\n');
  assert.deepEqual(masked(text).found, { email: 1, phone: 1, card: 1, iban: 1, github: 1, bearer: 1, switchyard_key: 1 });
});

test('configured secrets and patterns', () => {
  const upstreamKey = `upstream-${filler(20, 30)}`;
  const custom = createRedactor({
    secrets: [upstreamKey, 'abc', ''],
    patterns: [{ name: 'employee_id', pattern: 'EMP-\\d{6}' }, { name: 'ticket', pattern: '\\bTCK-[A-Z]{3}\\b' }],
  });
  const result = custom.redactText(`key ${upstreamKey}; staff EMP-123456 on TCK-ABC; abc is too short to configure`);
  assert.equal(result.text, 'key [REDACTED:secret]; staff [REDACTED:employee_id] on [REDACTED:ticket]; abc is too short to configure');
  assert.deepEqual(result.found, { secret: 1, employee_id: 1, ticket: 1 });
});

test('bad configuration fails when the redactor is built', () => {
  assert.throws(() => createRedactor({ patterns: [{ name: 'bad', pattern: '(' }] }), /"bad" is not a valid regular expression/);
  assert.throws(() => createRedactor({ patterns: [{ name: 'has space', pattern: 'x' }] }), /name "has space"/);
  assert.throws(() => createRedactor({ defaultRegion: 'XX' }), /unknown phone region "XX"/);
});

test('text without findings is returned as the same string', () => {
  const text = 'Explain the difference between TCP and UDP in two sentences.';
  const result = redactor.redactText(text);
  assert.equal(result.text, text);
  assert.deepEqual(result.found, {});
});

test('the fast path skips only text no built-in detector could match', async () => {
  const { mightHoldSensitive } = await import('./redact.ts');
  for (const plain of ['Hello! What is a gateway, in a few words?', 'assistant', 'chat.completion', 'gpt-5.4-mini', 'fp_b40fb1c6fb', 'stop']) assert.equal(mightHoldSensitive(plain), false, plain);
  for (const risky of ['mail a@b.co', 'call 555 2671 01', 'key sk_live_abcdefghijklmnop', '-----BEGIN PRIVATE KEY-----', 'Authorization: Bearer x', '電話: ０３－１２３４－５６７８']) assert.equal(mightHoldSensitive(risky), true, risky);
});

test('a Luhn-valid digit run inside an identifier is not a card; the same digits on their own are', () => {
  const redactor = createRedactor();
  assert.equal(redactor.redactText('id chatcmpl-ab4111111111111111 and fp_4111111111111111x').text, 'id chatcmpl-ab4111111111111111 and fp_4111111111111111x');
  assert.equal(redactor.redactText('pay with 4111111111111111 today').text, 'pay with [REDACTED:card] today');
});
