/**
 * express-openid-connect with its default settings (response_type id_token, form_post) pointed at
 * scenario runs, in headless Chromium: it refuses the defective ID token at its /callback, and the
 * run's verdict passes; at happy-path it signs the user in (at the run).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect } from '@jest/globals';
import { browserTest, useBrowser } from '../support/browser.ts';
import { useExpressRp } from '../support/express-rp.ts';
import { useTestbed } from '../support/testbed.ts';

describe('express-openid-connect (defaults) against scenario runs, through headless Chromium', () => {
  const rp = useExpressRp();
  const inBrowser = useBrowser();

  const testbed = useTestbed(() => ({
    apis: false,
    fixture: {
      issuer: { auto_login: true },
      users: [{ username: 'alice', password: 'alice-password', sub: 'alice', claims: { name: 'Alice Example' } }],
      clients: [
        {
          client_id: 'express-app',
          token_endpoint_auth_method: 'none',
          grant_types: ['implicit'],
          response_types: ['id_token'],
          redirect_uris: [`${rp.origin()}/callback`],
          first_party: true,
        },
      ],
    },
  }));

  async function pointAppAt(scenario: string) {
    const handle = await testbed().scenario(scenario, { run: randomUUID() });
    const { auth } = await import('express-openid-connect');
    rp.authenticate(
      auth({
        issuerBaseURL: handle.issuer,
        baseURL: rp.origin(),
        clientID: 'express-app',
        secret: 'a-session-secret-for-the-test-app-only',
        authorizationParams: { response_type: 'id_token', response_mode: 'form_post', scope: 'openid profile', login_hint: 'alice' },
      }),
    );
    return handle;
  }

  browserTest('id-token-invalid-nonce: its /callback refuses the token (400, nonce), and the verdict passes', async () => {
    const handle = await pointAppAt('id-token-invalid-nonce');
    await inBrowser(async (page) => {
      const callback = page.waitForResponse((response) => response.url() === `${rp.origin()}/callback`);
      await page.goto(`${rp.origin()}/profile`);
      const answer = await callback;
      expect(answer.status()).toBe(400);
      // Its message is openid-client's generic one for a claim comparison (the nonce, here).
      expect(await answer.text()).toMatch(/BadRequestError: unexpected JWT claim value encountered/);
    });
    const verdict = await handle.waitForVerdict({ waitMs: 300, timeoutMs: 3000 });
    expect(verdict.status).toBe('passed');
  });

  browserTest('happy-path: it signs alice in', async () => {
    const handle = await pointAppAt('happy-path');
    await inBrowser(async (page) => {
      await page.goto(`${rp.origin()}/profile`);
      await page.waitForURL(`${rp.origin()}/profile`);
      expect(JSON.parse((await page.textContent('#user'))!)).toMatchObject({ sub: 'alice', name: 'Alice Example' });
    });
    // It signed in at the run (and, with response_type id_token, calls nothing else).
    expect(handle.verdict().requests.map((request) => request.endpoint)).toEqual(expect.arrayContaining(['discovery', 'authorization']));
  });
});
