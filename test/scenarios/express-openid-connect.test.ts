/**
 * express-openid-connect with its default settings (response_type id_token, form_post) pointed at
 * scenario runs, in headless Chromium: it refuses the defective ID token at its /callback, and the
 * run's verdict passes; at happy-path it signs the user in (at the run).
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import express from 'express';
import { browserTest, useBrowser } from '../support/browser.ts';
import { useTestbed } from '../support/testbed.ts';

describe('express-openid-connect (defaults) against scenario runs, through headless Chromium', () => {
  let app: Server;
  let appUrl: string;
  const inBrowser = useBrowser();
  // One express app per run under test: `auth()` is built for the run's issuer.
  let authentication: express.RequestHandler = (_request, response) => response.status(503).end();

  beforeAll(async () => {
    const rp = express();
    rp.use((request, response, next) => authentication(request, response, next));
    rp.get('/profile', (request, response) => {
      response.type('html').send(`<!DOCTYPE html><title>Profile</title><pre id="user">${JSON.stringify(request.oidc.user)}</pre>`);
    });
    app = rp.listen(0, '127.0.0.1');
    await once(app, 'listening');
    appUrl = `http://localhost:${(app.address() as AddressInfo).port}`;
  });

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
          redirect_uris: [`${appUrl}/callback`],
          first_party: true,
        },
      ],
    },
  }));

  afterAll(async () => {
    app.closeAllConnections();
    await new Promise((resolve) => app.close(resolve));
  });

  async function pointAppAt(scenario: string) {
    const handle = await testbed().scenario(scenario, { run: randomUUID() });
    const { auth } = await import('express-openid-connect');
    authentication = auth({
      issuerBaseURL: handle.issuer,
      baseURL: appUrl,
      clientID: 'express-app',
      secret: 'a-session-secret-for-the-test-app-only',
      authorizationParams: { response_type: 'id_token', response_mode: 'form_post', scope: 'openid profile', login_hint: 'alice' },
    });
    return handle;
  }

  browserTest('id-token-invalid-nonce: its /callback refuses the token (400, nonce), and the verdict passes', async () => {
    const handle = await pointAppAt('id-token-invalid-nonce');
    await inBrowser(async (page) => {
      const callback = page.waitForResponse((response) => response.url() === `${appUrl}/callback`);
      await page.goto(`${appUrl}/profile`);
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
      await page.goto(`${appUrl}/profile`);
      await page.waitForURL(`${appUrl}/profile`);
      expect(JSON.parse((await page.textContent('#user'))!)).toMatchObject({ sub: 'alice', name: 'Alice Example' });
    });
    // It signed in at the run (and, with response_type id_token, calls nothing else).
    expect(handle.verdict().requests.map((request) => request.endpoint)).toEqual(expect.arrayContaining(['discovery', 'authorization']));
  });
});
