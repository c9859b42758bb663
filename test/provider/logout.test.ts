import { describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { hiddenInput, type UserAgent } from '../support/agent.ts';
import { formAction, postPageForm } from '../support/interactions.ts';
import { authorize, client, discover, signIn } from '../support/openid.ts';
import { useRpListener } from '../support/rp-listener.ts';
import { readFixture, useTestbed } from '../support/testbed.ts';

const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** GET end_session (with the browser's cookies), then confirm on the logout page. */
async function logOut(agent: UserAgent, config: client.Configuration, parameters: Record<string, string>) {
  const endSession = client.buildEndSessionUrl(config, parameters);
  const page = await agent.fetch(endSession);
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain('Sign out');
  const confirmed = await postPageForm(
    agent,
    formAction(html, endSession),
    { xsrf: hiddenInput(html, 'xsrf'), logout: 'yes' },
    'text/html',
  );
  return confirmed;
}

describe('RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0)', () => {
  const testbed = useTestbed();
  const REDIRECT_URI = 'http://localhost:3000/callback';

  it('confirms on the logout page, then redirects (303) to post_logout_redirect_uri with state', async () => {
    const config = await discover(testbed(), 'node-openid-client', 'password');
    const { auth, tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: 'openid' });

    const state = client.randomState();
    const confirmed = await logOut(auth.agent, config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: 'http://localhost:3000',
      state,
    });
    expect(confirmed.status).toBe(303);
    const location = new URL(confirmed.headers.get('location')!);
    expect(location.origin).toBe('http://localhost:3000');
    expect(location.searchParams.get('state')).toBe(state);

    // The session is gone: a silent authorization now needs a login.
    const silent = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      prompt: 'none',
      state,
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const { url } = await auth.agent.follow(silent, REDIRECT_URI);
    expect(url.searchParams.get('error')).toBe('login_required');
  });

  it('refuses an unregistered post_logout_redirect_uri with an error page, not a redirect', async () => {
    const config = await discover(testbed(), 'node-openid-client', 'password');
    const { tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: 'openid' });
    const response = await fetch(
      client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'http://evil.example/' }),
      { redirect: 'manual' },
    );
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('invalid_request');
  });
});

describe('back-channel logout (OpenID Connect Back-Channel Logout 1.0) to RPs on localhost', () => {
  const rp = useRpListener({ status: 200, headers: { 'cache-control': 'no-store' } });

  const testbed = useTestbed(() => {
    const fixture = readFixture('backchannel-logout.yaml');
    for (const entry of fixture.clients) entry.backchannel_logout_uri = `${rp.origin()}/${entry.client_id}/backchannel-logout`;
    return { fixture };
  });

  const deliveries = async (count: number) =>
    (await rp.receivedCount(count)).map((request) => ({
      path: request.path,
      contentType: request.headers['content-type'],
      logoutToken: new URLSearchParams(request.body).get('logout_token'),
    }));

  it('posts a verifiable logout_token to every RP of the session', async () => {
    const shop = await discover(testbed(), 'shop', 'shop-secret');
    const blog = await discover(testbed(), 'blog', 'blog-secret');
    const shopAuth = await authorize(shop, { redirect_uri: 'http://localhost:3001/callback', scope: 'openid' });
    const shopTokens = await client.authorizationCodeGrant(shop, shopAuth.callbackUrl, {
      pkceCodeVerifier: shopAuth.codeVerifier,
      expectedState: shopAuth.state,
      expectedNonce: shopAuth.nonce,
    });
    // The same browser signs in to the second RP: one session, two RPs.
    const blogAuth = await authorize(blog, { redirect_uri: 'http://localhost:3002/callback', scope: 'openid' }, shopAuth.agent);
    const blogTokens = await client.authorizationCodeGrant(blog, blogAuth.callbackUrl, {
      pkceCodeVerifier: blogAuth.codeVerifier,
      expectedState: blogAuth.state,
      expectedNonce: blogAuth.nonce,
    });
    // oidc-provider gives each RP its own sid for the one session.
    const sids: Record<string, unknown> = { shop: shopTokens.claims()!.sid, blog: blogTokens.claims()!.sid };
    expect(sids).toEqual({ shop: expect.any(String), blog: expect.any(String) });

    const confirmed = await logOut(shopAuth.agent, shop, {
      id_token_hint: shopTokens.id_token!,
      post_logout_redirect_uri: 'http://localhost:3001/signed-out',
    });
    expect(confirmed.status).toBe(303);

    const logoutRequests = await deliveries(2);
    expect(logoutRequests.map((delivery) => delivery.path).sort()).toEqual(['/blog/backchannel-logout', '/shop/backchannel-logout']);
    const jwks = createRemoteJWKSet(new URL(testbed().urls.jwks));
    for (const delivery of logoutRequests) {
      expect(delivery.contentType).toMatch(/^application\/x-www-form-urlencoded/);
      const audience = delivery.path.split('/')[1];
      const { payload, protectedHeader } = await jwtVerify(delivery.logoutToken!, jwks, {
        issuer: testbed().issuer,
        audience,
        typ: 'logout+jwt',
      });
      expect(protectedHeader.alg).toBe('RS256');
      expect(payload).toMatchObject({ sub: 'alice', sid: sids[audience], events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } });
      expect(payload.jti).toEqual(expect.any(String));
      expect(payload).not.toHaveProperty('nonce'); // Back-Channel Logout 1.0 §2.4
      expect(decodeProtectedHeader(delivery.logoutToken!).kid).toEqual(expect.any(String));
    }
  });
});
