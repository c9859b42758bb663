/**
 * The core protocol flows, asserted step by step, for any issuer URL: the same checks run on the
 * memory store, on Redis, on a Redis Cluster and behind Sentinel.
 */
import { expect } from '@jest/globals';
import { decodeJwt } from 'jose';
import { UserAgent } from '../support/agent.ts';
import { postForm } from '../support/http.ts';
import { ALICE, answerDeviceConfirmation, formAction, hiddenInput, postPageForm, walkInteractions } from '../support/interactions.ts';
import { authorize, client, signIn } from '../support/openid.ts';

export const REDIRECT_URI = 'http://localhost:3000/callback';
export const PROFILE_API = 'http://localhost:9401/';
export const DIRECTORY_API = 'http://localhost:9402/openidm/';
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** openid-client configuration for a default-fixture client, discovered at `issuer`. */
export function discoverAt(issuer: string, clientId: string, secret?: string): Promise<client.Configuration> {
  const auth = secret === undefined ? client.None() : client.ClientSecretBasic(secret);
  const metadata = secret === undefined ? { token_endpoint_auth_method: 'none' } : {};
  return client.discovery(new URL(issuer), clientId, metadata, auth, { execute: [client.allowInsecureRequests] });
}

/** Code + PKCE, userinfo, refresh per resource, introspection, revocation, and grant revocation on refresh-token reuse. */
export async function codeRefreshIntrospectRevoke(issuer: string): Promise<void> {
  const config = await discoverAt(issuer, 'node-openid-client', 'password');
  const { tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile email offline_access fr:idm:*' });
  expect(tokens.claims()).toMatchObject({ iss: issuer, sub: 'alice', aud: 'node-openid-client' });
  expect(await client.fetchUserInfo(config, tokens.access_token, 'alice')).toMatchObject({ sub: 'alice', name: 'Alice Example' });

  const profile = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: PROFILE_API });
  expect(decodeJwt(profile.access_token)).toMatchObject({ iss: issuer, aud: PROFILE_API, sub: 'alice' });
  expect(profile.refresh_token).not.toBe(tokens.refresh_token);
  const directory = await client.refreshTokenGrant(config, profile.refresh_token!, { scope: 'fr:idm:*' });
  expect(decodeJwt(directory.access_token)).toMatchObject({ aud: DIRECTORY_API, scope: 'fr:idm:*' });

  expect(await client.tokenIntrospection(config, directory.access_token)).toMatchObject({ active: true, sub: 'alice', aud: DIRECTORY_API });
  expect(await client.tokenIntrospection(config, directory.refresh_token!)).toMatchObject({
    active: true,
    client_id: 'node-openid-client',
    sub: 'alice',
  });

  // Reusing a rotated refresh token revokes the whole grant (RFC 9700 §4.14.2).
  const reuse = await postForm(
    config.serverMetadata().token_endpoint!,
    { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! },
    { basic: ['node-openid-client', 'password'] },
  );
  expect(reuse.status).toBe(400);
  expect(reuse.body.error).toBe('invalid_grant');
  expect(await client.tokenIntrospection(config, directory.refresh_token!)).toEqual({ active: false });
  expect(await client.tokenIntrospection(config, directory.access_token)).toEqual({ active: false });

  // Revocation (RFC 7009) of an access token of a new grant.
  const { tokens: fresh } = await signIn(
    config,
    { redirect_uri: REDIRECT_URI, scope: 'openid offline_access fr:idm:*' },
    { resource: DIRECTORY_API },
  );
  expect(await client.tokenIntrospection(config, fresh.access_token)).toMatchObject({ active: true, aud: DIRECTORY_API });
  await client.tokenRevocation(config, fresh.access_token);
  expect(await client.tokenIntrospection(config, fresh.access_token)).toEqual({ active: false });
}

/** A second authorization in the same browser reuses the session: `prompt=none` succeeds. */
export async function sessionReuse(issuer: string): Promise<void> {
  const config = await discoverAt(issuer, 'web-app', 'web-app-secret');
  const agent = new UserAgent();
  const first = await authorize(config, { redirect_uri: 'http://localhost:3001/callback', scope: 'openid' }, agent);
  expect(first.callbackUrl.searchParams.get('code')).toEqual(expect.any(String));
  const second = await authorize(config, { redirect_uri: 'http://localhost:3001/callback', scope: 'openid', prompt: 'none' }, agent);
  expect(second.callbackUrl.searchParams.get('error')).toBeNull();
  expect(second.callbackUrl.searchParams.get('code')).toEqual(expect.any(String));
}

/** Client credentials: a JWT access token that introspects active until revoked. */
export async function clientCredentialsRevocation(issuer: string): Promise<void> {
  const config = await discoverAt(issuer, 'service-client', 'service-client-secret');
  const tokens = await client.clientCredentialsGrant(config, { resource: PROFILE_API, scope: 'profile' });
  expect(decodeJwt(tokens.access_token)).toMatchObject({ iss: issuer, aud: PROFILE_API, sub: 'service-client' });
  expect(await client.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: true, client_id: 'service-client' });
  await client.tokenRevocation(config, tokens.access_token);
  expect(await client.tokenIntrospection(config, tokens.access_token)).toEqual({ active: false });
}

/** Device authorization grant: pending, approved through the pages (user code lookup), tokens, no reuse. */
export async function deviceFlow(issuer: string): Promise<void> {
  const config = await discoverAt(issuer, 'device-client');
  const device = await client.initiateDeviceAuthorization(config, { scope: 'openid offline_access' });
  const token = config.serverMetadata().token_endpoint!;
  const poll = () => postForm(token, { grant_type: DEVICE_CODE_GRANT, device_code: device.device_code, client_id: 'device-client' });
  expect((await poll()).body.error).toBe('authorization_pending');

  const agent = new UserAgent();
  const entryUrl = new URL(device.verification_uri);
  const entryPage = await (await agent.fetch(entryUrl)).text();
  const confirm = await postPageForm(
    agent,
    formAction(entryPage, entryUrl),
    { xsrf: hiddenInput(entryPage, 'xsrf'), user_code: device.user_code },
    'text/html',
  );
  const confirmPage = await confirm.text();
  expect(confirmPage).toContain(device.user_code);
  const confirmed = await answerDeviceConfirmation(agent, confirmPage, entryUrl, 'confirm');
  expect(confirmed.status).toBe(303);
  const done = await walkInteractions(agent, new URL(confirmed.headers.get('location')!, entryUrl), ALICE);
  expect(done.status).toBe(200);

  const tokens = await client.genericGrantRequest(config, DEVICE_CODE_GRANT, { device_code: device.device_code });
  expect(tokens.claims()).toMatchObject({ iss: issuer, sub: 'alice', aud: 'device-client' });
  expect((await poll()).body.error).toBe('invalid_grant');
}
