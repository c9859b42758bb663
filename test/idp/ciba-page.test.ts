/**
 * The CIBA control page in headless Chromium: a person sees the pending request with its binding
 * message and approves or denies it, while openid-client polls.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser } from 'playwright-core';
import { client, discover } from '../support/openid.ts';
import { useTestbed } from '../support/testbed.ts';

const CHROMIUM = '/usr/bin/chromium';
const chromiumAvailable = existsSync(CHROMIUM);
// Without a browser the test is skipped on a workstation, but fails in CI.
const browserTest = chromiumAvailable || process.env.CI ? it : it.skip;

describe('the CIBA control page through headless Chromium', () => {
  const testbed = useTestbed({ apis: false });
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (chromiumAvailable || process.env.CI) {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    }
  });
  afterAll(async () => {
    await browser?.close();
  });

  const startRequest = async (bindingMessage: string) => {
    const config = await discover(testbed(), 'ciba-client', 'ciba-client-secret');
    const started = await client.initiateBackchannelAuthentication(config, { scope: 'openid profile', login_hint: 'alice', binding_message: bindingMessage });
    // Poll every 200 ms instead of the default 5 s (the endpoint sends no `interval`).
    const polling = client.pollBackchannelAuthenticationGrant(config, { ...started, interval: 0.2 });
    polling.catch(() => {}); // awaited by the test; this only keeps an early rejection from being unhandled
    return { started, polling };
  };

  browserTest('lists the pending request with its binding message (as text), and Approve makes the poll succeed', async () => {
    const bindingMessage = 'Code <b>4711</b>';
    const { started, polling } = await startRequest(bindingMessage);
    const page = await browser!.newPage();
    try {
      await page.goto(`${testbed().issuer}/_testbed/ciba`);
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
      expect(await page.locator(`li[data-auth-req-id="${started.auth_req_id}"]`).count()).toBe(0);

      const tokens = await polling;
      expect(tokens.claims()).toMatchObject({ sub: 'alice', aud: 'ciba-client' });
      expect(tokens.scope?.split(' ').sort()).toEqual(['openid', 'profile']);
    } finally {
      await page.close();
    }
  });

  browserTest('Deny makes the poll fail with access_denied', async () => {
    const { started, polling } = await startRequest('Deny-me');
    const page = await browser!.newPage();
    try {
      await page.goto(`${testbed().issuer}/_testbed/ciba`);
      const request = page.locator(`li[data-auth-req-id="${started.auth_req_id}"]`);
      expect(await request.locator('.binding strong').textContent()).toBe('Deny-me');
      // The form post answers 303 back to the page: wait for that page to load.
      await Promise.all([page.waitForEvent('load'), request.getByRole('button', { name: 'Deny' }).click()]);
      await expect(polling).rejects.toMatchObject({ error: 'access_denied' });
    } finally {
      await page.close();
    }
  });
});
