/**
 * Browser tests of the dashboard in real headless Chromium (Debian's `chromium` package) driven by
 * playwright-core (the library, not its test runner: the tests are vitest's). One browser per test
 * file, one fresh context (cookies, storage) per test: `openPage` gives a page whose console
 * errors, uncaught exceptions and Content Security Policy violations are collected, so that a
 * test can end with `errors.expectNone()`. Screenshots go to `test-artifacts/screenshots/`.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type ConsoleMessage, type Page } from 'playwright-core';
import { onTestFailed } from 'vitest';
import { ROOT } from './cluster.js';

/** The Chromium binary: Debian's package by default (`.ci/run` installs it), or `$CHROMIUM_PATH`. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(ROOT, 'test-artifacts', 'screenshots');
/** The built dashboard the master serves (`npm run build`, which `npm test` runs first). */
export const WEB_INDEX = join(ROOT, 'dist', 'web', 'index.html');

/** Whether a browser test can run here; in CI (`CI` set) a missing browser is a failure, not a skip. */
export const browserAvailable = (): boolean => existsSync(CHROMIUM_PATH) || Boolean(process.env.CI);

export function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}: install Debian's "chromium" package (.ci/run does) or set CHROMIUM_PATH`);
  if (!existsSync(WEB_INDEX)) throw new Error(`no built dashboard at ${WEB_INDEX}: run "npm run build" first`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface CollectedError {
  kind: 'console' | 'pageerror' | 'csp';
  text: string;
  /** The page (or resource, for network messages) it came from. */
  url: string;
}

/** A console message an error-free page may still print, e.g. the 401 of a deliberate wrong sign-in. */
export interface AllowedError {
  text: RegExp;
  url?: RegExp;
}

/**
 * Collects what a page reports as wrong: `console.error` (and the browser's own error lines, such
 * as failed requests), uncaught exceptions (`pageerror`) and CSP violations (the console line
 * Chromium prints, plus the `securitypolicyviolation` DOM event, reported through a binding).
 */
export class ErrorCollector {
  readonly errors: CollectedError[] = [];
  private allowed: AllowedError[] = [];
  private extra: AllowedError[] = [];

  async attach(context: BrowserContext): Promise<void> {
    await context.exposeBinding('__titanTestCspViolation', ({ page }, text: string) => {
      this.errors.push({ kind: 'csp', text, url: page.url() });
    });
    // A string, not a function: this file is type-checked without the DOM library.
    await context.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => {
      window.__titanTestCspViolation?.('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)') + ' at ' + e.sourceFile + ':' + e.lineNumber);
    });`);
  }

  watch(page: Page): void {
    collectors.set(page, this);
    page.on('console', (msg: ConsoleMessage) => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      const url = msg.location().url || page.url();
      if ([...this.allowed, ...this.extra].some((a) => a.text.test(text) && (!a.url || a.url.test(url)))) return;
      this.errors.push({ kind: /Content Security Policy/i.test(text) ? 'csp' : 'console', text, url });
    });
    page.on('pageerror', (err) => this.errors.push({ kind: 'pageerror', text: err.stack ?? err.message, url: page.url() }));
  }

  /** Tolerates messages matching `allowed` from now on (until `strict()`). */
  allow(...allowed: AllowedError[]): void {
    this.allowed.push(...allowed);
  }

  strict(): void {
    this.allowed = [];
  }

  /** Runs `fn` tolerating `allowed` (the allowances set with `allow` stay). */
  async allowing<T>(allowed: AllowedError[], fn: () => Promise<T>): Promise<T> {
    this.extra.push(...allowed);
    try {
      return await fn();
    } finally {
      this.extra = this.extra.filter((a) => !allowed.includes(a));
    }
  }

  /** The errors so far, one per line, for an assertion message. */
  describe(): string {
    return this.errors.map((e) => `[${e.kind}] ${e.text} (${e.url})`).join('\n');
  }

  /** Throws when any error was collected (and forgets them, so one failure is reported once). */
  expectNone(where = ''): void {
    if (this.errors.length === 0) return;
    const text = this.describe();
    this.errors.length = 0;
    throw new Error(`browser errors${where ? ` on ${where}` : ''}:\n${text}`);
  }
}

const collectors = new WeakMap<Page, ErrorCollector>();

/** The collector watching a page, if any. */
export const collectorOf = (page: Page): ErrorCollector | undefined => collectors.get(page);

/** The 401 Chromium logs for `GET /api/session` when no one is signed in yet: the app's normal start-up. */
export const SIGNED_OUT_SESSION_CHECK: AllowedError = { text: /status of 401/, url: /\/api\/session$/ };

export interface OpenPage {
  context: BrowserContext;
  page: Page;
  errors: ErrorCollector;
}

/** A fresh context and page (1280×800, the given colour scheme) with an error collector attached. */
export async function openPage(browser: Browser, options: { colorScheme?: 'light' | 'dark'; baseURL?: string } = {}): Promise<OpenPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: options.colorScheme ?? 'light', ...(options.baseURL && { baseURL: options.baseURL }) });
  const errors = new ErrorCollector();
  await errors.attach(context);
  const page = await context.newPage();
  errors.watch(page);
  return { context, page, errors };
}

/**
 * openPage for one test: kept in `opened` for the suite to close, and when the test fails, a
 * screenshot named after it and the browser's errors are printed, to look at afterwards.
 */
export async function openTestPage(browser: Browser, opened: OpenPage[], options: { colorScheme?: 'light' | 'dark'; prefix?: string } = {}): Promise<OpenPage> {
  const o = await openPage(browser, options.colorScheme ? { colorScheme: options.colorScheme } : {});
  opened.push(o);
  onTestFailed(async ({ task }) => {
    const path = await screenshot(o.page, `FAILED-${options.prefix ?? ''}${task.name.slice(0, 50)}`).catch(() => '(no screenshot)');
    console.error(`"${task.name}" failed at ${o.page.url()}; screenshot ${path}; browser errors:\n${o.errors.describe() || '(none)'}`);
  });
  return o;
}

/**
 * Signs in through the real login form with the cluster token and waits for the app's shell
 * (its main navigation). `next` is where to go first (the form sends the browser there after).
 */
export async function login(page: Page, baseUrl: string, token: string, next = '/'): Promise<void> {
  const steps = async (): Promise<void> => {
    await page.goto(`${baseUrl}/login${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`);
    await page.getByLabel('Token', { exact: true }).fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
  };
  const collector = collectorOf(page);
  await (collector ? collector.allowing([SIGNED_OUT_SESSION_CHECK], steps) : steps());
}

/** Saves `test-artifacts/screenshots/<name>.png` (the whole page) and returns its path. */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name.replace(/[^A-Za-z0-9_.-]+/g, '-')}.png`);
  await page.screenshot({ path, fullPage: options.fullPage ?? true, animations: 'disabled' });
  return path;
}
