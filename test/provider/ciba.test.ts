/**
 * OpenID Connect CIBA 1.0 (poll and ping) with openid-client 6 as the client, decided through the
 * control endpoints (`/_testbed/ciba`) and the library call (`testbed.main.ciba`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { parse } from 'yaml';
import { DEFAULT_FIXTURE_PATH, type FixtureInput } from '../../src/index.ts';
import { postForm, readJson } from '../support/http.ts';
import { client, discover } from '../support/openid.ts';
import { PROFILE_API } from '../support/resource-servers.ts';
import { useRpListener } from '../support/rp-listener.ts';
import { fixturePath, useTestbed } from '../support/testbed.ts';

const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';

interface Notification {
  authorization?: string;
  contentType?: string;
  body: Record<string, unknown>;
}

describe('CIBA with the default fixture (poll and ping)', () => {
  // The ping client's notification endpoint: a listener of this test, on a free port.
  const rp = useRpListener();

  const testbed = useTestbed(() => {
    const fixture = parse(readFileSync(DEFAULT_FIXTURE_PATH, 'utf8')) as FixtureInput & { clients: Array<Record<string, unknown>> };
    const ping = fixture.clients.find((rp) => rp.client_id === 'ciba-ping-client')!;
    ping.backchannel_client_notification_endpoint = `${rp.origin()}/ciba/notify`;
    // A ping client whose endpoint is down (nothing listens on port 1).
    fixture.clients.push({
      ...ping,
      client_id: 'ciba-ping-down',
      client_secret: 'ciba-ping-down-secret',
      backchannel_client_notification_endpoint: 'http://127.0.0.1:1/ciba/notify',
    });
    return { fixture };
  });

  const pollClient = () => discover(testbed(), 'ciba-client', 'ciba-client-secret');
  const pingClient = () => discover(testbed(), 'ciba-ping-client', 'ciba-ping-client-secret');
  const control = (path: string, init: RequestInit = {}) =>
    fetch(`${testbed().issuer}/_testbed${path}`, { ...init, headers: { accept: 'application/json', ...init.headers } });
  /** One token request, no waiting (openid-client's poll waits `interval` before each request). */
  const pollOnce = (authReqId: string, clientId = 'ciba-client', secret = 'ciba-client-secret') =>
    postForm(testbed().urls.token, { grant_type: CIBA_GRANT, auth_req_id: authReqId }, { basic: [clientId, secret] });
  const notification = async (count: number): Promise<Notification> => {
    const request = (await rp.receivedCount(count))[count - 1];
    return {
      authorization: request.headers.authorization,
      contentType: request.headers['content-type'],
      body: JSON.parse(request.body) as Record<string, unknown>,
    };
  };

  it('advertises the backchannel authentication endpoint, both delivery modes, and no user_code', async () => {
    const metadata = (await pollClient()).serverMetadata();
    expect(metadata).toMatchObject({
      backchannel_authentication_endpoint: testbed().urls.backchannelAuthentication,
      backchannel_token_delivery_modes_supported: ['poll', 'ping'],
      backchannel_user_code_parameter_supported: false,
    });
    expect(metadata.grant_types_supported).toContain(CIBA_GRANT);
  });

  it('poll: pending until approved through the control endpoint, then tokens for the hinted user that work at userinfo', async () => {
    const config = await pollClient();
    const started = await client.initiateBackchannelAuthentication(config, {
      scope: 'openid profile',
      login_hint: 'alice',
      binding_message: 'Confirm 4711',
    });
    expect(started).toMatchObject({ auth_req_id: expect.any(String), expires_in: expect.any(Number) });

    const pending = await pollOnce(started.auth_req_id);
    expect(pending.status).toBe(400);
    expect(pending.body.error).toBe('authorization_pending');

    const listed = await control('/ciba');
    expect(listed.status).toBe(200);
    expect(listed.headers.get('cache-control')).toBe('no-store');
    const { body } = await readJson<{ pending: Array<Record<string, unknown>> }>(listed);
    expect(body.pending.find((request) => request.auth_req_id === started.auth_req_id)).toMatchObject({
      client_id: 'ciba-client',
      client_name: 'CIBA (poll)',
      sub: 'alice',
      username: 'alice',
      scope: 'openid profile',
      binding_message: 'Confirm 4711',
      delivery_mode: 'poll',
      expires_at: expect.any(Number),
    });

    const approved = await readJson(await control(`/ciba/${started.auth_req_id}/approve`, { method: 'POST' }));
    expect(approved).toMatchObject({ status: 200, body: { status: 'approved' } });
    expect((await testbed().main.ciba.pending()).map((request) => request.authReqId)).not.toContain(started.auth_req_id);

    const tokens = await client.pollBackchannelAuthenticationGrant(config, { ...started, interval: 0 });
    expect(tokens.claims()).toMatchObject({ iss: testbed().issuer, aud: 'ciba-client', sub: 'alice' });
    expect(tokens.scope?.split(' ').sort()).toEqual(['openid', 'profile']);
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(await client.fetchUserInfo(config, tokens.access_token, 'alice')).toMatchObject({ sub: 'alice', name: 'Alice Example' });

    const reused = await pollOnce(started.auth_req_id);
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe('invalid_grant');
  });

  it('poll: openid-client polls until a test approves through the library call; a resource gets an API token', async () => {
    const config = await pollClient();
    const started = await client.initiateBackchannelAuthentication(config, {
      scope: 'openid profile email',
      login_hint: 'alice',
      resource: PROFILE_API,
    });
    // Every second instead of the default 5 s (the endpoint sends no `interval`), to keep the suite fast.
    const polling = client.pollBackchannelAuthenticationGrant(config, { ...started, interval: 1 }, { resource: PROFILE_API });

    const [listed] = (await testbed().main.ciba.pending()).filter((request) => request.authReqId === started.auth_req_id);
    expect(listed).toMatchObject({ clientId: 'ciba-client', sub: 'alice', resources: [PROFILE_API], deliveryMode: 'poll' });
    expect(await testbed().main.ciba.approve(started.auth_req_id)).toEqual({ status: 'approved' });

    const tokens = await polling;
    const jwks = createRemoteJWKSet(new URL(testbed().urls.jwks));
    const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: testbed().issuer, audience: PROFILE_API, typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: 'alice', client_id: 'ciba-client', scope: 'profile email' });
    const api = await client.fetchProtectedResource(config, tokens.access_token, new URL('userinfo', testbed().urls.profileApi), 'GET');
    expect(api.status).toBe(200);
    expect(await api.json()).toMatchObject({ sub: 'alice', email: 'alice@example.com' });
  });

  it('denied through the control endpoint: the poll gets access_denied with the reason given', async () => {
    const config = await pollClient();
    const started = await client.initiateBackchannelAuthentication(config, { scope: 'openid', login_hint: 'bob' });
    const denied = await readJson(
      await control(`/ciba/${started.auth_req_id}/deny`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error_description: 'Bob said no' }),
      }),
    );
    expect(denied).toMatchObject({ status: 200, body: { status: 'denied' } });
    await expect(client.pollBackchannelAuthenticationGrant(config, { ...started, interval: 0 })).rejects.toMatchObject({
      error: 'access_denied',
      error_description: 'Bob said no',
    });
  });

  it('denied through the library call: the poll gets access_denied', async () => {
    const config = await pollClient();
    const started = await client.initiateBackchannelAuthentication(config, { scope: 'openid', login_hint: 'alice' });
    expect(await testbed().main.ciba.deny(started.auth_req_id)).toEqual({ status: 'denied' });
    const answer = await pollOnce(started.auth_req_id);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: 'access_denied', error_description: 'the user denied the request' });
  });

  it('ping: approval notifies the client endpoint with its client_notification_token, then the token request succeeds', async () => {
    const config = await pingClient();
    const token = `ping-${client.randomState()}`;
    const started = await client.initiateBackchannelAuthentication(config, {
      scope: 'openid email',
      login_hint: 'alice',
      client_notification_token: token,
    });
    expect((await testbed().main.ciba.pending()).find((request) => request.authReqId === started.auth_req_id)?.deliveryMode).toBe('ping');

    const before = rp.received.length;
    const approved = await readJson(await control(`/ciba/${started.auth_req_id}/approve`, { method: 'POST' }));
    expect(approved).toMatchObject({ status: 200, body: { status: 'approved', notified: true } });

    const ping = await notification(before + 1);
    expect(ping.authorization).toBe(`Bearer ${token}`);
    expect(ping.contentType).toMatch(/^application\/json/);
    expect(ping.body).toEqual({ auth_req_id: started.auth_req_id });

    const tokens = await client.pollBackchannelAuthenticationGrant(config, {
      auth_req_id: ping.body.auth_req_id as string,
      expires_in: 60,
      interval: 0,
    });
    expect(tokens.claims()).toMatchObject({ sub: 'alice', aud: 'ciba-ping-client' });
    expect(await client.fetchUserInfo(config, tokens.access_token, 'alice')).toMatchObject({ email: 'alice@example.com' });
  });

  it('ping: a denial is delivered as a ping too, and the token request answers access_denied', async () => {
    const config = await pingClient();
    const started = await client.initiateBackchannelAuthentication(config, {
      scope: 'openid',
      login_hint: 'alice',
      client_notification_token: `ping-${client.randomState()}`,
    });
    const before = rp.received.length;
    expect(await testbed().main.ciba.deny(started.auth_req_id, 'not now')).toEqual({ status: 'denied', notified: true });
    expect((await notification(before + 1)).body).toEqual({ auth_req_id: started.auth_req_id });
    const answer = await pollOnce(started.auth_req_id, 'ciba-ping-client', 'ciba-ping-client-secret');
    expect(answer.body).toEqual({ error: 'access_denied', error_description: 'not now' });
  });

  it('ping: when the client endpoint is down, the approval stands (notified: false) and the client can still redeem it', async () => {
    const config = await discover(testbed(), 'ciba-ping-down', 'ciba-ping-down-secret');
    const started = await client.initiateBackchannelAuthentication(config, {
      scope: 'openid',
      login_hint: 'alice',
      client_notification_token: `ping-${client.randomState()}`,
    });
    const approved = await readJson(await control(`/ciba/${started.auth_req_id}/approve`, { method: 'POST' }));
    expect(approved).toMatchObject({ status: 200, body: { status: 'approved', notified: false } });
    const tokens = await client.pollBackchannelAuthenticationGrant(config, { ...started, interval: 0 });
    expect(tokens.claims()?.sub).toBe('alice');
  });

  it('answers unknown_user_id (CIBA §13) for a login_hint that names no fixture user', async () => {
    const config = await pollClient();
    await expect(client.initiateBackchannelAuthentication(config, { scope: 'openid', login_hint: 'mallory' })).rejects.toMatchObject({
      error: 'unknown_user_id',
      status: 400,
    });
  });

  it('refuses user_code, login_hint_token and an unusable binding_message with their CIBA error codes', async () => {
    const request = (parameters: Record<string, string>) =>
      postForm(
        testbed().urls.backchannelAuthentication,
        { scope: 'openid', ...parameters },
        { basic: ['ciba-client', 'ciba-client-secret'] },
      );
    const userCode = await request({ login_hint: 'alice', user_code: '1234' });
    expect(userCode.status).toBe(400);
    expect(userCode.body.error).toBe('invalid_user_code');
    const hintToken = await request({ login_hint_token: 'eyJhbGciOiJub25lIn0.e30.' });
    expect(hintToken.status).toBe(400);
    expect(hintToken.body.error).toBe('invalid_request');
    expect(hintToken.body.error_description).toMatch(/login_hint_token is not supported/);
    const binding = await request({ login_hint: 'alice', binding_message: 'x'.repeat(65) });
    expect(binding.status).toBe(400);
    expect(binding.body.error).toBe('invalid_binding_message');
  });

  it('control endpoints: unknown and already decided requests are 404 JSON errors; a bad deny reason is 400', async () => {
    const unknown = await readJson(await control('/ciba/not-a-request/approve', { method: 'POST' }));
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: 'not_found', error_description: expect.stringMatching(/no pending CIBA request/) });

    const config = await pollClient();
    const started = await client.initiateBackchannelAuthentication(config, { scope: 'openid', login_hint: 'alice' });
    const badReason = await readJson(
      await control(`/ciba/${started.auth_req_id}/deny`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error_description: 'line\nbreak' }),
      }),
    );
    expect(badReason.status).toBe(400);
    expect(badReason.body.error).toBe('invalid_request');

    expect((await control(`/ciba/${started.auth_req_id}/approve`, { method: 'POST' })).status).toBe(200);
    const again = await readJson(await control(`/ciba/${started.auth_req_id}/deny`, { method: 'POST' }));
    expect(again.status).toBe(404);
    await expect(testbed().main.ciba.approve(started.auth_req_id)).rejects.toThrow(/no pending CIBA request/);

    const elsewhere = await readJson(await control('/nothing-here'));
    expect(elsewhere).toMatchObject({ status: 404, body: { error: 'not_found' } });
  });

  it('control endpoints: refuse a form post from another site (CSRF)', async () => {
    const config = await pollClient();
    const started = await client.initiateBackchannelAuthentication(config, { scope: 'openid', login_hint: 'alice' });
    const crossSite = await readJson(
      await control(`/ciba/${started.auth_req_id}/approve`, {
        method: 'POST',
        headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
        body: '',
      }),
    );
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.error).toBe('access_denied');
    expect((await testbed().main.ciba.pending()).map((request) => request.authReqId)).toContain(started.auth_req_id);

    // The page's own form post: same origin, answered with a redirect back to the page.
    const fromPage = await control(`/ciba/${started.auth_req_id}/approve`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: new URL(testbed().issuer).origin, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(fromPage.status).toBe(303);
    expect(fromPage.headers.get('location')).toBe('/_testbed/ciba');
    expect((await pollOnce(started.auth_req_id)).status).toBe(200);
  });

  it('lists no expired request, and an expired one can no longer be approved', async () => {
    const config = await pollClient();
    const started = await client.initiateBackchannelAuthentication(config, { scope: 'openid', login_hint: 'alice', requested_expiry: '1' });
    expect(started.expires_in).toBe(1);
    expect((await testbed().main.ciba.pending()).map((request) => request.authReqId)).toContain(started.auth_req_id);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await testbed().main.ciba.pending()).map((request) => request.authReqId)).not.toContain(started.auth_req_id);
    expect((await control(`/ciba/${started.auth_req_id}/approve`, { method: 'POST' })).status).toBe(404);
    // CIBA §11: the store keeps the expired request a while, so the engine can say it expired.
    const late = await pollOnce(started.auth_req_id);
    expect(late.status).toBe(400);
    expect(late.body.error).toBe('expired_token');
  });

  it('accepts an ID token it issued as id_token_hint instead of login_hint', async () => {
    const config = await pollClient();
    const first = await client.initiateBackchannelAuthentication(config, { scope: 'openid', login_hint: 'bob' });
    await testbed().main.ciba.approve(first.auth_req_id);
    const { id_token: idToken } = await client.pollBackchannelAuthenticationGrant(config, { ...first, interval: 0 });
    const second = await client.initiateBackchannelAuthentication(config, { scope: 'openid', id_token_hint: idToken! });
    expect((await testbed().main.ciba.pending()).find((request) => request.authReqId === second.auth_req_id)?.sub).toBe('bob');
  });
});

describe('CIBA off (the feature switch)', () => {
  const testbed = useTestbed({ fixture: fixturePath('features-off.yaml'), apis: false });

  it('advertises no backchannel authentication, and has no CIBA control endpoint', async () => {
    const { body } = await readJson(await fetch(testbed().urls.discovery));
    expect(body).not.toHaveProperty('backchannel_authentication_endpoint');
    expect(body).not.toHaveProperty('backchannel_token_delivery_modes_supported');
    expect(body.grant_types_supported).not.toContain(CIBA_GRANT);
    const control = await readJson(await fetch(`${testbed().issuer}/_testbed/ciba`, { headers: { accept: 'application/json' } }));
    expect(control.status).toBe(404);
    expect(control.body.error_description).toMatch(/issuer\.features\.ciba/);
    expect(await testbed().main.ciba.pending()).toEqual([]);
  });
});
