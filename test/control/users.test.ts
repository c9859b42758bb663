/**
 * `<issuer>/_testbed/users/<username>`: users and claims changed while the testbed runs, seen by the
 * next login, ID token, userinfo and profile-API answer; a removed user's sessions and grants end.
 */
import { describe, expect, it } from '@jest/globals';
import { FixtureError, UserConflictError } from '../../src/index.ts';
import { UserAgent } from '../support/agent.ts';
import { controlCall } from '../support/http.ts';
import { type Credentials, walkInteractions } from '../support/interactions.ts';
import { client, codeRequest } from '../support/openid.ts';
import { bearer, callApi, PROFILE_API, userTokens, WEB_APP_REDIRECT, webApp } from '../support/resource-servers.ts';
import { useTestbed } from '../support/testbed.ts';

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

const CAROL = {
  password: 'carol-password',
  sub: 'carol-0001',
  claims: { name: 'Carol Runtime', email: 'carol@example.com', email_verified: true, locale: 'de-DE' },
};

describe('users and claims at run time', () => {
  const testbed = useTestbed();
  const usersUrl = (path = '') => `${testbed().issuer}/_testbed/users${path}`;
  const call = async (method: string, path: string, body?: unknown, type = 'application/json'): Promise<Answer> => {
    const answer = await controlCall(method, usersUrl(path), body, { type });
    expect(answer.headers.get('cache-control')).toBe('no-store');
    return answer;
  };
  const reset = () => testbed().main.users.reset();

  /** A code flow through the login page (no login_hint), signing in with `credentials`; the same agent keeps the session. */
  const logIn = async (credentials: Credentials, extra: Record<string, string> = {}, agent = new UserAgent()) => {
    const config = await webApp(testbed());
    const { parameters, codeVerifier } = await codeRequest(WEB_APP_REDIRECT, { scope: 'openid profile email', ...extra });
    delete parameters.login_hint;
    const walked = await walkInteractions(agent, client.buildAuthorizationUrl(config, parameters), credentials, WEB_APP_REDIRECT);
    if (!walked.url.href.startsWith(WEB_APP_REDIRECT)) throw new Error(`the login ended at ${walked.url.href} (${walked.status})`);
    const tokens = await client.authorizationCodeGrant(config, walked.url, {
      pkceCodeVerifier: codeVerifier,
      expectedState: parameters.state,
      expectedNonce: parameters.nonce,
    });
    return { config, tokens, agent };
  };

  it('PUT makes a user (201) that openid-client signs in as and whose claims userinfo answers', async () => {
    await reset();
    const created = await call('PUT', '/carol', CAROL);
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(usersUrl('/carol'));
    expect(created.body).toEqual({
      username: 'carol',
      sub: 'carol-0001',
      claims: CAROL.claims,
      roles: ['internal/role/openidm-authorized'],
    });
    expect(JSON.stringify(created.body)).not.toContain('carol-password');
    expect((await call('GET', '/carol')).body).toEqual(created.body);
    const listed = (await call('GET', '')).body.users as Array<{ username: string }>;
    expect(listed.map((user) => user.username)).toEqual(expect.arrayContaining(['alice', 'bob', 'carol']));

    const { config, tokens } = await logIn({ username: 'carol', password: 'carol-password' });
    expect(tokens.claims()?.sub).toBe('carol-0001');
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, 'carol-0001');
    expect(userinfo).toMatchObject({ sub: 'carol-0001', name: 'Carol Runtime', email: 'carol@example.com', locale: 'de-DE' });
    await expect(logIn({ username: 'carol', password: 'wrong' })).rejects.toThrow(/login answered 4\d\d/);

    // PUT again replaces the user (200): the new password and claims, claim changes dropped.
    const replaced = await call('PUT', '/carol', { ...CAROL, username: 'carol', password: 'carol-2', claims: { name: 'Carol Two' } });
    expect(replaced.status).toBe(200);
    expect(replaced.body.claims).toEqual({ name: 'Carol Two' });
    await expect(logIn({ username: 'carol', password: 'carol-password' })).rejects.toThrow(/login answered 4\d\d/);
    const again = await logIn({ username: 'carol', password: 'carol-2' });
    expect(await client.fetchUserInfo(again.config, again.tokens.access_token, 'carol-0001')).toEqual({
      sub: 'carol-0001',
      name: 'Carol Two',
    });
  });

  it('PATCH merges claims (null removes one) and shows in the next ID token, userinfo and profile API answer', async () => {
    await reset();
    const idTokenClaims = JSON.stringify({ id_token: { name: null, nickname: null, locale: null } });
    const before = await logIn({ username: 'alice', password: 'alice-password' }, { claims: idTokenClaims });
    expect(before.tokens.claims()).toMatchObject({ sub: 'alice', name: 'Alice Example', nickname: 'ali' });

    const patched = await call('PATCH', '/alice', { claims: { name: 'Alice Patched', nickname: null, locale: 'fr-FR' }, sub: 'alice' });
    expect(patched.status).toBe(200);
    expect(patched.body.claims).toMatchObject({ name: 'Alice Patched', locale: 'fr-FR', given_name: 'Alice' });
    expect(patched.body.claims).not.toHaveProperty('nickname');

    const after = await logIn({ username: 'alice', password: 'alice-password' }, { claims: idTokenClaims });
    expect(after.tokens.claims()).toMatchObject({ sub: 'alice', name: 'Alice Patched', locale: 'fr-FR' });
    expect(after.tokens.claims()).not.toHaveProperty('nickname');
    // The token issued before the change reads the user as it is now.
    expect(await client.fetchUserInfo(before.config, before.tokens.access_token, 'alice')).toMatchObject({ name: 'Alice Patched' });

    const { tokens: apiTokens } = await userTokens(testbed(), PROFILE_API, 'profile');
    const profile = await callApi(new URL('me', testbed().urls.profileApi), { headers: bearer(apiTokens.access_token) });
    expect(profile.status).toBe(200);
    expect(profile.body).toMatchObject({ sub: 'alice', name: 'Alice Patched', locale: 'fr-FR' });
    expect(profile.body).not.toHaveProperty('nickname');

    // A new password and roles: the old password no longer signs in.
    expect((await call('PATCH', '/alice', { password: 'alice-new', roles: ['tester'] })).body.roles).toEqual(['tester']);
    await expect(logIn({ username: 'alice', password: 'alice-password' })).rejects.toThrow(/login answered 4\d\d/);
    await logIn({ username: 'alice', password: 'alice-new' });
    await reset();
    expect(await testbed().main.users.get('alice')).toMatchObject({ claims: { name: 'Alice Example', nickname: 'ali' } });
    await logIn({ username: 'alice', password: 'alice-password' });
  });

  it('DELETE (204) ends the user’s sessions and revokes their grants; reset brings a fixture user back', async () => {
    await reset();
    expect((await call('PUT', '/dave', { password: 'dave-password', claims: { name: 'Dave' } })).status).toBe(201);
    const { config, tokens, agent } = await logIn(
      { username: 'dave', password: 'dave-password' },
      { scope: 'openid profile offline_access', prompt: 'consent' },
    );
    const sessionsOf = async (sub: string) =>
      (await testbed().main.store.listRecords('Session')).filter((session) => session.payload.accountId === sub);
    expect(await sessionsOf('dave')).toHaveLength(1);

    const removed = await call('DELETE', '/dave');
    expect(removed.status).toBe(204);
    expect(await sessionsOf('dave')).toEqual([]);
    expect((await call('GET', '/dave')).status).toBe(404);

    // The browser's session is gone: a silent authorization needs a login.
    const { parameters } = await codeRequest(WEB_APP_REDIRECT, { prompt: 'none' });
    delete parameters.login_hint;
    const silent = await agent.follow(client.buildAuthorizationUrl(config, parameters), WEB_APP_REDIRECT);
    expect(silent.url.searchParams.get('error')).toBe('login_required');
    // And the tokens issued to the user are dead.
    await expect(client.fetchUserInfo(config, tokens.access_token, 'dave')).rejects.toMatchObject({ status: 401 });
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(logIn({ username: 'dave', password: 'dave-password' })).rejects.toThrow(/login answered 4\d\d/);

    // A fixture user can be removed too, until reset.
    expect((await call('DELETE', '/bob')).status).toBe(204);
    await expect(logIn({ username: 'bob', password: 'bob-password' })).rejects.toThrow(/login answered 4\d\d/);
    await reset();
    expect((await call('GET', '/bob')).status).toBe(200);
    expect((await call('GET', '/dave')).status).toBe(404);
    await logIn({ username: 'bob', password: 'bob-password' });
  });

  it('answers bad input with 400 naming the field, an unknown user with 404, a taken sub with 409', async () => {
    await reset();
    const refused = async (method: string, path: string, body: unknown, field: RegExp, type?: string) => {
      const answer = await call(method, path, body, type);
      expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringMatching(field) } });
    };
    await refused('PUT', '/erin', '{"password": "x",', /not valid JSON/);
    await refused('PUT', '/erin', 'password=x', /JSON/, 'application/x-www-form-urlencoded');
    await refused('PUT', '/erin', { password: 'x', colour: 'red' }, /unknown field "colour"/);
    await refused('PUT', '/erin', { password: 5 }, /password: must be a string/);
    await refused('PUT', '/erin', {}, /password: is required/);
    await refused('PUT', '/erin', { password: 'x', claims: 'name' }, /claims: must be an? (object|record)/);
    await refused('PUT', '/erin', { password: 'x', roles: ['a', 7] }, /roles\[1\]: must be a string/);
    await refused('PUT', '/erin', { username: 'frank', password: 'x' }, /username: must be "erin"/);
    await refused('PUT', '/erin', ['password'], /^the body must be a JSON object: send a fixture user entry/);
    await refused('PATCH', '/alice', { sub: 'someone-else' }, /sub: cannot change/);
    await refused('PATCH', '/alice', { claims: { name: 'x' }, passwd: 'x' }, /unknown field "passwd"/);
    await refused('PATCH', '/alice', { roles: 'admin' }, /roles: must be an array/);
    await refused('PATCH', '/alice', '{', /not valid JSON/);
    expect((await call('GET', '/erin')).status).toBe(404);

    for (const [method, body] of [['GET'], ['PATCH', { claims: { name: 'x' } }], ['DELETE']] as const) {
      const answer = await call(method, '/nobody', body);
      expect(answer).toMatchObject({ status: 404, body: { error: 'not_found', error_description: 'no user "nobody"' } });
    }
    expect(await call('PUT', '/mallory', { password: 'x', sub: 'alice' })).toMatchObject({
      status: 409,
      body: {
        error: 'conflict',
        error_description: expect.stringContaining('sub "alice" is already the subject identifier of user "alice"'),
      },
    });
    expect((await call('GET', '/mallory')).status).toBe(404);
  });

  it('the /fapi2 issuer and scenario runs serve the main issuer’s users: a PUT through one is seen by the others', async () => {
    await reset();
    const fapi2 = testbed().issuers['/fapi2'];
    expect(fapi2.users).toBe(testbed().main.users);
    const put = await controlCall('PUT', `${fapi2.issuer}/_testbed/users/grace`, { password: 'grace-password', claims: { name: 'Grace' } });
    expect(put.status).toBe(201);
    expect((await call('GET', '/grace')).body).toMatchObject({ sub: 'grace', claims: { name: 'Grace' } });
    const run = await fetch(`${testbed().issuer}/scenarios/happy-path/runs/users-test/_testbed/users/grace`);
    expect(run.status).toBe(200);
    expect(await run.json()).toMatchObject({ username: 'grace', sub: 'grace' });
    await reset();
    expect((await call('GET', '/grace')).status).toBe(404);
  });

  it('the same operations as library calls on issuer.users', async () => {
    const { users } = testbed().main;
    await users.reset();
    const { user, created } = await users.put('heidi', { password: 'heidi-password', claims: { name: 'Heidi' }, roles: ['viewer'] });
    expect(created).toBe(true);
    expect(user).toEqual({ username: 'heidi', sub: 'heidi', claims: { name: 'Heidi' }, roles: ['viewer'] });
    expect(await users.get('heidi')).toEqual(user);
    expect(await users.findBySub('heidi')).toEqual(user);
    expect(await users.findByHint('heidi')).toEqual(user);
    expect(await users.authenticate('heidi', 'heidi-password')).toEqual(user);
    expect(await users.authenticate('heidi', 'nope')).toBeUndefined();
    expect((await users.put('heidi', { password: 'heidi-2' })).created).toBe(false);
    expect(await users.patch('heidi', { claims: { name: 'Heidi P', email: 'h@example.com' } })).toMatchObject({
      claims: { name: 'Heidi P', email: 'h@example.com' },
    });
    expect(await users.patch('heidi', { claims: { email: null } })).toMatchObject({ claims: { name: 'Heidi P' } });
    expect(await users.patch('nobody', { claims: { name: 'x' } })).toBeUndefined();
    await expect(users.patch('heidi', { sub: 'other' })).rejects.toThrow(FixtureError);
    await expect(users.put('heidi', { password: 7 } as never)).rejects.toThrow(/password: must be a string/);
    await expect(users.put('ivan', { password: 'x', sub: 'alice' })).rejects.toThrow(UserConflictError);
    expect((await users.list()).map((listed) => listed.username)).toContain('heidi');
    expect(await users.remove('heidi')).toBe(true);
    expect(await users.remove('heidi')).toBe(false);
    expect(await users.get('heidi')).toBeUndefined();
    expect(await users.remove('alice')).toBe(true);
    expect(await users.findBySub('alice')).toBeUndefined();
    await users.reset();
    expect(await users.findBySub('alice')).toMatchObject({ username: 'alice', claims: { name: 'Alice Example' } });
    expect((await users.list()).map((listed) => listed.username)).not.toContain('heidi');
  });
});
