/**
 * Users changed at run time live in the issuer's store: on Redis, a user put through one replica
 * signs in on another at its next request; a claim change or a removal through one is in force on the other.
 */
import { describe, expect, it } from '@jest/globals';
import { UserAgent } from '../support/agent.ts';
import { controlCall } from '../support/http.ts';
import { walkInteractions } from '../support/interactions.ts';
import { client, codeRequest } from '../support/openid.ts';
import { requireRedis, uniquePrefix } from '../support/store.ts';
import { discoverAt, REDIRECT_URI } from './core-flows.ts';
import { useReplicaPair } from './testbed-processes.ts';

const redisUp = await requireRedis();

(redisUp ? describe : describe.skip)('run-time users on two replicas of one issuer, on one Redis', () => {
  const { issuer, one, two, on } = useReplicaPair({ prefix: uniquePrefix('run-time-users'), processes: true });
  const control = (method: string, username: string, body?: unknown) => controlCall(method, `${issuer()}/_testbed/users/${username}`, body);

  it('a user PUT on replica 1 signs in on replica 2; a PATCH on 2 shows in userinfo on 1; a DELETE on 1 ends the session on 2', async () => {
    on(one());
    const put = await control('PUT', 'zoe', { password: 'zoe-password', sub: 'zoe-42', claims: { name: 'Zoe Replica' } });
    expect(put.status).toBe(201);

    on(two());
    const config = await discoverAt(issuer(), 'node-openid-client', 'password');
    const { parameters, codeVerifier } = await codeRequest(REDIRECT_URI, { scope: 'openid profile' });
    delete parameters.login_hint;
    const agent = new UserAgent();
    const walked = await walkInteractions(
      agent,
      client.buildAuthorizationUrl(config, parameters),
      { username: 'zoe', password: 'zoe-password' },
      REDIRECT_URI,
    );
    const tokens = await client.authorizationCodeGrant(config, walked.url, {
      pkceCodeVerifier: codeVerifier,
      expectedState: parameters.state,
      expectedNonce: parameters.nonce,
    });
    expect(tokens.claims()).toMatchObject({ iss: issuer(), sub: 'zoe-42' });
    expect(await client.fetchUserInfo(config, tokens.access_token, 'zoe-42')).toMatchObject({ name: 'Zoe Replica' });

    const patch = await control('PATCH', 'zoe', { claims: { name: 'Zoe Patched' } });
    expect(patch.status).toBe(200);
    on(one());
    expect(await client.fetchUserInfo(config, tokens.access_token, 'zoe-42')).toMatchObject({ name: 'Zoe Patched' });

    expect((await control('DELETE', 'zoe')).status).toBe(204);
    on(two());
    expect((await control('GET', 'zoe')).status).toBe(404);
    const { parameters: silent } = await codeRequest(REDIRECT_URI, { scope: 'openid', prompt: 'none' });
    delete silent.login_hint;
    const { url } = await agent.follow(client.buildAuthorizationUrl(config, silent), REDIRECT_URI);
    expect(url.searchParams.get('error')).toBe('login_required');
    await expect(client.fetchUserInfo(config, tokens.access_token, 'zoe-42')).rejects.toMatchObject({ status: 401 });
  });
});
