/**
 * Every page the testbed renders, driven in headless Chromium the way a person uses it: the device
 * flow's code entry, confirmation and success pages, login (wrong password, then right), consent
 * (allow, deny), logout confirmation and success, and the error page. Every page is checked for
 * forms that post a name twice, which the engine rejects (`expectPage`).
 */
import { describe, expect } from '@jest/globals';
import type { Page } from 'playwright-core';
import { browserTest, expectPage, useBrowser } from '../../support/browser.ts';
import { ALICE } from '../../support/interactions.ts';
import { client, codeRequest, discover } from '../../support/openid.ts';
import { useTestbed } from '../../support/testbed.ts';

const REDIRECT_URI = 'http://localhost:3000/callback';

describe('the pages in headless Chromium', () => {
  const testbed = useTestbed({ apis: false });
  const inBrowser = useBrowser();

  /** Signs in on the login page as a person does: types into the labelled boxes, clicks the button. */
  const signIn = async (page: Page, password = ALICE.password) => {
    await page.getByLabel('Username').fill(ALICE.username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  describe('device authorization grant (RFC 8628)', () => {
    const deviceClient = () => discover(testbed(), 'device-client', undefined, { token_endpoint_auth_method: 'none' }, client.None());

    /** Starts a device authorization and polls for it every 200 ms (RFC 8628's default is 5 s). */
    const startDevice = async () => {
      const config = await deviceClient();
      const device = await client.initiateDeviceAuthorization(config, { scope: 'openid profile' });
      const polling = client.pollDeviceAuthorizationGrant(config, { ...device, interval: 0.2 });
      polling.catch(() => {}); // awaited by the test; this only keeps an early rejection from being unhandled
      return { device, polling };
    };

    /** From the confirmation page: continue, sign in (no login_hint: the login page shows), allow. */
    const confirmSignInAndAllow = async (page: Page, userCode: string) => {
      await expectPage(page, 'Confirm device');
      expect(await page.locator('main').textContent()).toContain('Living-room TV');
      expect(await page.locator('.code-big').textContent()).toBe(userCode);
      await page.getByRole('button', { name: 'Yes, continue' }).click();

      await expectPage(page, 'Sign in');
      expect(await page.locator('main').textContent()).toContain('Sign in to continue to Living-room TV');
      await signIn(page);

      await expectPage(page, 'Authorize Living-room TV'); // device-client is not first-party
      await page.getByRole('button', { name: 'Allow' }).click();
      await expectPage(page, 'Device connected');
      expect(await page.locator('main').textContent()).toContain('You can return to Living-room TV.');
    };

    browserTest(
      'a person types the code at verification_uri (a wrong one first), signs in and allows; the polling client gets tokens',
      async () => {
        const { device, polling } = await startDevice();
        await inBrowser(async (page) => {
          await page.goto(device.verification_uri);
          await expectPage(page, 'Connect a device');
          const codeBox = page.getByLabel('Code shown on your device');
          await codeBox.pressSequentially('BCDF-GHJK');
          await page.getByRole('button', { name: 'Continue' }).click();

          await page.getByRole('alert').waitFor();
          await expectPage(page, 'Connect a device');
          expect(await page.getByRole('alert').textContent()).toBe(
            'That code is not valid, has expired or was already used. Check it and try again.',
          );
          expect(await codeBox.inputValue()).toBe('BCDF-GHJK');
          await codeBox.fill(device.user_code);
          await page.getByRole('button', { name: 'Continue' }).click();

          await confirmSignInAndAllow(page, device.user_code);
        });
        const tokens = await polling;
        expect(tokens.claims()).toMatchObject({ iss: testbed().issuer, aud: 'device-client', sub: 'alice' });
        expect(tokens.scope?.split(' ').sort()).toEqual(['openid', 'profile']);
      },
    );

    browserTest('verification_uri_complete goes straight to the confirmation page; the polling client gets tokens', async () => {
      const { device, polling } = await startDevice();
      await inBrowser(async (page) => {
        await page.goto(device.verification_uri_complete!);
        await confirmSignInAndAllow(page, device.user_code);
      });
      expect((await polling).claims()).toMatchObject({ aud: 'device-client', sub: 'alice' });
    });

    browserTest('No, cancel on the confirmation page shows the code page again and the poll fails with access_denied', async () => {
      const { device, polling } = await startDevice();
      await inBrowser(async (page) => {
        await page.goto(device.verification_uri_complete!);
        await expectPage(page, 'Confirm device');
        await page.getByRole('button', { name: 'No, cancel' }).click();
        await page.getByRole('alert').waitFor();
        await expectPage(page, 'Connect a device');
        expect(await page.getByRole('alert').textContent()).toBe('The request was cancelled.');
      });
      await expect(polling).rejects.toMatchObject({ error: 'access_denied' });
    });
  });

  describe('login, consent and logout of a code flow (no login_hint: the pages show)', () => {
    const rp = () => discover(testbed(), 'node-openid-client', 'password');

    /** The authorization URL of a code flow with PKCE, state and nonce, without login_hint. */
    const authorizationRequest = async (config: client.Configuration) => {
      const { parameters, codeVerifier } = await codeRequest(REDIRECT_URI, { scope: 'openid profile' });
      delete parameters.login_hint;
      return { url: client.buildAuthorizationUrl(config, parameters), codeVerifier, state: parameters.state, nonce: parameters.nonce };
    };

    /** The RP's redirect_uri is not served: the browser's request to it is answered here and its URL returned. */
    const callbackUrl = async (page: Page) => {
      await page.waitForURL((url) => url.href.startsWith(REDIRECT_URI));
      return new URL(page.url());
    };

    const answerCallbacks = (page: Page) =>
      page.route(`${REDIRECT_URI}**`, (route) =>
        route.fulfill({ contentType: 'text/html', body: '<!DOCTYPE html><title>RP</title><h1>RP callback</h1>' }),
      );

    browserTest(
      'a wrong password shows the error, the right one the consent page; Allow gives the RP a code; logout confirms and shows the success page',
      async () => {
        const config = await rp();
        const request = await authorizationRequest(config);
        await inBrowser(async (page) => {
          await answerCallbacks(page);
          await page.goto(request.url.href);
          await expectPage(page, 'Sign in');
          expect(await page.locator('main').textContent()).toContain('Sign in to continue to node-openid-client sample');

          await signIn(page, 'not-her-password');
          await page.getByRole('alert').waitFor();
          await expectPage(page, 'Sign in');
          expect(await page.getByRole('alert').textContent()).toBe('Unknown username or wrong password.');
          expect(await page.getByLabel('Username').inputValue()).toBe('alice');
          await signIn(page);

          await expectPage(page, 'Authorize node-openid-client sample');
          expect(await page.locator('main').textContent()).toContain('Your name and profile information');
          await page.getByRole('button', { name: 'Allow' }).click();
          const tokens = await client.authorizationCodeGrant(config, await callbackUrl(page), {
            pkceCodeVerifier: request.codeVerifier,
            expectedState: request.state,
            expectedNonce: request.nonce,
          });
          expect(tokens.claims()).toMatchObject({ sub: 'alice', aud: 'node-openid-client' });

          await page.goto(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token! }).href);
          await expectPage(page, 'Sign out');
          expect(await page.locator('main').textContent()).toContain('Do you want to sign out of node-openid-client sample?');
          await page.getByRole('button', { name: 'Yes, sign me out' }).click();
          await expectPage(page, 'Signed out');
          expect(new URL(page.url()).pathname).toBe('/session/end/success');

          // The session is gone: the next authorization request asks for a login again.
          await page.goto((await authorizationRequest(config)).url.href);
          await expectPage(page, 'Sign in');
        });
      },
    );

    browserTest('Deny on the consent page sends the RP access_denied with its state', async () => {
      const config = await rp();
      const request = await authorizationRequest(config);
      await inBrowser(async (page) => {
        await answerCallbacks(page);
        await page.goto(request.url.href);
        await expectPage(page, 'Sign in');
        await signIn(page);
        await expectPage(page, 'Authorize node-openid-client sample');
        await page.getByRole('button', { name: 'Deny' }).click();
        const callback = await callbackUrl(page);
        expect(Object.fromEntries(callback.searchParams)).toMatchObject({
          error: 'access_denied',
          state: request.state,
          iss: testbed().issuer,
        });
      });
    });
  });

  describe('the error page', () => {
    browserTest('an unregistered redirect_uri and an unknown client each show the error page, not a redirect', async () => {
      const config = await discover(testbed(), 'node-openid-client', 'password');
      const { parameters } = await codeRequest('http://localhost:3000/not-registered');
      await inBrowser(async (page) => {
        const badRedirect = await page.goto(client.buildAuthorizationUrl(config, parameters).href);
        expect(badRedirect?.status()).toBe(400);
        await expectPage(page, 'Sign-in request rejected');
        expect(await page.getByRole('alert').textContent()).toBe('Error: invalid_redirect_uri');
        expect(await page.locator('main').textContent()).toContain('redirect_uris list');

        const unknown = new URL(testbed().urls.authorization);
        unknown.search = new URLSearchParams({ ...parameters, client_id: 'no-such-client', redirect_uri: REDIRECT_URI }).toString();
        const unknownClient = await page.goto(unknown.href);
        expect(unknownClient?.status()).toBe(400);
        await expectPage(page, 'Sign-in request rejected');
        expect(await page.getByRole('alert').textContent()).toBe('Error: invalid_client');
      });
    });
  });
});
