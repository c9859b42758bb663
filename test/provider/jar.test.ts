/**
 * JWT-secured authorization requests (RFC 9101): request objects by value (signed; signed then
 * encrypted to the issuer) and by reference (`request_uri` on a URL the client registered), with
 * openid-client 6 doing the code exchange.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CompactEncrypt, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { parse } from 'yaml';
import { DEFAULT_FIXTURE_PATH, type FixtureInput, type Testbed } from '../../src/index.ts';
import { UserAgent } from '../support/agent.ts';
import { demoSigningKey } from '../support/demo-rp.ts';
import { authorizationError, client, codeRequest, discover } from '../support/openid.ts';
import { useTestbed } from '../support/testbed.ts';

const REDIRECT_URI = 'http://localhost:3000/callback';

/** A code request whose parameters name the client (a request object carries them all). */
const jarRequest = (clientId: string) => codeRequest(REDIRECT_URI, { client_id: clientId, response_type: 'code' });

/** A request object (RFC 9101 §4) signed with the demo RP's key, as openid-client builds one. */
async function signedRequestObject(testbed: Testbed, parameters: Record<string, string>, overrides: Record<string, unknown> = {}) {
  const { key, kid } = await demoSigningKey();
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    ...parameters,
    iss: parameters.client_id,
    aud: testbed.issuer,
    iat: now,
    nbf: now,
    exp: now + 300,
    jti: client.randomState(),
    ...overrides,
  })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'oauth-authz-req+jwt' })
    .sign(key);
}

/** Follows an authorization URL to the redirect URI, then exchanges the code. */
async function finish(config: client.Configuration, url: URL, request: Awaited<ReturnType<typeof jarRequest>>) {
  const { url: callbackUrl, response } = await new UserAgent().follow(url, REDIRECT_URI);
  if (response) throw new Error(`authorization stopped with ${response.status}: ${(await response.text()).slice(0, 300)}`);
  return client.authorizationCodeGrant(config, callbackUrl, {
    pkceCodeVerifier: request.codeVerifier,
    expectedState: request.parameters.state,
    expectedNonce: request.parameters.nonce,
  });
}

async function jarClient(testbed: Testbed) {
  const { key, kid } = await demoSigningKey();
  return discover(testbed, 'jar-client', undefined, {}, client.PrivateKeyJwt({ key, kid }));
}

describe('request objects by value (RFC 9101 §5.1)', () => {
  const testbed = useTestbed();

  it('signed by the client (openid-client buildAuthorizationUrlWithJAR): a code flow completes with private_key_jwt', async () => {
    const config = await jarClient(testbed());
    const request = await jarRequest('jar-client');
    const { key, kid } = await demoSigningKey();
    const url = await client.buildAuthorizationUrlWithJAR(config, request.parameters, { key, kid });
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request']);
    const tokens = await finish(config, url, request);
    expect(tokens.claims()).toMatchObject({ sub: 'alice', aud: 'jar-client', iss: testbed().issuer, nonce: request.parameters.nonce });
  });

  it("signed, then encrypted to the issuer's RSA-OAEP-256 key (a nested JWT): a code flow completes", async () => {
    const config = await jarClient(testbed());
    const request = await jarRequest('jar-client');
    const signed = await signedRequestObject(testbed(), request.parameters);
    const { keys } = (await (await fetch(testbed().urls.jwks)).json()) as { keys: JWK[] };
    const encryptionKey = keys.find((key) => key.use === 'enc' && key.alg === 'RSA-OAEP-256')!;
    const encrypted = await new CompactEncrypt(new TextEncoder().encode(signed))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: encryptionKey.kid, cty: 'JWT' })
      .encrypt(await importJWK(encryptionKey, 'RSA-OAEP-256'));
    const url = new URL(testbed().urls.authorization);
    url.search = new URLSearchParams({ client_id: 'jar-client', request: encrypted }).toString();
    const tokens = await finish(config, url, request);
    expect(tokens.claims()).toMatchObject({ sub: 'alice', aud: 'jar-client' });
  });

  it('a client with require_signed_request_object cannot send plain parameters (invalid_request)', async () => {
    const { parameters } = await jarRequest('jar-client');
    const url = new URL(testbed().urls.authorization);
    url.search = new URLSearchParams(parameters).toString();
    const { error, description } = await authorizationError(url);
    expect(error).toBe('invalid_request');
    expect(description).toMatch(/request object/i);
  });

  it('a request object signed with a key the client never registered is refused (invalid_request_object)', async () => {
    const { parameters } = await jarRequest('jar-client');
    const { privateKey } = await generateKeyPair('ES256');
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ ...parameters, iss: 'jar-client', aud: testbed().issuer, iat: now, exp: now + 300 })
      .setProtectedHeader({ alg: 'ES256', kid: (await demoSigningKey()).kid, typ: 'oauth-authz-req+jwt' })
      .sign(privateKey);
    const url = new URL(testbed().urls.authorization);
    url.search = new URLSearchParams({ client_id: 'jar-client', request: forged, redirect_uri: REDIRECT_URI }).toString();
    const { error } = await authorizationError(url);
    expect(error).toBe('invalid_request_object');
  });
});

describe('request objects by reference (RFC 9101 §5.2)', () => {
  let server: Server;
  let origin: string;
  /** What the RP's request_uri serves, by path. */
  const served = new Map<string, { status: number; body: string }>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      const answer = served.get(req.url ?? '') ?? { status: 404, body: 'not found' };
      res.writeHead(answer.status, { 'content-type': 'application/oauth-authz-req+jwt' }).end(answer.body);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const testbed = useTestbed(() => {
    const fixture = parse(readFileSync(DEFAULT_FIXTURE_PATH, 'utf8')) as FixtureInput & { clients: Array<Record<string, unknown>> };
    const jar = fixture.clients.find((entry) => entry.client_id === 'jar-client')!;
    jar.request_uris = [`${origin}/request.jwt`, `${origin}/missing.jwt`, `${origin}/not-a-jwt`];
    // The same RP, its public keys at a jwks_uri on localhost instead of in the fixture.
    const { jwks: _inFixture, ...withoutKeys } = jar;
    fixture.clients.push({ ...withoutKeys, client_id: 'jar-uri-client', jwks_uri: `${origin}/jwks.json` });
    served.set('/jwks.json', { status: 200, body: JSON.stringify(jar.jwks) });
    return { fixture };
  });

  it('a client whose keys are at a jwks_uri on localhost: its request object verifies, its client assertion too', async () => {
    const { key, kid } = await demoSigningKey();
    const config = await discover(testbed(), 'jar-uri-client', undefined, {}, client.PrivateKeyJwt({ key, kid }));
    const request = await jarRequest('jar-uri-client');
    const url = await client.buildAuthorizationUrlWithJAR(config, request.parameters, { key, kid });
    const tokens = await finish(config, url, request);
    expect(tokens.claims()).toMatchObject({ sub: 'alice', aud: 'jar-uri-client' });
  });

  it('fetches the request object from the registered request_uri and completes the code flow', async () => {
    const config = await jarClient(testbed());
    const request = await jarRequest('jar-client');
    served.set('/request.jwt', { status: 200, body: await signedRequestObject(testbed(), request.parameters) });
    const url = new URL(testbed().urls.authorization);
    url.search = new URLSearchParams({ client_id: 'jar-client', request_uri: `${origin}/request.jwt` }).toString();
    const tokens = await finish(config, url, request);
    expect(tokens.claims()).toMatchObject({ sub: 'alice', aud: 'jar-client', nonce: request.parameters.nonce });
  });

  it('refuses a request_uri the client did not register, without fetching it (invalid_request_uri)', async () => {
    const url = new URL(testbed().urls.authorization);
    url.search = new URLSearchParams({ client_id: 'jar-client', request_uri: `${origin}/elsewhere.jwt` }).toString();
    const response = await fetch(url, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid_request_uri', error_description: expect.stringMatching(/not registered/) });
  });

  it('answers invalid_request_uri when the registered URL does not serve a request object', async () => {
    served.set('/not-a-jwt', { status: 200, body: '<html>hello</html>' });
    for (const [path, pattern] of [
      ['/missing.jwt', /HTTP 404/],
      ['/not-a-jwt', /did not serve a request object/],
    ] as const) {
      const url = new URL(testbed().urls.authorization);
      url.search = new URLSearchParams({ client_id: 'jar-client', request_uri: `${origin}${path}` }).toString();
      const response = await fetch(url, { headers: { accept: 'text/html' } });
      expect(response.status).toBe(400);
      const page = await response.text();
      expect(page).toContain('invalid_request_uri');
      expect(page).toMatch(pattern);
    }
  });

  it('advertises request objects and request_uri support in discovery', async () => {
    const metadata = (await (await fetch(testbed().urls.discovery)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      request_parameter_supported: true,
      request_uri_parameter_supported: true,
      require_request_uri_registration: true,
    });
    expect(metadata.request_object_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256', 'RS256']));
    expect(metadata.request_object_encryption_alg_values_supported).toEqual(expect.arrayContaining(['RSA-OAEP-256', 'ECDH-ES']));
  });
});
