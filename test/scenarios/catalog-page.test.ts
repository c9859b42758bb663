/** The scenario catalog as a person reads it, in headless Chromium. */
import { randomUUID } from 'node:crypto';
import { describe, expect } from '@jest/globals';
import { browserTest, expectPage, useBrowser } from '../support/browser.ts';
import { client, codeRequest, discoverAt } from '../support/openid.ts';
import { useTestbed } from '../support/testbed.ts';

describe('the scenario catalog page through headless Chromium', () => {
  const testbed = useTestbed({ apis: false });
  const inBrowser = useBrowser();

  browserTest('lists every scenario with its defect, and a name opens that issuer’s discovery', async () => {
    await inBrowser(async (page) => {
      await page.goto(`${testbed().issuer}/_testbed/scenarios`);
      await expectPage(page, 'Conformance scenarios');
      const rows = page.locator('tbody tr');
      expect(await rows.count()).toBe(testbed().scenarios.length);
      const row = rows.filter({ hasText: 'id-token-invalid-nonce' });
      await expect(row.locator('td').nth(2).textContent()).resolves.toContain('nonce');
      // The table fits the page: no cell pushes the page wider than the window.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await row.getByRole('link', { name: 'id-token-invalid-nonce' }).click();
      await page.waitForURL(/\/scenarios\/id-token-invalid-nonce\/\.well-known\/openid-configuration$/);
      const metadata = JSON.parse((await page.locator('body').textContent()) ?? '{}') as { issuer?: string };
      expect(metadata.issuer).toBe(`${testbed().issuer}/scenarios/id-token-invalid-nonce`);
    });
  });

  browserTest('a person signs in on the login page of a run (no login_hint), and the run issues the code', async () => {
    const handle = await testbed().scenario('happy-path', { run: randomUUID() });
    const config = await discoverAt(handle.issuer, 'spa-client');
    const { parameters, codeVerifier } = await codeRequest('http://localhost:5173/callback', { scope: 'openid profile' });
    delete parameters.login_hint;
    await inBrowser(async (page) => {
      let callback: string | undefined;
      await page.route('http://localhost:5173/**', (route) => {
        callback = route.request().url();
        return route.fulfill({ status: 200, contentType: 'text/html', body: '<!DOCTYPE html><title>Callback</title>' });
      });
      await page.goto(client.buildAuthorizationUrl(config, parameters).href);
      await page.waitForURL((url) => url.href.startsWith(`${handle.issuer}/interaction/`));
      await expectPage(page, 'Sign in');
      await page.fill('input[name="username"]', 'alice');
      await page.fill('input[name="password"]', 'alice-password');
      await page.click('button[type="submit"]');
      await page.waitForURL((url) => url.href.startsWith('http://localhost:5173/callback'));
      const tokens = await client.authorizationCodeGrant(config, new URL(callback!), {
        pkceCodeVerifier: codeVerifier,
        expectedState: parameters.state,
        expectedNonce: parameters.nonce,
      });
      expect(tokens.claims()).toMatchObject({ iss: handle.issuer, sub: 'alice' });
    });
  });
});
