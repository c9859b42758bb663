/**
 * Auth.js (@auth/express) as a black box: a generic OIDC provider (type "oidc", discovery from the
 * issuer) signs alice in through Chromium, and the Auth.js session shows her name and email — which
 * Auth.js takes from the ID token. Once with a fixture client, once with a client registered by
 * dynamic client registration (RFC 7591) at the default fixture's open /reg.
 */

import { ExpressAuth, type ExpressAuthConfig, getSession } from '@auth/express';
import { beforeAll, describe, expect } from '@jest/globals';
import express from 'express';
import type { FixtureInput } from '../../src/index.ts';
import { defaultFixtureAt, useAppServer } from '../support/app-server.ts';
import { browserTest, useBrowser } from '../support/browser.ts';
import { ALICE } from '../support/interactions.ts';
import { registrationRequest } from '../support/registration.ts';
import { signInOnPage } from '../support/sign-in-page.ts';
import { useTestbed } from '../support/testbed.ts';

const FIXTURE_CLIENT = { id: 'authjs-app', secret: 'authjs-app-secret' };

/** The default fixture, plus the Auth.js app's client (callback path /auth/callback/<provider id>). */
function fixtureFor(origin: string): FixtureInput {
  const fixture = defaultFixtureAt(origin);
  return {
    ...fixture,
    clients: [
      ...fixture.clients!,
      {
        client_id: FIXTURE_CLIENT.id,
        client_secret: FIXTURE_CLIENT.secret,
        client_name: 'Auth.js app',
        redirect_uris: [`${origin}/auth/callback/testbed`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
  };
}

describe('Auth.js (@auth/express) with a generic OIDC provider', () => {
  const inBrowser = useBrowser();
  const server = useAppServer();
  const testbed = useTestbed(() => ({ fixture: fixtureFor(server.origin()) }));

  beforeAll(async () => {
    const registered = await registrationRequest(testbed().urls.registration, 'POST', {
      body: {
        client_name: 'Auth.js app (registered)',
        redirect_uris: [`${server.origin()}/auth/callback/testbed-registered`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    });
    expect(registered.status).toBe(201);
    const provider = (id: string, clientId: string, clientSecret: string) => ({
      id,
      name: id === 'testbed' ? 'Testbed' : 'Testbed (registered)',
      type: 'oidc' as const,
      issuer: testbed().issuer,
      clientId,
      clientSecret,
    });
    const config: ExpressAuthConfig = {
      trustHost: true,
      secret: 'an-auth-js-secret-for-the-test-app-only-32+',
      providers: [
        provider('testbed', FIXTURE_CLIENT.id, FIXTURE_CLIENT.secret),
        provider('testbed-registered', registered.body.client_id as string, registered.body.client_secret as string),
      ],
    };
    const app = express();
    app.use('/auth', ExpressAuth(config));
    app.get('/', async (req, res) => {
      const session = await getSession(req, config);
      res.type('html').send(`<!DOCTYPE html><title>Session</title><pre id="session">${JSON.stringify(session)}</pre>`);
    });
    server.serve(app);
  });

  for (const { provider, button } of [
    { provider: 'testbed', button: 'Sign in with Testbed' },
    { provider: 'testbed-registered', button: 'Sign in with Testbed (registered)' },
  ]) {
    browserTest(
      `signs alice in with the ${provider === 'testbed' ? 'fixture' : 'registered'} client; the session user has her name and email`,
      async () => {
        await inBrowser(async (page) => {
          await page.goto(`${server.origin()}/auth/signin?callbackUrl=${encodeURIComponent(`${server.origin()}/`)}`);
          const [authorization] = await Promise.all([
            page.waitForRequest((request) => request.url().startsWith(testbed().urls.authorization)),
            page.getByRole('button', { name: button, exact: true }).click(),
          ]);
          expect(Object.fromEntries(new URL(authorization.url()).searchParams)).toMatchObject({
            response_type: 'code',
            scope: 'openid profile email',
            code_challenge_method: 'S256',
            redirect_uri: `${server.origin()}/auth/callback/${provider}`,
          });
          await signInOnPage(page, ALICE, `${server.origin()}/`);
          const session = JSON.parse((await page.textContent('#session'))!) as { user: Record<string, unknown> };
          expect(session.user).toMatchObject({ name: 'Alice Example', email: 'alice@example.com' });
        });
      },
    );
  }
});
