/** An access token for an API: the login names the profile API by `audience`, and / shows the API's answer to that token. */
import { describe, expect } from '@jest/globals';
import { accessAnApi } from '../../examples/express-openid-connect/access-an-api.ts';
import { browserTest, useBrowser } from '../support/browser.ts';
import { ALICE } from '../support/interactions.ts';
import { PROFILE_API } from '../support/resource-servers.ts';
import { signInOnPage } from '../support/sign-in-page.ts';
import { useExample } from './harness.ts';

describe('example access-an-api (response_type code, audience = the profile API)', () => {
  const inBrowser = useBrowser();
  const example = useExample(accessAnApi);

  browserTest("after sign-in, the profile API accepts the session access token and answers alice's claims", async () => {
    await inBrowser(async (page) => {
      const [authorization] = await Promise.all([
        page.waitForRequest((request) => request.url().startsWith(`${example.testbed().issuer}/auth`)),
        page.goto(`${example.origin()}/`),
      ]);
      expect(Object.fromEntries(new URL(authorization.url()).searchParams)).toMatchObject({ response_type: 'code', audience: PROFILE_API });
      await signInOnPage(page, ALICE, `${example.origin()}/`);
      expect(await page.textContent('#status')).toBe('200');
      expect(JSON.parse((await page.textContent('#api-answer'))!)).toMatchObject({
        sub: 'alice',
        name: 'Alice Example',
        email: 'alice@example.com',
      });
    });
  });
});
