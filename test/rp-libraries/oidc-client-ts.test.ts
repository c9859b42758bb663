/**
 * oidc-client-ts as a black box, in Chromium: a small single-page app served by the test (the
 * library's browser bundle from node_modules) signs alice in as the default fixture's spa-client,
 * moved to the page's port. Everything runs in the page, across origins (CORS): PKCE login with
 * `resource` = the profile API, the code exchange, the profile API call with that token,
 * `signinSilent` renewal by refresh token, and `signoutRedirect` ending the testbed session.
 */
import { readFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect } from '@jest/globals';
import type { Page } from 'playwright-core';
import { defaultFixtureAt, useAppServer } from '../support/app-server.ts';
import { browserTest, expectPage, useBrowser } from '../support/browser.ts';
import { ALICE } from '../support/interactions.ts';
import { PROFILE_API } from '../support/resource-servers.ts';
import { signInOnPage } from '../support/sign-in-page.ts';
import { useTestbed } from '../support/testbed.ts';

/** spa-client's origin in the default fixture (its redirect and post-logout URIs). */
const SPA_ORIGIN = 'http://localhost:5173';

/** The library's browser bundle (a script that defines the global `oidc`), beside its package.json. */
const BUNDLE = readFileSync(
  join(dirname(createRequire(import.meta.url).resolve('oidc-client-ts/package.json')), 'dist/browser/oidc-client-ts.min.js'),
  'utf8',
);

interface PageConfig {
  issuer: string;
  origin: string;
  profileApi: string;
}

/** The app: buttons a person clicks, and what the library answered, shown as JSON. */
function spaPage(config: PageConfig): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>SPA</title><script src="/oidc-client-ts.js"></script></head>
<body><h1>SPA</h1>
<button id="login">Log in</button> <button id="call-api">Call the profile API</button> <button id="renew">Renew the token</button> <button id="logout">Log out</button>
<pre id="user"></pre><pre id="api"></pre><pre id="error"></pre>
<script>
const config = ${JSON.stringify(config)};
const manager = new oidc.UserManager({
  authority: config.issuer, client_id: 'spa-client', redirect_uri: config.origin + '/callback',
  post_logout_redirect_uri: config.origin, scope: 'openid profile email', resource: ${JSON.stringify(PROFILE_API)},
});
const show = (id, value) => { document.getElementById(id).textContent = JSON.stringify(value); };
const failed = (error) => show('error', String(error));
async function showUser() {
  const user = await manager.getUser();
  show('user', user && { sub: user.profile.sub, name: user.profile.name, scope: user.scope, access_token: user.access_token, refresh_token: Boolean(user.refresh_token) });
}
async function callApi() {
  const user = await manager.getUser();
  const answer = await fetch(config.profileApi + 'userinfo', { headers: { authorization: 'Bearer ' + user.access_token } });
  show('api', { status: answer.status, body: await answer.json() });
}
document.getElementById('login').onclick = () => manager.signinRedirect().catch(failed);
document.getElementById('call-api').onclick = () => callApi().catch(failed);
document.getElementById('renew').onclick = () => manager.signinSilent().then(showUser).catch(failed);
document.getElementById('logout').onclick = () => manager.signoutRedirect().catch(failed);
(location.pathname === '/callback' ? manager.signinRedirectCallback().then(() => history.replaceState(null, '', '/')) : Promise.resolve())
  .then(showUser).catch(failed);
</script></body></html>`;
}

function spaServer(config: PageConfig): RequestListener {
  return (request, response) => {
    const path = new URL(request.url!, config.origin).pathname;
    if (path === '/oidc-client-ts.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(BUNDLE);
    else if (path === '/' || path === '/callback')
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(spaPage(config));
    else response.writeHead(404).end();
  };
}

interface ShownUser {
  sub: string;
  name?: string;
  scope: string;
  access_token: string;
  refresh_token: boolean;
}

async function shown<T>(page: Page, id: string): Promise<T> {
  await page.waitForFunction((element) => document.getElementById(element)!.textContent !== '', id);
  return JSON.parse((await page.textContent(`#${id}`))!) as T;
}

/** Clicks the button and reads what the page shows next in `id`. */
async function clickAndRead<T>(page: Page, button: string, id: string): Promise<T> {
  await page.evaluate((element) => {
    document.getElementById(element)!.textContent = '';
  }, id);
  await page.click(`#${button}`);
  return shown<T>(page, id);
}

describe('oidc-client-ts in Chromium as spa-client', () => {
  const inBrowser = useBrowser();
  const server = useAppServer();
  const testbed = useTestbed(() => ({ fixture: defaultFixtureAt(server.origin(), [SPA_ORIGIN]) }));

  beforeAll(() => {
    server.serve(spaServer({ issuer: testbed().issuer, origin: server.origin(), profileApi: testbed().urls.profileApi! }));
  });

  browserTest('PKCE login, code exchange, profile API call, renewal by refresh token and sign-out, all from the page', async () => {
    await inBrowser(async (page) => {
      const { urls } = testbed();
      await page.goto(`${server.origin()}/`);
      expect(await shown(page, 'user')).toBeNull();

      const [authorization] = await Promise.all([
        page.waitForRequest((request) => request.url().startsWith(urls.authorization)),
        page.click('#login'),
      ]);
      expect(Object.fromEntries(new URL(authorization.url()).searchParams)).toMatchObject({
        client_id: 'spa-client',
        response_type: 'code',
        code_challenge_method: 'S256',
        resource: PROFILE_API,
        redirect_uri: `${server.origin()}/callback`,
      });
      // spa-client is first-party: the login page, then straight back (no consent page).
      const [exchange] = await Promise.all([
        page.waitForResponse((response) => response.url() === urls.token && response.request().method() === 'POST'),
        signInOnPage(page, ALICE, (url) => url.origin === server.origin()),
      ]);
      expect(exchange.status()).toBe(200);
      expect(new URLSearchParams(exchange.request().postData()!).get('grant_type')).toBe('authorization_code');
      const user = await shown<ShownUser>(page, 'user');
      expect(user).toMatchObject({ sub: 'alice', name: 'Alice Example', refresh_token: true });
      // The token response's scope is the access token's: the profile API's scopes of the request.
      expect(user.scope.split(' ').sort()).toEqual(['email', 'profile']);

      // The access token is for the resource the login asked for: the profile API takes it.
      expect(await clickAndRead(page, 'call-api', 'api')).toMatchObject({
        status: 200,
        body: { sub: 'alice', name: 'Alice Example', email: 'alice@example.com' },
      });

      // signinSilent with a refresh token in the session: a refresh_token grant from the page.
      const [refresh] = await Promise.all([
        page.waitForResponse((response) => response.url() === urls.token && response.request().method() === 'POST'),
        page
          .evaluate(() => {
            document.getElementById('user')!.textContent = '';
          })
          .then(() => page.click('#renew')),
      ]);
      expect(refresh.status()).toBe(200);
      expect(new URLSearchParams(refresh.request().postData()!).get('grant_type')).toBe('refresh_token');
      const renewed = await shown<ShownUser>(page, 'user');
      expect(renewed.access_token).not.toBe(user.access_token);
      expect(await clickAndRead(page, 'call-api', 'api')).toMatchObject({ status: 200, body: { sub: 'alice' } });

      // signoutRedirect: the testbed's sign-out page, then back to the app with no user…
      await page.click('#logout');
      await expectPage(page, 'Sign out');
      await page.click('button[name="logout"][value="yes"]');
      await page.waitForURL(`${server.origin()}/`);
      expect(await shown(page, 'user')).toBeNull();
      // …and no session at the testbed: the next login shows its login page again.
      await page.click('#login');
      await expectPage(page, 'Sign in');
    });
  });
});
