/**
 * The container set-up "browser on the host, RP in a container": tokens and the browser use the
 * public issuer (http://localhost:PORT) while the RP reaches the IdP by another name. Here the
 * other name is http://127.0.0.1:PORT, the same server under a second origin.
 */
import { describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { postForm, readJson } from '../support/http.ts';
import { authorize, client } from '../support/openid.ts';
import { useTestbed } from '../support/testbed.ts';

const BACK_CHANNEL = [
  'jwks_uri',
  'token_endpoint',
  'userinfo_endpoint',
  'introspection_endpoint',
  'revocation_endpoint',
  'device_authorization_endpoint',
  'pushed_authorization_request_endpoint',
];
const FRONT_CHANNEL = ['authorization_endpoint', 'end_session_endpoint'];

describe('issuer/host split', () => {
  const testbed = useTestbed();
  const publicOrigin = () => new URL(testbed().issuer).origin;
  const internalOrigin = () => `http://127.0.0.1:${new URL(testbed().issuer).port}`;

  it('keeps the public issuer on the origin it runs on (http://localhost:PORT)', () => {
    expect(testbed().issuer).toMatch(/^http:\/\/localhost:\d+$/);
  });

  it.each([
    ['OpenID Connect discovery', '/.well-known/openid-configuration'],
    ['RFC 8414 metadata', '/.well-known/oauth-authorization-server'],
  ])('%s read by the internal name: back channel there, front channel and issuer public', async (_name, path) => {
    const { status, body } = await readJson(await fetch(`${internalOrigin()}${path}`));
    expect(status).toBe(200);
    expect(body.issuer).toBe(testbed().issuer);
    for (const member of BACK_CHANNEL) expect([member, new URL(body[member] as string).origin]).toEqual([member, internalOrigin()]);
    for (const member of FRONT_CHANNEL) expect([member, new URL(body[member] as string).origin]).toEqual([member, publicOrigin()]);
  });

  it('read by the public name, every endpoint is public', async () => {
    const { body } = await readJson(await fetch(testbed().urls.discovery));
    for (const member of [...BACK_CHANNEL, ...FRONT_CHANNEL])
      expect([member, new URL(body[member] as string).origin]).toEqual([member, publicOrigin()]);
  });

  it('openid-client discovering by the internal name: code flow, userinfo and refresh carry the public issuer', async () => {
    const contacted: string[] = [];
    const config = await client.discovery(
      new URL(`${internalOrigin()}/.well-known/openid-configuration`),
      'node-openid-client',
      'password',
      undefined,
      { execute: [client.allowInsecureRequests] },
    );
    config[client.customFetch] = (url, options) => {
      contacted.push(url);
      return fetch(url, options as RequestInit);
    };
    expect(config.serverMetadata().issuer).toBe(testbed().issuer);

    const redirect_uri = 'http://localhost:3000/callback';
    const auth = await authorize(config, { redirect_uri, scope: 'openid profile offline_access' });
    const tokens = await client.authorizationCodeGrant(config, auth.callbackUrl, {
      pkceCodeVerifier: auth.codeVerifier,
      expectedState: auth.state,
      expectedNonce: auth.nonce,
    });
    expect(tokens.claims()).toMatchObject({ iss: testbed().issuer, sub: 'alice', aud: 'node-openid-client' });
    const info = await client.fetchUserInfo(config, tokens.access_token, 'alice');
    expect(info.name).toBe('Alice Example');
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: 'http://localhost:9401/' });
    expect(contacted).toEqual([`${internalOrigin()}/token`, `${internalOrigin()}/me`, `${internalOrigin()}/token`]);

    // A resource server in the same network verifies with the JWKS at the internal name.
    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    const { payload } = await jwtVerify(refreshed.access_token, jwks, {
      issuer: testbed().issuer,
      audience: 'http://localhost:9401/',
      typ: 'at+jwt',
    });
    expect(payload.sub).toBe('alice');
    expect(new URL(config.serverMetadata().jwks_uri!).origin).toBe(internalOrigin());
  });

  it('device authorization requested by the internal name sends the user to the public verification URI (RFC 8628 §3.2)', async () => {
    const { status, body } = await postForm(`${internalOrigin()}/device/auth`, { client_id: 'device-client', scope: 'openid' });
    expect(status).toBe(200);
    expect(new URL(body.verification_uri as string).origin).toBe(publicOrigin());
    expect(new URL(body.verification_uri_complete as string).origin).toBe(publicOrigin());
    expect(new URL(body.verification_uri_complete as string).searchParams.get('user_code')).toBe(body.user_code);
  });
});
