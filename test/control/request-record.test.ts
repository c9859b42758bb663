/**
 * `<issuer>/_testbed/requests`: what the issuer answered, in order, with what the client sent and
 * what was issued — and never a secret, code or token in full.
 */
import { describe, expect, it } from '@jest/globals';
import { userTokens, webApp } from '../support/resource-servers.ts';
import { useTestbed } from '../support/testbed.ts';

interface Recorded {
  seq: number;
  path: string;
  error?: string;
  endpoint: string;
  method: string;
  status: number;
  client_id?: string;
  grant_type?: string;
  params?: Record<string, string | string[]>;
  issued?: Record<string, { claims?: Record<string, unknown>; stub?: string }>;
}

describe('the request record of an issuer', () => {
  const testbed = useTestbed({ apis: false });
  const read = async (query = '') => {
    const answer = await fetch(`${testbed().issuer}/_testbed/requests${query}`);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    return { status: answer.status, body: (await answer.json()) as { cursor: number; requests: Recorded[] } };
  };

  it("shows a login's requests in order, with parameters and issued tokens, and no secret, code or token in full", async () => {
    await fetch(`${testbed().issuer}/_testbed/requests`, { method: 'DELETE' });
    const { tokens } = await userTokens(testbed(), 'http://localhost:9401/', 'profile');
    const answer = await fetch(`${testbed().issuer}/_testbed/requests`);
    const text = await answer.text();
    const { requests } = JSON.parse(text) as { requests: Recorded[] };

    const endpoints = requests.map((request) => request.endpoint);
    expect(endpoints.indexOf('discovery')).toBeLessThan(endpoints.indexOf('authorization'));
    expect(endpoints.indexOf('authorization')).toBeLessThan(endpoints.indexOf('token'));
    const token = requests.find((request) => request.endpoint === 'token')!;
    expect(token).toMatchObject({ method: 'POST', status: 200, client_id: 'web-app', grant_type: 'authorization_code' });
    expect(token.params).toMatchObject({
      grant_type: 'authorization_code',
      redirect_uri: 'http://localhost:3001/callback',
      code: expect.stringMatching(/^.{6}…#[\w-]{8}$/),
      code_verifier: expect.stringMatching(/^.{6}…#[\w-]{8}$/),
      client_secret: expect.stringMatching(/^web-ap…#[\w-]{8}$/),
    });
    expect(token.issued?.id_token?.claims).toMatchObject({ sub: 'alice', aud: 'web-app', iss: testbed().issuer });
    expect(token.issued?.access_token?.claims).toMatchObject({ sub: 'alice', aud: 'http://localhost:9401/' });
    expect(requests.map((request) => request.seq)).toEqual([...requests.map((request) => request.seq)].sort((a, b) => a - b));

    for (const secret of [
      'web-app-secret',
      'alice-password',
      tokens.access_token,
      tokens.id_token!,
      tokens.refresh_token ?? 'no refresh token',
    ]) {
      expect(text).not.toContain(secret);
    }
    const code = requests.find((request) => request.endpoint === 'token')!.params!.code as string;
    expect(text.match(new RegExp(code.slice(0, 6), 'g'))?.length).toBeGreaterThan(0); // the stub is there, the code is not
  });

  it('since=<cursor> shows only what came after; endpoint= filters; DELETE clears; the library sees the same record', async () => {
    const { body: before } = await read();
    await fetch(testbed().urls.discovery);
    await fetch(testbed().urls.jwks);
    const { body: after } = await read(`?since=${before.cursor}`);
    expect(after.requests.map((request) => request.endpoint)).toEqual(['discovery', 'jwks']);
    const { body: onlyJwks } = await read(`?since=${before.cursor}&endpoint=jwks`);
    expect(onlyJwks.requests.map((request) => request.endpoint)).toEqual(['jwks']);
    expect(testbed().main.requests.list({ since: before.cursor, route: 'jwks' })).toHaveLength(1);

    expect((await fetch(`${testbed().issuer}/_testbed/requests`, { method: 'DELETE' })).status).toBe(204);
    expect((await read()).body.requests).toEqual([]);
  });

  it('answers 400 naming the parameter for a bad cursor or endpoint', async () => {
    for (const [query, named] of [
      ['?since=abc', 'since'],
      ['?endpoint=../x', 'endpoint'],
    ]) {
      const { status, body } = await read(query);
      expect(status).toBe(400);
      expect(body).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining(named) });
    }
  });

  it('the password grant: the password is never recorded', async () => {
    const config = await webApp(testbed());
    const { body: before } = await read();
    await fetch(config.serverMetadata().token_endpoint!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        username: 'alice',
        password: 'alice-password',
        client_id: 'web-app',
        client_secret: 'web-app-secret',
        scope: 'openid',
      }),
    });
    const answer = await fetch(`${testbed().issuer}/_testbed/requests?since=${before.cursor}`);
    const text = await answer.text();
    expect(text).toContain('"endpoint":"token"');
    expect(text).not.toContain('alice-password');
    expect(text).not.toContain('web-app-secret');
  });
});

describe("the mock APIs' calls in the record of the token's issuer", () => {
  const testbed = useTestbed();

  it('a call the profile API authenticated is in the issuer record (endpoint profile-api), refused ones with their error', async () => {
    const { tokens } = await userTokens(testbed(), 'http://localhost:9401/', 'profile');
    const cursor = testbed().main.requests.cursor;
    const userinfo = new URL('userinfo', testbed().urls.profileApi);
    const me = new URL('me', testbed().urls.profileApi);
    expect((await fetch(userinfo, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(200);
    const patch = await fetch(me, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Not Allowed' }),
    });
    expect(patch.status).toBe(403);
    // A token the issuer never signed is in no issuer's record.
    await fetch(userinfo, { headers: { authorization: 'Bearer not-a-token-of-anyone' } });

    const answer = await fetch(`${testbed().issuer}/_testbed/requests?since=${cursor}&endpoint=profile-api`);
    const { requests } = (await answer.json()) as { requests: Recorded[] };
    expect(requests.map(({ method, status, client_id, path }) => ({ method, status, client_id, path }))).toEqual([
      { method: 'GET', status: 200, client_id: 'web-app', path: '/userinfo' },
      { method: 'PATCH', status: 403, client_id: 'web-app', path: '/me' },
    ]);
    expect(requests[1].error).toBe('insufficient_scope');
  });
});
