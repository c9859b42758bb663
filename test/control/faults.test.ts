/**
 * `<issuer>/_testbed/faults` and `issuer.faults`: rules that make an endpoint fail on cue (answer
 * an error, drop the connection, answer late, answer garbage), seen by real clients.
 */
import { describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import type { FaultRuleInput, Testbed } from '../../src/index.ts';
import { FaultRuleError } from '../../src/index.ts';
import { controlCall } from '../support/http.ts';
import { discover, signIn } from '../support/openid.ts';
import { bearer, callApi, PROFILE_API, userTokens, WEB_APP_REDIRECT, webApp } from '../support/resource-servers.ts';
import { readFixture, useTestbed } from '../support/testbed.ts';

interface Listed {
  id: string;
  endpoint: string;
  hits: number;
  after: number;
  times?: number;
  [member: string]: unknown;
}

const faultsUrl = (issuer: string) => `${issuer}/_testbed/faults`;

async function addFault(
  issuer: string,
  rule: unknown,
): Promise<{ status: number; body: Listed & { error?: string; error_description?: string } }> {
  const answer = await controlCall<Listed & { error?: string; error_description?: string }>('POST', faultsUrl(issuer), rule);
  expect(answer.headers.get('cache-control')).toBe('no-store');
  return answer;
}

async function listFaults(issuer: string): Promise<Listed[]> {
  const answer = await fetch(faultsUrl(issuer));
  expect(answer.status).toBe(200);
  return ((await answer.json()) as { faults: Listed[] }).faults;
}

const serviceClient = (testbed: Testbed) =>
  discover(testbed, 'service-client', undefined, {}, client.ClientSecretBasic('service-client-secret'));

describe('fault rules of an issuer', () => {
  const testbed = useTestbed();
  const issuer = () => testbed().issuer;

  it('answers exactly the 3rd refresh with invalid_grant; the 4th works with the same refresh token', async () => {
    await fetch(faultsUrl(issuer()), { method: 'DELETE' });
    const { config, tokens } = await userTokens(testbed(), PROFILE_API, 'profile offline_access');
    const added = await addFault(issuer(), {
      endpoint: 'token',
      match: { grant_type: 'refresh_token', client_id: 'web-app' },
      after: 2,
      times: 1,
      respond: { status: 400, body: { error: 'invalid_grant', error_description: 'injected by the test' } },
    });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({
      id: expect.stringMatching(/^[\w.~-]+$/),
      endpoint: 'token',
      match: { grant_type: 'refresh_token', client_id: 'web-app' },
      after: 2,
      times: 1,
      respond: { status: 400, body: { error: 'invalid_grant', error_description: 'injected by the test' } },
      hits: 0,
    });

    // The code exchange above was not a refresh: the rule did not count it.
    let refreshToken = tokens.refresh_token!;
    for (const _ of [1, 2]) {
      const refreshed = await client.refreshTokenGrant(config, refreshToken, { resource: PROFILE_API });
      expect(refreshed.refresh_token).toEqual(expect.any(String));
      refreshToken = refreshed.refresh_token!;
    }
    const third = await client.refreshTokenGrant(config, refreshToken, { resource: PROFILE_API }).catch((error: unknown) => error);
    expect(third).toBeInstanceOf(client.ResponseBodyError);
    expect(third).toMatchObject({ status: 400, error: 'invalid_grant', error_description: 'injected by the test' });
    // The engine never saw the third: the refresh token it carried is still good.
    const fourth = await client.refreshTokenGrant(config, refreshToken, { resource: PROFILE_API });
    expect(fourth.access_token).toEqual(expect.any(String));

    const [listed] = (await listFaults(issuer())).filter((fault) => fault.id === added.body.id);
    expect(listed).toMatchObject({ id: added.body.id, hits: 1 });
    const removed = await fetch(`${faultsUrl(issuer())}/${added.body.id}`, { method: 'DELETE' });
    expect(removed.status).toBe(204);
    expect((await listFaults(issuer())).map((fault) => fault.id)).not.toContain(added.body.id);
  });

  it('drop: the client gets a socket error, no answer; the next request is answered', async () => {
    const config = await serviceClient(testbed());
    const fault = await testbed().main.faults.add({ endpoint: 'token', match: { client_id: 'service-client' }, times: 1, drop: true });
    const failed = await client
      .clientCredentialsGrant(config, { resource: PROFILE_API, scope: 'profile' })
      .catch((error: unknown) => error);
    // openid-client wraps fetch's "fetch failed", whose cause is the socket closed before a byte of an answer.
    expect(failed).toBeInstanceOf(client.ClientError);
    const socketError = ((failed as Error).cause as Error | undefined)?.cause;
    expect((failed as Error).cause).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
    expect(socketError).toMatchObject({ code: 'UND_ERR_SOCKET', message: 'other side closed' });
    expect(await fault.hits()).toBe(1);
    // `times: 1` is spent: the next one reaches the engine.
    expect((await client.clientCredentialsGrant(config, { resource: PROFILE_API, scope: 'profile' })).access_token).toEqual(
      expect.any(String),
    );
    expect(await fault.hits()).toBe(1);
    // The record has the dropped request as nginx's 444, not as a server error.
    const record = (await (await fetch(`${issuer()}/_testbed/requests`)).json()) as { requests: Array<{ path: string; status: number }> };
    expect(record.requests.filter((request) => request.status === 444).map((request) => request.path)).toContain('/token');
    expect(await fault.remove()).toBe(true);
    expect(await fault.remove()).toBe(false);
    expect(await fault.hits()).toBe(0);
  });

  it('delay_ms: the real answer arrives, and not before the delay', async () => {
    const fault = await testbed().main.faults.add({ endpoint: 'discovery', delay_ms: 400, times: 1 });
    const started = performance.now();
    const config = await serviceClient(testbed());
    const elapsed = performance.now() - started;
    expect(config.serverMetadata().issuer).toBe(issuer());
    expect(elapsed).toBeGreaterThanOrEqual(399); // a timer may fire within its millisecond
    expect(await fault.hits()).toBe(1);
    await fault.remove();
  });

  it('respond: another status, body and headers (Retry-After), before the engine', async () => {
    const config = await serviceClient(testbed());
    const cursor = testbed().main.requests.cursor;
    const fault = await testbed().main.faults.add({
      endpoint: 'token',
      match: { grant_type: 'client_credentials' },
      times: 1,
      respond: { status: 429, body: { error: 'temporarily_unavailable' }, headers: { 'Retry-After': '3' } },
    });
    const failed = await client
      .clientCredentialsGrant(config, { resource: PROFILE_API, scope: 'profile' })
      .catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(client.ResponseBodyError);
    const { status, error, response } = failed as client.ResponseBodyError;
    expect({ status, error }).toEqual({ status: 429, error: 'temporarily_unavailable' });
    expect(response.headers.get('retry-after')).toBe('3');
    // The record files the faulted answer under the token endpoint, as the engine would have.
    expect(testbed().main.requests.list({ since: cursor, route: 'token' })).toEqual([
      expect.objectContaining({ method: 'POST', status: 429, error: 'temporarily_unavailable' }),
    ]);
    await fault.remove();
  });

  it('body: the real status and Content-Type with a body the client cannot parse', async () => {
    const config = await webApp(testbed());
    const { tokens } = await signIn(config, { redirect_uri: WEB_APP_REDIRECT, scope: 'openid profile' });
    const fault = await testbed().main.faults.add({ endpoint: 'userinfo', body: '<not json', times: 1 });
    const raw = await fetch(testbed().urls.userinfo, { headers: bearer(tokens.access_token) });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await raw.text()).toBe('<not json');
    expect(await fault.hits()).toBe(1);
    await fault.remove();

    // openid-client fails to parse it.
    const again = await testbed().main.faults.add({ endpoint: 'userinfo', body: '{"sub": ', times: 1 });
    const failed = await client.fetchUserInfo(config, tokens.access_token, 'alice').catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(client.ClientError);
    expect(failed).not.toBeInstanceOf(client.ResponseBodyError);
    expect((failed as Error).message).toMatch(/parsing error/);
    await again.remove();
  });

  it('a mock API call is faulted by the rules of the issuer whose token it carries', async () => {
    const token = (await userTokens(testbed(), PROFILE_API, 'profile')).tokens.access_token;
    const userinfo = new URL('userinfo', testbed().urls.profileApi);
    // A rule of another issuer (/fapi2) does not apply to this token.
    const elsewhere = await testbed().issuers['/fapi2'].faults.add({ endpoint: 'profile-api', respond: { status: 418 } });
    const fault = await testbed().main.faults.add({
      endpoint: 'profile-api',
      match: { client_id: 'web-app' },
      after: 1,
      times: 1,
      respond: { status: 429, body: { error: 'slow_down' }, headers: { 'Retry-After': '1' } },
    });
    const first = await callApi(userinfo, { headers: bearer(token) });
    const second = await callApi(userinfo, { headers: bearer(token) });
    const third = await callApi(userinfo, { headers: bearer(token) });
    expect([first.status, second.status, third.status]).toEqual([200, 429, 200]);
    expect(second.body).toEqual({ error: 'slow_down' });
    expect(second.headers.get('retry-after')).toBe('1');
    expect(await fault.hits()).toBe(1);
    expect(await elsewhere.hits()).toBe(0);
    await Promise.all([fault.remove(), elsewhere.remove()]);
  });

  it('bad input: 400 naming the field, 404 for an unknown id, 409 for an id in force', async () => {
    const cases: Array<[unknown, RegExp]> = [
      ['{"endpoint": "token", ', /not valid JSON/],
      [{ endpoint: 'token', drop: true, bogus: 1 }, /unknown field "bogus"/],
      [{ endpoint: 'token', drop: true, after: '2' }, /^after: must be a number/],
      [{ endpoint: 'token', drop: true, times: 0 }, /^times: /],
      [{ endpoint: 'tokens', drop: true }, /^endpoint: must be one of "token"/],
      [{ drop: true }, /^endpoint: must be one of "token"/],
      [{ endpoint: 'token' }, /^the rule: needs exactly one action: respond, delay_ms, drop, body/],
      [{ endpoint: 'token', drop: true, delay_ms: 10 }, /^drop: a rule takes exactly one action; "delay_ms" is given already/],
      [{ endpoint: 'token', drop: false }, /^drop: must be one of true/],
      [{ endpoint: 'jwks', match: { grant_type: 'refresh_token' }, drop: true }, /^match\.grant_type: applies to the token endpoint only/],
      [{ endpoint: 'token', match: { client: 'x' }, drop: true }, /^match: unknown field "client"/],
      [{ endpoint: 'token', respond: { status: 99 } }, /^respond\.status: must be a final status/],
      [{ endpoint: 'token', respond: { status: 400, body: 3 } }, /^respond\.body: must be a JSON object, a JSON array or a string/],
      [
        { endpoint: 'token', respond: { status: 400, headers: { 'X-A': 'a\r\nSet-Cookie: x=1' } } },
        /^respond\.headers\.X-A: must not hold control/,
      ],
      [
        { endpoint: 'token', respond: { status: 400, headers: { 'Content-Length': '1' } } },
        /^respond\.headers\.Content-Length: frames the HTTP message/,
      ],
      [
        { endpoint: 'token', respond: { status: 400, headers: { 'Bad Name': 'x' } } },
        /^respond\.headers\.Bad Name: must be an HTTP field name/,
      ],
      [{ endpoint: 'token', body: 1 }, /^body: must be a string/],
      [{ id: 'has space', endpoint: 'token', drop: true }, /^id: must be 1 to 64 letters/],
      [[], /^the body must be a JSON object: send a fault rule$/],
    ];
    for (const [rule, message] of cases) {
      const { status, body } = await addFault(issuer(), rule);
      expect({ rule, status, error: body.error }).toEqual({ rule, status: 400, error: 'invalid_request' });
      expect({ rule, description: body.error_description }).toEqual({ rule, description: expect.stringMatching(message) });
    }
    const form = await fetch(faultsUrl(issuer()), { method: 'POST', body: new URLSearchParams({ endpoint: 'token', drop: 'true' }) });
    expect(form.status).toBe(400);
    expect(((await form.json()) as { error_description: string }).error_description).toMatch(/application\/json/);
    expect(await listFaults(issuer())).toEqual([]);

    const unknown = await fetch(`${faultsUrl(issuer())}/no-such-fault`, { method: 'DELETE' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'not_found', error_description: 'no fault "no-such-fault" is in force' });
    expect((await fetch(`${faultsUrl(issuer())}/no-such-fault`)).status).toBe(404);

    const first = await addFault(issuer(), { id: 'named', endpoint: 'revocation', delay_ms: 1 });
    expect(first.status).toBe(201);
    const again = await addFault(issuer(), { id: 'named', endpoint: 'jwks', drop: true });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'conflict', error_description: expect.stringMatching(/^id: a fault "named" is in force/) });
    expect((await fetch(`${faultsUrl(issuer())}/named`)).status).toBe(200);

    // The library refuses alike.
    const refused = await testbed()
      .main.faults.add({ endpoint: 'token', respond: { status: '400' } } as unknown as FaultRuleInput)
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(FaultRuleError);
    expect(refused).toMatchObject({ status: 400, message: expect.stringMatching(/^respond\.status: must be a number/) });

    const cleared = await fetch(faultsUrl(issuer()), { method: 'DELETE' });
    expect(cleared.status).toBe(204);
    expect(await listFaults(issuer())).toEqual([]);
  });
});

describe('fault rules from the fixture', () => {
  const testbed = useTestbed(() => {
    const fixture = readFixture('suite.yaml');
    return {
      fixture: {
        ...fixture,
        faults: [
          {
            id: 'jwks-busy',
            endpoint: 'jwks',
            times: 1,
            respond: { status: 429, body: { error: 'slow_down' }, headers: { 'Retry-After': '2' } },
          },
          { endpoint: 'revocation', match: { client_id: 'web-app' }, drop: true },
        ],
        issuers: fixture.issuers!.map((extra) => ({
          ...extra,
          faults: [{ endpoint: 'discovery' as const, body: 'not a metadata document' }],
        })),
      },
    };
  });

  it('are in force from the start, per issuer, with ids given or generated', async () => {
    expect(await listFaults(testbed().issuer)).toEqual([
      {
        id: 'jwks-busy',
        endpoint: 'jwks',
        after: 0,
        times: 1,
        respond: { status: 429, body: { error: 'slow_down' }, headers: { 'Retry-After': '2' } },
        hits: 0,
      },
      { id: 'fixture-1', endpoint: 'revocation', match: { client_id: 'web-app' }, after: 0, drop: true, hits: 0 },
    ]);
    const busy = await fetch(testbed().urls.jwks);
    expect(busy.status).toBe(429);
    expect(busy.headers.get('retry-after')).toBe('2');
    expect((await fetch(testbed().urls.jwks)).status).toBe(200);

    // The /fapi2 issuer has its own (not the main issuer's), and the main one is unaffected by it.
    const fapi2 = testbed().issuers['/fapi2'];
    expect((await fapi2.faults.list()).map(({ id, endpoint }) => ({ id, endpoint }))).toEqual([{ id: 'fixture-0', endpoint: 'discovery' }]);
    const metadata = await fetch(fapi2.urls.discovery);
    expect(metadata.status).toBe(200);
    expect(await metadata.text()).toBe('not a metadata document');
    expect((await fetch(testbed().urls.discovery)).status).toBe(200);
  });

  it('reset: run-time rules go, the fixture rules come back with no hits', async () => {
    const { faults } = testbed().main;
    await faults.add({ id: 'run-time', endpoint: 'userinfo', drop: true });
    expect(await faults.remove('jwks-busy')).toBe(true);
    expect((await faults.list()).map((fault) => fault.id)).toEqual(['fixture-1', 'run-time']);
    await faults.clear();
    expect(await faults.list()).toEqual([]);
    await faults.reset();
    expect((await faults.list()).map(({ id, hits }) => ({ id, hits }))).toEqual([
      { id: 'jwks-busy', hits: 0 },
      { id: 'fixture-1', hits: 0 },
    ]);
    expect((await fetch(testbed().urls.jwks)).status).toBe(429);
    expect(await faults.hits('jwks-busy')).toBe(1);
  });

  it('a duplicate or malformed fixture rule stops the start, naming the field', async () => {
    const { validateFixture } = await import('../../src/index.ts');
    expect(() =>
      validateFixture({
        faults: [
          { id: 'a', endpoint: 'token', drop: true },
          { id: 'a', endpoint: 'jwks', drop: true },
        ],
      }),
    ).toThrow(/faults\[1\]\.id: "a" is the id of an earlier fault/);
    expect(() => validateFixture({ issuers: [{ path: '/x', faults: [{ endpoint: 'token', delay_ms: -1 }] }] })).toThrow(
      /issuers\[0\]\.faults\[0\]\.delay_ms: /,
    );
  });
});
