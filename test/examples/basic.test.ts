/** Basic setup: every route requires a user; alice signs in through the login page and / greets her. */
import { describe, expect } from '@jest/globals';
import { basic } from '../../examples/express-openid-connect/basic.ts';
import { browserTest, useBrowser } from '../support/browser.ts';
import { ALICE } from '../support/interactions.ts';
import { signInOnPage } from '../support/sign-in-page.ts';
import { useExample } from './harness.ts';

describe('example basic (node-openid-client, implicit id_token + form_post)', () => {
  const inBrowser = useBrowser();
  const example = useExample(basic);

  browserTest('a visit to / goes to the login page, and after sign-in / shows alice', async () => {
    await inBrowser(async (page) => {
      await page.goto(`${example.origin()}/`);
      expect(new URL(page.url()).origin).toBe(new URL(example.testbed().issuer).origin);
      await signInOnPage(page, ALICE, `${example.origin()}/`);
      expect(await page.textContent('h1')).toBe('hello alice');
      expect(await page.textContent('body')).toContain('Signed in as Alice Example');
    });
  });
});
