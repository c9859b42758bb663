/**
 * Headless Chromium for the tests of the pages a person uses: one browser per test file, a fresh
 * context (own cookies) per use, and the check every visited page must pass — each way of submitting
 * each form posts every name once, as the engine's endpoints reject repeated parameters.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { type Browser, chromium, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
/** How long a page action or wait may take before the test fails: pages answer in milliseconds. */
const ACTION_TIMEOUT_MS = 5_000;

const browserRuns = existsSync(CHROMIUM) || Boolean(process.env.CI);

/** `it`, or `it.skip` on a workstation without Chromium. With `CI` set it never skips: the launch fails instead. */
export const browserTest = browserRuns ? it : it.skip;

/** Runs `use` on a page of a fresh browser context, closed afterwards. */
export type InBrowser = <T>(use: (page: Page) => Promise<T>) => Promise<T>;

/** Launches Chromium for the enclosing file or `describe` (when the browser tests run) and closes it after. */
export function useBrowser(): InBrowser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (browserRuns) browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  afterAll(async () => {
    await browser?.close();
  });
  return async (use) => {
    if (!browser) throw new Error('the browser is not launched (use it inside a browserTest)');
    const context = await browser.newContext();
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    try {
      return await use(await context.newPage());
    } finally {
      await context.close();
    }
  };
}

/**
 * What is wrong with the forms of the page as the browser would submit them: for every form and
 * each of its submit buttons (or Enter, when it has none), the names that the FormData the browser
 * builds holds more than once; and named fields or submit buttons that belong to no form (a
 * `form=` naming no form), which post nothing. Radio groups and alternative submit buttons are
 * fine: the browser posts one of each.
 */
export async function formProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const isSubmitter = (element: Element): element is HTMLButtonElement | HTMLInputElement =>
      (element instanceof HTMLButtonElement || element instanceof HTMLInputElement) &&
      (element.type === 'submit' || element.type === 'image');
    const describe = (element: Element) => {
      const tag = element.tagName.toLowerCase();
      const name = element.getAttribute('name');
      const text = tag === 'button' ? element.textContent?.trim() : '';
      return `${tag}${element.id ? `#${element.id}` : ''}${name ? `[name=${name}]` : ''}${text ? ` "${text}"` : ''}`;
    };
    for (const form of Array.from(document.forms)) {
      const submitters = Array.from(form.elements).filter(isSubmitter);
      for (const submitter of submitters.length > 0 ? submitters : [null]) {
        const names = Array.from(new FormData(form, submitter).keys());
        const repeated = [...new Set(names.filter((name, index) => names.indexOf(name) !== index))];
        if (repeated.length > 0) {
          problems.push(
            `${describe(form)} submitted by ${submitter ? describe(submitter) : 'Enter'} posts ${repeated.join(', ')} more than once`,
          );
        }
      }
    }
    for (const element of Array.from(document.querySelectorAll('input, select, textarea, button'))) {
      const control = element as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement | HTMLButtonElement;
      if (!control.form && (control.name || isSubmitter(control))) problems.push(`${describe(control)} belongs to no form`);
    }
    return problems;
  });
}

/** Fails the test when a form of the page posts a name twice or a control belongs to no form. */
export async function expectFormsPostEachNameOnce(page: Page): Promise<void> {
  expect({ url: page.url(), problems: await formProblems(page) }).toEqual({ url: page.url(), problems: [] });
}

/** Waits for the page whose `<h1>` reads `heading`, then checks its forms (`expectFormsPostEachNameOnce`). */
export async function expectPage(page: Page, heading: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
  await expectFormsPostEachNameOnce(page);
}
