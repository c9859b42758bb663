/**
 * Redis going away and coming back, on a throw-away redis-server (never the machine's own): the
 * testbed answers 503 temporarily_unavailable (JSON, an error page for browsers, a redirect to the
 * client from the authorization endpoint), reports it on /healthz, and serves again by itself.
 * At start-up an unreachable Redis is one clear error, or a wait with --wait-for-redis.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestbed, StoreStartupError, type Testbed } from '../../src/index.ts';
import { UserAgent } from '../support/agent.ts';
import { formRequest, postForm, readJson } from '../support/http.ts';
import { client } from '../support/openid.ts';
import { uniquePrefix } from '../support/store.ts';
import { REDIRECT_URI } from './core-flows.ts';
import { freePort, RedisServer, requireRedisBinaries } from './redis-servers.ts';
import { runCli, waitForBanner } from './testbed-processes.ts';

const binaries = requireRedisBinaries();
const SERVICE: [string, string] = ['service-client', 'service-client-secret'];
const UNAVAILABLE = { error: 'temporarily_unavailable', error_description: expect.stringContaining('store') };

/** Polls /healthz until it answers 200 (Redis back and reconnected); no timing is asserted. */
async function waitUntilHealthy(url: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if ((await fetch(url)).status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} did not become healthy`);
}

(binaries ? describe : describe.skip)('Redis outage during a run', () => {
  let redis: RedisServer;
  let testbed: Testbed;
  beforeAll(async () => {
    redis = await RedisServer.start();
    testbed = await startTestbed({ port: 0, logLevel: 'silent', redis: { url: redis.url, prefix: uniquePrefix('fault') } });
  });
  afterAll(async () => {
    await testbed?.stop();
    await redis?.destroy();
  });

  it('fails requests with 503 temporarily_unavailable while Redis is down, and recovers by itself', async () => {
    const { urls } = testbed;
    const before = await postForm(urls.token, { grant_type: 'client_credentials' }, { basic: SERVICE });
    expect(before.status).toBe(200);
    const forDirectory = await postForm(urls.token, { grant_type: 'client_credentials', resource: 'http://localhost:9402/openidm/', scope: 'fr:idm:*' }, { basic: SERVICE });
    expect(forDirectory.status).toBe(200);
    // A browser stopped at the login page: its interaction lives in Redis.
    const agent = new UserAgent();
    const config = await client.discovery(new URL(testbed.issuer), 'node-openid-client', {}, client.ClientSecretBasic('password'), { execute: [client.allowInsecureRequests] });
    const authorizationUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI, scope: 'openid', state: 'state-1',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    });
    const { url: loginPage, response } = await agent.follow(authorizationUrl, REDIRECT_URI);
    expect(response?.status).toBe(200);
    expect(loginPage.pathname).toMatch(/^\/interaction\//);

    await redis.stop();

    const token = await postForm(urls.token, { grant_type: 'client_credentials' }, { basic: SERVICE });
    expect(token.status).toBe(503);
    expect(token.body).toEqual(UNAVAILABLE);
    expect(token.headers.get('retry-after')).toBe('1');

    // The mock APIs check revocation state in the store: they answer the same 503, not a 500.
    const api = await fetch(`${urls.directoryApi}info/login`, { headers: { authorization: `Bearer ${forDirectory.body.access_token as string}` } });
    expect(api.status).toBe(503);
    expect(await api.json()).toEqual(UNAVAILABLE);

    const introspection = await postForm(urls.introspection, { token: before.body.access_token as string }, { basic: ['profile-api', 'profile-api-secret'] });
    expect(introspection.status).toBe(503);
    expect(introspection.body).toEqual(UNAVAILABLE);

    const health = await readJson(await fetch(urls.health));
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'unavailable', store: { ok: false, kind: 'redis', target: redis.url } });

    // The authorization endpoint reports it to the client (RFC 6749 §4.1.2.1).
    const authorization = await fetch(authorizationUrl, { redirect: 'manual' });
    expect(authorization.status).toBe(303);
    const callback = new URL(authorization.headers.get('location')!);
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(Object.fromEntries(callback.searchParams)).toMatchObject({ error: 'temporarily_unavailable', state: 'state-1', iss: testbed.issuer });

    // An unknown client cannot be redirected to: the browser gets the error page.
    const page = await fetch(`${urls.authorization}?client_id=unknown-client&response_type=code&scope=openid`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(503);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('temporarily_unavailable');

    // The testbed's own interaction routes answer the same way.
    const interactionHtml = await agent.fetch(loginPage, { headers: { accept: 'text/html' } });
    expect(interactionHtml.status).toBe(503);
    expect(interactionHtml.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await interactionHtml.text()).toContain('temporarily_unavailable');
    const interactionJson = await readJson(await agent.fetch(loginPage, { headers: { accept: 'application/json' } }));
    expect(interactionJson.status).toBe(503);
    expect(interactionJson.body).toEqual(UNAVAILABLE);

    await redis.start();
    await waitUntilHealthy(urls.health);
    const after = await postForm(urls.token, { grant_type: 'client_credentials' }, { basic: SERVICE });
    expect(after.status).toBe(200);
    const active = await postForm(urls.introspection, { token: after.body.access_token as string }, { basic: ['profile-api', 'profile-api-secret'] });
    expect(active.status).toBe(200);
    expect(active.body).toMatchObject({ active: true, client_id: 'service-client' });
  });

  it('answers a burst of requests during the outage, none hanging', async () => {
    await redis.stop();
    const answers = await Promise.all(Array.from({ length: 20 }, () => formRequest(testbed.urls.token, { grant_type: 'client_credentials' }, { basic: SERVICE })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(503));
    await redis.start();
    await waitUntilHealthy(testbed.urls.health);
  });
});

(binaries ? describe : describe.skip)('start-up with Redis unreachable', () => {
  it('startTestbed() rejects with StoreStartupError naming the URL without its password', async () => {
    const port = await freePort();
    const failure = startTestbed({ port: 0, apis: false, redis: `redis://user:hunter2@127.0.0.1:${port}` });
    await expect(failure).rejects.toBeInstanceOf(StoreStartupError);
    await expect(failure).rejects.toThrow(`cannot reach Redis at redis://user:***@127.0.0.1:${port}`);
    await expect(failure).rejects.not.toThrow('hunter2');
  });

  it('the CLI exits with one line naming the URL; with --wait-for-redis it waits and comes up', async () => {
    const port = await freePort();
    const url = `redis://:hunter2@127.0.0.1:${port}`;
    const failed = await runCli(['start', '--port', '0', '--no-apis', '--redis', url]).exited;
    expect(failed.code).toBe(2);
    expect(failed.output.trim().split('\n')).toEqual([expect.stringContaining(`oidc-testbed: cannot reach Redis at redis://:***@127.0.0.1:${port} (connect ECONNREFUSED`)]);
    expect(failed.output).not.toContain('hunter2');

    const waiting = runCli(['start', '--port', '0', '--no-apis', '--redis', `redis://127.0.0.1:${port}`, '--wait-for-redis', '--log-level', 'warn']);
    let redis: RedisServer | undefined;
    try {
      // Wait until it says it is waiting, then start Redis.
      for (let attempt = 0; attempt < 200 && !waiting.output().includes('waiting for Redis'); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(waiting.output()).toContain('waiting for Redis');
      expect(waiting.child.exitCode).toBeNull();
      redis = await RedisServer.start({ port });
      const testbedPort = await waitForBanner(waiting);
      expect((await fetch(`http://127.0.0.1:${testbedPort}/healthz`)).status).toBe(200);
    } finally {
      waiting.child.kill('SIGTERM');
      await waiting.exited;
      await redis?.destroy();
    }
  });
});
