/** Route customization: the app's own /login (returnTo /profile) and /callback, and /custom-logout after logout. */
import { describe, expect } from '@jest/globals';
import { customRoutes } from '../../examples/express-openid-connect/custom-routes.ts';
import { browserTest, useBrowser } from '../support/browser.ts';
import { ALICE } from '../support/interactions.ts';
import { signInOnPage } from '../support/sign-in-page.ts';
import { useExample } from './harness.ts';

describe('example custom-routes', () => {
  const inBrowser = useBrowser();
  const example = useExample(customRoutes);

  browserTest('the custom /login signs alice in through the custom /callback to /profile; /logout lands on /custom-logout', async () => {
    await inBrowser(async (page) => {
      await page.goto(`${example.origin()}/`);
      expect(await page.textContent('h1')).toBe('Welcome!');
      const [authorization] = await Promise.all([
        page.waitForRequest((request) => request.url().startsWith(`${example.testbed().issuer}/auth`)),
        page.click('a[href="/login"]'),
      ]);
      expect(new URL(authorization.url()).searchParams.get('redirect_uri')).toBe(`${example.origin()}/callback`);
      await signInOnPage(page, ALICE, `${example.origin()}/profile`);
      expect(await page.textContent('h1')).toBe('hello alice');

      await page.click('a[href="/logout"]');
      await page.waitForURL(`${example.origin()}/custom-logout`);
      expect(await page.textContent('h1')).toBe('Bye!');
      // The app session is gone: /profile starts a new login (the testbed's session signs alice in again).
      const [authorize] = await Promise.all([
        page.waitForRequest((request) => request.url().startsWith(`${example.testbed().issuer}/auth`)),
        page.goto(`${example.origin()}/profile`),
      ]);
      expect(new URL(authorize.url()).searchParams.get('client_id')).toBe('node-openid-client');
    });
  });
});
