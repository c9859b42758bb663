import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { startTestbed, type Testbed } from '../src/index.ts';
import { authorize, client, discover } from './support/openid.ts';

describe('core smoke', () => {
  let testbed: Testbed;
  beforeAll(async () => { testbed = await startTestbed({ port: 0 }); });
  afterAll(async () => { await testbed.stop(); });

  it('code + PKCE + refresh per resource', async () => {
    const config = await discover(testbed, 'node-openid-client', 'password');
    const redirect_uri = 'http://localhost:3000/callback';
    const auth = await authorize(config, { redirect_uri, scope: 'openid profile email offline_access fr:idm:*' });
    const tokens = await client.authorizationCodeGrant(config, auth.callbackUrl, { pkceCodeVerifier: auth.codeVerifier, expectedState: auth.state, expectedNonce: auth.nonce });
    expect(tokens.refresh_token).toBeDefined();
    const info = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    expect(info.name).toBe('Alice Example');
    const a = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: 'http://localhost:9401/' });
    expect(decodeJwt(a.access_token).aud).toBe('http://localhost:9401/');
    const b = await client.refreshTokenGrant(config, a.refresh_token!, { scope: 'fr:idm:*' });
    expect(decodeJwt(b.access_token).aud).toBe('http://localhost:9402/openidm/');
    const intro = await client.tokenIntrospection(config, b.access_token);
    expect(intro.active).toBe(true);
    await client.tokenRevocation(config, b.access_token);
    expect((await client.tokenIntrospection(config, b.access_token)).active).toBe(false);
  });
});
