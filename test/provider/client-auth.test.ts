import { describe, expect, it } from '@jest/globals';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { postForm } from '../support/http.ts';
import { client, discover, signIn } from '../support/openid.ts';
import { readFixture, useTestbed } from '../support/testbed.ts';

const PROFILE_API = 'http://localhost:9401/';
const JWT_SECRET = 'a-shared-secret-that-is-long-enough-for-hs256';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('token endpoint client authentication', () => {
  const rpKeys = generateKeyPair('ES256');
  const testbed = useTestbed(async () => {
    const fixture = readFixture('client-auth.yaml');
    const jwk = { ...(await exportJWK((await rpKeys).publicKey)), kid: 'rp-key-1', alg: 'ES256', use: 'sig' };
    fixture.clients.push({
      client_id: 'key-client',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [jwk] },
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    });
    return { fixture };
  });

  const clientCredentials = async (clientId: string, auth: client.ClientAuth) => {
    const config = await discover(testbed(), clientId, undefined, {}, auth);
    const tokens = await client.clientCredentialsGrant(config, { resource: PROFILE_API, scope: 'profile' });
    return decodeJwt(tokens.access_token);
  };

  /** A client assertion (RFC 7523 §3) as the RP would sign it. */
  const assertion = (clientId: string) =>
    new SignJWT({})
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(testbed().issuer)
      .setIssuedAt()
      .setExpirationTime('1m')
      .setJti(crypto.randomUUID());

  const tokenRequest = (form: Record<string, string>, basic?: [string, string]) =>
    postForm(testbed().urls.token, { grant_type: 'client_credentials', ...form }, { basic });

  describe('accepts each registered method', () => {
    it('client_secret_basic', async () => {
      expect(await clientCredentials('basic-client', client.ClientSecretBasic('basic-secret'))).toMatchObject({
        client_id: 'basic-client',
        aud: PROFILE_API,
      });
    });

    it('client_secret_post', async () => {
      expect(await clientCredentials('post-client', client.ClientSecretPost('post-secret'))).toMatchObject({ client_id: 'post-client' });
    });

    it('client_secret_jwt', async () => {
      expect(await clientCredentials('jwt-secret-client', client.ClientSecretJwt(JWT_SECRET))).toMatchObject({
        client_id: 'jwt-secret-client',
      });
    });

    it("private_key_jwt (a key the test generated, registered in the client's jwks)", async () => {
      expect(
        await clientCredentials(
          'key-client',
          client.PrivateKeyJwt((await rpKeys).privateKey, {
            [client.modifyAssertion]: (header) => {
              header.kid = 'rp-key-1';
            },
          }),
        ),
      ).toMatchObject({ client_id: 'key-client', sub: 'key-client' });
    });

    it('none (a public client with PKCE)', async () => {
      const config = await discover(testbed(), 'public-client', undefined, {}, client.None());
      const { tokens } = await signIn(config, { redirect_uri: 'http://localhost:5173/callback', scope: 'openid' });
      expect(tokens.claims()).toMatchObject({ aud: 'public-client', sub: 'alice' });
    });
  });

  describe('refuses bad credentials with 401 invalid_client', () => {
    it('a wrong secret over HTTP Basic, with a WWW-Authenticate challenge', async () => {
      const { status, body, headers } = await tokenRequest({}, ['basic-client', 'wrong-secret']);
      expect(status).toBe(401);
      expect(body.error).toBe('invalid_client');
      expect(headers.get('www-authenticate')).toMatch(/^Basic /);
    });

    it('a wrong secret in the body', async () => {
      const { status, body } = await tokenRequest({ client_id: 'post-client', client_secret: 'wrong-secret' });
      expect(status).toBe(401);
      expect(body.error).toBe('invalid_client');
    });

    it('a client_secret_jwt assertion signed with another secret', async () => {
      const jwt = await assertion('jwt-secret-client')
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode('another-secret-that-is-long-enough-for-hs256'));
      const { status, body } = await tokenRequest({ client_assertion_type: ASSERTION_TYPE, client_assertion: jwt });
      expect(status).toBe(401);
      expect(body.error).toBe('invalid_client');
    });

    it('a private_key_jwt assertion signed with a key that is not registered', async () => {
      const stranger = await generateKeyPair('ES256');
      const jwt = await assertion('key-client').setProtectedHeader({ alg: 'ES256' }).sign(stranger.privateKey);
      const { status, body } = await tokenRequest({ client_assertion_type: ASSERTION_TYPE, client_assertion: jwt });
      expect(status).toBe(401);
      expect(body.error).toBe('invalid_client');
    });

    it('a method other than the registered one (a secret for the private_key_jwt client)', async () => {
      const { status, body } = await tokenRequest({}, ['key-client', 'guessed-secret']);
      expect(status).toBe(401);
      expect(body.error).toBe('invalid_client');
    });

    it('a confidential client that sends no credentials', async () => {
      const { status, body } = await tokenRequest({ client_id: 'basic-client' });
      expect(status).toBe(401);
      expect(body.error).toBe('invalid_client');
    });
  });
});
