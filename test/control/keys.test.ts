/**
 * `<issuer>/_testbed/keys` and `keys/rotate`: a new signing key becomes the one the issuer signs
 * with, the earlier ones stay published (tokens already issued still verify) unless retired, and
 * the mock APIs follow at once. Also guards src/provider/engine/keystore.ts: the kid of a real ID
 * token and access token says which key oidc-provider signed with.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { basicAuthorization, controlCall, postForm } from '../support/http.ts';
import { client, discover, discoverAt, signIn } from '../support/openid.ts';
import { bearer, callApi, PROFILE_API, userTokens, WEB_APP_REDIRECT } from '../support/resource-servers.ts';
import { useTestbed } from '../support/testbed.ts';

interface KeyEntry {
  kid: string;
  alg: string;
  use: string;
  current: boolean;
}
interface KeyList {
  keys: KeyEntry[];
  current: Record<string, string>;
}
interface Rotated extends KeyList {
  kid: string;
  alg: string;
  retired: string[];
}

describe('signing-key rotation of an issuer', () => {
  const testbed = useTestbed();
  const keysUrl = () => `${testbed().issuer}/_testbed/keys`;
  const rotate = async (body?: unknown, headers?: Record<string, string>) => {
    const answer = await controlCall<Rotated & { error?: string; error_description?: string }>('POST', `${keysUrl()}/rotate`, body, {
      headers,
    });
    expect(answer.headers.get('cache-control')).toBe('no-store');
    return answer;
  };
  const listed = async () => {
    const response = await fetch(keysUrl());
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    return (await response.json()) as KeyList;
  };
  const published = async (issuer = testbed().issuer) => (await (await fetch(`${issuer}/jwks`)).json()) as JSONWebKeySet;
  /** The signing keys' kids (the request-object decryption keys are published too, and are no rotation's business). */
  const kids = (jwks: JSONWebKeySet) => jwks.keys.filter((jwk) => jwk.use === 'sig').map((jwk) => jwk.kid);
  const encryptionKids = (jwks: JSONWebKeySet) => jwks.keys.filter((jwk) => jwk.use === 'enc').map((jwk) => jwk.kid);

  afterEach(async () => {
    await testbed().main.keys.reset();
  });

  it('lists the keys the issuer started with, one current per alg, as the JWKS publishes them', async () => {
    const { keys, current } = await listed();
    expect(keys.map(({ alg }) => alg)).toEqual(['RS256', 'ES256', 'Ed25519']);
    expect(keys.every((key) => key.current && key.use === 'sig')).toBe(true);
    expect(current).toEqual(Object.fromEntries(keys.map((key) => [key.alg, key.kid])));
    expect(kids(await published())).toEqual(keys.map((key) => key.kid));
  });

  it('rotate (RS256 by default): a fresh ID token from a real code flow has the new kid; the old key stays published; openid-client re-fetches the JWKS', async () => {
    const before = await listed();
    const startJwks = await published();
    const oldKid = before.current.RS256;
    // A client checking signatures (openid-client's non-repudiation checks) signs in once: it caches the JWKS.
    const first = await discover(testbed(), 'web-app', 'web-app-secret');
    client.enableNonRepudiationChecks(first);
    const { tokens: oldTokens } = await signIn(first, { redirect_uri: WEB_APP_REDIRECT, scope: 'openid profile' });
    expect(decodeProtectedHeader(oldTokens.id_token!).kid).toBe(oldKid);
    const cached = client.getJwksCache(first)!;
    expect(cached.jwks.keys.map((jwk) => jwk.kid)).toContain(oldKid);

    const rotated = await rotate(); // no body: the defaults
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ alg: 'RS256', retired: [], current: { ...before.current, RS256: rotated.body.kid } });
    expect(rotated.body.kid).not.toBe(oldKid);
    expect(rotated.body.keys.map((key) => [key.kid, key.current])).toEqual([
      [rotated.body.kid, true],
      ...before.keys.map((key) => [key.kid, key.alg !== 'RS256']),
    ]);
    expect(await listed()).toEqual({ keys: rotated.body.keys, current: rotated.body.current });
    const jwks = await published();
    expect(kids(jwks)).toEqual([rotated.body.kid, ...before.keys.map((key) => key.kid)]);
    expect(jwks.keys.some((jwk) => 'd' in jwk || 'p' in jwk)).toBe(false);
    expect(encryptionKids(jwks)).toEqual(encryptionKids(startJwks));
    expect(encryptionKids(jwks)).toHaveLength(2);
    // The token issued before still verifies against what the issuer publishes now.
    await expect(jwtVerify(oldTokens.id_token!, createLocalJWKSet(jwks), { issuer: testbed().issuer })).resolves.toBeDefined();

    // A client whose cached JWKS is young does not re-fetch it (oauth4webapi waits 60 s) and fails on the unknown kid…
    const young = await discover(testbed(), 'web-app', 'web-app-secret');
    client.setJwksCache(young, cached);
    client.enableNonRepudiationChecks(young);
    await expect(signIn(young, { redirect_uri: WEB_APP_REDIRECT, scope: 'openid profile' })).rejects.toThrow(/no applicable keys found/);
    // …one whose cache is past that re-fetches it on the unknown kid, and the new ID token verifies.
    const aged = await discover(testbed(), 'web-app', 'web-app-secret');
    client.setJwksCache(aged, { ...cached, uat: cached.uat - 61 });
    client.enableNonRepudiationChecks(aged);
    const { tokens } = await signIn(aged, { redirect_uri: WEB_APP_REDIRECT, scope: 'openid profile' });
    expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg: 'RS256', kid: rotated.body.kid });
    expect(client.getJwksCache(aged)!.jwks.keys.map((jwk) => jwk.kid)).toEqual(expect.arrayContaining([rotated.body.kid, oldKid]));
  });

  it('the mock APIs accept a token of the new key at once, and with retire_previous refuse one of a retired key (401 invalid_token)', async () => {
    const profile = (token: string) => callApi(new URL('userinfo', testbed().urls.profileApi), { headers: bearer(token) });
    const accessToken = async () => (await userTokens(testbed(), PROFILE_API, 'profile')).tokens.access_token;
    const startKid = (await listed()).current.ES256;

    const old = await accessToken();
    expect(decodeProtectedHeader(old)).toMatchObject({ alg: 'ES256', kid: startKid });
    expect((await profile(old)).status).toBe(200); // the API has fetched the JWKS and cached the token

    const kept = await rotate({ alg: 'ES256', retire_previous: false });
    expect(kept.status).toBe(200);
    const second = await accessToken();
    expect(decodeProtectedHeader(second).kid).toBe(kept.body.kid);
    // Well within jose's 30 s cooldown: the API was told the keys changed.
    expect((await profile(second)).status).toBe(200);
    expect((await profile(old)).status).toBe(200);

    const retiring = await rotate({ alg: 'ES256', retire_previous: true });
    expect(retiring.status).toBe(200);
    expect(retiring.body.retired).toEqual([kept.body.kid, startKid]);
    expect(retiring.body.keys.filter((key) => key.alg === 'ES256').map((key) => key.kid)).toEqual([retiring.body.kid]);
    expect(kids(await published())).not.toEqual(expect.arrayContaining([startKid]));
    expect(kids(await published())).not.toContain(kept.body.kid);

    for (const retired of [old, second]) {
      const refused = await profile(retired);
      expect(refused.status).toBe(401);
      expect(refused.body.error).toBe('invalid_token');
      expect(refused.challenge).toMatch(/error="invalid_token"/);
    }
    const fresh = await accessToken();
    expect(decodeProtectedHeader(fresh).kid).toBe(retiring.body.kid);
    expect((await profile(fresh)).status).toBe(200);

    // The issuer's own introspection follows the keys too: a retired key's JWT is not active.
    const introspect = async (token: string) =>
      (
        await postForm<{ active: boolean }>(
          testbed().urls.introspection,
          { token },
          { headers: { authorization: basicAuthorization('profile-api', 'profile-api-secret') } },
        )
      ).body.active;
    expect(await introspect(old)).toBe(false);
    expect(await introspect(fresh)).toBe(true);
  });

  it("a scenario run rotates keys of its own: the mock APIs refuse its retired key's token and accept its new key's", async () => {
    const handle = await testbed().scenario('happy-path', { run: randomUUID() });
    const config = await discoverAt(handle.issuer, 'web-app', 'web-app-secret');
    const parameters = { redirect_uri: WEB_APP_REDIRECT, scope: 'openid profile', resource: PROFILE_API, login_hint: 'alice' };
    const profile = async (token: string) =>
      (await client.fetchProtectedResource(config, token, new URL('userinfo', testbed().urls.profileApi), 'GET')).status;
    const old = (await signIn(config, parameters)).tokens.access_token;
    expect(await profile(old)).toBe(200);

    const answer = await controlCall<Rotated>('POST', `${handle.issuer}/_testbed/keys/rotate`, { alg: 'ES256', retire_previous: true });
    expect(answer.status).toBe(200);
    const rotated = answer.body;
    expect(rotated.retired).toEqual([decodeProtectedHeader(old).kid]);
    expect((await listed()).current.ES256).not.toBe(rotated.kid); // the main issuer keeps its keys

    const refused = await callApi(new URL('userinfo', testbed().urls.profileApi), { headers: bearer(old) });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_token');
    const fresh = (await signIn(config, parameters)).tokens.access_token;
    expect(decodeProtectedHeader(fresh).kid).toBe(rotated.kid);
    expect(await profile(fresh)).toBe(200);
  });

  it('the library: keys.rotate / list / reset; rotation is per issuer; reset brings back the start-up keys', async () => {
    const main = testbed().main;
    const fapi2 = testbed().issuers['/fapi2'];
    const start = await main.keys.list();
    const fapi2Start = await fapi2.keys.list();
    const startJwks = await published();

    const rotated = await main.keys.rotate({ alg: 'EdDSA' });
    expect(rotated).toMatchObject({ alg: 'EdDSA', retired: [], current: { ...start.current, EdDSA: rotated.kid } });
    expect((await listed()).current.EdDSA).toBe(rotated.kid);
    const ps256 = await main.keys.rotate({ alg: 'PS256', retirePrevious: true });
    expect(ps256.retired).toEqual([]);
    expect(kids(await published())).toEqual([ps256.kid, rotated.kid, ...start.keys.map((key) => key.kid)]);
    // Another issuer started with the same keys: it keeps them.
    expect(await fapi2.keys.list()).toEqual(fapi2Start);
    expect(await published(fapi2.issuer)).toEqual(startJwks);

    await main.keys.reset();
    expect(await main.keys.list()).toEqual(start);
    expect(await published()).toEqual(startJwks);
    expect(main.keys.revision).toBe('start');

    await expect(main.keys.rotate({ alg: 'HS256' as never })).rejects.toThrow(/alg must be one of RS256, PS256, ES256, EdDSA, Ed25519/);
  });

  it('answers 400 invalid_request naming the field for bad input, and changes nothing', async () => {
    const start = await listed();
    const cases: Array<[unknown, RegExp, Record<string, string>?]> = [
      [{ alg: 'HS256' }, /alg: must be one of "RS256", "PS256", "ES256", "EdDSA", "Ed25519"/],
      [{ alg: 256 }, /alg: must be one of/],
      [{ retire_previous: 'yes' }, /retire_previous: must be a boolean/],
      [{ alg: 'ES256', retire: true }, /unknown field "retire"/],
      ['{"alg": "ES256"', /not valid JSON/],
      [['ES256'], /^the body must be a JSON object: send \{ "alg"/],
      ['alg=ES256', /must be a JSON object \(Content-Type: application\/json\)/, { 'content-type': 'application/x-www-form-urlencoded' }],
    ];
    for (const [body, description, headers] of cases) {
      const answer = await rotate(body, headers);
      expect({ status: answer.status, error: answer.body.error }).toEqual({ status: 400, error: 'invalid_request' });
      expect(answer.body.error_description).toMatch(description);
    }
    expect(await listed()).toEqual(start);
  });
});
