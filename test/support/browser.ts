// The dashboard's browser tests' common parts: Debian's Chromium driven by playwright-core
// (skipped, with the reason, where it is missing — CI installs it), a page that collects
// console errors (a CSP violation is one), signing in, and screenshots saved as artifacts.
import { existsSync, mkdirSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = new URL('../../test-artifacts/dashboard/', import.meta.url);

/** Why the browser tests of `what` are skipped here, printed once; undefined when Chromium is there. */
export function browserSkip(what: string): string | undefined {
  const skip = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (CI installs Debian's chromium)`;
  if (skip) console.log(`# ${what} browser tests skipped: ${skip}`);
  return skip;
}

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const { chromium } = await import('playwright-core');
  // Chromium's sandbox refuses to start as root (containers, CI).
  return chromium.launch({ executablePath: CHROMIUM, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
}

export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions of the page. */
  problems: string[];
}

export async function openPage(browser: Browser, origin: string, options: { width?: number; height?: number; clipboard?: boolean } = {}): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: options.height ?? 900 } });
  if (options.clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });
  page.on('pageerror', (error) => problems.push(error.message));
  return { context, page, problems };
}

export async function signIn(page: Page, origin: string, key: string): Promise<void> {
  await page.goto(`${origin}/dashboard`);
  await page.fill('#key', key);
  await page.click('#sign-in button[type=submit]');
  await page.waitForSelector('#sign-out');
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: new URL(`${name}.png`, ARTIFACTS).pathname, fullPage: true });
}
