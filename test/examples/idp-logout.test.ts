/** Logout from the identity provider: after /logout, the next visit shows the testbed's login page again. */
import { describe, expect } from '@jest/globals';
import { idpLogout } from '../../examples/express-openid-connect/idp-logout.ts';
import { browserTest, expectPage, useBrowser } from '../support/browser.ts';
import { ALICE } from '../support/interactions.ts';
import { signInOnPage } from '../support/sign-in-page.ts';
import { useExample } from './harness.ts';

describe('example idp-logout (idpLogout: true)', () => {
  const inBrowser = useBrowser();
  const example = useExample(idpLogout);

  browserTest('/logout ends the testbed session: the next visit to / shows the login page', async () => {
    await inBrowser(async (page) => {
      await page.goto(`${example.origin()}/`);
      await signInOnPage(page, ALICE, `${example.origin()}/`);
      expect(await page.textContent('h1')).toBe('hello alice');

      await page.click('a[href="/logout"]');
      // RP-initiated logout at the testbed's end_session endpoint: its confirmation page…
      await expectPage(page, 'Sign out');
      expect(new URL(page.url()).pathname).toBe('/session/end');
      expect(await page.textContent('main')).toContain('Do you want to sign out of node-openid-client sample?');
      await page.click('button[name="logout"][value="yes"]');
      // …then back to the app's base URL, which requires a user again, and the testbed has none:
      // its login page, not a silent sign-in.
      await page.waitForURL((url) => url.href.startsWith(`${example.testbed().issuer}/interaction/`));
      await expectPage(page, 'Sign in');
    });
  });
});
