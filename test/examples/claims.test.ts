/**
 * Claim-based route protection: the default fixture's admin and sales users reach the routes
 * their ID token claims allow (isAdmin, roles) and get 401 elsewhere; bob, without those claims,
 * gets 401 everywhere, as does a visitor who is not signed in.
 */
import { describe, expect } from '@jest/globals';
import type { Page } from 'playwright-core';
import { claims } from '../../examples/express-openid-connect/claims.ts';
import { browserTest, useBrowser } from '../support/browser.ts';
import type { Credentials } from '../support/interactions.ts';
import { ADMIN, BOB, SALES, signInOnPage } from '../support/sign-in-page.ts';
import { useExample } from './harness.ts';

const ROUTES = ['/admin', '/sales-managers', '/payroll'] as const;

describe('example claims (claimEquals, claimIncludes, claimCheck)', () => {
  const inBrowser = useBrowser();
  const example = useExample(claims);

  /** The status of each claim route for the page's session. */
  async function statuses(page: Page): Promise<Record<string, number>> {
    const answers: Record<string, number> = {};
    for (const route of ROUTES) answers[route] = (await page.goto(`${example.origin()}${route}`))!.status();
    return answers;
  }

  async function signedIn(page: Page, user: Credentials): Promise<void> {
    await page.goto(`${example.origin()}/login`);
    await signInOnPage(page, user, `${example.origin()}/`);
    expect(await page.textContent('h1')).toBe(`Hello ${user.username}`);
  }

  browserTest('admin (isAdmin, roles admin and payroll): /admin and /payroll, not /sales-managers', async () => {
    await inBrowser(async (page) => {
      await signedIn(page, ADMIN);
      expect(await statuses(page)).toEqual({ '/admin': 200, '/sales-managers': 401, '/payroll': 200 });
      await page.goto(`${example.origin()}/admin`);
      expect(await page.textContent('h1')).toBe('Hello admin, this is the admin section.');
    });
  });

  browserTest('sales (roles sales and manager): /sales-managers only', async () => {
    await inBrowser(async (page) => {
      await signedIn(page, SALES);
      expect(await statuses(page)).toEqual({ '/admin': 401, '/sales-managers': 200, '/payroll': 401 });
    });
  });

  browserTest('bob (no such claims) and a visitor who is not signed in: 401 on every claim route', async () => {
    await inBrowser(async (page) => {
      expect(await statuses(page)).toEqual({ '/admin': 401, '/sales-managers': 401, '/payroll': 401 });
      await signedIn(page, BOB);
      expect(await statuses(page)).toEqual({ '/admin': 401, '/sales-managers': 401, '/payroll': 401 });
      expect(await page.textContent('#error')).toBe('Authentication is required for this route.');
    });
  });
});
