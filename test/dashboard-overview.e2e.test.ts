// The dashboard's Overview, Router and Deployments pages in a real headless browser
// (playwright-core driving Debian's Chromium) against a real gateway and the mock
// upstream. Traffic is made in the test with the official openai SDK (gpt-5.4-mini,
// gpt-5.5, errors via the mock's x-mock-status, auto-routed requests); the numbers the
// pages render are checked against the request log (the ledger rows), the charts against
// what uPlot drew, and a viewer's view against the admin-only Deployments page.
// Screenshots: test-artifacts/dashboard/{overview,router,deployments}.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { Browser, Page } from 'playwright-core';
import { browserSkip, launchBrowser, openPage, screenshot, signIn as signInAt } from './support/browser.ts';
import { startMockUpstream, type MockUpstream } from '../src/mock-upstream/index.ts';
import { shippedCatalog } from '../src/catalog/catalog.ts';
import { costOf } from '../src/catalog/cost.ts';
import type { RequestRow } from '../src/store/types.ts';
import { startGateway, type TestGateway } from './support/gateway.ts';
import { adminApi, MASTER_KEY, type AdminApi } from './support/admin.ts';

const skip = browserSkip('dashboard overview');

let mock: MockUpstream;
let gw: TestGateway;
let admin: AdminApi;
let browser: Browser;
/** The request log after the traffic: attempt-0 rows, one per request. */
let ledger: RequestRow[] = [];

before(async () => {
  if (skip) return;
  mock = await startMockUpstream({});
  gw = await startGateway({
    env: { SWITCHYARD_MASTER_KEY: MASTER_KEY },
    yaml: `
providers:
  openai: { base_url: ${mock.url}/v1, api_key: mock-provider-secret-0001, forward_headers: [x-mock-*] }
  anthropic: { base_url: ${mock.url}, api_key: mock-provider-secret-0002 }
`,
  });
  admin = adminApi(gw.origin);
  const app = await admin.createKey({ name: 'overview-app' });
  const client = new OpenAI({ baseURL: gw.baseURL, apiKey: app.key, maxRetries: 0, timeout: 30_000 });
  const ask = (model: string, content: string, headers?: Record<string, string>) =>
    client.chat.completions.create({ model, messages: [{ role: 'user', content }] }, { headers }).then(() => true, () => false);
  const results: boolean[] = [];
  for (let i = 0; i < 5; i++) results.push(await ask('gpt-5.4-mini', `a small question number ${i}`));
  for (let i = 0; i < 3; i++) results.push(await ask('gpt-5.5', `a frontier question number ${i}, please think about it`));
  results.push(await ask('gpt-5.4-mini', 'this one fails', { 'x-mock-status': '400' }));
  results.push(await ask('gpt-5.5', 'this one fails too', { 'x-mock-status': '400' }));
  results.push(await ask('auto', 'hi'));
  results.push(await ask('auto', 'Prove that there are infinitely many primes, then write a Rust function that lists the first n of them, with tests.'));
  results.push(await ask('auto:cascade', 'What is 2 + 2?'));
  assert.equal(results.filter((ok) => !ok).length, 2, 'the two x-mock-status requests fail, the others answer');
  await gw.gateway.ledger.flush();
  ledger = (await admin.requests()).filter((r) => r.attempt === 0);
  assert.equal(ledger.length, 13, 'every request has its row');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await gw?.close();
  await mock?.close();
});

// CSP violations and script errors land in `problems`: uPlot must run under script-src 'self'.
const newPage = () => openPage(browser, gw.origin);

const signIn = (page: Page, key: string) => signInAt(page, gw.origin, key);

async function field(page: Page, scope: string, name: string): Promise<string> {
  return (await page.textContent(`${scope} [data-field="${name}"]`))!.trim();
}

const dollars = (text: string) => {
  assert.match(text, /^-?\$-?\d+(\.\d+)?$/, `a dollar amount: ${text}`);
  return Number(text.replace('$', ''));
};
const sum = (rows: RequestRow[], pick: (r: RequestRow) => number) => rows.reduce((total, r) => total + pick(r), 0);

/** The chart's series count and how many of its canvas pixels are painted. */
async function drawn(page: Page, selector: string): Promise<{ series: number; painted: number }> {
  await page.waitForSelector(`${selector}[data-drawn="true"] canvas`);
  return page.evaluate((selector) => {
    const el = document.querySelector(selector) as HTMLElement;
    const canvas = el.querySelector('canvas')!;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
    return { series: Number(el.dataset.series), painted };
  }, selector);
}

test('Overview: spend, requests, error rate and savings as the request log has them; the charts drawn by uPlot with no CSP error', { skip }, async () => {
  const { context, page, problems } = await newPage();
  try {
    await signIn(page, MASTER_KEY);
    problems.length = 0; // the signed-out page's GET /dashboard/session answers 401, as it should
    await page.goto(`${gw.origin}/dashboard#/overview`);
    await page.waitForSelector('#overview-totals');

    assert.equal(await field(page, '#overview-totals', 'requests'), String(ledger.length));
    const spent = sum(ledger, (r) => r.cost_usd);
    assert.ok(spent > 0);
    assert.ok(Math.abs(dollars(await field(page, '#overview-totals', 'cost_usd')) - spent) < 1e-7, 'spend is the sum of the ledger costs');
    const errors = ledger.filter((r) => r.status >= 400).length;
    assert.equal(errors, 2);
    assert.equal(await field(page, '#overview-totals', 'error_rate'), `${((errors / ledger.length) * 100).toFixed(2)}%`);
    const latencies = ledger.map((r) => r.latency_ms).sort((a, b) => a - b);
    assert.match(await field(page, '#overview-totals', 'p95_latency_ms'), /^\d+ ms$/);
    const p95 = Number((await field(page, '#overview-totals', 'p95_latency_ms')).split(' ')[0]);
    assert.ok(p95 >= latencies[0] && p95 <= latencies[latencies.length - 1], `p95 ${p95} within the latencies`);

    // Savings: the same tokens at gpt-5.5's catalog price, minus what they cost.
    const frontier = shippedCatalog().models.find((m) => m.id === 'gpt-5.5')!.pricing;
    const frontierCost = costOf({
      inputTokens: sum(ledger, (r) => r.input_tokens), cachedInputTokens: sum(ledger, (r) => r.cached_input_tokens),
      cacheWriteTokens: sum(ledger, (r) => r.cache_write_tokens), outputTokens: sum(ledger, (r) => r.output_tokens), reasoningTokens: 0,
    }, frontier);
    assert.equal(await field(page, '#overview-savings', 'frontier_model'), 'gpt-5.5');
    const shownFrontier = dollars(await field(page, '#overview-savings', 'frontier_cost_usd'));
    const shownSavings = dollars(await field(page, '#overview-savings', 'savings_usd'));
    assert.ok(Math.abs(shownFrontier - frontierCost) < 1e-7, `frontier cost ${shownFrontier} vs ${frontierCost}`);
    assert.ok(Math.abs(shownSavings - (frontierCost - spent)) < 1e-7, `savings ${shownSavings} = ${frontierCost} − ${spent}`);
    assert.ok(shownSavings > 0, 'gpt-5.4-mini traffic is cheaper than gpt-5.5');

    // Split by model: one table row and one chart series per model.
    const models = new Map<string, RequestRow[]>();
    for (const r of ledger) models.set(r.model_used ?? r.model_requested, [...(models.get(r.model_used ?? r.model_requested) ?? []), r]);
    for (const [model, rows] of models) {
      const row = page.locator(`#overview-body tr[data-group="${model}"]`);
      assert.equal((await row.locator('[data-field=requests]').textContent())!.trim(), String(rows.length), model);
      assert.ok(Math.abs(dollars((await row.locator('[data-field=cost_usd]').textContent())!.trim()) - sum(rows, (r) => r.cost_usd)) < 1e-7, model);
    }
    const spend = await drawn(page, '#chart-spend');
    assert.equal(spend.series, Math.min(models.size, 6) + (models.size > 6 ? 1 : 0));
    assert.ok(spend.painted > 1000, `the spend chart painted ${spend.painted} pixels`);
    for (const chart of ['#chart-requests', '#chart-latency', '#chart-errors']) assert.ok((await drawn(page, chart)).painted > 1000, chart);
    assert.equal((await drawn(page, '#chart-latency')).series, 3);

    // Split by tier: the table follows the selector.
    await page.selectOption('#overview-group', 'tier');
    await page.waitForSelector('#overview-body th:has-text("Tier")');
    const mini = ledger.filter((r) => r.tier === 'mini').length;
    assert.equal((await page.textContent('#overview-body tr[data-group="mini"] [data-field=requests]'))!.trim(), String(mini));
    await page.selectOption('#overview-window', 'hour');
    await page.waitForSelector('#overview-body th:has-text("Tier")');
    assert.equal(await field(page, '#overview-totals', 'requests'), String(ledger.length), 'the traffic is within the last hour too');
    await page.selectOption('#overview-group', 'model');
    await page.selectOption('#overview-window', 'day');
    await page.waitForSelector('#overview-body th:has-text("Model")');
    await drawn(page, '#chart-spend');
    await screenshot(page, 'overview');

    // On a phone the charts follow the narrower cards and nothing runs off the side.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForFunction(() => {
      const canvas = document.querySelector('#chart-spend canvas') as HTMLCanvasElement;
      return canvas.getBoundingClientRect().right <= window.innerWidth && document.documentElement.scrollWidth <= window.innerWidth;
    }, undefined, { timeout: 5_000 });
    assert.deepEqual(problems, [], 'no console errors (a CSP violation would be one)');
  } finally {
    await context.close();
  }
});

test('GET /admin/stats: the numbers behind the pages; spikes; bad parameters refused with 400', { skip }, async () => {
  const reply = await admin.call('GET', '/admin/stats?window=week&group_by=key');
  assert.equal(reply.status, 200);
  assert.equal(reply.body.totals.requests, ledger.length);
  assert.equal(reply.body.buckets.length, 56);
  assert.equal(reply.body.buckets.reduce((n: number, b: { requests: number }) => n + b.requests, 0), ledger.length);
  assert.deepEqual(reply.body.spikes, [], 'all traffic in one bucket: no baseline, no spike');
  const cheaper = await admin.call('GET', '/admin/stats?window=day&frontier=gpt-5.4-mini');
  assert.equal(cheaper.body.frontier_model, 'gpt-5.4-mini');
  assert.ok(cheaper.body.totals.frontier_cost_usd < reply.body.totals.frontier_cost_usd);
  for (const bad of ['window=year', 'group_by=colour', 'frontier=gpt-9', 'routed=maybe']) {
    const refused = await admin.call('GET', `/admin/stats?${bad}`);
    assert.equal(refused.status, 400, bad);
    assert.equal(refused.body.error.param, bad.split('=')[0]);
  }
});

test('Router: the tier split of auto-routed requests, strong-model share, escalation rate and savings as the request log has them', { skip }, async () => {
  const { context, page, problems } = await newPage();
  try {
    await signIn(page, MASTER_KEY);
    problems.length = 0;
    await page.goto(`${gw.origin}/dashboard#/router`);
    await page.waitForSelector('#router-totals');
    const routed = ledger.filter((r) => r.route_name !== null);
    assert.equal(routed.length, 3);
    assert.equal(await field(page, '#router-totals', 'requests'), '3');
    const tiers = new Map<string, number>();
    for (const r of routed) tiers.set(r.tier!, (tiers.get(r.tier!) ?? 0) + 1);
    assert.equal(await page.locator('#router-body tr[data-tier]').count(), tiers.size);
    for (const [tier, n] of tiers) {
      assert.equal((await page.textContent(`#router-body tr[data-tier="${tier}"] [data-field=requests]`))!.trim(), String(n), tier);
      assert.equal((await page.textContent(`#router-body tr[data-tier="${tier}"] [data-field=share]`))!.trim(), `${((n / routed.length) * 100).toFixed(2)}%`);
    }
    const strong = routed.filter((r) => r.tier === 'frontier' || r.tier === 'pro').length;
    assert.equal(await field(page, '#router-totals', 'strong_share'), `${((strong / routed.length) * 100).toFixed(2)}%`);
    const cascades = routed.filter((r) => /cascade:/.test(r.route ?? ''));
    const escalated = cascades.filter((r) => /cascade:.*escalated/.test(r.route ?? ''));
    assert.ok(cascades.length >= 1, 'the auto:cascade request went through the cascade');
    assert.equal(await field(page, '#router-totals', 'cascades'), `${cascades.length} / ${escalated.length}`);
    assert.equal(await field(page, '#router-totals', 'escalation_rate'), `${((escalated.length / cascades.length) * 100).toFixed(2)}%`);
    const frontier = shippedCatalog().models.find((m) => m.id === 'gpt-5.5')!.pricing;
    const saved = costOf({
      inputTokens: sum(routed, (r) => r.input_tokens), cachedInputTokens: sum(routed, (r) => r.cached_input_tokens),
      cacheWriteTokens: sum(routed, (r) => r.cache_write_tokens), outputTokens: sum(routed, (r) => r.output_tokens), reasoningTokens: 0,
    }, frontier) - sum(routed, (r) => r.cost_usd);
    assert.ok(Math.abs(dollars(await field(page, '#router-totals', 'savings_usd')) - saved) < 1e-7);
    const chart = await drawn(page, '#chart-tiers');
    assert.equal(chart.series, tiers.size);
    assert.ok(chart.painted > 1000);
    await screenshot(page, 'router');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('Deployments (admin): a row per deployment with its breaker state and the last hour\'s requests; refreshed; a viewer sees neither the page nor the API', { skip }, async () => {
  const { context, page, problems } = await newPage();
  try {
    await signIn(page, MASTER_KEY);
    problems.length = 0;
    assert.deepEqual(await page.locator('nav a').allTextContents(), ['Overview', 'Diagnosis', 'Request log', 'Keys & budgets', 'Reviews', 'Models', 'Router', 'Deployments']);
    await page.goto(`${gw.origin}/dashboard#/deployments`);
    await page.waitForSelector('#deployments-body tr[data-deployment]');
    const listed = (await admin.call('GET', '/admin/deployments')).body.data as Array<{ id: string; model: string }>;
    assert.ok(listed.length > 0);
    assert.equal(await page.locator('#deployments-body tr[data-deployment]').count(), listed.length);
    const answered = new Map<string, number>();
    for (const r of ledger) if (r.deployment_id) answered.set(r.deployment_id, (answered.get(r.deployment_id) ?? 0) + 1);
    assert.ok(answered.size >= 2);
    for (const [id, n] of answered) {
      if (!listed.some((d) => d.id === id)) continue;
      assert.equal((await page.textContent(`#deployments-body tr[data-deployment="${id}"] [data-field=requests]`))!.trim(), String(n), id);
      assert.match((await page.textContent(`#deployments-body tr[data-deployment="${id}"] [data-field=latency]`))!, /^\d+ ms \/ \d+ ms$/);
    }
    const first = await page.textContent('#deployments-updated');
    await page.waitForFunction((before) => document.querySelector('#deployments-updated')?.textContent !== before, first, { timeout: 12_000 });
    await screenshot(page, 'deployments');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }

  const viewer = await admin.createKey({ name: 'vic', role: 'viewer' });
  const other = await newPage();
  try {
    await signIn(other.page, viewer.key);
    assert.deepEqual(await other.page.locator('nav a').allTextContents(), ['Overview', 'Diagnosis', 'Request log', 'Reviews', 'Models', 'Router']);
    await other.page.goto(`${gw.origin}/dashboard#/deployments`);
    await other.page.waitForSelector('text=Deployments are provider settings: they need the admin role.');
    const refused = await other.page.evaluate(async () => { const res = await fetch('/admin/deployments'); return { status: res.status, body: await res.json() }; });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'insufficient_role');
    // The Overview is a viewer's.
    await other.page.goto(`${gw.origin}/dashboard#/overview`);
    await other.page.waitForSelector('#overview-totals');
    assert.equal(await field(other.page, '#overview-totals', 'requests'), String(ledger.length));
  } finally {
    await other.context.close();
  }
});
