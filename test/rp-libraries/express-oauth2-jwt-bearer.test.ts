/**
 * express-oauth2-jwt-bearer (Auth0's resource-server middleware) as a black box, set up as the
 * products API of express-openid-connect's own examples (examples/api.js: audience
 * https://api.example.com/products, RS256, requiredScopes('read:products')), against
 * fixtures/express-openid-connect.yaml: the tokens of an `audience` login, and of its refreshes,
 * are JWTs it accepts, and the same tokens work at the testbed's userinfo endpoint.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { auth, requiredScopes } from 'express-oauth2-jwt-bearer';
import { decodeProtectedHeader } from 'jose';
import { useAppServer } from '../support/app-server.ts';
import { client, discover, signIn } from '../support/openid.ts';
import { useTestbed } from '../support/testbed.ts';

const FIXTURE = fileURLToPath(new URL('../../fixtures/express-openid-connect.yaml', import.meta.url));
const PRODUCTS = 'https://api.example.com/products';
const CLIENT = {
  id: 'express-openid-connect-example',
  secret: 'express-openid-connect-example-secret',
  redirectUri: 'http://localhost:3000/callback',
};

describe('express-oauth2-jwt-bearer as the products API of fixtures/express-openid-connect.yaml', () => {
  const api = useAppServer();
  // Headless sign-ins by login_hint: the fixture itself has auto-login off (a person uses the login page).
  const testbed = useTestbed({ fixture: FIXTURE, autoLogin: true });

  beforeAll(() => {
    const app = express();
    app.use(auth({ issuerBaseURL: testbed().issuer, audience: PRODUCTS, tokenSigningAlg: 'RS256' }));
    app.get('/products', requiredScopes('read:products'), (_req, res) => res.json([{ id: 1, name: 'Football boots' }]));
    api.serve(app);
  });

  async function products(accessToken: string) {
    const response = await fetch(`${api.origin()}/products`, { headers: { authorization: `Bearer ${accessToken}` } });
    return { status: response.status, challenge: response.headers.get('www-authenticate') };
  }

  async function audienceLogin(scope: string) {
    const config = await discover(testbed(), CLIENT.id, undefined, {}, client.ClientSecretBasic(CLIENT.secret));
    const { tokens } = await signIn(config, { redirect_uri: CLIENT.redirectUri, audience: PRODUCTS, scope, login_hint: 'admin' });
    return { config, tokens };
  }

  it('accepts the access token of the login (RS256 at+jwt) and of a refresh, which userinfo takes too', async () => {
    const { config, tokens } = await audienceLogin('openid profile email offline_access read:products');
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    expect(tokens.expires_in).toBe(10);
    expect(await products(tokens.access_token)).toEqual({ status: 200, challenge: null });

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(await products(refreshed.access_token)).toEqual({ status: 200, challenge: null });

    const userinfo = await client.fetchUserInfo(config, refreshed.access_token, 'admin');
    expect(userinfo).toMatchObject({ sub: 'admin', name: 'Ada Admin', email: 'admin@example.com', isAdmin: true });
  });

  it('refuses, with insufficient_scope, a products token of a login that did not ask for read:products', async () => {
    const { tokens } = await audienceLogin('openid profile');
    const answer = await products(tokens.access_token);
    expect(answer.status).toBe(403);
    expect(answer.challenge).toContain('error="insufficient_scope"');
  });
});
