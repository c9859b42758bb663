/**
 * JWT-secured responses per client metadata, with openid-client 6 verifying and decrypting them:
 * RFC 9701 introspection responses (opaque and JWT access tokens), signed and encrypted userinfo,
 * and encrypted ID tokens in a private_key_jwt code flow. jose checks the headers and claims the
 * library does not expose.
 */
import { describe, expect, it } from '@jest/globals';
import { compactDecrypt, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, type JWK, jwtVerify } from 'jose';
import { FixtureError, type Testbed, validateFixture } from '../../src/index.ts';
import { demoDecryptionKey, demoSigningKey } from '../support/demo-rp.ts';
import { basicAuthorization } from '../support/http.ts';
import { client, discover, signIn } from '../support/openid.ts';
import { PROFILE_API } from '../support/resource-servers.ts';
import { fixturePath, useTestbed } from '../support/testbed.ts';

const REDIRECT_URI = 'http://localhost:3000/callback';
const INTROSPECTION_JWT = 'application/token-introspection+jwt';

/** Content types of the responses a configuration received, in order. */
function recordContentTypes(config: client.Configuration): string[] {
  const seen: string[] = [];
  config[client.customFetch] = async (url, options) => {
    const response = await fetch(url, options as RequestInit);
    seen.push(response.headers.get('content-type') ?? '');
    return response;
  };
  return seen;
}

/**
 * A private_key_jwt client with the demo RP's keys (jwt-client, sealed-client): `metadata` tells
 * openid-client which signed responses to expect; encrypted ones are decrypted with the RP's key.
 */
async function demoRp(testbed: Testbed, clientId: string, metadata: Partial<client.ClientMetadata>) {
  const signing = await demoSigningKey();
  const decryption = await demoDecryptionKey();
  const config = await discover(testbed, clientId, undefined, metadata, client.PrivateKeyJwt({ key: signing.key, kid: signing.kid }));
  client.enableDecryptingResponses(config, ['A256GCM'], { key: decryption.key, kid: decryption.kid });
  return { config, contentTypes: recordContentTypes(config) };
}

/** A raw introspection request (RFC 7662 §2.1) by a client_secret_basic client. */
function introspect(testbed: Testbed, token: string, credentials: [string, string], accept: string): Promise<Response> {
  return fetch(testbed.urls.introspection, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept, authorization: basicAuthorization(...credentials) },
    body: new URLSearchParams({ token }),
  });
}

describe('JWT responses for jwt-client (the default fixture)', () => {
  const testbed = useTestbed();
  const jwtClient = () =>
    demoRp(testbed(), 'jwt-client', {
      id_token_signed_response_alg: 'ES256',
      userinfo_signed_response_alg: 'ES256',
      introspection_signed_response_alg: 'ES256',
    });
  const jwks = () => createRemoteJWKSet(new URL(testbed().urls.jwks));

  /**
   * alice signs in to jwt-client: an opaque userinfo access token (no resource named: the profile
   * API is granted for the scopes it owns), then a JWT for the profile API.
   */
  const signInToJwtClient = async () => {
    const { config, contentTypes } = await jwtClient();
    const { tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile email' });
    const profile = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: PROFILE_API });
    return { config, contentTypes, tokens, opaque: tokens.access_token, jwt: profile.access_token };
  };

  it('completes a private_key_jwt code flow with an ID token signed ES256 and encrypted to the RP (RSA-OAEP-256, A256GCM)', async () => {
    const { tokens } = await signInToJwtClient();
    const idToken = tokens.id_token!;
    expect(idToken.split('.')).toHaveLength(5);
    const { kid } = await demoDecryptionKey();
    expect(decodeProtectedHeader(idToken)).toMatchObject({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT', kid });
    const { plaintext } = await compactDecrypt(idToken, (await demoDecryptionKey()).key);
    const { payload, protectedHeader } = await jwtVerify(new TextDecoder().decode(plaintext), jwks(), {
      issuer: testbed().issuer,
      audience: 'jwt-client',
    });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload.sub).toBe('alice');
    // openid-client decrypted and validated the same ID token.
    expect(tokens.claims()).toMatchObject({ iss: testbed().issuer, aud: 'jwt-client', sub: 'alice' });
  });

  it('answers userinfo as a JWT signed ES256 (application/jwt), which openid-client verifies', async () => {
    const { config, contentTypes, opaque } = await signInToJwtClient();
    contentTypes.length = 0;
    const userinfo = await client.fetchUserInfo(config, opaque, 'alice');
    expect(contentTypes).toEqual([expect.stringMatching(/^application\/jwt\b/)]);
    expect(userinfo).toMatchObject({
      sub: 'alice',
      name: 'Alice Example',
      email: 'alice@example.com',
      iss: testbed().issuer,
      aud: 'jwt-client',
    });

    const raw = await fetch(testbed().urls.userinfo, { headers: { authorization: `Bearer ${opaque}`, accept: 'application/jwt' } });
    const { protectedHeader, payload } = await jwtVerify(await raw.text(), jwks(), { issuer: testbed().issuer, audience: 'jwt-client' });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({ sub: 'alice', name: 'Alice Example' });
  });

  describe('RFC 9701 introspection responses', () => {
    it('introspects the opaque and the JWT access token as token-introspection+jwt, verified by openid-client', async () => {
      const { config, contentTypes, opaque, jwt } = await signInToJwtClient();
      contentTypes.length = 0;
      expect(await client.tokenIntrospection(config, opaque)).toMatchObject({
        active: true,
        sub: 'alice',
        client_id: 'jwt-client',
        scope: 'openid profile email',
      });
      expect(await client.tokenIntrospection(config, jwt)).toMatchObject({
        active: true,
        sub: 'alice',
        client_id: 'jwt-client',
        aud: PROFILE_API,
        scope: 'profile email',
        exp: decodeJwt(jwt).exp,
      });
      expect(contentTypes).toEqual([
        expect.stringMatching(/^application\/token-introspection\+jwt\b/),
        expect.stringMatching(/^application\/token-introspection\+jwt\b/),
      ]);
    });

    it('signs the response for the client: typ token-introspection+jwt, iss, aud = the caller, iat, and the answer in token_introspection only', async () => {
      const { jwt } = await signInToJwtClient();
      const response = await introspect(testbed(), jwt, ['profile-api', 'profile-api-secret'], INTROSPECTION_JWT);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/token-introspection\+jwt\b/);
      const { protectedHeader, payload } = await jwtVerify(await response.text(), jwks(), {
        issuer: testbed().issuer,
        audience: 'profile-api',
        typ: 'token-introspection+jwt',
      });
      // profile-api has no introspection_signed_response_alg: RFC 9701 §6's default, RS256.
      expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'token-introspection+jwt', kid: expect.any(String) });
      expect(payload).toMatchObject({ iss: testbed().issuer, aud: 'profile-api', iat: expect.any(Number) });
      expect(payload.token_introspection).toMatchObject({
        active: true,
        sub: 'alice',
        client_id: 'jwt-client',
        aud: PROFILE_API,
        scope: 'profile email',
      });
      // RFC 9701 §5: no top-level sub or exp, so the response cannot pass for an access token.
      expect(payload).not.toHaveProperty('sub');
      expect(payload).not.toHaveProperty('exp');
    });

    it('answers an unknown token with token_introspection { active: false } and nothing else', async () => {
      const response = await introspect(testbed(), 'not-a-token', ['profile-api', 'profile-api-secret'], INTROSPECTION_JWT);
      const { payload } = await jwtVerify(await response.text(), jwks(), {
        issuer: testbed().issuer,
        audience: 'profile-api',
        typ: 'token-introspection+jwt',
      });
      expect(payload.token_introspection).toEqual({ active: false });
    });

    it('lets a resource server verify the RS256 response with openid-client (introspection_signed_response_alg: RS256)', async () => {
      const { jwt } = await signInToJwtClient();
      const resourceServer = await discover(
        testbed(),
        'profile-api',
        undefined,
        { introspection_signed_response_alg: 'RS256' },
        client.ClientSecretBasic('profile-api-secret'),
      );
      const contentTypes = recordContentTypes(resourceServer);
      expect(await client.tokenIntrospection(resourceServer, jwt)).toMatchObject({ active: true, sub: 'alice', aud: PROFILE_API });
      expect(contentTypes).toEqual([expect.stringMatching(/^application\/token-introspection\+jwt\b/)]);
    });

    it("answers plain JSON to a request that does not ask for a JWT (the mock APIs' introspection)", async () => {
      const { jwt } = await signInToJwtClient();
      const response = await introspect(testbed(), jwt, ['profile-api', 'profile-api-secret'], 'application/json');
      expect(response.headers.get('content-type')).toMatch(/^application\/json\b/);
      expect(await response.json()).toMatchObject({ active: true, aud: PROFILE_API });
    });
  });

  it('advertises the signing and encryption algorithms of userinfo, introspection and ID tokens, and publishes encryption keys', async () => {
    const metadata = (await (await fetch(testbed().urls.discovery)).json()) as Record<string, string[]>;
    for (const kind of ['userinfo', 'introspection', 'id_token']) {
      expect(metadata[`${kind}_signing_alg_values_supported`]).toEqual(expect.arrayContaining(['RS256', 'ES256']));
      expect(metadata[`${kind}_encryption_alg_values_supported`]).toEqual(expect.arrayContaining(['RSA-OAEP-256', 'ECDH-ES']));
      expect(metadata[`${kind}_encryption_enc_values_supported`]).toEqual(expect.arrayContaining(['A256GCM']));
    }
    const { keys } = (await (await fetch(testbed().urls.jwks)).json()) as { keys: JWK[] };
    expect(
      keys
        .filter((key) => key.use === 'enc')
        .map((key) => key.alg)
        .sort(),
    ).toEqual(['ECDH-ES', 'RSA-OAEP-256']);
  });
});

describe('encrypted userinfo and introspection responses (sealed-client)', () => {
  const testbed = useTestbed({ fixture: fixturePath('jwt-responses.yaml') });
  const sealedClient = () =>
    demoRp(testbed(), 'sealed-client', { userinfo_signed_response_alg: 'ES256', introspection_signed_response_alg: 'ES256' });

  it('encrypts userinfo to the RP (RSA-OAEP-256, A256GCM); openid-client decrypts and verifies it', async () => {
    const { config } = await sealedClient();
    const { tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile email' });
    const raw = await fetch(testbed().urls.userinfo, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(raw.headers.get('content-type')).toMatch(/^application\/jwt\b/);
    const body = await raw.text();
    expect(body.split('.')).toHaveLength(5);
    expect(decodeProtectedHeader(body)).toMatchObject({
      alg: 'RSA-OAEP-256',
      enc: 'A256GCM',
      cty: 'JWT',
      kid: (await demoDecryptionKey()).kid,
    });

    expect(await client.fetchUserInfo(config, tokens.access_token, 'alice')).toMatchObject({
      sub: 'alice',
      name: 'Alice Example',
      email: 'alice@example.com',
    });
  });

  it('encrypts introspection responses, and refuses a request that does not accept them (invalid_request)', async () => {
    const { config, contentTypes } = await sealedClient();
    const { tokens } = await signIn(
      config,
      { redirect_uri: REDIRECT_URI, scope: 'openid profile', resource: PROFILE_API },
      { resource: PROFILE_API },
    );
    expect(await client.tokenIntrospection(config, tokens.access_token)).toMatchObject({
      active: true,
      sub: 'alice',
      client_id: 'sealed-client',
      aud: PROFILE_API,
    });
    expect(contentTypes.at(-1)).toMatch(/^application\/token-introspection\+jwt\b/);

    // The same request with Accept: application/json, client authentication made by hand.
    const { key, kid } = await demoSigningKey();
    const assertionConfig = await discover(testbed(), 'sealed-client', undefined, {}, client.PrivateKeyJwt({ key, kid }));
    const seen: Array<{ status: number; body: string }> = [];
    assertionConfig[client.customFetch] = async (url, options) => {
      const headers = new Headers((options as RequestInit).headers);
      headers.set('accept', 'application/json');
      const response = await fetch(url, { ...(options as RequestInit), headers });
      seen.push({ status: response.status, body: await response.clone().text() });
      return response;
    };
    await expect(client.tokenIntrospection(assertionConfig, tokens.access_token)).rejects.toMatchObject({
      error: 'invalid_request',
      status: 400,
    });
    expect(JSON.parse(seen[0].body)).toMatchObject({
      error: 'invalid_request',
      error_description: expect.stringContaining(INTROSPECTION_JWT),
    });
  });
});

describe('JWT responses off (jwt_introspection, jwt_userinfo and encryption: false)', () => {
  const testbed = useTestbed({ fixture: fixturePath('jwt-responses-off.yaml') });

  it('advertises no userinfo, introspection or encryption algorithms, and publishes no encryption keys', async () => {
    const metadata = (await (await fetch(testbed().urls.discovery)).json()) as Record<string, unknown>;
    expect(metadata.introspection_endpoint).toBe(testbed().urls.introspection);
    const advertised = Object.keys(metadata).filter((name) =>
      /^(userinfo|introspection)_(signing|encryption)_|_encryption_(alg|enc)_values_supported$/.test(name),
    );
    expect(advertised).toEqual([]);
    expect(metadata.id_token_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS256']));
    const { keys } = (await (await fetch(testbed().urls.jwks)).json()) as { keys: JWK[] };
    expect(keys.filter((key) => key.use !== 'sig')).toEqual([]);
  });

  it('refuses a fixture client whose metadata needs a feature that is off, instead of ignoring the field', () => {
    const fixture = {
      issuer: { features: { jwt_userinfo: false, encryption: false } },
      clients: [
        {
          client_id: 'c',
          client_secret: 's',
          userinfo_signed_response_alg: 'ES256',
          id_token_encrypted_response_alg: 'RSA-OAEP-256',
          introspection_signed_response_alg: 'ES256',
        },
      ],
    };
    let message = '';
    try {
      validateFixture(fixture);
    } catch (error) {
      expect(error).toBeInstanceOf(FixtureError);
      message = (error as Error).message;
    }
    expect(message).toContain('clients[0].userinfo_signed_response_alg: needs issuer.features.jwt_userinfo on');
    expect(message).toContain('clients[0].id_token_encrypted_response_alg: needs issuer.features.encryption on');
    expect(message).not.toContain('introspection_signed_response_alg');
  });

  it('answers introspection with JSON even when a JWT is asked for', async () => {
    const config = await discover(testbed(), 'web', undefined, {}, client.ClientSecretBasic('web-secret'));
    const { tokens } = await signIn(
      config,
      { redirect_uri: REDIRECT_URI, scope: 'openid profile', resource: PROFILE_API },
      { resource: PROFILE_API },
    );
    const response = await introspect(testbed(), tokens.access_token, ['profile-api', 'profile-api-secret'], INTROSPECTION_JWT);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json\b/);
    expect(await response.json()).toMatchObject({ active: true, aud: PROFILE_API });
  });
});
