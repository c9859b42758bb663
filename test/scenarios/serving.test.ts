/**
 * Scenario issuers are served beside the main one: created on first request, each with its own
 * keys and verdict; unknown names and bad run ids answered as OAuth errors; the catalog listed.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { UserAgent } from '../support/agent.ts';
import { client, codeRequest, discoverAt, signIn } from '../support/openid.ts';
import { useTestbed } from '../support/testbed.ts';

describe('scenario issuers', () => {
  const testbed = useTestbed({ apis: false });

  it('serves a run at <issuer>/scenarios/<name>/runs/<run> with discovery of its own issuer and signing keys of its own', async () => {
    const run = randomUUID();
    const issuer = `${testbed().issuer}/scenarios/happy-path/runs/${run}`;
    const discovery = await fetch(`${issuer}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    const metadata = (await discovery.json()) as { issuer: string; jwks_uri: string; token_endpoint: string };
    expect(metadata.issuer).toBe(issuer);
    expect(metadata.token_endpoint).toBe(`${issuer}/token`);
    const rfc8414 = await fetch(`${testbed().issuer}/.well-known/oauth-authorization-server/scenarios/happy-path/runs/${run}`);
    expect(((await rfc8414.json()) as { issuer: string }).issuer).toBe(issuer);
    const [own, main] = await Promise.all(
      [fetch(metadata.jwks_uri), fetch(testbed().urls.jwks)].map(async (answer) =>
        ((await (await answer).json()) as { keys: Array<{ kid: string; use?: string }> }).keys
          .filter((key) => key.use === 'sig')
          .map((key) => key.kid),
      ),
    );
    // Signing keys of its own (RS256, ES256, Ed25519); request-object decryption keys are the main issuer's.
    expect(own).toHaveLength(3);
    expect(own.some((kid) => main.includes(kid))).toBe(false);
  });

  it('passes happy-path when openid-client completes a login and calls userinfo', async () => {
    const handle = await testbed().scenario('happy-path', { run: randomUUID() });
    expect(handle.verdict().status).toBe('waiting');
    const config = await discoverAt(handle.issuer, 'spa-client');
    const { tokens } = await signIn(config, {
      redirect_uri: 'http://localhost:5173/callback',
      scope: 'openid profile',
      login_hint: 'alice',
    });
    await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    const verdict = await handle.waitForVerdict({ timeoutMs: 2000 });
    expect(verdict).toMatchObject({ scenario: 'happy-path', status: 'passed' });
    expect(verdict.requests.map((request) => request.endpoint)).toEqual(
      expect.arrayContaining(['discovery', 'authorization', 'token', 'userinfo']),
    );
  });

  it('serves PAR at a run: the pushed request is redeemed there and the login completes', async () => {
    const handle = await testbed().scenario('happy-path', { run: randomUUID() });
    const config = await discoverAt(handle.issuer, 'spa-client');
    expect(config.serverMetadata().pushed_authorization_request_endpoint).toBe(`${handle.issuer}/request`);
    const { parameters, codeVerifier } = await codeRequest('http://localhost:5173/callback', { scope: 'openid profile' });
    const url = await client.buildAuthorizationUrlWithPAR(config, parameters);
    expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    const { url: callback } = await new UserAgent().follow(url, 'http://localhost:5173/callback');
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: codeVerifier,
      expectedState: parameters.state,
      expectedNonce: parameters.nonce,
    });
    expect(tokens.claims()).toMatchObject({ iss: handle.issuer, sub: 'alice' });
    expect(handle.verdict().requests.map((request) => request.endpoint)).toEqual(
      expect.arrayContaining(['pushed_authorization_request', 'authorization', 'token']),
    );
  });

  it('answers 404 not_found with the nearest name for an unknown scenario, 400 for a bad run id', async () => {
    const unknown = await fetch(`${testbed().issuer}/scenarios/id-token-bad-nonce/.well-known/openid-configuration`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      error: 'not_found',
      error_description: `no scenario 'id-token-bad-nonce'; did you mean 'id-token-invalid-nonce'? see ${testbed().issuer}/_testbed/scenarios`,
    });
    const badRun = await fetch(`${testbed().issuer}/scenarios/happy-path/runs/not.allowed/.well-known/openid-configuration`);
    expect(badRun.status).toBe(400);
    expect(await badRun.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('lists the catalog as JSON, with each standing issuer', async () => {
    const answer = await fetch(`${testbed().issuer}/_testbed/scenarios`, { headers: { accept: 'application/json' } });
    expect(answer.status).toBe(200);
    const { scenarios } = (await answer.json()) as {
      scenarios: Array<{ name: string; issuer: string; plans: string[]; defect: string; expect: string }>;
    };
    expect(scenarios.map((scenario) => scenario.name)).toEqual(
      expect.arrayContaining(['happy-path', 'id-token-invalid-nonce', 'discovery-issuer-mismatch', 'backchannel-logout-alg-none']),
    );
    expect(scenarios.find((scenario) => scenario.name === 'id-token-invalid-iss')).toMatchObject({
      issuer: `${testbed().issuer}/scenarios/id-token-invalid-iss`,
      plans: expect.arrayContaining(['basic']),
    });
    expect(testbed().scenarios).toEqual(scenarios);
  });
});

describe('a negative ID-token scenario, judged both ways', () => {
  const testbed = useTestbed({ apis: false });

  const login = async (run: string) => {
    const handle = await testbed().scenario('id-token-invalid-nonce', { run });
    const config = await discoverAt(handle.issuer, 'spa-client');
    const failure = await signIn(config, {
      redirect_uri: 'http://localhost:5173/callback',
      scope: 'openid profile',
      login_hint: 'alice',
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    return { handle, config, failure: failure as { code?: string; cause?: { message?: string; claim?: string } } };
  };

  it('openid-client rejects the token response (nonce), and the verdict passes when nothing follows', async () => {
    const { handle, failure } = await login(randomUUID());
    expect(failure.code).toBe('OAUTH_JWT_CLAIM_COMPARISON_FAILED');
    expect(failure.cause?.message).toMatch(/nonce/);
    expect((await handle.waitForVerdict({ waitMs: 300, timeoutMs: 3000 })).status).toBe('passed');
  });

  it('fails, naming userinfo, when the relying party calls userinfo anyway', async () => {
    const { handle } = await login(randomUUID());
    const raw = handle.verdict().requests.find((request) => request.endpoint === 'token');
    expect(raw?.status).toBe(200);
    // An RP that ignored the error: it still uses the access token it was given.
    const run = await fetch(`${handle.issuer}/_testbed/verdict`);
    expect(run.status).toBe(200);
    await fetch(`${handle.issuer}/me`, { headers: { authorization: 'Bearer whatever' } });
    const verdict = await handle.waitForVerdict({ waitMs: 300, timeoutMs: 3000 });
    expect(verdict.status).toBe('failed');
    expect(verdict.reason).toMatch(/userinfo/);
  });
});

describe('idle runs', () => {
  const testbed = useTestbed({ apis: false, scenarioIdleMs: 300 });

  it('are dropped after scenarioIdleMs; the next request builds the run again, with new keys and an empty record', async () => {
    const issuer = `${testbed().issuer}/scenarios/happy-path/runs/${randomUUID()}`;
    const kids = async () =>
      ((await (await fetch(`${issuer}/jwks`)).json()) as { keys: Array<{ kid: string; use: string }> }).keys
        .filter((key) => key.use === 'sig')
        .map((key) => key.kid);
    const first = await kids();
    expect(await kids()).toEqual(first); // in use: the same run
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const again = await kids();
    expect(again.some((kid) => first.includes(kid))).toBe(false);
    const verdict = (await (await fetch(`${issuer}/_testbed/verdict`)).json()) as { requests: Array<{ endpoint: string }> };
    expect(verdict.requests.map((request) => request.endpoint)).toEqual(['jwks']);
  });
});
