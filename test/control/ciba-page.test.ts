/**
 * The CIBA control page in headless Chromium: a person sees the pending request with its binding
 * message and approves or denies it, while openid-client polls.
 */
import { describe, expect } from '@jest/globals';
import { browserTest, expectPage, useBrowser } from '../support/browser.ts';
import { client, discover } from '../support/openid.ts';
import { useTestbed } from '../support/testbed.ts';

describe('the CIBA control page through headless Chromium', () => {
  const testbed = useTestbed({ apis: false });
  const inBrowser = useBrowser();

  const startRequest = async (bindingMessage: string) => {
    const config = await discover(testbed(), 'ciba-client', 'ciba-client-secret');
    const started = await client.initiateBackchannelAuthentication(config, {
      scope: 'openid profile',
      login_hint: 'alice',
      binding_message: bindingMessage,
    });
    // Poll every 200 ms instead of the default 5 s (the endpoint sends no `interval`).
    const polling = client.pollBackchannelAuthenticationGrant(config, { ...started, interval: 0.2 });
    polling.catch(() => {}); // awaited by the test; this only keeps an early rejection from being unhandled
    return { started, polling };
  };

  browserTest('lists the pending request with its binding message (as text), and Approve makes the poll succeed', async () => {
    const bindingMessage = 'Code <b>4711</b>';
    const { started, polling } = await startRequest(bindingMessage);
    await inBrowser(async (page) => {
      await page.goto(`${testbed().issuer}/_testbed/ciba`);
      await expectPage(page, 'Pending CIBA requests');
      expect(await page.title()).toBe('Pending CIBA requests');
      const request = page.locator(`li[data-auth-req-id="${started.auth_req_id}"]`);
      expect(await request.locator('.binding strong').textContent()).toBe(bindingMessage);
      const details = await request.textContent();
      expect(details).toContain('CIBA (poll)');
      expect(details).toContain('ciba-client');
      expect(details).toContain('alice');
      expect(details).toContain('openid profile');

      // The form post answers 303 back to the page: wait for that page to load.
      await Promise.all([page.waitForEvent('load'), request.getByRole('button', { name: 'Approve' }).click()]);
      expect(page.url()).toBe(`${testbed().issuer}/_testbed/ciba`);
      await expectPage(page, 'Pending CIBA requests');
      expect(await page.locator(`li[data-auth-req-id="${started.auth_req_id}"]`).count()).toBe(0);
    });
    const tokens = await polling;
    expect(tokens.claims()).toMatchObject({ sub: 'alice', aud: 'ciba-client' });
    expect(tokens.scope?.split(' ').sort()).toEqual(['openid', 'profile']);
  });

  browserTest('Deny makes the poll fail with access_denied', async () => {
    const { started, polling } = await startRequest('Deny-me');
    await inBrowser(async (page) => {
      await page.goto(`${testbed().issuer}/_testbed/ciba`);
      await expectPage(page, 'Pending CIBA requests');
      const request = page.locator(`li[data-auth-req-id="${started.auth_req_id}"]`);
      expect(await request.locator('.binding strong').textContent()).toBe('Deny-me');
      // The form post answers 303 back to the page: wait for that page to load.
      await Promise.all([page.waitForEvent('load'), request.getByRole('button', { name: 'Deny' }).click()]);
    });
    await expect(polling).rejects.toMatchObject({ error: 'access_denied' });
  });
});
