/** Refresh tokens: the 4-second access token expires, and the next visit renews it before calling the API. */
import { describe, expect } from '@jest/globals';
import { refreshTokens } from '../../examples/express-openid-connect/refresh-tokens.ts';
import { browserTest, useBrowser } from '../support/browser.ts';
import { ALICE } from '../support/interactions.ts';
import { signInOnPage } from '../support/sign-in-page.ts';
import { useExample } from './harness.ts';

/** node-openid-client's access_token_ttl in the default fixture, plus a margin. */
const TOKEN_LIFETIME_MS = 4_000;

describe('example refresh-tokens (offline_access, accessToken.refresh())', () => {
  const inBrowser = useBrowser();
  const example = useExample(refreshTokens);

  browserTest('the token is used while valid, renewed once expired, and the API accepts the renewed one', async () => {
    await inBrowser(async (page) => {
      await page.goto(`${example.origin()}/`);
      await signInOnPage(page, ALICE, `${example.origin()}/`);
      const signedInAt = Date.now();
      expect(await page.textContent('body')).toContain('Access token still valid');
      expect(await page.textContent('#status')).toBe('200');

      await page.waitForTimeout(Math.max(0, signedInAt + TOKEN_LIFETIME_MS + 300 - Date.now()));
      await page.reload();
      expect(await page.textContent('#renewed')).toBe('renewed');
      expect(Number(await page.textContent('#expires-in'))).toBeGreaterThan(2);
      expect(await page.textContent('#status')).toBe('200');
      expect(JSON.parse((await page.textContent('#api-answer'))!)).toMatchObject({ sub: 'alice', email: 'alice@example.com' });

      // The renewed tokens were stored in the session: the next visit uses them without a refresh.
      await page.reload();
      expect(await page.textContent('body')).toContain('Access token still valid');
      expect(await page.textContent('#status')).toBe('200');
    });
  });
});
