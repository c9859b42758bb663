/**
 * The key scenarios (a jwks_uri only discovery names, rotation after the first login and just
 * before the first signature), signed UserInfo and an error by form_post, with openid-client 6:
 * each completes (or is refused) as a correct RP would, and the verdict says so both ways.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { formPostFields, postedCallback } from '../support/form-post.ts';
import { client, discoverAt, signIn } from '../support/openid.ts';
import { useTestbed } from '../support/testbed.ts';

const SPA = { redirect_uri: 'http://localhost:5173/callback', scope: 'openid profile', login_hint: 'alice' };
const QUICK = { waitMs: 300, timeoutMs: 3000 };

async function verifyingClient(issuer: string) {
  const config = await discoverAt(issuer, 'spa-client');
  client.enableNonRepudiationChecks(config);
  return config;
}

const kidsAt = async (url: string) => ((await (await fetch(url)).json()) as { keys: Array<{ kid?: string }> }).keys.map((key) => key.kid);

describe('key and discovery scenarios', () => {
  const testbed = useTestbed({ apis: false });

  it('discovery-jwks-uri-keys: keys at the discovered random path; passed once an RP read them there, waiting for one that never did', async () => {
    const handle = await testbed().scenario('discovery-jwks-uri-keys', { run: randomUUID() });
    const metadata = (await (await fetch(handle.discovery)).json()) as { jwks_uri: string };
    expect(metadata.jwks_uri).toMatch(new RegExp(`^${handle.issuer}/jwks-[\\w-]{12}$`));
    expect(await kidsAt(metadata.jwks_uri)).toEqual(await kidsAt(`${handle.issuer}/jwks`));
    handle.reset();

    // openid-client's default code flow never fetches the JWKS: the run cannot pass.
    const lax = await discoverAt(handle.issuer, 'spa-client');
    const first = await signIn(lax, SPA);
    await client.fetchUserInfo(lax, first.tokens.access_token, first.tokens.claims()!.sub);
    expect((await handle.waitForVerdict(QUICK)).status).toBe('waiting');

    const strict = await verifyingClient(handle.issuer);
    const { tokens } = await signIn(strict, SPA);
    await client.fetchUserInfo(strict, tokens.access_token, tokens.claims()!.sub);
    const verdict = await handle.waitForVerdict(QUICK);
    expect(verdict.status).toBe('passed');
    expect(verdict.requests.some((request) => request.path.includes('/jwks-') && request.endpoint === 'jwks')).toBe(true);
  });

  it('signing-key-rotation: from the authorization request after the first login only a new key is published and signs; an RP that re-fetches passes', async () => {
    const handle = await testbed().scenario('signing-key-rotation', { run: randomUUID() });
    const before = await kidsAt(`${handle.issuer}/jwks`);
    const first = await signIn(await verifyingClient(handle.issuer), SPA);
    expect(before).toContain(decodeProtectedHeader(first.tokens.id_token!).kid);
    expect(await kidsAt(`${handle.issuer}/jwks`)).toEqual(before);
    expect((await handle.waitForVerdict(QUICK)).status).toBe('waiting');

    // A new Configuration has no cached JWKS: it fetches the rotated one for the unknown kid.
    const config = await verifyingClient(handle.issuer);
    const second = await signIn(config, SPA);
    const after = await kidsAt(`${handle.issuer}/jwks`);
    expect(after).toHaveLength(1);
    expect(before).not.toContain(after[0]);
    expect(decodeProtectedHeader(second.tokens.id_token!).kid).toBe(after[0]);
    await client.fetchUserInfo(config, second.tokens.access_token, second.tokens.claims()!.sub);
    expect((await handle.waitForVerdict(QUICK)).status).toBe('passed');
  });

  it('signing-key-rotation-just-before-signing: the first ID token is signed with a key the JWKS had not published before', async () => {
    const handle = await testbed().scenario('signing-key-rotation-just-before-signing', { run: randomUUID() });
    const before = await kidsAt(`${handle.issuer}/jwks`);
    const config = await verifyingClient(handle.issuer);
    const { tokens } = await signIn(config, SPA);
    const kid = decodeProtectedHeader(tokens.id_token!).kid;
    expect(before).not.toContain(kid);
    expect(await kidsAt(`${handle.issuer}/jwks`)).toEqual([kid]);
    await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    expect((await handle.waitForVerdict(QUICK)).status).toBe('passed');
  });

  it('userinfo-signed: UserInfo is an RS256 JWT for the client, which openid-client reads', async () => {
    const handle = await testbed().scenario('userinfo-signed', { run: randomUUID() });
    const config = await discoverAt(handle.issuer, 'spa-client');
    expect(config.serverMetadata().userinfo_signing_alg_values_supported).toEqual(['RS256']);
    const { tokens } = await signIn(config, SPA);
    const raw = await fetch(`${handle.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(raw.headers.get('content-type')).toMatch(/^application\/jwt/);
    const jwt = await raw.text();
    expect(decodeProtectedHeader(jwt).alg).toBe('RS256');
    expect(decodeJwt(jwt)).toMatchObject({ iss: handle.issuer, aud: 'spa-client', sub: 'alice' });
    const claims = await client.fetchUserInfo(config, tokens.access_token, 'alice');
    expect(claims).toMatchObject({ sub: 'alice', iss: handle.issuer });
    expect((await handle.waitForVerdict(QUICK)).status).toBe('passed');
  });
});

describe('form-post-error', () => {
  const testbed = useTestbed({ apis: false });

  /** prompt=none without a session: the form the issuer posts back, as fields. */
  async function errorByFormPost(issuer: string, config: client.Configuration) {
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: SPA.redirect_uri,
      scope: SPA.scope,
      response_mode: 'form_post',
      prompt: 'none',
      max_age: '0',
      state,
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const answer = await fetch(url, { redirect: 'manual' });
    const { fields } = formPostFields(await answer.text());
    expect(fields).toMatchObject({ error: 'login_required', state, iss: issuer });
    return { fields, state };
  }

  it('openid-client takes login_required from the form post; the verdict passes when no token request follows', async () => {
    const handle = await testbed().scenario('form-post-error', { run: randomUUID() });
    const config = await discoverAt(handle.issuer, 'spa-client');
    const { fields, state } = await errorByFormPost(handle.issuer, config);
    const failure = await client.authorizationCodeGrant(config, postedCallback(SPA.redirect_uri, fields), { expectedState: state }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(client.AuthorizationResponseError);
    expect(failure).toMatchObject({ code: 'OAUTH_AUTHORIZATION_RESPONSE_ERROR', error: 'login_required' });
    expect((await handle.waitForVerdict(QUICK)).status).toBe('passed');
  });

  it('fails, naming token, when the relying party goes to the token endpoint anyway', async () => {
    const handle = await testbed().scenario('form-post-error', { run: randomUUID() });
    const config = await discoverAt(handle.issuer, 'spa-client');
    await errorByFormPost(handle.issuer, config);
    await fetch(`${handle.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: 'none-was-issued',
        client_id: 'spa-client',
        redirect_uri: SPA.redirect_uri,
      }),
    });
    const verdict = await handle.waitForVerdict(QUICK);
    expect(verdict.status).toBe('failed');
    expect(verdict.reason).toMatch(/called token/);
  });
});
