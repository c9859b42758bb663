/** Custom token exchange: the session's profile-API token is exchanged for one the directory API accepts. */
import { describe, expect } from '@jest/globals';
import { customTokenExchange } from '../../examples/express-openid-connect/custom-token-exchange.ts';
import { browserTest, useBrowser } from '../support/browser.ts';
import { ALICE } from '../support/interactions.ts';
import { signInOnPage } from '../support/sign-in-page.ts';
import { useExample } from './harness.ts';

describe('example custom-token-exchange (req.oidc.customTokenExchange)', () => {
  const inBrowser = useBrowser();
  const example = useExample(customTokenExchange);

  browserTest("/directory shows the directory API's answer to the exchanged token: alice's login", async () => {
    await inBrowser(async (page) => {
      await page.goto(`${example.origin()}/directory`);
      await signInOnPage(page, ALICE, `${example.origin()}/directory`);
      expect(await page.textContent('#status')).toBe('200');
      expect(JSON.parse((await page.textContent('#api-answer'))!)).toMatchObject({
        _id: 'login',
        authenticationId: 'alice',
        authorization: { id: 'alice', component: 'managed/user' },
      });
    });
  });
});
