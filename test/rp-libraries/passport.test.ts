/**
 * Passport with passport-openidconnect (the Passport strategy for OpenID Connect) as a black box:
 * alice logs in through Chromium and the app reads her profile, which the strategy builds from the
 * ID token and the userinfo response. The strategy sends no PKCE and authenticates with the
 * secret in the body, so its client says `pkce_required: false` and `client_secret_post`.
 */
import { beforeAll, describe, expect } from '@jest/globals';
import express from 'express';
import session from 'express-session';
import passport from 'passport';
import { Strategy as OpenIDConnectStrategy, type Profile } from 'passport-openidconnect';
import type { FixtureInput } from '../../src/index.ts';
import { defaultFixtureAt, useAppServer } from '../support/app-server.ts';
import { browserTest, useBrowser } from '../support/browser.ts';
import { ALICE } from '../support/interactions.ts';
import { signInOnPage } from '../support/sign-in-page.ts';
import { useTestbed } from '../support/testbed.ts';

const CLIENT = { id: 'passport-app', secret: 'passport-app-secret' };

function fixtureFor(origin: string): FixtureInput {
  const fixture = defaultFixtureAt(origin);
  return {
    ...fixture,
    clients: [
      ...fixture.clients!,
      {
        client_id: CLIENT.id,
        client_secret: CLIENT.secret,
        client_name: 'Passport app',
        token_endpoint_auth_method: 'client_secret_post',
        pkce_required: false,
        redirect_uris: [`${origin}/callback`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
  };
}

describe('Passport (passport-openidconnect)', () => {
  const inBrowser = useBrowser();
  const server = useAppServer();
  const testbed = useTestbed(() => ({ fixture: fixtureFor(server.origin()) }));

  beforeAll(() => {
    const { issuer, urls } = testbed();
    // An authenticator of this app's own (not the passport singleton): one per test app.
    const authenticator = new passport.Passport();
    authenticator.use(
      new OpenIDConnectStrategy(
        {
          issuer,
          authorizationURL: urls.authorization,
          tokenURL: urls.token,
          userInfoURL: urls.userinfo,
          clientID: CLIENT.id,
          clientSecret: CLIENT.secret,
          callbackURL: `${server.origin()}/callback`,
          scope: ['profile', 'email'],
          skipUserProfile: false,
        },
        (_issuer: string, profile: Profile, done: (error: null, user: Profile) => void) => done(null, profile),
      ),
    );
    authenticator.serializeUser((user, done) => done(null, user));
    authenticator.deserializeUser((user: Express.User, done) => done(null, user));

    const app = express();
    app.use(session({ secret: 'a-session-secret-for-the-test-app-only', resave: false, saveUninitialized: false }));
    app.use(authenticator.session());
    app.get('/login', authenticator.authenticate('openidconnect'));
    app.get('/callback', authenticator.authenticate('openidconnect', { failureRedirect: '/failed', failureMessage: true }), (_req, res) =>
      res.redirect('/profile'),
    );
    app.get('/profile', (req, res) => {
      if (!req.user) return res.redirect('/login');
      res.type('html').send(`<!DOCTYPE html><title>Profile</title><pre id="profile">${JSON.stringify(req.user)}</pre>`);
    });
    app.get('/failed', (req, res) =>
      res
        .status(401)
        .type('text')
        .send(JSON.stringify((req.session as { messages?: string[] }).messages)),
    );
    server.serve(app);
  });

  browserTest('alice logs in and /profile shows the profile the strategy read (ID token and userinfo)', async () => {
    await inBrowser(async (page) => {
      const [authorization] = await Promise.all([
        page.waitForRequest((request) => request.url().startsWith(testbed().urls.authorization)),
        page.goto(`${server.origin()}/profile`),
      ]);
      expect(Object.fromEntries(new URL(authorization.url()).searchParams)).toMatchObject({
        response_type: 'code',
        scope: 'openid profile email',
        client_id: CLIENT.id,
      });
      await signInOnPage(page, ALICE, `${server.origin()}/profile`);
      const profile = JSON.parse((await page.textContent('#profile'))!) as Record<string, unknown>;
      expect(profile).toMatchObject({
        id: 'alice',
        displayName: 'Alice Example',
        username: 'alice',
        name: { familyName: 'Example', givenName: 'Alice', middleName: 'Jane' },
        emails: [{ value: 'alice@example.com' }],
      });
    });
  });
});
