import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const ARTIFACTS = join(import.meta.dirname, '../../../test-artifacts');

/** Debian's Chromium, offline-minded flags, a fresh throw-away profile. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

export interface TestBrowser {
  context: BrowserContext;
  /** Console errors, page errors and requests to anything but the gateway, from every page. */
  problems: string[];
  /** A new tab (its own sessionStorage) watched for console errors and foreign requests. */
  newPage(): Promise<Page>;
  /**
   * Declares that the next problem matching `pattern` is expected (e.g. the browser's own
   * console note of a deliberate 400); it is not counted in `problems`. Returns how many such
   * problems have been seen since.
   */
  expectProblem(pattern: RegExp): () => number;
  close(): Promise<void>;
}

/**
 * playwright refuses `--user-data-dir` among launch args; a persistent context on a fresh
 * temporary directory is the same thing, and the directory is removed on close.
 */
export async function launchBrowser(allowedOrigin: string): Promise<TestBrowser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const userDataDir = mkdtempSync(join(tmpdir(), 'e2e-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1440, height: 900 },
    acceptDownloads: true,
    locale: 'zh-CN',
    timezoneId: 'Europe/London', // not Shanghai: the page must show Shanghai time whatever the browser's zone
  });
  const problems: string[] = [];
  const expected: { pattern: RegExp; seen: number }[] = [];
  const report = (problem: string) => {
    const match = expected.find((e) => e.seen === 0 && e.pattern.test(problem));
    if (match) match.seen++;
    else problems.push(problem);
  };
  for (const p of context.pages()) await p.close();
  return {
    context,
    problems,
    async newPage() {
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') report(`console: ${m.text()} @ ${m.location().url}`);
      });
      page.on('pageerror', (e) => report(`pageerror: ${e.message}`));
      page.on('request', (r) => {
        const url = r.url();
        if (!url.startsWith(allowedOrigin) && !url.startsWith('data:') && !url.startsWith('blob:')) report(`foreign request: ${url}`);
      });
      page.on('requestfailed', (r) => report(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
      return page;
    },
    expectProblem(pattern) {
      const entry = { pattern, seen: 0 };
      expected.push(entry);
      return () => entry.seen;
    },
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Opens the page at `hash` and signs in with `key`. */
export async function signIn(browser: TestBrowser, origin: string, key: string, hash = ''): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${origin}/${hash}`);
  await page.fill('#api-key', key);
  await page.click('form.login button[type=submit]');
  return page;
}
