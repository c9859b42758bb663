/**
 * `POST <issuer>/_testbed/reset` and `testbed.reset()`: after a test changed every concern of an
 * issuer (users, clients, keys, faults, clock, sessions, direct tokens, record), the issuer is its
 * fixture again — what a suite calls between tests instead of restarting the testbed.
 */
import { describe, expect, it } from '@jest/globals';
import { controlCall, readJson } from '../support/http.ts';
import { client, discover, signIn } from '../support/openid.ts';
import { WEB_APP_REDIRECT } from '../support/resource-servers.ts';
import { useTestbed } from '../support/testbed.ts';

describe('reset', () => {
  const testbed = useTestbed({ apis: false });
  const control = (path: string, issuer = testbed().main.issuer) => `${issuer}/_testbed${path}`;

  it('POST <issuer>/_testbed/reset puts back users, clients, keys, faults, clock, sessions, direct tokens and the record', async () => {
    const main = testbed().main;
    const startKeys = (await readJson<{ current: Record<string, string> }>(await fetch(control('/keys')))).body.current;
    const webApp = await discover(testbed(), 'web-app', undefined, {}, client.ClientSecretPost('web-app-secret'));
    await signIn(webApp, { redirect_uri: WEB_APP_REDIRECT, scope: 'openid' });

    expect(
      (await controlCall('PUT', control('/users/mallory'), { password: 'mallory-password', claims: { email: 'm@example.com' } })).status,
    ).toBe(201);
    expect((await controlCall('PATCH', control('/users/alice'), { claims: { email: 'changed@example.com' } })).status).toBe(200);
    const planted = {
      client_secret: 'planted-secret',
      redirect_uris: ['http://localhost:3999/callback'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    };
    expect((await controlCall('PUT', control('/clients/planted-client'), planted)).status).toBe(201);
    expect((await controlCall('POST', control('/keys/rotate'), { alg: 'RS256' })).status).toBe(200);
    expect(
      (
        await controlCall('POST', control('/faults'), {
          endpoint: 'jwks',
          respond: { status: 429, headers: { 'Retry-After': '1' }, body: { error: 'slow_down' } },
        })
      ).status,
    ).toBe(201);
    expect((await controlCall('PUT', control('/clock'), { offset_s: 300 })).status).toBe(200);
    const direct = await controlCall<{ access_token: string }>('POST', control('/tokens'), {
      sub: 'alice',
      client_id: 'web-app',
      scope: 'openid',
    });
    expect(direct.status).toBe(200);
    expect((await fetch(main.urls.jwks)).status).toBe(429);
    expect((await main.sessions.list()).length).toBeGreaterThan(0);

    const reset = await fetch(control('/reset'), { method: 'POST' });
    expect(reset.status).toBe(204);
    expect(reset.headers.get('cache-control')).toBe('no-store');

    expect((await fetch(control('/users/mallory'))).status).toBe(404);
    expect((await readJson<{ claims: { email: string } }>(await fetch(control('/users/alice')))).body.claims.email).toBe(
      testbed().fixture.users.find((user) => user.username === 'alice')?.claims.email,
    );
    expect((await fetch(control('/clients/planted-client'))).status).toBe(404);
    expect((await readJson<{ current: Record<string, string> }>(await fetch(control('/keys')))).body.current).toEqual(startKeys);
    expect((await readJson<{ faults: unknown[] }>(await fetch(control('/faults')))).body.faults).toEqual([]);
    expect((await readJson<{ offset_s: number }>(await fetch(control('/clock')))).body.offset_s).toBe(0);
    expect((await readJson<{ sessions: unknown[] }>(await fetch(control('/sessions')))).body.sessions).toEqual([]);
    expect(main.requests.list()).toEqual([]);
    expect((await fetch(main.urls.jwks)).status).toBe(200);
    const introspected = await client.tokenIntrospection(webApp, direct.body.access_token);
    expect(introspected.active).toBe(false);
  });

  it('testbed.reset() resets every issuer of the fixture; a scenario run keeps the users it shares with the main issuer', async () => {
    const { main, issuers } = testbed();
    const fapi2 = issuers['/fapi2'];
    await fapi2.clock.set(120);
    await main.faults.add({ endpoint: 'discovery', respond: { status: 400, body: 'down' } });
    await testbed().reset();
    expect((await fapi2.clock.get()).offsetS).toBe(0);
    expect(await main.faults.list()).toEqual([]);
    expect((await fetch(main.urls.discovery)).status).toBe(200);

    await main.users.put('trudy', { password: 'trudy-password' });
    const run = await testbed().scenario('happy-path', { run: 'reset-keeps-users' });
    const reset = await fetch(`${run.issuer}/_testbed/reset`, { method: 'POST' });
    expect(reset.status).toBe(204);
    expect(await main.users.get('trudy')).toMatchObject({ username: 'trudy' });
    await testbed().reset();
    expect(await main.users.get('trudy')).toBeUndefined();
  });
});
