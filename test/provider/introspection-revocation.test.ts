import { describe, expect, it } from '@jest/globals';
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { jwtAccessTokenHandle } from '../../src/provider/extensions/jwt-records.ts';
import { formRequest, postForm } from '../support/http.ts';
import { authorize, client, discover, signIn } from '../support/openid.ts';
import { fixturePath, useTestbed } from '../support/testbed.ts';

const REDIRECT_URI = 'http://localhost:3000/callback';
const PROFILE_API = 'http://localhost:9401/';
const REPORTS_API = 'http://localhost:9403/reports/';
const SCOPE = 'openid profile email reports:read';

describe('introspection (RFC 7662) and revocation (RFC 7009) of every token the testbed issues', () => {
  const testbed = useTestbed({ fixture: fixturePath('resources.yaml') });
  const web = () => discover(testbed(), 'web', undefined, {}, client.ClientSecretBasic('web-secret'));
  const introspectAs = async (clientId: string, secret: string, token: string) => {
    const { status, body } = await postForm(testbed().urls.introspection, { token }, { basic: [clientId, secret] });
    expect(status).toBe(200);
    return body;
  };
  /** RFC 7009 §2.2: 200 with an empty body, whether or not the token was known. */
  const revoke = async (token: string, hint?: string) => {
    const response = await formRequest(
      testbed().urls.revocation,
      { token, ...(hint ? { token_type_hint: hint } : {}) },
      { basic: ['web', 'web-secret'] },
    );
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  };

  /** Signs alice in with resources granted for the profile (JWT) and reports (opaque) APIs. */
  const grant = async () => {
    const config = await web();
    const { tokens } = await signIn(
      config,
      { redirect_uri: REDIRECT_URI, scope: SCOPE, resource: [PROFILE_API, REPORTS_API] },
      { resource: PROFILE_API },
    );
    const opaque = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: REPORTS_API });
    const userinfo = await client.refreshTokenGrant(config, opaque.refresh_token!);
    return {
      config,
      jwt: tokens.access_token,
      opaque: opaque.access_token,
      userinfo: userinfo.access_token,
      refreshToken: userinfo.refresh_token!,
    };
  };

  describe('introspection', () => {
    it('reports a JWT access token active with its aud, scope, client_id, sub and exp', async () => {
      const { config, jwt } = await grant();
      const claims = decodeJwt(jwt);
      const expected = {
        active: true,
        aud: PROFILE_API,
        scope: 'profile email',
        client_id: 'web',
        sub: 'alice',
        exp: claims.exp,
        iat: claims.iat,
        iss: testbed().issuer,
        token_type: 'Bearer',
      };
      expect(await client.tokenIntrospection(config, jwt)).toMatchObject(expected);
      expect(await introspectAs('profile-api', 'profile-api-secret', jwt)).toMatchObject(expected);
    });

    it('reports an opaque resource token active, for the client and for the resource server', async () => {
      const { config, opaque } = await grant();
      expect(opaque.split('.')).toHaveLength(1);
      const expected = { active: true, aud: REPORTS_API, scope: 'reports:read', client_id: 'web', sub: 'alice', exp: expect.any(Number) };
      expect(await client.tokenIntrospection(config, opaque)).toMatchObject(expected);
      expect(await introspectAs('reports-api', 'reports-api-secret', opaque)).toMatchObject(expected);
    });

    it('reports the opaque userinfo access token active, with the OpenID scopes and no audience', async () => {
      const { config, userinfo } = await grant();
      expect(userinfo.split('.')).toHaveLength(1);
      const introspection = await client.tokenIntrospection(config, userinfo);
      expect(introspection).toMatchObject({ active: true, client_id: 'web', sub: 'alice' });
      expect(introspection.scope!.split(' ').sort()).toEqual(['email', 'openid', 'profile']);
      expect(introspection.aud).toBeUndefined();
    });

    it('reports a refresh token active to its client', async () => {
      const { config, refreshToken } = await grant();
      expect(await client.tokenIntrospection(config, refreshToken)).toMatchObject({
        active: true,
        client_id: 'web',
        sub: 'alice',
        exp: expect.any(Number),
      });
    });

    it('reports a client-credentials JWT active to the resource server', async () => {
      const config = await web();
      const { access_token } = await client.clientCredentialsGrant(config, { resource: PROFILE_API, scope: 'profile' });
      const { exp } = decodeJwt(access_token);
      expect(await introspectAs('profile-api', 'profile-api-secret', access_token)).toMatchObject({
        active: true,
        aud: PROFILE_API,
        client_id: 'web',
        scope: 'profile',
        exp,
      });
    });

    it('keeps a JWT access token active for its whole lifetime, not only its first second', async () => {
      const config = await web();
      const { access_token } = await client.clientCredentialsGrant(config, { resource: PROFILE_API, scope: 'profile' });
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(await client.tokenIntrospection(config, access_token)).toMatchObject({ active: true, exp: decodeJwt(access_token).exp });
    });

    it('keeps no record of a client-credentials JWT it issues (its jti says what it is): the store does not grow', async () => {
      const config = await web();
      const before = (await testbed().main.store.health()).entries;
      const tokens = [];
      for (let i = 0; i < 20; i++)
        tokens.push((await client.clientCredentialsGrant(config, { resource: PROFILE_API, scope: 'profile' })).access_token);
      expect((await testbed().main.store.health()).entries).toBe(before);
      const { ClientCredentials } = testbed().main.provider;
      for (const token of tokens) {
        expect(decodeJwt(token).jti).toMatch(/^cc-/);
        expect(await ClientCredentials.adapter.find(jwtAccessTokenHandle(token))).toBeUndefined();
      }
      expect(decodeJwt((await grant()).jwt).jti).not.toMatch(/^cc-/);
    });

    it("stores nothing when it issues a user's JWT (its jti seals what its claims do not say); introspection reads it all back", async () => {
      const config = await web();
      const { tokens } = await signIn(
        config,
        { redirect_uri: REDIRECT_URI, scope: SCOPE, resource: [PROFILE_API, REPORTS_API] },
        { resource: PROFILE_API },
      );
      const entries = async () => (await testbed().main.store.health()).entries; // counted by the memory store only
      const before = await entries();
      let { access_token: jwt, refresh_token: refreshToken } = tokens;
      for (let i = 0; i < 5; i++)
        ({ access_token: jwt, refresh_token: refreshToken } = await client.refreshTokenGrant(config, refreshToken!, {
          resource: PROFILE_API,
        }));
      // Each refresh stores its new refresh token (the used one stays, consumed, until it expires); the JWTs add nothing.
      if (before !== undefined) expect(await entries()).toBe(before + 5);
      const claims = decodeJwt(jwt);
      expect(claims.jti).not.toBe(decodeJwt(tokens.access_token).jti);
      expect(await client.tokenIntrospection(config, jwt)).toEqual({
        active: true,
        sub: 'alice',
        client_id: 'web',
        aud: PROFILE_API,
        scope: claims.scope,
        exp: claims.exp,
        iat: claims.iat,
        iss: testbed().issuer,
        token_type: 'Bearer',
      });
    });

    it('reports a client-credentials JWT it did not sign inactive, even with a client-credentials jti', async () => {
      const config = await web();
      const { access_token } = await client.clientCredentialsGrant(config, { resource: PROFILE_API, scope: 'profile' });
      const { privateKey } = await generateKeyPair('ES256');
      const forged = await new SignJWT(decodeJwt(access_token)).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' }).sign(privateKey);
      expect(await client.tokenIntrospection(config, forged)).toEqual({ active: false });
      expect(await introspectAs('profile-api', 'profile-api-secret', forged)).toEqual({ active: false });
    });

    it('reports unknown and malformed tokens inactive', async () => {
      const config = await web();
      expect(await client.tokenIntrospection(config, 'no-such-token')).toEqual({ active: false });
      expect(await client.tokenIntrospection(config, 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.')).toEqual({ active: false });
    });

    it('tells another client nothing about the token (active: false)', async () => {
      const { jwt, opaque } = await grant();
      expect(await introspectAs('other', 'other-secret', jwt)).toEqual({ active: false });
      expect(await introspectAs('other', 'other-secret', opaque)).toEqual({ active: false });
    });

    it('refuses a resource server with a wrong secret (401 invalid_client)', async () => {
      const { jwt } = await grant();
      const { status, body } = await postForm(testbed().urls.introspection, { token: jwt }, { basic: ['profile-api', 'wrong'] });
      expect(status).toBe(401);
      expect(body.error).toBe('invalid_client');
    });
  });

  describe('revocation', () => {
    it("revoking a user's JWT revokes the other JWTs of its grant; the grant stays, and a JWT issued under it afterwards is active", async () => {
      const config = await web();
      const parameters = { redirect_uri: REDIRECT_URI, scope: SCOPE, resource: PROFILE_API };
      const codeGrant = async (auth: Awaited<ReturnType<typeof authorize>>) =>
        client.authorizationCodeGrant(
          config,
          auth.callbackUrl,
          { pkceCodeVerifier: auth.codeVerifier, expectedState: auth.state, expectedNonce: auth.nonce },
          { resource: PROFILE_API },
        );
      const first = await authorize(config, parameters);
      const earlier = await codeGrant(first);
      const revoked = await client.refreshTokenGrant(config, earlier.refresh_token!, { resource: PROFILE_API });
      const grantOfSession = async () => (await testbed().main.provider.Session.find(first.agent.cookie('_session')!))!.grantIdFor('web');
      const grantId = await grantOfSession();
      await revoke(revoked.access_token, 'access_token');
      expect(await client.tokenIntrospection(config, revoked.access_token)).toEqual({ active: false });
      expect(await client.tokenIntrospection(config, earlier.access_token)).toEqual({ active: false });
      expect(await testbed().main.provider.Grant.find(grantId!)).toBeDefined();
      const later = await codeGrant(await authorize(config, parameters, first.agent));
      expect(await grantOfSession()).toBe(grantId);
      expect(await client.tokenIntrospection(config, later.access_token)).toMatchObject({ active: true, sub: 'alice' });
    });

    it('revokes a JWT access token: it introspects inactive to the client and to the resource server', async () => {
      const { config, jwt } = await grant();
      await revoke(jwt);
      expect(await client.tokenIntrospection(config, jwt)).toEqual({ active: false });
      expect(await introspectAs('profile-api', 'profile-api-secret', jwt)).toEqual({ active: false });
    });

    it("revoking an access token also revokes the grant's other tokens (RFC 7009 §2.1 allows it; oidc-provider does it)", async () => {
      const { config, jwt, opaque, refreshToken } = await grant();
      await revoke(jwt, 'access_token');
      expect(await client.tokenIntrospection(config, opaque)).toEqual({ active: false });
      expect(await client.tokenIntrospection(config, refreshToken)).toEqual({ active: false });
    });

    it('revokes an opaque resource access token (through openid-client)', async () => {
      const { config, opaque } = await grant();
      expect((await introspectAs('reports-api', 'reports-api-secret', opaque)).active).toBe(true);
      await client.tokenRevocation(config, opaque);
      expect(await introspectAs('reports-api', 'reports-api-secret', opaque)).toEqual({ active: false });
    });

    it('revokes the opaque userinfo access token: userinfo then answers 401', async () => {
      const { config, userinfo } = await grant();
      expect(await client.fetchUserInfo(config, userinfo, 'alice')).toMatchObject({ sub: 'alice' });
      await client.tokenRevocation(config, userinfo, { token_type_hint: 'access_token' });
      expect(await client.tokenIntrospection(config, userinfo)).toEqual({ active: false });
      await expect(client.fetchUserInfo(config, userinfo, 'alice')).rejects.toMatchObject({ status: 401 });
    });

    it('revokes a client-credentials JWT', async () => {
      const config = await web();
      const { access_token } = await client.clientCredentialsGrant(config, { resource: PROFILE_API, scope: 'profile' });
      await client.tokenRevocation(config, access_token);
      expect(await introspectAs('profile-api', 'profile-api-secret', access_token)).toEqual({ active: false });
    });

    it('revokes a client-credentials JWT that was introspected before; revoking it again still answers 200', async () => {
      const config = await web();
      const { access_token } = await client.clientCredentialsGrant(config, { resource: PROFILE_API, scope: 'profile' });
      expect((await client.tokenIntrospection(config, access_token)).active).toBe(true);
      await revoke(access_token);
      expect(await client.tokenIntrospection(config, access_token)).toEqual({ active: false });
      await revoke(access_token);
      expect(await introspectAs('profile-api', 'profile-api-secret', access_token)).toEqual({ active: false });
    });

    it('another client cannot revoke a client-credentials JWT (400 invalid_request, RFC 7009 §2.1): it stays active', async () => {
      const config = await web();
      const { access_token } = await client.clientCredentialsGrant(config, { resource: PROFILE_API, scope: 'profile' });
      const response = await formRequest(testbed().urls.revocation, { token: access_token }, { basic: ['other', 'other-secret'] });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: 'invalid_request',
        error_description: 'client is not authorized to revoke the presented token',
      });
      expect((await client.tokenIntrospection(config, access_token)).active).toBe(true);
    });

    it('revoking a refresh token kills the grant: its access tokens, JWT and opaque, go inactive', async () => {
      const { config, jwt, opaque, userinfo, refreshToken } = await grant();
      await revoke(refreshToken, 'refresh_token');
      for (const token of [refreshToken, jwt, opaque, userinfo]) {
        expect(await client.tokenIntrospection(config, token)).toEqual({ active: false });
      }
      await expect(client.refreshTokenGrant(config, refreshToken)).rejects.toMatchObject({ error: 'invalid_grant' });
    });

    it('answers 200 for a token it does not know (RFC 7009 §2.2)', async () => {
      await revoke('no-such-token');
    });

    it('refuses a wrong secret (401 invalid_client) and leaves the token alone', async () => {
      const { config, jwt } = await grant();
      const { status, body } = await postForm(testbed().urls.revocation, { token: jwt }, { basic: ['web', 'wrong'] });
      expect(status).toBe(401);
      expect(body.error).toBe('invalid_client');
      expect((await client.tokenIntrospection(config, jwt)).active).toBe(true);
    });
  });
});
