/**
 * express-openid-connect with its default settings (response_type=id_token, response_mode=form_post)
 * logs in through a real browser against the testbed's login form.
 */
import { beforeAll, describe, expect } from '@jest/globals';
import { browserTest, useBrowser } from '../support/browser.ts';
import { useExpressRp } from '../support/express-rp.ts';
import { useTestbed } from '../support/testbed.ts';

describe('express-openid-connect (default settings) through headless Chromium', () => {
  const rp = useExpressRp();
  const inBrowser = useBrowser();
  let issuerUrl: string;

  const testbed = useTestbed(() => ({
    autoLogin: false,
    fixture: {
      users: [
        {
          username: 'alice',
          password: 'alice-password',
          sub: 'alice',
          claims: { name: 'Alice Example', email: 'alice@example.com', email_verified: true },
        },
      ],
      clients: [
        {
          client_id: 'express-app',
          client_name: 'Express app',
          token_endpoint_auth_method: 'none',
          grant_types: ['implicit'],
          response_types: ['id_token'],
          redirect_uris: [`${rp.origin()}/callback`],
          post_logout_redirect_uris: [rp.origin()],
        },
      ],
    },
  }));

  beforeAll(async () => {
    issuerUrl = testbed().issuer;
    // Imported late: it is CommonJS and require()s jose, which jest can only hand it once loaded.
    const { auth } = await import('express-openid-connect');
    // The library's defaults (response_type id_token, response_mode form_post): only required settings.
    rp.authenticate(
      auth({
        issuerBaseURL: issuerUrl,
        baseURL: rp.origin(),
        clientID: 'express-app',
        secret: 'a-session-secret-for-the-test-app-only',
      }),
    );
  });

  browserTest('signs alice in through the login form (no login_hint) and /profile shows her', async () => {
    await inBrowser(async (page) => {
      await page.goto(`${rp.origin()}/profile`);
      // The testbed's login page: the RP sent no login_hint, so the form is shown.
      await page.waitForURL((url) => url.href.startsWith(`${issuerUrl}/interaction/`));
      expect(await page.title()).toBe('Sign in');
      await page.fill('input[name="username"]', 'alice');
      await page.fill('input[name="password"]', 'alice-password');
      await page.click('button[type="submit"]');

      // express-app is not first-party: the consent page names it and what it asks for.
      await page.waitForSelector('button[name="decision"][value="allow"]');
      expect(await page.textContent('h1')).toBe('Authorize Express app');
      expect(await page.textContent('main')).toContain('Your email address');
      await page.click('button[name="decision"][value="allow"]');

      // form_post to the RP's /callback, then back to /profile.
      await page.waitForURL(`${rp.origin()}/profile`);
      const user = JSON.parse((await page.textContent('#user'))!) as Record<string, unknown>;
      expect(user).toMatchObject({ sub: 'alice', name: 'Alice Example', email: 'alice@example.com' });
    });
  });

  browserTest('a wrong password shows the login form again with an error', async () => {
    await inBrowser(async (page) => {
      await page.goto(`${rp.origin()}/profile`);
      await page.waitForSelector('input[name="password"]');
      await page.fill('input[name="username"]', 'alice');
      await page.fill('input[name="password"]', 'not-her-password');
      const [answer] = await Promise.all([
        page.waitForResponse((response) => response.request().method() === 'POST'),
        page.click('button[type="submit"]'),
      ]);
      expect(answer.status()).toBe(401);
      expect(await page.textContent('[role="alert"]')).toBe('Unknown username or wrong password.');
      expect(await page.inputValue('input[name="username"]')).toBe('alice');
    });
  });
});
