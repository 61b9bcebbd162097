// Synthetic secrets shaped like the real formats, built at run time so no secret-looking literal
// sits in the repository (and no scanner flags the tests).
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Deterministic, varied characters from `alphabet` (no runs a placeholder filter would reject). */
export function filler(length: number, seed = 7, alphabet = ALPHANUMERIC): string {
  let out = '';
  let state = seed;
  while (out.length < length) {
    state = (state * 1103515245 + 12345) % 2147483648;
    out += alphabet[state % alphabet.length];
  }
  return out;
}

function base64Url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function pemBody(seed: number): string {
  const base64 = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC' + filler(1200, seed, ALPHANUMERIC + '+/');
  return base64.match(/.{1,64}/g)!.join('\n');
}

export const SECRETS = {
  openai: `sk-proj-${filler(74, 1)}T3BlbkFJ${filler(74, 2)}`,
  anthropic: `sk-ant-api03-${filler(93, 3)}AA`,
  awsAccessKeyId: `AKIA${filler(16, 4, UPPER_ALPHANUMERIC)}`,
  awsSecretAccessKey: filler(40, 5, ALPHANUMERIC + '/+'),
  githubClassic: `ghp_${filler(36, 6)}`,
  githubFineGrained: `github_pat_${filler(22, 7)}_${filler(59, 8)}`,
  slackBot: `xoxb-${'2'.repeat(3)}4567890123-1234567890123-${filler(24, 9)}`,
  stripe: `sk_live_${filler(24, 10)}`,
  google: `AIza${filler(35, 11)}`,
  jwt: `${base64Url({ alg: 'HS256', typ: 'JWT' })}.${base64Url({ sub: '1234567890', name: 'Ada', iat: 1516239022 })}.${filler(43, 12)}`,
  rsaPrivateKey: `-----BEGIN RSA PRIVATE KEY-----\n${pemBody(13)}\n-----END RSA PRIVATE KEY-----`,
  pkcs8PrivateKey: `-----BEGIN PRIVATE KEY-----\n${pemBody(14)}\n-----END PRIVATE KEY-----`,
  opaqueBearer: filler(40, 15),
  switchyardLive: `sy_live_${filler(32, 16)}`,
  switchyardTest: `sy_test_${filler(32, 17)}`,
};
