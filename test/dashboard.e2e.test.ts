// The dashboard in a real headless browser (playwright-core driving Debian's Chromium)
// against a real gateway and the mock upstream, with the official openai SDK as the
// client: sign-in and its cookie, the request log and its detail, keys (create, use,
// rotate, revoke), copying a model id, deciding held reviews, a viewer's limits, XSS,
// CSRF, and the security headers. Screenshots go to test-artifacts/dashboard/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, browserSkip, launchBrowser, openPage, screenshot, signIn as signInAt } from './support/browser.ts';
import { startMockUpstream, type MockUpstream } from '../src/mock-upstream/index.ts';
import { mockProvidersYaml } from './support/stack.ts';
import { startGateway, ledgerRow, type TestGateway } from './support/gateway.ts';
import { adminApi, MASTER_KEY, type AdminApi } from './support/admin.ts';

const skip = browserSkip('dashboard');

let mock: MockUpstream;
let gw: TestGateway;
let admin: AdminApi;
let browser: Browser;

before(async () => {
  if (skip) return;
  mock = await startMockUpstream({});
  gw = await startGateway({
    env: { SWITCHYARD_MASTER_KEY: MASTER_KEY },
    yaml: `
${mockProvidersYaml(mock.url)}
log:
  bodies:
    keys: { verbose: full }
`,
  });
  admin = adminApi(gw.origin);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await gw?.close();
  await mock?.close();
});

const sdk = (key: string) => new OpenAI({ baseURL: gw.baseURL, apiKey: key, maxRetries: 0, timeout: 30_000 });

const newPage = (width = 1280, height = 900) => openPage(browser, gw.origin, { width, height, clipboard: true });

const signIn = (page: Page, key: string) => signInAt(page, gw.origin, key);

/** What the page answers when it calls the gateway itself (its cookie goes along). */
function fetchInPage(page: Page, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return page.evaluate(async ({ path, init }) => {
    const res = await fetch(path, init);
    return { status: res.status, body: await res.json() };
  }, { path, init });
}

/** A request id from the SDK, once its row is in the store. */
async function chat(key: string, content: string, model = 'gpt-5.4-mini'): Promise<string> {
  const { response } = await sdk(key).chat.completions.create({ model, messages: [{ role: 'user', content }] }).withResponse();
  const id = response.headers.get('x-request-id')!;
  await ledgerRow(gw.ledger, id);
  await gw.gateway.ledger.flush();
  return id;
}

const usd = (value: number) => `$${Number(value.toFixed(8)).toString()}`;

test('sign-in: an HttpOnly, SameSite=Strict session cookie, the key in no browser storage, the CSP on every page; sign-out ends the session', { skip }, async () => {
  const { context, page } = await newPage();
  try {
    const first = await page.goto(`${gw.origin}/dashboard`);
    const headers = first!.headers();
    assert.equal(headers['content-security-policy'], "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    assert.equal(headers['x-content-type-options'], 'nosniff');
    assert.equal(headers['referrer-policy'], 'no-referrer');
    await page.waitForSelector('#sign-in');
    await screenshot(page, 'signin');

    await page.fill('#key', 'sy_live_not_a_key_of_this_gateway');
    await page.click('#sign-in button[type=submit]');
    await page.waitForSelector('#sign-in .notice.error');
    assert.match(await page.textContent('#sign-in .notice.error') ?? '', /Invalid admin key/);
    assert.deepEqual(await context.cookies(), [], 'no session for a wrong key');

    await signIn(page, MASTER_KEY);
    const [cookie] = await context.cookies();
    assert.equal(cookie.name, 'sy_session');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.path, '/');
    assert.equal(cookie.secure, false, 'plain HTTP: not Secure (the browser would drop it)');
    assert.ok(Buffer.from(cookie.value, 'base64url').length >= 32, 'a session id of at least 32 random bytes');
    assert.ok(!cookie.value.includes(MASTER_KEY));
    const stored = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie }));
    assert.ok(!stored.includes(MASTER_KEY), `the key is in browser storage: ${stored}`);
    assert.equal(await page.evaluate(() => document.cookie), '', 'the session cookie is not readable by script');
    assert.ok(!(await page.content()).includes(MASTER_KEY), 'the key is not left in the page');
    assert.equal(await page.locator('nav a').allTextContents().then((t) => t.join('|')), 'Overview|Diagnosis|Request log|Keys & budgets|Reviews|Models|Router|Deployments');
    for (const asset of ['app.js', 'style.css']) {
      const res = await fetch(`${gw.origin}/dashboard/assets/${asset}`);
      assert.equal(res.status, 200);
      assert.ok(res.headers.get('content-security-policy'));
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    }
    for (const path of ['/dashboard/assets/../../server.ts', '/dashboard/assets/sessions.ts', '/dashboard/assets/', '/dashboard/nope']) {
      assert.equal((await fetch(`${gw.origin}${path}`)).status, 404, `${path} is not served`);
    }

    // Behind a TLS proxy the cookie is Secure.
    const tls = await fetch(`${gw.origin}/dashboard/session`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' }, body: JSON.stringify({ key: MASTER_KEY }) });
    assert.equal(tls.status, 200);
    assert.match(tls.headers.get('set-cookie')!, /; HttpOnly; SameSite=Strict; Path=\/; Secure$/);

    await page.click('#sign-out');
    await page.waitForSelector('#sign-in');
    assert.deepEqual(await context.cookies(), []);
    const reused = await fetch(`${gw.origin}/admin/requests`, { headers: { cookie: `sy_session=${cookie.value}` } });
    assert.equal(reused.status, 401, 'the server forgot the signed-out session');
    assert.equal(((await reused.json()) as any).error.code, 'session_expired');
  } finally {
    await context.close();
  }
});

test('request log: requests made with the SDK appear newest first with their numbers, page by cursor, filter, and open in the detail view', { skip }, async () => {
  const app = await admin.createKey({ name: 'log-app' });
  const ids: string[] = [];
  for (let i = 0; i < 27; i++) ids.push(await chat(app.key, `Question number ${i}`));
  const other = await admin.createKey({ name: 'log-other' });
  const otherId = await chat(other.key, 'From another key', 'gpt-5.4-nano');
  const rows = (await admin.requests(app.id)).filter((r) => r.attempt === 0);
  const { context, page } = await newPage();
  try {
    await signIn(page, MASTER_KEY);
    await page.goto(`${gw.origin}/dashboard#/requests`);
    await page.waitForSelector(`tr[data-request-id="${otherId}"]`);
    assert.equal(await page.getAttribute('table.requests tbody tr:first-child', 'data-request-id'), otherId, 'newest first');

    await page.fill('#request-filters input[name=key_id]', app.id);
    await page.click('#request-filters button[type=submit]');
    await page.waitForFunction((id) => !document.querySelector(`tr[data-request-id="${id}"]`) && document.querySelectorAll('table.requests tbody tr').length === 25, otherId);
    const shown = await page.$$eval('table.requests tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.requestId));
    assert.deepEqual(shown, [...ids].reverse().slice(0, 25), 'the newest 25 of this key, newest first');
    const newest = rows.find((r) => r.request_id === ids[26])!;
    const cell = (field: string) => page.textContent(`tr[data-request-id="${ids[26]}"] td[data-field="${field}"]`);
    assert.equal(await cell('cost_usd'), usd(newest.cost_usd));
    assert.ok(newest.cost_usd > 0);
    assert.equal(await cell('input_tokens'), String(newest.input_tokens));
    assert.equal(await cell('output_tokens'), String(newest.output_tokens));
    assert.equal(await cell('status'), '200');
    assert.equal(await cell('model'), 'gpt-5.4-mini');
    await screenshot(page, 'requests');

    await page.click('#older');
    await page.waitForFunction(() => document.querySelectorAll('table.requests tbody tr').length === 2);
    assert.deepEqual(await page.$$eval('table.requests tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.requestId)), [ids[1], ids[0]]);
    assert.equal(await page.isDisabled('#older'), true, 'the last page');
    await page.click('#newer');
    await page.waitForFunction(() => document.querySelectorAll('table.requests tbody tr').length === 25);

    // Filters: model and tier on the other key's request; an error filter that matches nothing.
    await page.fill('#request-filters input[name=key_id]', '');
    await page.fill('#request-filters input[name=model]', 'gpt-5.4-nano');
    await page.click('#request-filters button[type=submit]');
    await page.waitForFunction((id) => document.querySelectorAll('table.requests tbody tr').length === 1 && !!document.querySelector(`tr[data-request-id="${id}"]`), otherId);
    await page.fill('#request-filters input[name=model]', '');
    await page.fill('#request-filters input[name=status]', 'errors');
    await page.fill('#request-filters input[name=key_id]', app.id);
    await page.click('#request-filters button[type=submit]');
    await page.waitForSelector('text=No requests match.');

    // The detail of one request: tokens by kind, cost, route, model.
    await page.goto(`${gw.origin}/dashboard#/requests/${ids[26]}`);
    await page.waitForSelector('#request-detail');
    const fact = (field: string) => page.textContent(`#request-detail dd[data-field="${field}"]`);
    assert.equal(await fact('cost_usd'), usd(newest.cost_usd));
    for (const field of ['input_tokens', 'cached_input_tokens', 'cache_write_tokens', 'output_tokens', 'reasoning_tokens'] as const) {
      assert.equal(await fact(field), String(newest[field]), field);
    }
    assert.equal(await fact('model_used'), newest.model_used);
    assert.equal(await fact('tier'), newest.tier);
    assert.equal(await fact('route'), newest.route ?? '—');
    assert.equal(await fact('key_id'), app.id);
    assert.match(await page.textContent('#bodies') ?? '', /No bodies stored/);
    await screenshot(page, 'request-detail');

    // A phone-sized screen shows the same log as stacked rows.
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${gw.origin}/dashboard#/requests`);
    await phone.waitForSelector(`tr[data-request-id="${otherId}"]`);
    assert.equal(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), true, 'no sideways scrolling on a phone');
    await phone.screenshot({ path: new URL('requests-phone.png', ARTIFACTS).pathname });
  } finally {
    await context.close();
  }
});

test('keys: create in the page (secret shown once, copied), use it with the SDK, see its budget spent, rotate, revoke — then the SDK is refused', { skip }, async () => {
  const { context, page } = await newPage();
  try {
    await signIn(page, MASTER_KEY);
    await page.goto(`${gw.origin}/dashboard#/keys`);
    await page.waitForSelector('#create-key');
    await page.fill('#create-key input[name=name]', 'browser-made');
    await page.fill('#create-key input[name=limit_usd]', '5');
    await page.selectOption('#create-key select[name=period]', 'day');
    await page.click('#create-key button[type=submit]');
    await page.waitForSelector('#secret-value');
    const secret = (await page.textContent('#secret-value'))!;
    assert.match(secret, /^sy_live_/);
    await page.click('#copy-secret');
    await page.waitForSelector('#secret-copied:has-text("Copied.")');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);

    // The secret works with the SDK.
    const reply = await sdk(secret).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'hello from a browser-made key' }] });
    assert.match(reply.choices[0].message.content!, /hello from a browser-made key/);

    // Dismissed, it is gone from the page; the list shows the key, and not the secret.
    await page.click('#dismiss-secret');
    assert.equal(await page.locator('#secret-value').count(), 0);
    const key = (await admin.call('GET', '/admin/keys')).body.data.find((k: any) => k.name === 'browser-made');
    const settled = await admin.settledRows(key.id, 1);
    const spent = (await admin.key(key.id)).budgets[0].spent_usd;
    assert.ok(spent > 0 && spent === settled[0].cost_usd);
    await page.reload();
    const row = page.locator('tr[data-key-name="browser-made"]');
    await row.waitFor();
    assert.equal(await row.locator('[data-field="spent_usd"]').textContent(), usd(spent));
    assert.equal(await row.locator('[data-field="limit_usd"]').textContent(), '$5');
    assert.match(await row.textContent() ?? '', /per day \(hard\)resets /);
    assert.ok(!(await page.content()).includes(secret), 'the list never shows the secret');
    // Taken once the secret is gone: the saved picture shows no secret, only its prefix.
    await screenshot(page, 'keys');

    // Rotate: a new secret once; the old one stops working, the new one works.
    await row.locator('button[data-action=rotate]').click();
    await row.locator('button[data-action=rotate]').click();
    await page.waitForSelector('#secret-value');
    const rotated = (await page.textContent('#secret-value'))!;
    assert.notEqual(rotated, secret);
    await assert.rejects(sdk(secret).models.list(), (err: any) => err.status === 401);
    assert.ok((await sdk(rotated).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'rotated' }] })).choices.length);

    // Revoke (a second click confirms): the SDK is refused with key_revoked.
    await page.click('#dismiss-secret');
    await row.locator('button[data-action=revoke]').click();
    await row.locator('button[data-action=revoke]').click();
    await row.locator('td[data-field=status]:has-text("revoked")').waitFor();
    await assert.rejects(
      sdk(rotated).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'after revoke' }] }),
      (err: any) => {
        assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
        assert.equal(err.code, 'key_revoked');
        return true;
      },
    );
  } finally {
    await context.close();
  }
});

test('models: every served model with its numbers; copying an id puts the exact id on the clipboard; the snippet uses this gateway and that model', { skip }, async () => {
  const listed = (await sdk(MASTER_KEY).models.list()).data as any[];
  const { context, page } = await newPage();
  try {
    await signIn(page, MASTER_KEY);
    await page.goto(`${gw.origin}/dashboard#/models`);
    await page.waitForSelector('table.models');
    const ids = await page.$$eval('table.models tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.modelId));
    assert.deepEqual(ids, listed.map((m) => m.id), 'the same models and routes as GET /v1/models');
    const mini = listed.find((m) => m.id === 'gpt-5.4-mini');
    const row = page.locator('tr[data-model-id="gpt-5.4-mini"]');
    assert.equal(await row.locator('td[data-field=context_window]').textContent(), String(mini.context_window));
    assert.equal(await row.locator('td[data-field=max_output_tokens]').textContent(), String(mini.max_output_tokens));
    assert.equal(await row.locator('td[data-field=tier]').textContent(), mini.tier);
    assert.match(await row.textContent() ?? '', new RegExp(`\\$${mini.pricing.input}`));

    await row.locator('button[data-copy]').click();
    await page.waitForSelector('#copy-status[data-copied]');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'gpt-5.4-mini');
    assert.equal(await page.getAttribute('#copy-status', 'data-copied'), 'gpt-5.4-mini');

    await row.locator('button[data-snippet]').click();
    await page.waitForSelector('#snippet-model:has-text("gpt-5.4-mini")');
    assert.match(await page.textContent('#snippet-text') ?? '', new RegExp(`curl ${gw.baseURL}/chat/completions[\\s\\S]*"model":"gpt-5.4-mini"`));
    await page.click('button[data-lang=python]');
    assert.match(await page.textContent('#snippet-text') ?? '', new RegExp(`base_url="${gw.baseURL}"[\\s\\S]*model="gpt-5.4-mini"`));
    await page.click('button[data-lang=node]');
    const node = (await page.textContent('#snippet-text'))!;
    assert.match(node, new RegExp(`baseURL: "${gw.baseURL}"[\\s\\S]*model: "gpt-5.4-mini"`));
    await page.click('#copy-snippet');
    await page.waitForFunction((text) => document.querySelector('#copy-status')?.getAttribute('data-copied') === text, node);
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), node);
    await screenshot(page, 'models');
  } finally {
    await context.close();
  }
});

/** The pending review of a held request whose prompt contains `marker`. */
async function pendingReview(marker: string): Promise<any> {
  for (let i = 0; i < 300; i++) {
    const found = (await admin.call('GET', '/admin/reviews?status=pending')).body.data.find((r: any) => JSON.stringify(r.request).includes(marker));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no pending review for ${marker}`);
}

test('reviews: a held request is approved in the page (the SDK gets the answer) and another rejected (the SDK gets review_rejected)', { skip }, async () => {
  const app = await admin.createKey({ name: 'held-app' });
  const reviewer = await admin.createKey({ name: 'rita', role: 'reviewer' });
  const { context, page } = await newPage();
  try {
    await signIn(page, reviewer.key);
    assert.equal(await page.locator('nav a[data-page=keys]').count(), 0, 'a reviewer has no key management');

    const approved = sdk(app.key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'Draft the launch note' }], metadata: { review: 'hold' } }).withResponse();
    const first = await pendingReview('Draft the launch note');
    await page.goto(`${gw.origin}/dashboard#/reviews`);
    await page.waitForSelector(`tr[data-review-id="${first.id}"]`);
    await screenshot(page, 'reviews');
    await page.click(`tr[data-review-id="${first.id}"] a`);
    await page.waitForSelector('#review-detail #approve');
    assert.match(await page.textContent('#review-request') ?? '', /Draft the launch note/);
    const answerShown = (await page.textContent('#review-answer'))!;
    assert.equal(answerShown, first.answer_text);
    await screenshot(page, 'review-detail');
    await page.click('#approve');
    await page.waitForSelector('#decision-status:has-text("Review approved.")');
    const { data, response } = await approved;
    assert.equal(data.choices[0].message.content, answerShown, 'the client gets the answer the reviewer saw');
    assert.equal(response.headers.get('x-switchyard-review-id'), first.id);
    const decided = (await admin.call('GET', `/admin/reviews/${first.id}`)).body;
    assert.equal(decided.status, 'approved');
    assert.match(decided.decision.decided_by, /rita/);

    const rejected = sdk(app.key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'Leak the roadmap' }], metadata: { review: 'hold' } });
    rejected.catch(() => {});
    const second = await pendingReview('Leak the roadmap');
    await page.goto(`${gw.origin}/dashboard#/reviews/${second.id}`);
    await page.waitForSelector('#review-detail #reject');
    await page.click('#reject');
    await page.waitForSelector('#decision-status.error:has-text("needs a reason")');
    await page.fill('#decision-reason', 'confidential plans');
    await page.click('#reject');
    await page.waitForSelector('#decision-status:has-text("Review rejected.")');
    await assert.rejects(rejected, (err: any) => {
      assert.ok(err instanceof OpenAI.PermissionDeniedError, String(err));
      assert.equal(err.code, 'review_rejected');
      assert.match(err.message, /confidential plans/);
      return true;
    });

    // Edit: the client gets the reviewer's text instead of the model's.
    const edited = sdk(app.key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'Announce the price' }], metadata: { review: 'hold' } });
    const third = await pendingReview('Announce the price');
    await page.goto(`${gw.origin}/dashboard#/reviews/${third.id}`);
    await page.waitForSelector('#review-detail #edit-text');
    assert.equal(await page.inputValue('#edit-text'), third.answer_text, 'the edit starts from the answer');
    await page.fill('#edit-text', 'The price is announced on Monday.');
    await page.click('#send-edit');
    await page.waitForSelector('#decision-status:has-text("Review edited.")');
    assert.equal((await edited).choices[0].message.content, 'The price is announced on Monday.');
    await page.goto(`${gw.origin}/dashboard#/reviews`);
    await page.waitForSelector('text=No pending reviews.');
  } finally {
    await context.close();
  }
});

test('a viewer reads the log, reviews and models but has no key management: not in the nav, not as a page, refused by the API; nor can it decide', { skip }, async () => {
  const viewer = await admin.createKey({ name: 'vera', role: 'viewer' });
  const app = await admin.createKey({ name: 'viewer-app' });
  const requestId = await chat(app.key, 'something a viewer may see');
  const held = sdk(app.key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'viewer cannot decide this' }], metadata: { review: 'hold' } });
  held.catch(() => {});
  const review = await pendingReview('viewer cannot decide this');
  const { context, page } = await newPage();
  try {
    // A key without a role cannot sign in at all.
    await page.goto(`${gw.origin}/dashboard`);
    await page.fill('#key', app.key);
    await page.click('#sign-in button[type=submit]');
    await page.waitForSelector('#sign-in .notice.error:has-text("has no admin role")');
    assert.deepEqual(await context.cookies(), []);

    await signIn(page, viewer.key);
    assert.equal(await page.textContent('.me'), 'vera · viewer');
    assert.deepEqual(await page.locator('nav a').allTextContents(), ['Overview', 'Diagnosis', 'Request log', 'Reviews', 'Models', 'Router']);
    // Signing in lands on the Overview; the request log is a click away.
    await page.waitForSelector('#overview-totals');
    await page.click('nav a[data-page=requests]');
    await page.waitForSelector(`tr[data-request-id="${requestId}"]`);
    await page.goto(`${gw.origin}/dashboard#/keys`);
    await page.waitForSelector('text=Key management needs the admin role.');
    assert.equal(await page.locator('#create-key').count(), 0);
    await screenshot(page, 'viewer-keys');
    const csrf = (await fetchInPage(page, '/dashboard/session')).body.csrf_token;
    const list = await fetchInPage(page, '/admin/keys');
    assert.equal(list.status, 403);
    assert.equal(list.body.error.code, 'insufficient_role');
    const create = await fetchInPage(page, '/admin/keys', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify({ name: 'by-viewer' }) });
    assert.equal(create.status, 403);
    assert.equal(create.body.error.code, 'insufficient_role');

    await page.goto(`${gw.origin}/dashboard#/reviews/${review.id}`);
    await page.waitForSelector('#review-detail');
    assert.equal(await page.locator('#approve').count(), 0);
    assert.match(await page.textContent('#review-detail') ?? '', /Deciding needs the reviewer or admin role/);
    const decide = await fetchInPage(page, `/admin/reviews/${review.id}/approve`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: '{}' });
    assert.equal(decide.status, 403);
    assert.equal((await admin.call('POST', `/admin/reviews/${review.id}/reject`, { reason: 'cleanup' })).status, 200);
  } finally {
    await context.close();
  }
});

test('XSS: a stored prompt with <script> and <img onerror>, and a key named with markup, are shown as text and never run', { skip }, async () => {
  const verbose = await admin.createKey({ name: 'verbose' });
  await admin.createKey({ name: '<img src=x onerror="window.__xss=3">' });
  const payload = 'Summarise <script>window.__xss=1</script> and <img src=x onerror="window.__xss=2"> please';
  const requestId = await chat(verbose.key, payload);
  const { context, page } = await newPage();
  try {
    await signIn(page, MASTER_KEY);
    await page.goto(`${gw.origin}/dashboard#/requests/${requestId}`);
    await page.waitForSelector('#body-request');
    const request = JSON.parse((await page.textContent('#body-request'))!);
    assert.equal(request.messages[0].content, payload, 'the prompt is shown as the text it is');
    assert.match(await page.textContent('#body-response') ?? '', /<script>window.__xss=1<\/script>/);
    assert.equal(await page.locator('#bodies img, #bodies script').count(), 0, 'no element was made from the text');
    await page.goto(`${gw.origin}/dashboard#/keys`);
    await page.waitForSelector('tr[data-key-name="<img src=x onerror=\\"window.__xss=3\\">"]');
    await page.waitForTimeout(200);
    assert.equal(await page.locator('table.keys img').count(), 0);
    assert.equal(await page.evaluate(() => (window as any).__xss), undefined, 'no injected script ran');
    await page.goto(`${gw.origin}/dashboard#/requests/${requestId}`);
    await page.waitForSelector('#body-request');
    await screenshot(page, 'request-detail-xss');
    assert.equal(await page.evaluate(() => (window as any).__xss), undefined);
  } finally {
    await context.close();
  }
});

test('CSRF: changes with the session cookie but without its token are refused (403), with it they work; Bearer calls need none', { skip }, async () => {
  const { context, page } = await newPage();
  try {
    await signIn(page, MASTER_KEY);
    const json = { 'content-type': 'application/json' };
    const body = JSON.stringify({ name: 'csrf-probe' });
    const none = await fetchInPage(page, '/admin/keys', { method: 'POST', headers: json, body });
    assert.equal(none.status, 403);
    assert.equal(none.body.error.code, 'csrf_token_invalid');
    const wrong = await fetchInPage(page, '/admin/keys', { method: 'POST', headers: { ...json, 'x-csrf-token': 'not-the-token' }, body });
    assert.equal(wrong.status, 403);
    const app = await admin.createKey({ name: 'csrf-target' });
    const revoke = await fetchInPage(page, `/admin/keys/${app.id}/revoke`, { method: 'POST' });
    assert.equal(revoke.status, 403);
    assert.equal((await admin.key(app.id)).status, 'active', 'nothing changed');
    const signOut = await fetchInPage(page, '/dashboard/session', { method: 'DELETE' });
    assert.equal(signOut.status, 403, 'signing out needs the token too');
    assert.equal((await admin.call('GET', '/admin/keys')).body.data.filter((k: any) => k.name === 'csrf-probe').length, 0);

    const csrf = (await fetchInPage(page, '/dashboard/session')).body.csrf_token;
    const ok = await fetchInPage(page, '/admin/keys', { method: 'POST', headers: { ...json, 'x-csrf-token': csrf }, body });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal((await admin.call('POST', `/admin/keys/${app.id}/revoke`)).status, 200, 'a Bearer call needs no CSRF token');
  } finally {
    await context.close();
  }
});

test('a session opened with a virtual key stops working within seconds of the key being revoked', { skip }, async () => {
  const ops = await admin.createKey({ name: 'ops', role: 'admin' });
  const { context, page } = await newPage();
  try {
    await signIn(page, ops.key);
    assert.equal((await fetchInPage(page, '/admin/keys')).status, 200);
    assert.equal((await admin.call('POST', `/admin/keys/${ops.id}/revoke`)).status, 200);
    let refused: { status: number; body: any } | undefined;
    for (let i = 0; i < 50 && !refused; i++) {
      const reply = await fetchInPage(page, '/admin/keys');
      if (reply.status === 401) refused = reply;
      else await page.waitForTimeout(200);
    }
    assert.ok(refused, 'the session still worked 10 s after its key was revoked');
    assert.equal(refused.body.error.code, 'session_ended');
    assert.match(refused.body.error.message, /revoked/);
    assert.equal((await fetchInPage(page, '/admin/keys')).status, 401, 'and stays ended');
  } finally {
    await context.close();
  }
});
