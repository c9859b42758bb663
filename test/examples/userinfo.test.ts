/** Calling userinfo: the hybrid response type `code id_token` by form_post, then req.oidc.fetchUserInfo(). */
import { describe, expect } from '@jest/globals';
import { userinfo } from '../../examples/express-openid-connect/userinfo.ts';
import { browserTest, useBrowser } from '../support/browser.ts';
import { ALICE } from '../support/interactions.ts';
import { signInOnPage } from '../support/sign-in-page.ts';
import { useExample } from './harness.ts';

describe("example userinfo (response_type 'code id_token')", () => {
  const inBrowser = useBrowser();
  const example = useExample(userinfo);

  browserTest('after a hybrid sign-in, / shows what the userinfo endpoint answered for alice', async () => {
    await inBrowser(async (page) => {
      const [authorization] = await Promise.all([
        page.waitForRequest((request) => request.url().startsWith(`${example.testbed().issuer}/auth`)),
        page.goto(`${example.origin()}/`),
      ]);
      expect(Object.fromEntries(new URL(authorization.url()).searchParams)).toMatchObject({
        response_type: 'code id_token',
        response_mode: 'form_post',
      });
      // The front channel carries the code and the ID token (no access token), posted to /callback.
      const [callback] = await Promise.all([
        page.waitForRequest((request) => request.url() === `${example.origin()}/callback` && request.method() === 'POST'),
        signInOnPage(page, ALICE, `${example.origin()}/`),
      ]);
      expect([...new URLSearchParams(callback.postData()!).keys()].sort()).toEqual(['code', 'id_token', 'state']);
      expect(await page.textContent('h1')).toBe('hello alice');
      expect(JSON.parse((await page.textContent('#userinfo'))!)).toMatchObject({
        sub: 'alice',
        name: 'Alice Example',
        email: 'alice@example.com',
      });
    });
  });
});
