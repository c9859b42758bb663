/**
 * `<issuer>/_testbed/sessions`: the issuer's login sessions, and OP-initiated logout — a session
 * ended by the test sends each of its RPs a back-channel logout token (OpenID Connect Back-Channel
 * Logout 1.0 §2.4), reports what each RP answered, and leaves the browser signed out.
 */
import { describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { SessionNotFoundError, type SessionSummary } from '../../src/control/sessions.ts';
import { useReplicaPair } from '../store/testbed-processes.ts';
import type { UserAgent } from '../support/agent.ts';
import { authorize, client, discover, discoverAt, signIn } from '../support/openid.ts';
import { freePort } from '../support/ports.ts';
import { useRpListener } from '../support/rp-listener.ts';
import { requireRedis, uniquePrefix } from '../support/store.ts';
import { readFixture, useTestbed } from '../support/testbed.ts';

const redisUp = await requireRedis();

const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const SHOP_REDIRECT = 'http://localhost:3001/callback';
const BLOG_REDIRECT = 'http://localhost:3002/callback';

/** The error of a silent authorization (prompt=none) at the shop in `agent`'s browser: `login_required` once its session ended. */
async function silentError(config: client.Configuration, agent: UserAgent): Promise<string | null> {
  const silent = client.buildAuthorizationUrl(config, {
    redirect_uri: SHOP_REDIRECT,
    scope: 'openid',
    prompt: 'none',
    state: client.randomState(),
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  return (await agent.follow(silent, SHOP_REDIRECT)).url.searchParams.get('error');
}

describe('sessions and OP-initiated logout', () => {
  const shopRp = useRpListener({ status: 200, headers: { 'cache-control': 'no-store' } });
  const blogRp = useRpListener({ status: 400 });

  /** Nothing listens there: the delivery fails without an answer. */
  let unreachableLogoutUri: string;

  const testbed = useTestbed(async () => {
    unreachableLogoutUri = `http://127.0.0.1:${await freePort('127.0.0.1')}/backchannel-logout`;
    const fixture = readFixture('backchannel-logout.yaml');
    const [shop, blog] = fixture.clients;
    shop.backchannel_logout_uri = `${shopRp.origin()}/backchannel-logout`;
    blog.backchannel_logout_uri = `${blogRp.origin()}/backchannel-logout`;
    fixture.clients.push(
      {
        client_id: 'gone',
        client_secret: 'gone-secret',
        redirect_uris: ['http://localhost:3003/callback'],
        backchannel_logout_uri: unreachableLogoutUri,
        backchannel_logout_session_required: true,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        first_party: true,
      },
      {
        client_id: 'quiet',
        client_secret: 'quiet-secret',
        redirect_uris: ['http://localhost:3004/callback'],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        first_party: true,
      },
    );
    return { fixture, apis: false };
  });
  const control = (path: string, init?: RequestInit) => fetch(`${testbed().issuer}/_testbed${path}`, init);

  /** alice signs in to `clientId` in `agent`'s browser; the code is exchanged as the RP would. */
  async function signInTo(clientId: string, redirectUri: string, agent?: UserAgent) {
    const config = await discover(testbed(), clientId, `${clientId}-secret`);
    const auth = await authorize(config, { redirect_uri: redirectUri, scope: 'openid' }, agent);
    const tokens = await client.authorizationCodeGrant(config, auth.callbackUrl, {
      pkceCodeVerifier: auth.codeVerifier,
      expectedState: auth.state,
      expectedNonce: auth.nonce,
    });
    return { config, auth, tokens, sid: tokens.claims()!.sid as string };
  }

  async function listed(): Promise<SessionSummary[]> {
    const answer = await control('/sessions');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    return ((await answer.json()) as { sessions: SessionSummary[] }).sessions;
  }

  it('lists a login with its clients; DELETE sends each RP a logout token, reports its answer, and signs the browser out', async () => {
    const shop = await signInTo('shop', SHOP_REDIRECT);
    const blog = await signInTo('blog', BLOG_REDIRECT, shop.auth.agent);
    const gone = await signInTo('gone', 'http://localhost:3003/callback', shop.auth.agent);
    // quiet registered no back-channel logout: its ID tokens carry no sid (oidc-provider's `includeSid`), its session entry has one.
    await signInTo('quiet', 'http://localhost:3004/callback', shop.auth.agent);
    const now = Math.floor(Date.now() / 1000);

    const session = (await listed()).find((candidate) => candidate.client_sids.shop === shop.sid)!;
    expect(session).toEqual({
      sid: expect.stringMatching(/^[\w-]{10,}$/),
      sub: 'alice',
      clients: expect.arrayContaining(['shop', 'blog', 'gone', 'quiet']),
      client_sids: { shop: shop.sid, blog: blog.sid, gone: gone.sid, quiet: expect.any(String) },
      auth_time: expect.any(Number),
      expires_at: expect.any(Number),
    });
    expect(session.clients).toHaveLength(4);
    expect(session.auth_time).toBeGreaterThan(now - 60);
    expect(session.auth_time).toBeLessThanOrEqual(now);
    expect(session.expires_at).toBeGreaterThan(now);
    // The API's sid is the session's, not a client's sid claim (oidc-provider gives each client its own).
    expect(Object.values(session.client_sids)).not.toContain(session.sid);
    expect(await testbed().main.sessions.list()).toEqual(await listed());

    const ended = await control(`/sessions/${session.sid}`, { method: 'DELETE' });
    expect(ended.status).toBe(200);
    expect(ended.headers.get('cache-control')).toBe('no-store');
    const report = (await ended.json()) as { ended: string; logout: Array<Record<string, unknown>> };
    expect(report.ended).toBe(session.sid);
    const byClient = Object.fromEntries(report.logout.map((delivery) => [delivery.client_id, delivery]));
    expect(Object.keys(byClient).sort()).toEqual(['blog', 'gone', 'shop']); // quiet has no backchannel_logout_uri
    expect(byClient.shop).toEqual({ client_id: 'shop', uri: `${shopRp.origin()}/backchannel-logout`, status: 200 });
    expect(byClient.blog).toEqual({
      client_id: 'blog',
      uri: `${blogRp.origin()}/backchannel-logout`,
      status: 400,
      error: expect.stringContaining('400'),
    });
    expect(byClient.gone).toEqual({ client_id: 'gone', uri: unreachableLogoutUri, error: expect.stringMatching(/ECONNREFUSED/) });

    // What the RP receives, validated as Back-Channel Logout 1.0 §2.6 asks.
    const [delivery] = await shopRp.receivedCount(1);
    expect(delivery.path).toBe('/backchannel-logout');
    expect(delivery.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    const logoutToken = new URLSearchParams(delivery.body).get('logout_token')!;
    const { payload } = await jwtVerify(logoutToken, createRemoteJWKSet(new URL(testbed().urls.jwks)), {
      issuer: testbed().issuer,
      audience: 'shop',
      typ: 'logout+jwt',
      requiredClaims: ['iat', 'jti', 'events', 'sid', 'sub'],
    });
    expect(payload).toMatchObject({ sub: 'alice', sid: shop.sid, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } });
    expect(payload).not.toHaveProperty('nonce');
    const [blogDelivery] = await blogRp.receivedCount(1);
    const blogToken = await jwtVerify(
      new URLSearchParams(blogDelivery.body).get('logout_token')!,
      createRemoteJWKSet(new URL(testbed().urls.jwks)),
      { issuer: testbed().issuer, audience: 'blog', typ: 'logout+jwt' },
    );
    expect(blogToken.payload).toMatchObject({ sub: 'alice', sid: blog.sid });

    // The session is gone: not listed, and a silent authorization in the same browser needs a login.
    expect((await listed()).map((candidate) => candidate.sid)).not.toContain(session.sid);
    expect(await silentError(shop.config, shop.auth.agent)).toBe('login_required');
    // Its grants went with it, as end_session revokes them: shop's refresh token is refused.
    await expect(client.refreshTokenGrant(shop.config, shop.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    const again = await control(`/sessions/${session.sid}`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual({ error: 'not_found', error_description: expect.stringContaining(session.sid) });
  });

  it('ends a session by a client sid claim through the library; unknown sids are 404 / SessionNotFoundError', async () => {
    const shop = await signInTo('shop', SHOP_REDIRECT);
    const delivered = shopRp.received.length;
    const report = await testbed().main.sessions.end(shop.sid);
    expect(report).toEqual({ ended: shop.sid, logout: [{ client_id: 'shop', uri: `${shopRp.origin()}/backchannel-logout`, status: 200 }] });
    const delivery = (await shopRp.receivedCount(delivered + 1))[delivered];
    const { payload } = await jwtVerify(
      new URLSearchParams(delivery.body).get('logout_token')!,
      createRemoteJWKSet(new URL(testbed().urls.jwks)),
      { issuer: testbed().issuer, audience: 'shop', typ: 'logout+jwt' },
    );
    expect(payload.sid).toBe(shop.sid);
    expect((await listed()).some((candidate) => candidate.client_sids.shop === shop.sid)).toBe(false);

    await expect(testbed().main.sessions.end(shop.sid)).rejects.toBeInstanceOf(SessionNotFoundError);
    for (const sid of ['no-such-session', '%3Cscript%3E']) {
      const answer = await control(`/sessions/${sid}`, { method: 'DELETE' });
      expect(answer.status).toBe(404);
      const body = (await answer.json()) as { error: string; error_description: string };
      expect(body.error).toBe('not_found');
      expect(body.error_description).not.toContain('<script>');
    }
  });

  it('reset() ends every session without sending logout tokens', async () => {
    const first = await signInTo('shop', SHOP_REDIRECT);
    const second = await signInTo('blog', BLOG_REDIRECT);
    expect((await listed()).flatMap((session) => Object.values(session.client_sids))).toEqual(
      expect.arrayContaining([first.sid, second.sid]),
    );
    const delivered = shopRp.received.length + blogRp.received.length;

    await testbed().main.sessions.reset();
    expect(await listed()).toEqual([]);
    expect(shopRp.received.length + blogRp.received.length).toBe(delivered);
    expect(await silentError(first.config, first.auth.agent)).toBe('login_required');
    await expect(client.refreshTokenGrant(first.config, first.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});

(redisUp ? describe : describe.skip)('sessions on two replicas of one issuer, on one Redis', () => {
  const rp = useRpListener({ status: 204 });
  const { issuer, one, two, on } = useReplicaPair({
    prefix: uniquePrefix('sessions'),
    processes: true,
    fixture: () => {
      const fixture = readFixture('backchannel-logout.yaml');
      fixture.clients[0].backchannel_logout_uri = `${rp.origin()}/backchannel-logout`;
      return fixture;
    },
  });

  it('a login on replica 1 is listed on 2; ended on 2 (logout token sent, 204 reported), it is gone on 1', async () => {
    on(one());
    const config = await discoverAt(issuer(), 'shop', 'shop-secret');
    const { auth, tokens } = await signIn(config, { redirect_uri: SHOP_REDIRECT, scope: 'openid' });
    const shopSid = tokens.claims()!.sid as string;

    on(two());
    const { sessions } = (await (await fetch(`${issuer()}/_testbed/sessions`)).json()) as { sessions: SessionSummary[] };
    const session = sessions.find((candidate) => candidate.client_sids.shop === shopSid)!;
    expect(session).toMatchObject({ sub: 'alice', clients: ['shop'] });
    const ended = await fetch(`${issuer()}/_testbed/sessions/${session.sid}`, { method: 'DELETE' });
    expect(ended.status).toBe(200);
    expect(await ended.json()).toEqual({
      ended: session.sid,
      logout: [{ client_id: 'shop', uri: `${rp.origin()}/backchannel-logout`, status: 204 }],
    });
    const [delivery] = await rp.receivedCount(1);
    const { payload } = await jwtVerify(
      new URLSearchParams(delivery.body).get('logout_token')!,
      createRemoteJWKSet(new URL(`${issuer()}/jwks`)),
      {
        issuer: issuer(),
        audience: 'shop',
        typ: 'logout+jwt',
      },
    );
    expect(payload).toMatchObject({ sub: 'alice', sid: shopSid });

    on(one());
    const after = (await (await fetch(`${issuer()}/_testbed/sessions`)).json()) as { sessions: SessionSummary[] };
    expect(after.sessions.map((candidate) => candidate.sid)).not.toContain(session.sid);
    expect(await silentError(config, auth.agent)).toBe('login_required');
  });
});
