// The dashboard's Diagnosis page (the seed's diagnosis table) in a real headless browser
// (playwright-core driving Debian's Chromium) against a real gateway and the mock upstream.
// Traffic is made in the test with the official openai SDK: short prompts on gpt-5.4-mini
// answered at once, and long prompts (~16k tokens) on gpt-5.5 that the mock answers 600 ms
// late (x-mock-latency-ms), so long context is slow and the frontier model's spend spikes
// over a baseline of three cheap requests recorded through the gateway's ledger hours
// earlier. Checked against the request log (the ledger rows): the context bins' numbers the
// page renders, the request detail's long-context / typical line, the frontier share of
// spend, and a spike's link opening the request log filtered to exactly that bucket's rows.
// Also: signing in lands on the Overview. Screenshot: test-artifacts/dashboard/diagnosis.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { Browser, Page } from 'playwright-core';
import { browserSkip, launchBrowser, openPage, screenshot, signIn as signInAt } from './support/browser.ts';
import { startMockUpstream, type MockUpstream } from '../src/mock-upstream/index.ts';
import type { RequestRow } from '../src/store/types.ts';
import { startGateway, type TestGateway } from './support/gateway.ts';
import { adminApi, MASTER_KEY, type AdminApi } from './support/admin.ts';

const skip = browserSkip('dashboard diagnosis');

const HOUR = 3_600_000;
const LONG_PROMPT = `Summarise this log: ${'word '.repeat(16_000)}`;

let mock: MockUpstream;
let gw: TestGateway;
let admin: AdminApi;
let browser: Browser;
/** The request log after the traffic: attempt-0 rows, one per request. */
let ledger: RequestRow[] = [];
const longIds: string[] = [];
const shortIds: string[] = [];

before(async () => {
  if (skip) return;
  mock = await startMockUpstream({});
  gw = await startGateway({
    env: { SWITCHYARD_MASTER_KEY: MASTER_KEY },
    yaml: `
providers:
  openai: { base_url: ${mock.url}/v1, api_key: mock-provider-secret-0001, forward_headers: [x-mock-*] }
`,
  });
  admin = adminApi(gw.origin);
  const app = await admin.createKey({ name: 'diagnosis-app' });
  const client = new OpenAI({ baseURL: gw.baseURL, apiKey: app.key, maxRetries: 0, timeout: 30_000 });
  const ask = async (model: string, content: string, stream: boolean, headers?: Record<string, string>): Promise<string> => {
    if (!stream) {
      const { response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content }] }, { headers }).withResponse();
      return response.headers.get('x-request-id')!;
    }
    const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content }], stream: true, stream_options: { include_usage: true } }, { headers }).withResponse();
    for await (const _ of data) { /* read to the end */ }
    return response.headers.get('x-request-id')!;
  };
  for (let i = 0; i < 10; i++) shortIds.push(await ask('gpt-5.4-mini', `a short question number ${i}`, i % 3 === 0));
  for (let i = 0; i < 2; i++) longIds.push(await ask('gpt-5.5', LONG_PROMPT, i === 0, { 'x-mock-latency-ms': '600' }));
  // A baseline of cheap requests 2, 4 and 6 hours ago (three day-window buckets with spend),
  // recorded the way the gateway records any request, so the frontier traffic above is a spike.
  await gw.gateway.ledger.flush();
  const template = gw.ledger.forRequest(shortIds[1])!;
  for (const hoursAgo of [2, 4, 6]) {
    gw.ledger.record({ ...template, bodies: undefined, requestId: `${template.requestId}-h${hoursAgo}`, time: new Date(Date.now() - hoursAgo * HOUR).toISOString(), costUsd: 0.0001 });
  }
  await gw.gateway.ledger.flush();
  ledger = (await admin.requests()).filter((r) => r.attempt === 0);
  assert.equal(ledger.length, 15, 'every request has its row');
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

const text = async (page: Page, selector: string) => (await page.textContent(selector))!.trim();
const bin = (tokens: number) => (tokens <= 1 ? 0 : Math.floor(Math.log2(tokens)));
const percent = (rate: number) => `${(rate * 100).toFixed(2)}%`;

/** percentile_cont over the values, as PostgreSQL computes it. */
function percentileCont(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = q * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.min(lower + 1, sorted.length - 1);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (rank - lower);
}

/** "123 ms" on the page against the exact percentile: SQLite's bins stand for their values within 1.3 % (exact under 100 ms). */
function assertMs(shown: string, expected: number, what: string): number {
  assert.match(shown, /^\d+ ms$/, `${what}: ${shown}`);
  const value = Number(shown.split(' ')[0]);
  assert.ok(Math.abs(value - expected) <= Math.max(1, expected * 0.015), `${what}: ${value} ms shown, ${expected} ms in the ledger`);
  return value;
}

test('sign-in lands on the Overview; Diagnosis: latency and TTFT per input-size bin as the ledger has them, long context slower, the chart drawn', { skip }, async () => {
  const { context, page, problems } = await newPage();
  try {
    await signIn(page, MASTER_KEY);
    await page.waitForSelector('#overview-totals');
    assert.equal(new URL(page.url()).hash, '#/overview', 'signing in lands on the Overview');
    assert.equal(await text(page, 'nav a.active'), 'Overview');
    problems.length = 0; // the signed-out page's GET /dashboard/session answers 401, as it should

    await page.click('nav a[data-page=diagnosis]');
    await page.waitForSelector('#diagnosis-context tr[data-bin]');
    const bins = new Map<number, RequestRow[]>();
    for (const r of ledger) bins.set(bin(r.input_tokens), [...(bins.get(bin(r.input_tokens)) ?? []), r]);
    assert.ok(bins.size >= 2, 'short and long prompts land in different bins');
    assert.deepEqual(await page.$$eval('#diagnosis-context tr[data-bin]', (trs) => trs.map((tr) => Number((tr as HTMLElement).dataset.bin))), [...bins.keys()].sort((a, b) => a - b));
    for (const [b, rows] of bins) {
      const row = `#diagnosis-context tr[data-bin="${b}"]`;
      assert.equal(await text(page, `${row} [data-field=requests]`), String(rows.length), `bin ${b}`);
      assert.equal(await text(page, `${row} [data-field=tokens]`), `${b === 0 ? 0 : 2 ** b}–${2 ** (b + 1) - 1}`);
      assert.equal(await text(page, `${row} [data-field=share]`), percent(rows.length / ledger.length));
      assertMs(await text(page, `${row} [data-field=p50_latency_ms]`), percentileCont(rows.map((r) => r.latency_ms), 0.5), `bin ${b} p50`);
      assertMs(await text(page, `${row} [data-field=p95_latency_ms]`), percentileCont(rows.map((r) => r.latency_ms), 0.95), `bin ${b} p95`);
      const ttfts = rows.map((r) => r.ttft_ms).filter((t): t is number => t !== null);
      if (ttfts.length) assertMs(await text(page, `${row} [data-field=p50_ttft_ms]`), percentileCont(ttfts, 0.5), `bin ${b} ttft`);
      else assert.equal(await text(page, `${row} [data-field=p50_ttft_ms]`), '—');
    }
    // The long prompts: ~16k tokens, 600 ms upstream latency; the short ones a few tokens, answered at once.
    const longBin = bin(ledger.find((r) => r.request_id === longIds[0])!.input_tokens);
    assert.ok(longBin >= 13, `the long prompt has ${ledger.find((r) => r.request_id === longIds[0])!.input_tokens} input tokens`);
    const longP50 = Number((await text(page, `#diagnosis-context tr[data-bin="${longBin}"] [data-field=p50_latency_ms]`)).split(' ')[0]);
    const shortBin = bin(ledger.find((r) => r.request_id === shortIds[0])!.input_tokens);
    const shortP50 = Number((await text(page, `#diagnosis-context tr[data-bin="${shortBin}"] [data-field=p50_latency_ms]`)).split(' ')[0]);
    assert.ok(longP50 >= 600 && longP50 > 3 * shortP50, `long context is slower: ${longP50} ms vs ${shortP50} ms`);
    assertMs(await text(page, '#context-summary [data-field=p50_latency_ms]'), percentileCont(ledger.map((r) => r.latency_ms), 0.5), 'window p50');

    await page.waitForSelector('#chart-context[data-drawn="true"] canvas');
    const chart = await page.evaluate(() => {
      const el = document.querySelector('#chart-context') as HTMLElement;
      const canvas = el.querySelector('canvas')!;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
      return { bins: Number(el.dataset.bins), series: Number(el.dataset.series), painted };
    });
    assert.deepEqual([chart.bins, chart.series], [bins.size, 3]);
    assert.ok(chart.painted > 300, `the context chart painted ${chart.painted} pixels`);
    await page.waitForSelector('#chart-tier-spend[data-drawn="true"] canvas');
    await screenshot(page, 'diagnosis');

    // On a phone the charts follow the narrower cards and nothing runs off the side.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForFunction(() => {
      const canvas = document.querySelector('#chart-context canvas') as HTMLCanvasElement;
      return canvas.getBoundingClientRect().right <= window.innerWidth && document.documentElement.scrollWidth <= window.innerWidth;
    }, undefined, { timeout: 5_000 });
    assert.deepEqual(problems, [], 'no console errors (a CSP violation would be one)');
  } finally {
    await context.close();
  }
});

test("a request's detail says when its context length explains its latency: long for a 16k-token request, typical for a short one", { skip }, async () => {
  const { context, page } = await newPage();
  try {
    await signIn(page, MASTER_KEY);
    const long = ledger.find((r) => r.request_id === longIds[1])!;
    const sameBin = ledger.filter((r) => bin(r.input_tokens) === bin(long.input_tokens));
    const atLeast = ledger.filter((r) => bin(r.input_tokens) >= bin(long.input_tokens)).length;
    await page.goto(`${gw.origin}/dashboard#/requests/${long.request_id}`);
    await page.waitForSelector('#context-verdict[data-kind]');
    assert.equal(await page.getAttribute('#context-verdict', 'data-kind'), 'long');
    const line = await text(page, '#context-verdict');
    assert.ok(line.startsWith(`Long context: ${long.input_tokens} input tokens, in the top ${percent(atLeast / ledger.length)} of the last day;`), line);
    const p50 = Number(/take p50 (\d+) ms/.exec(line)![1]);
    assertMs(`${p50} ms`, percentileCont(sameBin.map((r) => r.latency_ms), 0.5), 'the bin p50 in the detail');
    assert.match(line, /the context length explains the latency\.$/);

    const short = ledger.find((r) => r.request_id === shortIds[2])!;
    await page.goto(`${gw.origin}/dashboard#/requests/${short.request_id}`);
    await page.waitForSelector(`#request-detail [data-field=request_id]:has-text("${short.request_id}")`);
    await page.waitForSelector('#context-verdict[data-kind]');
    assert.equal(await page.getAttribute('#context-verdict', 'data-kind'), 'typical');
    assert.ok((await text(page, '#context-verdict')).startsWith(`Context length is typical for the last day: ${short.input_tokens} input tokens`));
  } finally {
    await context.close();
  }
});

test('Diagnosis: spend by tier, the gpt-5.5 share of spend, and a spike whose link opens the request log filtered to exactly its rows', { skip }, async () => {
  const { context, page, problems } = await newPage();
  try {
    await signIn(page, MASTER_KEY);
    problems.length = 0;
    await page.goto(`${gw.origin}/dashboard#/diagnosis`);
    await page.waitForSelector('#diagnosis-spikes li');
    const money = (s: string) => Number(s.replace('$', ''));
    const spent = ledger.reduce((n, r) => n + r.cost_usd, 0);
    const frontier = ledger.filter((r) => r.model_used === 'gpt-5.5').reduce((n, r) => n + r.cost_usd, 0);
    assert.ok(frontier > 0 && frontier < spent);
    assert.ok(Math.abs(money(await text(page, '#frontier-share [data-field=frontier_spend]')) - frontier) < 1e-7);
    assert.ok(Math.abs(money(await text(page, '#frontier-share [data-field=total_spend]')) - spent) < 1e-7);
    assert.equal(await text(page, '#frontier-share [data-field=frontier_share]'), percent(frontier / spent));
    for (const tier of new Set(ledger.map((r) => r.tier))) {
      const rows = ledger.filter((r) => r.tier === tier);
      assert.ok(Math.abs(money(await text(page, `table.tier-spend tr[data-tier="${tier}"] [data-field=cost_usd]`)) - rows.reduce((n, r) => n + r.cost_usd, 0)) < 1e-7, String(tier));
    }
    assert.ok(Number(await page.getAttribute('#chart-tier-spend', 'data-spikes')) >= 1, 'the spike is marked on the chart');

    // The biggest spike: its bucket holds the gpt-5.5 requests; its tier link opens exactly those rows.
    const spike = page.locator('#diagnosis-spikes li').filter({ hasText: 'mostly tier frontier' }).first();
    const from = (await spike.getAttribute('data-start'))!;
    const to = (await spike.getAttribute('data-end'))!;
    const inBucket = ledger.filter((r) => r.time >= from && r.time < to);
    const expected = inBucket.filter((r) => r.tier === 'frontier').map((r) => r.request_id).sort();
    assert.ok(expected.length >= 1);
    await spike.locator('a.spike-tier').click();
    await page.waitForSelector('#request-results table.requests');
    const hash = new URLSearchParams(new URL(page.url()).hash.split('?')[1]);
    assert.deepEqual([hash.get('from'), hash.get('to'), hash.get('tier')], [from, to, 'frontier']);
    assert.equal(await page.inputValue('#request-filters select[name=tier]'), 'frontier', 'the form shows the filters it applied');
    const shown = async () => (await page.$$eval('#request-results tr[data-request-id]', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.requestId!))).sort();
    assert.deepEqual(await shown(), expected);

    // Changed in the form, the filters go into the address: a reload shows the same rows.
    await page.selectOption('#request-filters select[name=tier]', 'mini');
    await page.click('#request-filters button[type=submit]');
    const minis = inBucket.filter((r) => r.tier === 'mini').map((r) => r.request_id).sort();
    await page.waitForFunction((n) => document.querySelectorAll('#request-results tr[data-request-id]').length === n, minis.length);
    assert.equal(new URLSearchParams(new URL(page.url()).hash.split('?')[1]).get('tier'), 'mini');
    await page.reload();
    await page.waitForSelector('#request-results table.requests');
    assert.deepEqual(await shown(), minis);

    // The bucket's every request, through the other link; the baseline hours ago is not in it.
    await page.goBack();
    await page.waitForSelector('#diagnosis-spikes li a.spike-all');
    await page.locator('#diagnosis-spikes li').filter({ hasText: 'mostly tier frontier' }).first().locator('a.spike-all').click();
    await page.waitForFunction((n) => document.querySelectorAll('#request-results tr[data-request-id]').length === n, inBucket.length);
    assert.deepEqual(await shown(), inBucket.map((r) => r.request_id).sort());
    assert.ok(!(await shown()).some((id) => id.includes('-h')), 'the baseline rows are outside the bucket');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('GET /admin/stats/context: the bins behind the page; a viewer may read it; a bad window is refused', { skip }, async () => {
  const reply = await admin.call('GET', '/admin/stats/context?window=week');
  assert.equal(reply.status, 200);
  assert.equal(reply.body.totals.requests, ledger.length);
  assert.equal(reply.body.bins.reduce((n: number, b: { requests: number }) => n + b.requests, 0), ledger.length);
  const refused = await admin.call('GET', '/admin/stats/context?window=year');
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error.param, 'window');
  const viewer = await admin.createKey({ name: 'diag-viewer', role: 'viewer' });
  const asViewer = await adminApi(gw.origin, viewer.key).call('GET', '/admin/stats/context');
  assert.equal(asViewer.status, 200);
  assert.equal(asViewer.body.window, 'day');
});
