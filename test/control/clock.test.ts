/**
 * `<issuer>/_testbed/clock`: an issuer whose clock is off real time, as RPs meet it — seen through
 * openid-client 6 (ID token timestamps, DPoP proofs, client assertions) — while the other issuers of
 * the process keep real time.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { IssuerClockError } from '../../src/control/clock.ts';
import type { Issuer } from '../../src/index.ts';
import { UserAgent } from '../support/agent.ts';
import { demoSigningKey } from '../support/demo-rp.ts';
import { controlCall } from '../support/http.ts';
import { authorize, client, codeRequest, discover, signIn } from '../support/openid.ts';
import { DIRECTORY_API, dpopHandle, dpopKey, dpopProof, WEB_APP_REDIRECT } from '../support/resource-servers.ts';
import { useTestbed } from '../support/testbed.ts';

const HOUR = 3600;
const nowS = () => Math.floor(Date.now() / 1000);
/** `actual` is within `slack` seconds of `expected`. */
const near = (actual: number, expected: number, slack = 5) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(slack);

interface ClockJson {
  offset_s: number;
  now: { iso: string; epoch: number };
}

describe('the clock of an issuer', () => {
  const testbed = useTestbed({ apis: false });
  const clockUrl = (issuer: Issuer = testbed().main) => `${issuer.issuer}/_testbed/clock`;
  const put = (body: unknown, issuer?: Issuer, type?: string) => controlCall<ClockJson>('PUT', clockUrl(issuer), body, { type });
  const setClock = async (offset: number, issuer?: Issuer) => {
    const answer = await put({ offset_s: offset }, issuer);
    expect(answer.status).toBe(200);
    return answer.body;
  };
  const webApp = (metadata: Partial<client.ClientMetadata> = {}) =>
    discover(testbed(), 'web-app', undefined, metadata, client.ClientSecretPost('web-app-secret'));
  const login = (config: client.Configuration, extra: Record<string, string> = {}) =>
    signIn(config, { redirect_uri: WEB_APP_REDIRECT, scope: 'openid', ...extra });

  afterEach(async () => {
    await Promise.all(Object.values(testbed().issuers).map((issuer) => issuer.clock.reset()));
  });

  it('PUT sets the offset and answers the issuer time, GET shows it, 0 restores real time', async () => {
    const set = await put('{"offset_s": 300}');
    expect(set.status).toBe(200);
    expect(set.headers.get('cache-control')).toBe('no-store');
    const body = set.body;
    expect(body.offset_s).toBe(300);
    near(body.now.epoch, nowS() + 300);
    expect(Math.floor(Date.parse(body.now.iso) / 1000)).toBe(body.now.epoch);

    const shown = await fetch(clockUrl());
    expect(shown.headers.get('cache-control')).toBe('no-store');
    const reading = (await shown.json()) as ClockJson;
    expect(reading.offset_s).toBe(300);
    near(reading.now.epoch, nowS() + 300);

    expect((await setClock(0)).offset_s).toBe(0);
    const restored = (await (await fetch(clockUrl())).json()) as ClockJson;
    expect(restored.offset_s).toBe(0);
    near(restored.now.epoch, nowS());
  });

  it('the library: clock.set / get / reset, the same offset the HTTP API shows', async () => {
    const { clock } = testbed().main;
    const set = await clock.set(-120);
    expect(set.offsetS).toBe(-120);
    expect(set.now).toBeInstanceOf(Date);
    near(Math.floor(set.now.getTime() / 1000), nowS() - 120);
    expect((await clock.get()).offsetS).toBe(-120);
    expect(((await (await fetch(clockUrl())).json()) as ClockJson).offset_s).toBe(-120);
    await clock.reset();
    expect((await clock.get()).offsetS).toBe(0);
    expect(((await (await fetch(clockUrl())).json()) as ClockJson).offset_s).toBe(0);
    for (const bad of [1.5, Number.NaN, 400 * 24 * HOUR]) await expect(clock.set(bad)).rejects.toThrow(IssuerClockError);
    await expect(clock.set(1.5)).rejects.toThrow('offset_s must be a whole number of seconds');
  });

  it('answers 400 invalid_request naming the field for bad input, and changes nothing', async () => {
    await setClock(60);
    const cases: Array<[body: string, named: string, type?: string]> = [
      ['{"offset_s": ', 'offset_s'], // malformed JSON
      ['not json', 'offset_s'],
      ['[300]', 'offset_s'],
      ['{}', 'offset_s is required'],
      ['{"offset_s": "300"}', 'offset_s must be a whole number'],
      ['{"offset_s": 1.5}', 'offset_s must be a whole number'],
      ['{"offset_s": null}', 'offset_s must be a whole number'],
      ['{"offset_s": 31622401}', 'offset_s must be between -31622400 and 31622400'],
      ['{"offset_s": -1e12}', 'offset_s must be between'],
      ['{"offset_s": 5, "offset_ms": 5000}', 'unknown field offset_ms'],
      ['offset_s=300', 'offset_s', 'application/x-www-form-urlencoded'],
    ];
    for (const [body, named, type] of cases) {
      const answer = await put(body, undefined, type);
      expect({ body, status: answer.status }).toEqual({ body, status: 400 });
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(answer.body).toEqual({ error: 'invalid_request', error_description: expect.stringContaining(named) });
    }
    expect(((await (await fetch(clockUrl())).json()) as ClockJson).offset_s).toBe(60);
  });

  it('-1 h: a fresh ID token from a code flow looks expired to openid-client 6 without clock tolerance; with tolerance, or clockSkew, it passes', async () => {
    await setClock(-HOUR);
    // The login itself works: the interaction and session cookies' Expires are on the browser's (real) clock.
    const noTolerance = await webApp({ [client.clockTolerance]: 0 });
    const expired = await login(noTolerance).catch((error: unknown) => error);
    expect(expired).toBeInstanceOf(Error);
    // openid-client's error, and oauth4webapi's under it.
    expect(expired).toMatchObject({
      message: 'JWT timestamp claim value failed validation',
      code: 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED',
      cause: {
        message: 'unexpected JWT "exp" (expiration time) claim value, expiration is past current timestamp',
        code: 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED',
        cause: { claim: 'exp', tolerance: 0 },
      },
    });
    const claims = (expired as { cause: { cause: { claims: { iat: number; exp: number } } } }).cause.cause.claims;
    near(claims.iat, nowS() - HOUR);
    expect(claims.exp - claims.iat).toBe(HOUR); // the fixture's id_token TTL: exp is now, on the real clock

    // With a clock tolerance the same token passes (exp is "now" on the real clock: a few seconds of tolerance do).
    const tolerant = await webApp({ [client.clockTolerance]: 120 });
    const { tokens: tolerated } = await login(tolerant);
    near(tolerated.claims()!.iat, nowS() - HOUR);

    // Or told the IdP's clock is an hour behind, and no tolerance.
    const skewed = await webApp({ [client.clockSkew]: -HOUR, [client.clockTolerance]: 0 });
    const { tokens } = await login(skewed);
    near(tokens.claims()!.iat, nowS() - HOUR);
  });

  it('+1 h: openid-client 6 accepts a fresh ID token from the future (it checks no iat in the future; the engine sets no nbf)', async () => {
    await setClock(HOUR);
    const { tokens } = await login(await webApp({ [client.clockTolerance]: 0 }), { max_age: '600' }); // max_age: auth_time is in it
    const claims = tokens.claims()!;
    near(claims.iat, nowS() + HOUR);
    near(claims.auth_time!, nowS() + HOUR);
    expect(claims.exp - claims.iat).toBe(HOUR);
    expect(claims.nbf).toBeUndefined();
    expect(tokens.expires_in).toBeGreaterThan(0); // a lifetime: the same on either clock
  });

  it('lifetimes run on the issuer clock: a code is expired once the clock passes its 60 s, no waiting', async () => {
    const config = await webApp();
    const auth = await authorize(config, { redirect_uri: WEB_APP_REDIRECT, scope: 'openid' });
    await setClock(120);
    await expect(
      client.authorizationCodeGrant(config, auth.callbackUrl, {
        pkceCodeVerifier: auth.codeVerifier,
        expectedState: auth.state,
        expectedNonce: auth.nonce,
      }),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('a DPoP proof made on the real clock is refused by an issuer 1 h ahead (use_dpop_nonce, which openid-client recovers from); one made on its clock passes at once', async () => {
    await setClock(HOUR);
    const key = await dpopKey();
    /** service-client with DPoP, recording each token endpoint answer (status and error). */
    const dpopClient = async (metadata: Partial<client.ClientMetadata>) => {
      const answers: string[] = [];
      const config = await discover(testbed(), 'service-client', undefined, metadata, client.ClientSecretBasic('service-client-secret'));
      config[client.customFetch] = async (url, options) => {
        const answer = await fetch(url, options as RequestInit);
        if (new URL(url).pathname.endsWith('/token')) {
          const { error, error_description } = (await answer.clone().json()) as { error?: string; error_description?: string };
          answers.push(error ? `${answer.status} ${error}: ${error_description}` : String(answer.status));
        }
        return answer;
      };
      const tokens = await client.clientCredentialsGrant(
        config,
        { resource: DIRECTORY_API, scope: 'fr:idm:*' },
        { DPoP: await dpopHandle(config, key) },
      );
      return { answers, tokens };
    };

    // The engine supports DPoP nonces: a proof out of its iat window is answered use_dpop_nonce (RFC 9449 §8),
    // and a proof with the nonce is judged by the nonce, not by its iat.
    const onRealClock = await dpopClient({});
    expect(onRealClock.answers).toEqual(['400 use_dpop_nonce: DPoP proof iat is not recent enough, use a DPoP nonce instead', '200']);
    const onIssuerClock = await dpopClient({ [client.clockSkew]: HOUR });
    expect(onIssuerClock.answers).toEqual(['200']);
    expect(onIssuerClock.tokens.token_type).toBe('dpop');
    near(decodeJwt(onIssuerClock.tokens.access_token).iat!, nowS() + HOUR);

    // A proof on the real clock without a nonce, by hand: refused.
    const token = await fetch(testbed().urls.token, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('service-client:service-client-secret').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        dpop: await dpopProof(key, 'POST', testbed().urls.token, 'unused', { claims: { ath: undefined } }),
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: DIRECTORY_API, scope: 'fr:idm:*' }),
    });
    expect(token.status).toBe(400);
    expect(token.headers.get('dpop-nonce')).toEqual(expect.any(String));
    expect(await token.json()).toEqual({
      error: 'use_dpop_nonce',
      error_description: 'DPoP proof iat is not recent enough, use a DPoP nonce instead',
    });
  });

  it('/fapi2 an hour ahead: the main issuer keeps real time; /fapi2 refuses a client assertion made on the real clock', async () => {
    const fapi2 = testbed().issuers['/fapi2'];
    await setClock(HOUR, fapi2);
    expect(((await (await fetch(clockUrl())).json()) as ClockJson).offset_s).toBe(0);
    expect((await testbed().main.clock.get()).offsetS).toBe(0);
    const { tokens } = await login(await webApp({ [client.clockTolerance]: 0 }));
    near(tokens.claims()!.iat, nowS());

    const { key, kid } = await demoSigningKey();
    const fapiClient = (metadata: Partial<client.ClientMetadata>) =>
      client.discovery(
        new URL(fapi2.issuer),
        'fapi2-client',
        { id_token_signed_response_alg: 'ES256', ...metadata },
        client.PrivateKeyJwt({ key, kid }),
        { execute: [client.allowInsecureRequests] },
      );
    const { parameters, codeVerifier } = await codeRequest('http://localhost:3000/callback');
    const onRealClock = await fapiClient({});
    const dpop = await dpopKey();
    await expect(
      client.buildAuthorizationUrlWithPAR(onRealClock, parameters, { DPoP: await dpopHandle(onRealClock, dpop) }),
    ).rejects.toMatchObject({ status: 401, error: 'invalid_client' }); // the assertion's exp is an hour past on /fapi2's clock

    // The same client on /fapi2's clock: a whole FAPI 2.0 code flow, its ID token an hour ahead.
    const onFapiClock = await fapiClient({ [client.clockSkew]: HOUR, [client.clockTolerance]: 0 });
    const DPoP = await dpopHandle(onFapiClock, dpop);
    const url = await client.buildAuthorizationUrlWithPAR(onFapiClock, parameters, { DPoP });
    const { url: callbackUrl } = await new UserAgent().follow(url, 'http://localhost:3000/callback');
    const fapiTokens = await client.authorizationCodeGrant(
      onFapiClock,
      callbackUrl,
      { pkceCodeVerifier: codeVerifier, expectedState: parameters.state, expectedNonce: parameters.nonce },
      undefined,
      { DPoP },
    );
    near(fapiTokens.claims()!.iat, nowS() + HOUR);
  });

  it('cookies expire on the real clock and the request record keeps real time, on an issuer an hour behind', async () => {
    await setClock(-HOUR);
    const config = await webApp();
    const { parameters } = await codeRequest(WEB_APP_REDIRECT, { prompt: 'login' });
    delete parameters.login_hint; // stop at the login page: its interaction cookie is set
    const cursor = testbed().main.requests.cursor;
    const answer = await fetch(client.buildAuthorizationUrl(config, parameters), { redirect: 'manual' });
    expect(answer.status).toBe(303);
    const interaction = answer.headers.getSetCookie().find((cookie) => cookie.startsWith('_interaction='));
    expect(interaction).toBeDefined();
    const expires = Date.parse(/expires=([^;]+)/i.exec(interaction!)![1]) / 1000;
    near(expires, nowS() + testbed().fixture.issuer.ttl.interaction); // not "now": the user agent would drop it
    const recorded = testbed().main.requests.list({ since: cursor, route: 'authorization' });
    expect(recorded).toHaveLength(1);
    near(recorded[0].at / 1000, nowS());
  });
});
