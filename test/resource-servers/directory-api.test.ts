/**
 * The directory API in ForgeRock IDM's REST shape: info/login, managed/user queries, reads, PUT and
 * PATCH, and IDM's error shape for client mistakes.
 */
import { describe, expect, it } from '@jest/globals';
import { bearer, callApi, DIRECTORY_API, PROFILE_API, serviceToken, userTokens } from '../support/resource-servers.ts';
import { useTestbed } from '../support/testbed.ts';

const ENVELOPE = { pagedResultsCookie: null, totalPagedResultsPolicy: 'NONE', totalPagedResults: -1, remainingPagedResults: -1 };

describe('directory API', () => {
  const testbed = useTestbed();
  const url = (path: string) => new URL(path, testbed().urls.directoryApi);
  const aliceToken = async (login_hint?: string) =>
    (await userTokens(testbed(), DIRECTORY_API, 'fr:idm:*', { login_hint })).tokens.access_token;
  const query = async (filter: string, extra = '') =>
    callApi(url(`managed/user?_queryFilter=${encodeURIComponent(filter)}${extra}`), { headers: bearer(await aliceToken()) });
  const send = async (method: 'PUT' | 'PATCH', id: string, body: unknown, token?: string) =>
    callApi(url(`managed/user/${id}`), {
      method,
      headers: { ...bearer(token ?? (await aliceToken())), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('is served under the resource indicator path', () => {
    expect(new URL(testbed().urls.directoryApi!).pathname).toBe('/openidm/');
  });

  it('GET info/login: the signed-in user, their roles and component', async () => {
    const response = await callApi(url('info/login'), { headers: bearer(await aliceToken()) });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      _id: 'login',
      authenticationId: 'alice',
      authorization: {
        id: 'alice',
        roles: ['internal/role/openidm-authorized', 'internal/role/openidm-admin'],
        component: 'managed/user',
        moduleId: 'rsFilter',
        ipAddress: '127.0.0.1',
      },
    });
  });

  it('GET info/login with a client-credentials token: the client, no roles', async () => {
    const response = await callApi(url('info/login'), { headers: bearer(await serviceToken(testbed(), DIRECTORY_API, 'fr:idm:*')) });
    expect(response.body).toMatchObject({
      authenticationId: 'service-client',
      authorization: { id: 'service-client', roles: [], component: 'internal/user' },
    });
  });

  it('a token for the profile API is refused (audience)', async () => {
    const { tokens } = await userTokens(testbed(), PROFILE_API, 'profile');
    const response = await callApi(url('info/login'), { headers: bearer(tokens.access_token) });
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_token');
  });

  describe('GET managed/user', () => {
    it('_queryFilter=true: every user in the IDM envelope', async () => {
      const response = await query('true');
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ resultCount: 4, ...ENVELOPE });
      expect(response.body.result).toEqual([
        expect.objectContaining({
          _id: 'alice',
          _rev: expect.any(String),
          userName: 'alice',
          givenName: 'Alice',
          sn: 'Example',
          mail: 'alice@example.com',
          telephoneNumber: '+1 555 0100',
          postalAddress: '1 Example Street',
          city: 'Springfield',
          postalCode: '12345',
          stateProvince: 'Example State',
          country: 'US',
          accountStatus: 'active',
        }),
        expect.objectContaining({ _id: 'bob', userName: 'bob', givenName: 'Bob', mail: 'bob@example.com' }),
        expect.objectContaining({ _id: 'admin', userName: 'admin' }),
        expect.objectContaining({ _id: 'sales', userName: 'sales' }),
      ]);
    });

    it('field eq "value", with or without the JSON-pointer slash', async () => {
      expect((await query('userName eq "bob"')).body).toMatchObject({ resultCount: 1, result: [{ _id: 'bob' }] });
      expect((await query('/mail eq "alice@example.com"')).body).toMatchObject({ resultCount: 1, result: [{ _id: 'alice' }] });
      expect((await query('userName eq "nobody"')).body).toEqual({ result: [], resultCount: 0, ...ENVELOPE });
    });

    it('and/or/!/co/sw/pr and _fields', async () => {
      expect(
        (await query('(mail co "example.com" and !(userName eq "alice") and !(givenName sw "Sa")) or givenName sw "Ad"')).body,
      ).toMatchObject({ resultCount: 2, result: [{ _id: 'bob' }, { _id: 'admin' }] });
      expect((await query('telephoneNumber pr')).body).toMatchObject({ resultCount: 1, result: [{ _id: 'alice' }] });
      expect((await query('false')).body.resultCount).toBe(0);
      expect((await query('userName eq "alice"', '&_fields=userName,mail')).body.result).toEqual([
        { _id: 'alice', _rev: expect.any(String), userName: 'alice', mail: 'alice@example.com' },
      ]);
    });

    it('a bad _queryFilter: 400 in IDM shape', async () => {
      for (const filter of ['userName equals "alice"', 'userName eq', '"unterminated', 'userName eq "a" and', '(true']) {
        const response = await query(filter);
        expect(response.status).toBe(400);
        expect(response.body).toEqual({
          code: 400,
          reason: 'Bad Request',
          message: `The value '${filter}' for parameter '_queryFilter' could not be parsed as a valid query filter`,
        });
      }
    });

    it('no _queryFilter: 400', async () => {
      const response = await callApi(url('managed/user'), { headers: bearer(await aliceToken()) });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: 400, reason: 'Bad Request' });
    });
  });

  describe('managed/user/{id}', () => {
    it('GET a user; an unknown id is 404 in IDM shape', async () => {
      const token = await aliceToken();
      expect((await callApi(url('managed/user/alice'), { headers: bearer(token) })).body).toMatchObject({
        _id: 'alice',
        userName: 'alice',
        givenName: 'Alice',
      });
      const missing = await callApi(url('managed/user/nobody'), { headers: bearer(token) });
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({ code: 404, reason: 'Not Found', message: 'Object nobody not found in managed/user' });
    });

    it('PATCH: IDM operations change the user, seen by the profile API too', async () => {
      const response = await send('PATCH', 'bob', [
        { operation: 'replace', field: '/givenName', value: 'Robert' },
        { operation: 'add', field: 'city', value: 'Lyon' },
        { operation: 'remove', field: '/mail' },
      ]);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ _id: 'bob', givenName: 'Robert', city: 'Lyon' });
      expect(response.body.mail).toBeUndefined();
      const { tokens } = await userTokens(testbed(), PROFILE_API, 'profile email address', { login_hint: 'bob' });
      const profile = await callApi(new URL('userinfo', testbed().urls.profileApi), { headers: bearer(tokens.access_token) });
      expect(profile.body).toMatchObject({ sub: 'bob', given_name: 'Robert', address: { locality: 'Lyon' } });
      expect(profile.body.email).toBeUndefined();
    });

    it('PUT replaces: writable fields left out are removed', async () => {
      const before = (await callApi(url('managed/user/bob'), { headers: bearer(await aliceToken()) })).body;
      const response = await send('PUT', 'bob', {
        _id: 'bob',
        _rev: before._rev,
        userName: 'bob',
        givenName: 'Bobby',
        sn: 'Example',
        mail: 'bobby@example.com',
      });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        _id: 'bob',
        _rev: expect.any(String),
        userName: 'bob',
        accountStatus: 'active',
        givenName: 'Bobby',
        sn: 'Example',
        mail: 'bobby@example.com',
      });
    });

    it('refuses read-only fields, unknown fields and operations, and non-JSON bodies', async () => {
      const expect400 = async (response: Awaited<ReturnType<typeof send>>, message: string | RegExp) => {
        expect(response.status).toBe(400);
        expect(response.body).toEqual({ code: 400, reason: 'Bad Request', message: expect.stringMatching(message) });
      };
      await expect400(
        await send('PATCH', 'bob', [{ operation: 'replace', field: '/userName', value: 'mallory' }]),
        /^userName is read-only/,
      );
      await expect400(await send('PATCH', 'bob', [{ operation: 'replace', field: '/shoeSize', value: '44' }]), /^Unknown field \/shoeSize/);
      await expect400(
        await send('PATCH', 'bob', [{ operation: 'increment', field: '/givenName', value: 1 }]),
        /^Patch operation increment is not supported/,
      );
      await expect400(await send('PATCH', 'bob', { givenName: 'x' }), /non-empty JSON array/);
      await expect400(
        await send('PATCH', 'bob', [{ operation: 'replace', field: '/givenName', value: 42 }]),
        /^givenName must be a string/,
      );
      await expect400(await send('PUT', 'bob', { _id: 'someone-else' }), /^_id is read-only/);
      const text = await callApi(url('managed/user/bob'), {
        method: 'PATCH',
        headers: { ...bearer(await aliceToken()), 'content-type': 'text/plain' },
        body: 'x',
      });
      expect(text.status).toBe(415);
      expect(text.body).toMatchObject({ code: 415, reason: 'Unsupported Media Type' });
      expect((await send('PATCH', 'nobody', [{ operation: 'remove', field: '/mail' }])).status).toBe(404);
    });
  });

  it('an unknown path is 404 and an unknown method 405', async () => {
    const token = await aliceToken();
    const missing = await callApi(url('managed/role'), { headers: bearer(token) });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ code: 404, reason: 'Not Found', message: "Resource '/openidm/managed/role' not found" });
    const deleted = await fetch(url('managed/user/bob'), { method: 'DELETE', headers: bearer(token) });
    expect(deleted.status).toBe(405);
    expect(deleted.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'HEAD', 'PATCH', 'PUT']);
  });
});
