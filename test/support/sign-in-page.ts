/** A person signing in on the testbed's pages in Chromium (see browser.ts). */
import type { Page } from 'playwright-core';
import { expectPage } from './browser.ts';
import type { Credentials } from './interactions.ts';

/**
 * On the testbed's login page: types the credentials and submits, allows on the consent page when
 * one follows (clients that are not first-party), and waits until the browser is at `arrival`.
 */
export async function signInOnPage(
  page: Page,
  credentials: Credentials,
  arrival: string | RegExp | ((url: URL) => boolean),
): Promise<void> {
  await expectPage(page, 'Sign in');
  const loginPage = page.url();
  await page.fill('input[name="username"]', credentials.username);
  await page.fill('input[name="password"]', credentials.password);
  await page.click('button[type="submit"]');
  const arrived = (url: URL) =>
    typeof arrival === 'function' ? arrival(url) : typeof arrival === 'string' ? url.href === arrival : arrival.test(url.href);
  // Next comes the app (arrival) or the consent page: another interaction than the login page's.
  await page.waitForURL((url) => arrived(url) || (/\/interaction\/[^/]+$/.test(url.pathname) && url.href !== loginPage));
  if (arrived(new URL(page.url()))) return;
  await page.getByRole('heading', { level: 1, name: /^Authorize / }).waitFor();
  await page.click('button[name="decision"][value="allow"]');
  await page.waitForURL(arrived);
}

export const BOB: Credentials = { username: 'bob', password: 'bob-password' };
export const ADMIN: Credentials = { username: 'admin', password: 'admin-password' };
export const SALES: Credentials = { username: 'sales', password: 'sales-password' };
