/**
 * RFC 8693 token exchange: express-openid-connect's `customTokenExchange()` turns a user's
 * profile-API token into a directory-API token; raw HTTP covers each kind of subject token,
 * delegation (`act`), scope and target rules, and the RFC's errors.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { parse } from 'yaml';
import { DEFAULT_FIXTURE_PATH, type FixtureInput } from '../../src/index.ts';
import { generateSigningKeys } from '../../src/provider/keys.ts';
import { UserAgent } from '../support/agent.ts';
import { formRequest, postForm, readJson } from '../support/http.ts';
import { client, discover, signIn } from '../support/openid.ts';
import {
  bearer,
  callApi,
  DIRECTORY_API,
  dpopHandle,
  dpopKey,
  dpopProof,
  forgeAccessToken,
  PROFILE_API,
  userTokens,
  WEB_APP_REDIRECT,
} from '../support/resource-servers.ts';
import { useTestbed } from '../support/testbed.ts';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const TYPES = {
  access: 'urn:ietf:params:oauth:token-type:access_token',
  refresh: 'urn:ietf:params:oauth:token-type:refresh_token',
  id: 'urn:ietf:params:oauth:token-type:id_token',
};
const WEB_APP = { client_id: 'web-app', client_secret: 'web-app-secret' }; // client_secret_post
const SEED: [string, string] = ['node-openid-client', 'password'];

interface ExchangeResponse {
  access_token?: string;
  issued_token_type?: string;
  token_type?: string;
  expires_in?: number;
  scope?: string;
  error?: string;
  error_description?: string;
}

describe('token exchange', () => {
  let app: Server;
  let appUrl: string;
  let authentication: express.RequestHandler = (_request, response) => response.status(503).end();

  beforeAll(async () => {
    const rp = express();
    rp.use((request, response, next) => authentication(request, response, next));
    rp.get('/exchange', async (request, response, next) => {
      try {
        const exchanged = await request.oidc.customTokenExchange!({ audience: DIRECTORY_API, scope: 'fr:idm:*' });
        response.json({ subject: request.oidc.accessToken?.access_token, exchanged });
      } catch (error) {
        next(error);
      }
    });
    app = rp.listen(0, '127.0.0.1');
    await once(app, 'listening');
    appUrl = `http://localhost:${(app.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    app.closeAllConnections();
    await new Promise((resolve) => app.close(resolve));
  });

  // The default fixture, with signing keys the test knows (to forge tokens) and an express app.
  const testbed = useTestbed(async () => {
    const fixture = parse(readFileSync(DEFAULT_FIXTURE_PATH, 'utf8')) as FixtureInput & { clients: Array<Record<string, unknown>> };
    fixture.keys = { signing: (await generateSigningKeys()) as NonNullable<FixtureInput['keys']>['signing'] };
    fixture.clients.push(
      {
        client_id: 'express-app',
        client_secret: 'express-app-secret',
        client_name: 'Express app',
        redirect_uris: [`${appUrl}/callback`],
        grant_types: ['authorization_code', 'refresh_token', GRANT],
        response_types: ['code'],
        first_party: true,
      },
      { client_id: 'exchange-only', client_secret: 'exchange-only-secret', grant_types: [GRANT], response_types: [], redirect_uris: [] },
    );
    return { fixture };
  });

  const exchange = (form: Record<string, string>, credentials: [string, string] = SEED) =>
    postForm<ExchangeResponse>(testbed().urls.token, { grant_type: GRANT, ...form }, { basic: credentials });
  const exchangeAsWebApp = (form: Record<string, string>) =>
    postForm<ExchangeResponse>(testbed().urls.token, { grant_type: GRANT, ...WEB_APP, ...form });
  const directoryLogin = (token: string) => callApi(new URL('info/login', testbed().urls.directoryApi), { headers: bearer(token) });
  const profileUserinfo = (token: string) => callApi(new URL('userinfo', testbed().urls.profileApi), { headers: bearer(token) });
  /** alice's token for the profile API (JWT), with her ID token, from web-app's code flow. */
  const aliceProfileTokens = async (scope = 'profile email') => (await userTokens(testbed(), PROFILE_API, scope)).tokens;
  const serviceToken = async (clientId: string, secret: string) =>
    (
      await postForm<ExchangeResponse>(
        testbed().urls.token,
        { grant_type: 'client_credentials', resource: DIRECTORY_API, scope: 'fr:idm:*' },
        { basic: [clientId, secret] },
      )
    ).body.access_token!;

  it('express-openid-connect customTokenExchange(): the exchanged token is accepted by the directory API, refused by the profile API', async () => {
    const { auth } = await import('express-openid-connect');
    authentication = auth({
      issuerBaseURL: testbed().issuer,
      baseURL: appUrl,
      clientID: 'express-app',
      clientSecret: 'express-app-secret',
      secret: 'a-session-secret-for-the-test-app-only',
      authRequired: false,
      authorizationParams: { response_type: 'code', scope: 'openid profile email', login_hint: 'alice', resource: PROFILE_API },
      tokenEndpointParams: { resource: PROFILE_API },
    });
    const agent = new UserAgent();
    // Headless sign-in (login_hint auto-login), back at the app's home page, signed in.
    const { url } = await agent.follow(`${appUrl}/login`);
    expect(url.href).toBe(`${appUrl}/`);
    const answer = await agent.fetch(`${appUrl}/exchange`);
    expect(answer.status).toBe(200);
    const { subject, exchanged } = (await answer.json()) as { subject: string; exchanged: ExchangeResponse };

    expect(decodeJwt(subject)).toMatchObject({ aud: PROFILE_API, sub: 'alice', client_id: 'express-app' });
    expect((await profileUserinfo(subject)).status).toBe(200);

    expect(exchanged).toMatchObject({ issued_token_type: TYPES.access, token_type: expect.stringMatching(/^bearer$/i), scope: 'fr:idm:*' });
    expect(decodeJwt(exchanged.access_token!)).toMatchObject({
      iss: testbed().issuer,
      aud: DIRECTORY_API,
      sub: 'alice',
      client_id: 'express-app',
      scope: 'fr:idm:*',
    });
    expect(decodeJwt(exchanged.access_token!).act).toBeUndefined();
    const atDirectory = await directoryLogin(exchanged.access_token!);
    expect(atDirectory.status).toBe(200);
    const atProfile = await profileUserinfo(exchanged.access_token!);
    expect(atProfile.status).toBe(401);
    expect(atProfile.challenge).toMatch(/error="invalid_token"/);
    expect(atProfile.challenge).toMatch(/audience/);
  });

  it('a JWT access token as subject: a token for the target, introspectable and revocable like any other', async () => {
    const { access_token: subject } = await aliceProfileTokens();
    const { status, body } = await exchangeAsWebApp({
      subject_token: subject,
      subject_token_type: TYPES.access,
      resource: DIRECTORY_API,
      scope: 'fr:idm:*',
    });
    expect(status).toBe(200);
    expect(body).toEqual({
      access_token: expect.any(String),
      issued_token_type: TYPES.access,
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'fr:idm:*',
    });
    expect(decodeJwt(body.access_token!)).toMatchObject({ aud: DIRECTORY_API, sub: 'alice', client_id: 'web-app', scope: 'fr:idm:*' });

    const introspect = () => postForm(testbed().urls.introspection, { token: body.access_token!, ...WEB_APP });
    expect((await introspect()).body).toMatchObject({
      active: true,
      sub: 'alice',
      client_id: 'web-app',
      aud: DIRECTORY_API,
      scope: 'fr:idm:*',
    });
    expect((await formRequest(testbed().urls.revocation, { token: body.access_token!, ...WEB_APP })).status).toBe(200);
    expect((await introspect()).body).toEqual({ active: false });
    expect((await directoryLogin(body.access_token!)).status).toBe(401);
  });

  it('an opaque access token as subject (a userinfo token)', async () => {
    const config = await discover(testbed(), 'web-app', undefined, {}, client.ClientSecretPost('web-app-secret'));
    const { tokens } = await signIn(config, { redirect_uri: WEB_APP_REDIRECT, scope: 'openid' });
    expect(tokens.access_token.split('.')).toHaveLength(1);
    const { status, body } = await exchange({
      subject_token: tokens.access_token,
      subject_token_type: TYPES.access,
      audience: PROFILE_API,
      scope: 'profile',
    });
    expect(status).toBe(200);
    expect(decodeJwt(body.access_token!)).toMatchObject({
      aud: PROFILE_API,
      sub: 'alice',
      client_id: 'node-openid-client',
      scope: 'profile',
    });
    expect((await profileUserinfo(body.access_token!)).body).toMatchObject({ sub: 'alice', name: 'Alice Example' });
  });

  it('no target and scope openid: an opaque userinfo token', async () => {
    const { access_token: subject } = await aliceProfileTokens();
    const { status, body } = await exchange({ subject_token: subject, subject_token_type: TYPES.access, scope: 'openid' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ issued_token_type: TYPES.access, scope: 'openid' });
    expect(body.access_token!.split('.')).toHaveLength(1);
    const userinfo = await readJson(await fetch(testbed().urls.userinfo, { headers: bearer(body.access_token!) }));
    expect(userinfo).toMatchObject({ status: 200, body: { sub: 'alice' } });
  });

  it('an ID token as subject, presented by the client it was issued to; another client is refused', async () => {
    const { id_token: idToken } = await aliceProfileTokens();
    const { status, body } = await exchangeAsWebApp({
      subject_token: idToken!,
      subject_token_type: TYPES.id,
      resource: PROFILE_API,
      scope: 'email',
    });
    expect(status).toBe(200);
    expect(decodeJwt(body.access_token!)).toMatchObject({ aud: PROFILE_API, sub: 'alice', client_id: 'web-app', scope: 'email' });

    const foreignClient = await exchange({ subject_token: idToken!, subject_token_type: TYPES.id, resource: PROFILE_API, scope: 'email' });
    expect(foreignClient.status).toBe(400);
    expect(foreignClient.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/aud/) });
    // An access token is not an ID token.
    const { access_token: accessToken } = await aliceProfileTokens();
    expect((await exchangeAsWebApp({ subject_token: accessToken, subject_token_type: TYPES.id, resource: PROFILE_API })).body.error).toBe(
      'invalid_request',
    );
  });

  it('an actor token: the issued token carries act (in the JWT, and in introspection of an opaque one); prior actors nest', async () => {
    const { access_token: subject } = await aliceProfileTokens();
    const actor = await serviceToken(...SEED);
    const delegated = await exchange({
      subject_token: subject,
      subject_token_type: TYPES.access,
      actor_token: actor,
      actor_token_type: TYPES.access,
      audience: DIRECTORY_API,
      scope: 'fr:idm:*',
    });
    expect(delegated.status).toBe(200);
    expect(decodeJwt(delegated.body.access_token!)).toMatchObject({ sub: 'alice', aud: DIRECTORY_API, act: { sub: 'node-openid-client' } });
    expect((await directoryLogin(delegated.body.access_token!)).status).toBe(200);

    // The delegated token exchanged again, with another actor: the new actor is current, the first nested.
    const second = await exchange({
      subject_token: delegated.body.access_token!,
      subject_token_type: TYPES.access,
      actor_token: await serviceToken('service-client', 'service-client-secret'),
      actor_token_type: TYPES.access,
      scope: 'openid',
    });
    expect(second.status).toBe(200);
    const introspection = await postForm(testbed().urls.introspection, { token: second.body.access_token! }, { basic: SEED });
    expect(introspection.body).toMatchObject({
      active: true,
      sub: 'alice',
      act: { sub: 'service-client', act: { sub: 'node-openid-client' } },
    });

    // Without an actor, an exchange keeps the delegation it started from.
    const kept = await exchange({
      subject_token: delegated.body.access_token!,
      subject_token_type: TYPES.access,
      audience: PROFILE_API,
      scope: 'profile',
    });
    expect(decodeJwt(kept.body.access_token!).act).toEqual({ sub: 'node-openid-client' });
  });

  it('scope: narrowing for the same audience works, widening is invalid_scope', async () => {
    const { access_token: subject } = await aliceProfileTokens('profile');
    const narrowed = await exchange({
      subject_token: (await aliceProfileTokens()).access_token,
      subject_token_type: TYPES.access,
      resource: PROFILE_API,
      scope: 'email',
    });
    expect(narrowed.body).toMatchObject({ scope: 'email' });
    const widened = await exchange({
      subject_token: subject,
      subject_token_type: TYPES.access,
      resource: PROFILE_API,
      scope: 'profile email',
    });
    expect(widened.status).toBe(400);
    expect(widened.body).toMatchObject({ error: 'invalid_scope', error_description: expect.stringMatching(/email/) });
    expect(
      (await exchange({ subject_token: subject, subject_token_type: TYPES.access, resource: PROFILE_API, scope: 'no-such-scope' })).body
        .error,
    ).toBe('invalid_scope');
  });

  it('scope: a first-party client (web-app, consent implied) may widen a token for the same audience', async () => {
    const { access_token: subject } = await aliceProfileTokens('profile');
    const widened = await exchangeAsWebApp({
      subject_token: subject,
      subject_token_type: TYPES.access,
      audience: PROFILE_API,
      scope: 'profile email',
    });
    expect(widened.status).toBe(200);
    expect(decodeJwt(widened.body.access_token!)).toMatchObject({
      aud: PROFILE_API,
      sub: 'alice',
      client_id: 'web-app',
      scope: 'profile email',
    });
  });

  it('targets: an unknown audience or resource, or two of them, is invalid_target', async () => {
    const { access_token: subject } = await aliceProfileTokens();
    const base = { subject_token: subject, subject_token_type: TYPES.access, scope: 'profile' };
    for (const form of [
      { ...base, audience: 'https://unknown.example/' },
      { ...base, resource: 'http://localhost:9999/' },
      `${new URLSearchParams(base)}&audience=${encodeURIComponent(PROFILE_API)}&audience=${encodeURIComponent(DIRECTORY_API)}`,
      { ...base, scope: 'email', resource: PROFILE_API, audience: DIRECTORY_API },
    ]) {
      const { status, body } = await postForm<ExchangeResponse>(
        testbed().urls.token,
        typeof form === 'string' ? `grant_type=${encodeURIComponent(GRANT)}&${form}` : { grant_type: GRANT, ...form },
        { basic: SEED },
      );
      expect({ status, error: body.error }).toEqual({ status: 400, error: 'invalid_target' });
    }
  });

  it("a revoked subject token (a user's JWT, a client-credentials JWT, opaque) is invalid_request", async () => {
    const { access_token: jwt } = await aliceProfileTokens();
    const clientJwt = await serviceToken(...SEED);
    const opaque = (await postForm<ExchangeResponse>(testbed().urls.token, { grant_type: 'client_credentials' }, { basic: SEED })).body
      .access_token!;
    for (const token of [jwt, clientJwt, opaque]) {
      expect(
        (await exchange({ subject_token: token, subject_token_type: TYPES.access, audience: DIRECTORY_API, scope: 'fr:idm:*' })).status,
      ).toBe(200);
      const credentials = token === jwt ? { ...WEB_APP } : {};
      expect((await formRequest(testbed().urls.revocation, { token, ...credentials }, token === jwt ? {} : { basic: SEED })).status).toBe(
        200,
      );
      const { status, body } = await exchange({
        subject_token: token,
        subject_token_type: TYPES.access,
        audience: DIRECTORY_API,
        scope: 'fr:idm:*',
      });
      expect(status).toBe(400);
      expect(body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/revoked/) });
    }
  });

  it('foreign subject tokens are invalid_request: another key, another issuer, never issued, an unknown opaque value', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const otherKey = await forgeAccessToken(testbed(), {}, { kid: (await exportJWK(publicKey)).kid ?? 'other-key' }, privateKey);
    const ourKid = await forgeAccessToken(testbed(), {}, {}, privateKey); // our kid, another key
    const otherIssuer = await forgeAccessToken(testbed(), { iss: 'https://other-issuer.example' });
    const neverIssued = await forgeAccessToken(testbed()); // well signed, but this issuer has no record of it
    for (const token of [otherKey, ourKid, otherIssuer, neverIssued, 'an-opaque-value-this-issuer-never-issued']) {
      const { status, body } = await exchange({
        subject_token: token,
        subject_token_type: TYPES.access,
        audience: DIRECTORY_API,
        scope: 'fr:idm:*',
      });
      expect({ status, error: body.error }).toEqual({ status: 400, error: 'invalid_request' });
    }
    const foreignIdToken = await new SignJWT({ sub: 'alice', aud: 'web-app' })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(testbed().issuer)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    expect(
      (await exchangeAsWebApp({ subject_token: foreignIdToken, subject_token_type: TYPES.id, resource: PROFILE_API, scope: 'email' })).body
        .error,
    ).toBe('invalid_request');
  });

  it('missing or mismatched parameters and unsupported token types are invalid_request', async () => {
    const { access_token: subject } = await aliceProfileTokens();
    const forms: Array<Record<string, string>> = [
      { subject_token_type: TYPES.access, scope: 'openid' },
      { subject_token: subject, scope: 'openid' },
      { subject_token: subject, subject_token_type: TYPES.access, actor_token: subject, scope: 'openid' },
      { subject_token: subject, subject_token_type: TYPES.access, actor_token_type: TYPES.access, scope: 'openid' },
      { subject_token: subject, subject_token_type: 'urn:ietf:params:oauth:token-type:saml2', scope: 'openid' },
      { subject_token: subject, subject_token_type: TYPES.access, requested_token_type: TYPES.id, scope: 'openid' },
    ];
    for (const form of forms) {
      const { status, body } = await exchange(form);
      expect({ form, status, error: body.error }).toEqual({ form, status: 400, error: 'invalid_request' });
    }
  });

  it('requested_token_type refresh_token: for clients with the refresh_token grant; it then mints tokens for the target', async () => {
    const { access_token: subject } = await aliceProfileTokens();
    const { status, body } = await exchange({
      subject_token: subject,
      subject_token_type: TYPES.access,
      requested_token_type: TYPES.refresh,
      audience: DIRECTORY_API,
      scope: 'fr:idm:*',
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ issued_token_type: TYPES.refresh, token_type: 'N_A', scope: 'fr:idm:*' });
    const refreshed = await postForm<ExchangeResponse>(
      testbed().urls.token,
      { grant_type: 'refresh_token', refresh_token: body.access_token! },
      { basic: SEED },
    );
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(refreshed.body.access_token!)).toMatchObject({ aud: DIRECTORY_API, sub: 'alice', client_id: 'node-openid-client' });

    const noRefreshGrant = await exchange(
      { subject_token: subject, subject_token_type: TYPES.access, requested_token_type: TYPES.refresh, audience: DIRECTORY_API },
      ['exchange-only', 'exchange-only-secret'],
    );
    expect(noRefreshGrant.body.error).toBe('invalid_request');
  });

  it('with a DPoP proof (openid-client genericGrantRequest): a DPoP-bound token the directory API accepts only with proofs', async () => {
    const { access_token: subject } = await aliceProfileTokens();
    const config = await discover(testbed(), 'node-openid-client', 'password');
    const key = await dpopKey();
    const DPoP = await dpopHandle(config, key);
    const tokens = await client.genericGrantRequest(
      config,
      GRANT,
      { subject_token: subject, subject_token_type: TYPES.access, audience: DIRECTORY_API, scope: 'fr:idm:*' },
      { DPoP },
    );
    expect(tokens.token_type).toBe('dpop');
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: DIRECTORY_API, cnf: { jkt: await calculateJwkThumbprint(key.publicJwk) } });
    const response = await client.fetchProtectedResource(
      config,
      tokens.access_token,
      new URL('info/login', testbed().urls.directoryApi),
      'GET',
      null,
      undefined,
      { DPoP },
    );
    expect(response.status).toBe(200);
    expect((await callApi(new URL('info/login', testbed().urls.directoryApi), { headers: bearer(tokens.access_token) })).status).toBe(401);
  });

  it('a replayed DPoP proof is refused (invalid_dpop_proof)', async () => {
    const { access_token: subject } = await aliceProfileTokens();
    const proof = await dpopProof(await dpopKey(), 'POST', testbed().urls.token, '', { claims: { ath: undefined } });
    const request = () =>
      postForm<ExchangeResponse>(
        testbed().urls.token,
        { grant_type: GRANT, subject_token: subject, subject_token_type: TYPES.access, audience: DIRECTORY_API, scope: 'fr:idm:*' },
        { basic: SEED, headers: { dpop: proof } },
      );
    expect((await request()).body.token_type).toBe('DPoP');
    const replay = await request();
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_dpop_proof');
  });

  it('a client not registered for the grant: unauthorized_client (RFC 6749 §5.2)', async () => {
    const { access_token: subject } = await aliceProfileTokens();
    const { status, body } = await exchange({ subject_token: subject, subject_token_type: TYPES.access, audience: DIRECTORY_API }, [
      'service-client',
      'service-client-secret',
    ]);
    expect(status).toBe(400);
    expect(body.error).toBe('unauthorized_client');
  });

  it('is advertised in discovery', async () => {
    const { body } = await readJson(await fetch(testbed().urls.discovery));
    expect(body.grant_types_supported).toEqual(expect.arrayContaining([GRANT, 'password']));
  });
});
