/**
 * Two testbed processes with the same issuer and the same Redis prefix behave as one IdP: a switch
 * at the issuer URL sends each request to the replica the test names.
 */
import { describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { UserAgent } from '../support/agent.ts';
import { postForm } from '../support/http.ts';
import { authorize, client, signIn } from '../support/openid.ts';
import { requireRedis, uniquePrefix } from '../support/store.ts';
import { discoverAt, PROFILE_API, REDIRECT_URI } from './core-flows.ts';
import { type TestbedProcess, useReplicaPair } from './testbed-processes.ts';

const redisUp = await requireRedis();
const SECRET: [string, string] = ['node-openid-client', 'password'];

(redisUp ? describe : describe.skip)('two testbed processes behind one issuer, on one Redis', () => {
  const { issuer, one, two, on } = useReplicaPair({ prefix: uniquePrefix('replicas'), processes: true, apis: true });
  const profileApiOf = (replica: TestbedProcess) => /profile API\s+(http:\/\/\S+)/.exec(replica.output())![1];

  it('both replicas publish the same signing keys', async () => {
    on(one());
    const first = (await (await fetch(`${issuer()}/jwks`)).json()) as { keys: Array<{ kid: string }> };
    on(two());
    const second = (await (await fetch(`${issuer()}/jwks`)).json()) as { keys: Array<{ kid: string }> };
    expect(first.keys.length).toBeGreaterThan(0);
    expect(second).toEqual(first);
  });

  it('authorize + log in on 1, redeem on 2, refresh on 1, introspect and revoke on 2, rejected on 1', async () => {
    on(one());
    const config = await discoverAt(issuer(), 'node-openid-client', 'password');
    const agent = new UserAgent();
    const auth = await authorize(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile offline_access profile:write' }, agent);

    on(two());
    const tokens = await client.authorizationCodeGrant(config, auth.callbackUrl, {
      pkceCodeVerifier: auth.codeVerifier,
      expectedState: auth.state,
      expectedNonce: auth.nonce,
    });
    expect(tokens.claims()).toMatchObject({ iss: issuer(), sub: 'alice' });

    on(one());
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: PROFILE_API });
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ iss: issuer(), aud: PROFILE_API, sub: 'alice' });
    expect(await client.fetchUserInfo(config, tokens.access_token, 'alice')).toMatchObject({ name: 'Alice Example' });

    // The session written on 1 is found on 2: prompt=none succeeds in the same browser.
    on(two());
    const silent = await authorize(config, { redirect_uri: REDIRECT_URI, scope: 'openid', prompt: 'none' }, agent);
    expect(silent.callbackUrl.searchParams.get('error')).toBeNull();
    expect(silent.callbackUrl.searchParams.get('code')).toEqual(expect.any(String));

    expect(await client.tokenIntrospection(config, refreshed.access_token)).toMatchObject({ active: true, sub: 'alice', aud: PROFILE_API });
    expect(await client.tokenIntrospection(config, refreshed.refresh_token!)).toMatchObject({ active: true, sub: 'alice' });
    await client.tokenRevocation(config, refreshed.access_token);
    await client.tokenRevocation(config, refreshed.refresh_token!);

    on(one());
    expect(await client.tokenIntrospection(config, refreshed.access_token)).toEqual({ active: false });
    const refreshAgain = await postForm(
      config.serverMetadata().token_endpoint!,
      { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token! },
      { basic: SECRET },
    );
    expect(refreshAgain.status).toBe(400);
    expect(refreshAgain.body.error).toBe('invalid_grant');
  });

  it('a code redeemed twice across the replicas is rejected the second time, and its tokens revoked', async () => {
    on(one());
    const config = await discoverAt(issuer(), 'node-openid-client', 'password');
    const auth = await authorize(config, { redirect_uri: REDIRECT_URI, scope: 'openid offline_access' });
    const code = auth.callbackUrl.searchParams.get('code')!;
    const redeem = () =>
      postForm(
        config.serverMetadata().token_endpoint!,
        { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: auth.codeVerifier },
        { basic: SECRET },
      );

    on(two());
    const first = await redeem();
    expect(first.status).toBe(200);
    const accessToken = first.body.access_token as string;
    const refreshToken = first.body.refresh_token as string;
    expect(await client.tokenIntrospection(config, accessToken)).toMatchObject({ active: true });

    on(one());
    const second = await redeem();
    expect(second.status).toBe(400);
    expect(second.body.error).toBe('invalid_grant');

    on(two());
    expect(await client.tokenIntrospection(config, accessToken)).toEqual({ active: false });
    const refresh = await postForm(
      config.serverMetadata().token_endpoint!,
      { grant_type: 'refresh_token', refresh_token: refreshToken },
      { basic: SECRET },
    );
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('a CIBA request made on 1 is listed and approved through the control endpoints of 2, and redeemed on 1', async () => {
    on(one());
    const config = await discoverAt(issuer(), 'ciba-client', 'ciba-client-secret');
    const started = await client.initiateBackchannelAuthentication(config, {
      scope: 'openid',
      login_hint: 'bob',
      binding_message: 'replicas',
    });

    on(two());
    const control = (path: string, method = 'GET') =>
      fetch(`${issuer()}/_testbed/ciba${path}`, { method, headers: { accept: 'application/json' } });
    const listed = (await (await control('')).json()) as { pending: Array<{ auth_req_id: string; binding_message?: string }> };
    expect(listed.pending.find((request) => request.auth_req_id === started.auth_req_id)?.binding_message).toBe('replicas');
    expect(await (await control(`/${started.auth_req_id}/approve`, 'POST')).json()).toEqual({ status: 'approved' });

    on(one());
    const after = (await (await control('')).json()) as { pending: Array<{ auth_req_id: string }> };
    expect(after.pending.map((request) => request.auth_req_id)).not.toContain(started.auth_req_id);
    const tokens = await client.pollBackchannelAuthenticationGrant(config, { ...started, interval: 0 });
    expect(tokens.claims()).toMatchObject({ iss: issuer(), sub: 'bob', aud: 'ciba-client' });
  });

  it('a claim changed through the profile API of 1 is seen by userinfo on 2', async () => {
    on(one());
    const config = await discoverAt(issuer(), 'node-openid-client', 'password');
    const { tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile offline_access profile:write' });
    const api = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: PROFILE_API, scope: 'profile profile:write' });
    const nickname = `nick-${Date.now()}`;
    const patched = await fetch(new URL('me', profileApiOf(one())), {
      method: 'PATCH',
      headers: { authorization: `Bearer ${api.access_token}`, 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ nickname }),
    });
    expect(patched.status).toBe(200);

    on(two());
    expect(await client.fetchUserInfo(config, tokens.access_token, 'alice')).toMatchObject({ sub: 'alice', nickname });
    const fromTwo = await fetch(new URL('me', profileApiOf(two())), { headers: { authorization: `Bearer ${api.access_token}` } });
    expect(await fromTwo.json()).toMatchObject({ sub: 'alice', nickname });
  });
});
