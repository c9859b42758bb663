/** afterCallback claim validation: admin (org_id "Required Organization") gets in; bob (no org_id) is refused. */
import { describe, expect } from '@jest/globals';
import { browserTest, useBrowser } from '../support/browser.ts';
import { ADMIN, BOB, signInOnPage } from '../support/sign-in-page.ts';
import { useExample } from './harness.ts';

// The example imports jose and express-openid-connect, which require()s jose: under jest's ESM
// support that works only once jose is loaded, so jose comes first and the example after it.
await import('jose');
const { validateClaims } = await import('../../examples/express-openid-connect/validate-claims.ts');

describe('example validate-claims (afterCallback)', () => {
  const inBrowser = useBrowser();
  const example = useExample(validateClaims);

  browserTest('admin, a member of the required organization, is signed in', async () => {
    await inBrowser(async (page) => {
      await page.goto(`${example.origin()}/`);
      await signInOnPage(page, ADMIN, `${example.origin()}/`);
      expect(await page.textContent('h1')).toBe('hello admin');
      expect(await page.textContent('#org')).toBe('Required Organization');
    });
  });

  browserTest('bob, whose ID token has no org_id, is refused at the callback and gets no session', async () => {
    await inBrowser(async (page) => {
      await page.goto(`${example.origin()}/`);
      const [callback] = await Promise.all([
        page.waitForResponse((response) => response.url() === `${example.origin()}/callback`),
        signInOnPage(page, BOB, `${example.origin()}/callback`),
      ]);
      expect(callback.status()).toBe(403);
      expect(await page.textContent('#error')).toBe('User is not a part of the Required Organization');
      // No session was made: / sends him to the testbed again.
      const [authorize] = await Promise.all([
        page.waitForRequest((request) => request.url().startsWith(`${example.testbed().issuer}/auth`)),
        page.goto(`${example.origin()}/`),
      ]);
      expect(new URL(authorize.url()).searchParams.get('client_id')).toBe('node-openid-client');
    });
  });
});
