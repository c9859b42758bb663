/** Require authentication for specific routes: / is public, /admin sends the visitor to the login page. */
import { describe, expect } from '@jest/globals';
import { routes } from '../../examples/express-openid-connect/routes.ts';
import { browserTest, useBrowser } from '../support/browser.ts';
import { ALICE } from '../support/interactions.ts';
import { signInOnPage } from '../support/sign-in-page.ts';
import { useExample } from './harness.ts';

describe('example routes (authRequired false, requiresAuth on /admin)', () => {
  const inBrowser = useBrowser();
  const example = useExample(routes);

  browserTest('/ answers anonymous visitors; its link to /admin asks for a sign-in, then shows the admin section', async () => {
    await inBrowser(async (page) => {
      const home = await page.goto(`${example.origin()}/`);
      expect(home!.status()).toBe(200);
      await page.click('a[href="/admin"]');
      await signInOnPage(page, ALICE, `${example.origin()}/admin`);
      expect(await page.textContent('h1')).toBe('Hello alice, this is the admin section.');
    });
  });
});
