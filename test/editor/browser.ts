/**
 * Browser tests' support: Debian's Chromium driven by playwright-core, the
 * editor built when missing, sign-in through the login screen, and a
 * counter of the clicks and keystrokes a test spends (what a person would).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(__dirname, '..', '..', 'docs', 'screenshots');
export const VIEWPORT = { width: 1280, height: 800 };

/** `npm test` builds the editor first; a single test file run builds it here when it is missing. */
export function ensureEditorBuilt(): void {
  const root = join(__dirname, '..', '..');
  if (existsSync(join(root, 'dist', 'editor', 'index.html'))) return;
  execFileSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(root, 'editor', 'vite.config.mts'), '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y --no-install-recommends chromium (.ci/run does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Every interaction goes through here, so the test can say how much work a build took by hand. */
export class Hands {
  clicks = 0;
  keystrokes = 0;
  fieldsTyped = 0;

  constructor(readonly page: Page) {}

  async click(target: Locator): Promise<void> {
    this.clicks++;
    await this.onPage(() => target.click());
  }

  /** On a failure, a screenshot of the page as it was (in the OS temp dir) helps more than a selector. */
  private async onPage(act: () => Promise<void>): Promise<void> {
    try {
      await act();
    } catch (err) {
      const path = join(tmpdir(), `editor-failure-${Date.now()}.png`);
      await this.page.screenshot({ path }).catch(() => undefined);
      (err as Error).message += `\n(screenshot of the page: ${path})`;
      throw err;
    }
  }

  /** Typing text into a field: one keystroke per character (plus none for focusing, which `click` would count). */
  async type(target: Locator, text: string): Promise<void> {
    this.clicks++;
    this.fieldsTyped++;
    this.keystrokes += text.length;
    await this.onPage(() => target.fill(text));
  }

  /** A select: one click to open it, one to choose. */
  async choose(target: Locator, value: string | { label: string }): Promise<void> {
    this.clicks += 2;
    await this.onPage(async () => void (await target.selectOption(value)));
  }

  async press(target: Locator, key: string): Promise<void> {
    this.keystrokes++;
    await this.onPage(() => target.press(key));
  }

  tally(): { clicks: number; keystrokes: number; fieldsTyped: number } {
    return { clicks: this.clicks, keystrokes: this.keystrokes, fieldsTyped: this.fieldsTyped };
  }
}

/** Sign in through the login screen, as a person does. */
export async function signIn(page: Page, baseUrl: string, user: { email: string; password: string }, screenshot?: string): Promise<void> {
  await page.goto(baseUrl + '/');
  const form = page.getByRole('form', { name: 'Sign in' });
  await form.waitFor();
  await form.getByLabel('Email').fill(user.email);
  await form.getByLabel('Password').fill(user.password);
  if (screenshot) await page.screenshot({ path: join(SCREENSHOTS, screenshot) });
  await form.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Workflows' }).waitFor();
}

/**
 * Waiting on what the page shows (playwright-core has no web-first
 * assertions): each check polls the page until it holds, and fails with what
 * it last saw.
 */
export async function until(what: string, read: () => Promise<unknown>, holds: (value: any) => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    last = await read().catch((err: Error) => `(${err.message.split('\n')[0]})`);
    if (holds(last)) return;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(last)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const matches = (want: string | RegExp) => (got: unknown) => typeof got === 'string' && (typeof want === 'string' ? got.includes(want) : want.test(got));

export const see = {
  visible: (l: Locator, timeout = 30_000) => l.first().waitFor({ state: 'visible', timeout }),
  text: (l: Locator, want: string | RegExp, timeout?: number) => until(`text of ${l}`, () => l.textContent({ timeout: 1000 }), matches(want), timeout),
  exactText: (l: Locator, want: string, timeout?: number) => until(`text of ${l}`, async () => (await l.textContent({ timeout: 1000 }))?.trim(), (t) => t === want, timeout),
  value: (l: Locator, want: string | RegExp) => until(`value of ${l}`, () => l.inputValue({ timeout: 1000 }), typeof want === 'string' ? (v) => v === want : matches(want)),
  cls: (l: Locator, want: RegExp, timeout?: number) => until(`class of ${l}`, () => l.getAttribute('class', { timeout: 1000 }), matches(want), timeout),
  count: (l: Locator, n: number) => until(`count of ${l}`, () => l.count(), (c) => c === n),
  checked: (l: Locator) => until(`${l} checked`, () => l.isChecked({ timeout: 1000 }), (c) => c === true),
  disabled: (l: Locator) => until(`${l} disabled`, () => l.isDisabled({ timeout: 1000 }), (c) => c === true),
  attr: (l: Locator, name: string, want: RegExp) => until(`${name} of ${l}`, () => l.getAttribute(name, { timeout: 1000 }), matches(want)),
};
