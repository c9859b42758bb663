/**
 * DPoP at the mock APIs (RFC 9449 §7): a DPoP-bound token (`cnf.jkt`) with hand-made proofs, every
 * proof check, and the optional server nonce.
 */
import { describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import type { Testbed } from '../../src/index.ts';
import { client, discover } from '../support/openid.ts';
import { bearer, callApi, DIRECTORY_API, type DpopKey, dpopHandle, dpopKey, dpopProof, serviceToken } from '../support/resource-servers.ts';
import { useTestbed } from '../support/testbed.ts';

const ALGS = 'algs="ES256 Ed25519 EdDSA"';
const dpopError = (error: string, description: string) =>
  `DPoP realm="directory-api", error="${error}", error_description="${description}", ${ALGS}`;

describe('mock APIs: DPoP (RFC 9449)', () => {
  const testbed = useTestbed();
  const loginUrl = () => new URL('info/login', testbed().urls.directoryApi).href;

  /** A DPoP-bound client-credentials token for the directory API, and the key it is bound to. */
  const boundToken = async (): Promise<{ token: string; key: DpopKey }> => {
    const key = await dpopKey();
    const config = await discover(testbed(), 'service-client', undefined, {}, client.ClientSecretBasic('service-client-secret'));
    const token = await serviceToken(testbed(), DIRECTORY_API, 'fr:idm:*', await dpopHandle(config, key));
    expect(decodeJwt(token).cnf).toEqual({ jkt: expect.any(String) });
    return { token, key };
  };
  const withProof = (token: string, proof: string) => ({ authorization: `DPoP ${token}`, dpop: proof });

  const expectDpopError = async (headers: Record<string, string>, error: string, description: string) => {
    const response = await callApi(loginUrl(), { headers });
    expect(response.status).toBe(401);
    expect(response.challenge).toBe(dpopError(error, description));
    expect(response.body).toEqual({ error, error_description: description });
  };

  it('a valid proof: 200, and the caller is who the token says', async () => {
    const { token, key } = await boundToken();
    const response = await callApi(loginUrl(), { headers: withProof(token, await dpopProof(key, 'GET', loginUrl(), token)) });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ _id: 'login', authenticationId: 'service-client' });
  });

  it('a DPoP-bound token sent as Bearer: invalid_token with the DPoP challenge', async () => {
    const { token } = await boundToken();
    await expectDpopError(
      bearer(token),
      'invalid_token',
      'access token is DPoP-bound: send it as Authorization: DPoP with a DPoP proof (RFC 9449 section 7.2)',
    );
  });

  it('proof missing', async () => {
    const { token } = await boundToken();
    await expectDpopError(
      { authorization: `DPoP ${token}` },
      'invalid_dpop_proof',
      'DPoP proof missing: a DPoP-scheme request needs a DPoP header',
    );
  });

  it('wrong htu', async () => {
    const { token, key } = await boundToken();
    const proof = await dpopProof(key, 'GET', new URL('managed/user', testbed().urls.directoryApi).href, token);
    await expectDpopError(withProof(token, proof), 'invalid_dpop_proof', `DPoP proof htu does not match the request URL ${loginUrl()}`);
  });

  it('htu with a query and a fragment still matches (they are ignored)', async () => {
    const { token, key } = await boundToken();
    const proof = await dpopProof(key, 'GET', `${loginUrl()}?a=b#c`, token);
    expect((await callApi(`${loginUrl()}?x=y`, { headers: withProof(token, proof) })).status).toBe(200);
  });

  it('wrong htm', async () => {
    const { token, key } = await boundToken();
    await expectDpopError(
      withProof(token, await dpopProof(key, 'POST', loginUrl(), token)),
      'invalid_dpop_proof',
      'DPoP proof htm POST does not match the request method GET',
    );
  });

  it('replayed jti', async () => {
    const { token, key } = await boundToken();
    const proof = await dpopProof(key, 'GET', loginUrl(), token);
    expect((await callApi(loginUrl(), { headers: withProof(token, proof) })).status).toBe(200);
    await expectDpopError(withProof(token, proof), 'invalid_dpop_proof', 'DPoP proof jti was already used (replay)');
  });

  it('wrong key: a valid proof by a key the token is not bound to', async () => {
    const { token } = await boundToken();
    const other = await dpopKey();
    await expectDpopError(
      withProof(token, await dpopProof(other, 'GET', loginUrl(), token)),
      'invalid_dpop_proof',
      'DPoP proof key does not match the key the access token is bound to (cnf.jkt)',
    );
  });

  it('signature by another key than the embedded jwk', async () => {
    const { token, key } = await boundToken();
    const other = await dpopKey();
    await expectDpopError(
      withProof(token, await dpopProof(key, 'GET', loginUrl(), token, { signWith: other.privateKey })),
      'invalid_dpop_proof',
      'DPoP proof signature does not verify with its jwk',
    );
  });

  it('ath of another token', async () => {
    const { token, key } = await boundToken();
    await expectDpopError(
      withProof(token, await dpopProof(key, 'GET', loginUrl(), 'another-token')),
      'invalid_dpop_proof',
      'DPoP proof ath does not match the access token',
    );
  });

  it('iat outside the window', async () => {
    const { token, key } = await boundToken();
    const proof = await dpopProof(key, 'GET', loginUrl(), token, { claims: { iat: Math.floor(Date.now() / 1000) - 600 } });
    await expectDpopError(withProof(token, proof), 'invalid_dpop_proof', 'DPoP proof iat is more than 300 seconds from now');
  });

  it('typ other than dpop+jwt', async () => {
    const { token, key } = await boundToken();
    await expectDpopError(
      withProof(token, await dpopProof(key, 'GET', loginUrl(), token, { header: { typ: 'JWT' } })),
      'invalid_dpop_proof',
      'DPoP proof typ is not dpop+jwt',
    );
  });

  it('an alg outside algs', async () => {
    const { token } = await boundToken();
    const rsa = await dpopKey('RS256');
    const proof = await dpopProof(rsa, 'GET', loginUrl(), token, { header: { alg: 'RS256' } });
    await expectDpopError(
      withProof(token, proof),
      'invalid_dpop_proof',
      'DPoP proof alg RS256 is not accepted (accepted: ES256 Ed25519 EdDSA)',
    );
  });

  it('two DPoP headers', async () => {
    const { token, key } = await boundToken();
    const headers = new Headers({ authorization: `DPoP ${token}` });
    headers.append('dpop', await dpopProof(key, 'GET', loginUrl(), token));
    headers.append('dpop', await dpopProof(key, 'GET', loginUrl(), token));
    // fetch joins repeated fields into one; the API sees one header field holding two values.
    const response = await callApi(loginUrl(), { headers });
    expect(response.status).toBe(401);
    expect(response.challenge).toBe(dpopError('invalid_dpop_proof', 'more than one DPoP proof in the request'));
  });

  it('a revoked DPoP-bound token: invalid_token, in the DPoP scheme the client used', async () => {
    const key = await dpopKey();
    const config = await discover(testbed(), 'service-client', undefined, {}, client.ClientSecretBasic('service-client-secret'));
    const token = await serviceToken(testbed(), DIRECTORY_API, 'fr:idm:*', await dpopHandle(config, key));
    await client.tokenRevocation(config, token);
    await expectDpopError(
      withProof(token, await dpopProof(key, 'GET', loginUrl(), token)),
      'invalid_token',
      'access token has been revoked (or was never issued by this issuer)',
    );
  });

  it('a plain bearer token with the DPoP scheme: invalid_token', async () => {
    const token = await serviceToken(testbed(), DIRECTORY_API, 'fr:idm:*');
    const key = await dpopKey();
    await expectDpopError(
      withProof(token, await dpopProof(key, 'GET', loginUrl(), token)),
      'invalid_token',
      'access token is not DPoP-bound: send it as Authorization: Bearer',
    );
  });

  it('a DPoP proof next to a Bearer token: 400 invalid_request', async () => {
    const token = await serviceToken(testbed(), DIRECTORY_API, 'fr:idm:*');
    const key = await dpopKey();
    const response = await callApi(loginUrl(), { headers: { ...bearer(token), dpop: await dpopProof(key, 'GET', loginUrl(), token) } });
    expect(response.status).toBe(400);
    expect(response.challenge).toBe(
      'Bearer realm="directory-api", error="invalid_request", error_description="a DPoP proof was sent with the Bearer scheme: send a DPoP-bound token as Authorization: DPoP <token>"',
    );
  });

  it('openid-client fetchProtectedResource with its DPoP handle', async () => {
    const config = await discover(testbed(), 'service-client', undefined, {}, client.ClientSecretBasic('service-client-secret'));
    const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair());
    const tokens = await client.clientCredentialsGrant(config, { resource: DIRECTORY_API, scope: 'fr:idm:*' }, { DPoP });
    expect(tokens.token_type).toBe('dpop');
    const response = await client.fetchProtectedResource(config, tokens.access_token, new URL(loginUrl()), 'GET', undefined, undefined, {
      DPoP,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ authenticationId: 'service-client' });
  });
});

describe('mock APIs: server-issued DPoP nonces (apis.useDpopNonce)', () => {
  const testbed = useTestbed({ apis: { useDpopNonce: true } });
  const loginUrl = () => new URL('info/login', testbed().urls.directoryApi).href;

  it('a proof without a nonce: 401 use_dpop_nonce and a DPoP-Nonce; with it: 200', async () => {
    const key = await dpopKey();
    const config = await discover(testbed(), 'service-client', undefined, {}, client.ClientSecretBasic('service-client-secret'));
    const token = await serviceToken(testbed(), DIRECTORY_API, 'fr:idm:*', await dpopHandle(config, key));
    const first = await callApi(loginUrl(), {
      headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', loginUrl(), token) },
    });
    expect(first.status).toBe(401);
    expect(first.challenge).toBe(
      `DPoP realm="directory-api", error="use_dpop_nonce", error_description="this API requires a server-provided nonce in the DPoP proof: retry with the DPoP-Nonce value", ${ALGS}`,
    );
    const nonce = first.headers.get('dpop-nonce');
    expect(nonce).toEqual(expect.any(String));
    const wrong = await callApi(loginUrl(), {
      headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', loginUrl(), token, { claims: { nonce: 'made-up' } }) },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('use_dpop_nonce');
    const second = await callApi(loginUrl(), {
      headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', loginUrl(), token, { claims: { nonce: nonce! } }) },
    });
    expect(second.status).toBe(200);
  });

  it('openid-client retries with the nonce by itself', async () => {
    const config = await discover(testbed(), 'service-client', undefined, {}, client.ClientSecretBasic('service-client-secret'));
    const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair());
    const tokens = await client.clientCredentialsGrant(config, { resource: DIRECTORY_API, scope: 'fr:idm:*' }, { DPoP });
    const response = await client.fetchProtectedResource(config, tokens.access_token, new URL(loginUrl()), 'GET', undefined, undefined, {
      DPoP,
    });
    expect(response.status).toBe(200);
  });
});

describe('mock APIs: DPoP htu behind a proxy', () => {
  const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.example.com' };
  const publicUrl = 'https://api.example.com/openidm/info/login';

  const call = async (testbed: () => Testbed) => {
    const key = await dpopKey();
    const config = await discover(testbed(), 'service-client', undefined, {}, client.ClientSecretBasic('service-client-secret'));
    const token = await serviceToken(testbed(), DIRECTORY_API, 'fr:idm:*', await dpopHandle(config, key));
    const proof = await dpopProof(key, 'GET', publicUrl, token);
    return callApi(new URL('info/login', testbed().urls.directoryApi), {
      headers: { authorization: `DPoP ${token}`, dpop: proof, ...forwarded },
    });
  };

  describe('by default X-Forwarded-* is ignored', () => {
    const testbed = useTestbed();
    it('a proof for the forwarded URL does not match', async () => {
      const response = await call(testbed);
      expect(response.status).toBe(401);
      expect(response.body.error_description).toBe(
        `DPoP proof htu does not match the request URL ${new URL('info/login', testbed().urls.directoryApi).href}`,
      );
    });
  });

  describe('with apis.trustProxy', () => {
    const testbed = useTestbed({ apis: { trustProxy: true } });
    it('the forwarded URL is the one the proof must name', async () => {
      expect((await call(testbed)).status).toBe(200);
    });
  });
});
