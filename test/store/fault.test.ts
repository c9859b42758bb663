/**
 * Redis going away and coming back, on a throw-away redis-server (never the machine's own): the
 * testbed answers 503 temporarily_unavailable (JSON, an error page for browsers, a redirect to the
 * client from the authorization endpoint), reports it on /healthz, and serves again by itself, also
 * under load: requests in flight when Redis dies and those that keep arriving all get that 503,
 * never a 500 or a hang. The server keeps its data (append-only file), as a production Redis would
 * across a restart. At start-up an unreachable Redis is one clear error, or a wait with
 * --wait-for-redis. How fast the 503s and the recovery are is measured by bench/redis-outage.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { StoreStartupError, startTestbed, type Testbed } from '../../src/index.ts';
import { UserAgent } from '../support/agent.ts';
import { formRequest, postForm, readJson } from '../support/http.ts';
import { client, signIn } from '../support/openid.ts';
import { SUITE_FIXTURE, uniquePrefix } from '../support/store.ts';
import { discoverAt, REDIRECT_URI } from './core-flows.ts';
import { freePort, RedisServer, requireRedisBinaries } from './redis-servers.ts';
import { runCli, waitForBanner } from './testbed-processes.ts';

const binaries = requireRedisBinaries();
const SERVICE: [string, string] = ['service-client', 'service-client-secret'];
const INTROSPECTOR: [string, string] = ['profile-api', 'profile-api-secret'];
const UNAVAILABLE = { error: 'temporarily_unavailable', error_description: expect.stringContaining('store') };

/** Polls until `condition` holds (at most 200 × 50 ms, then fails naming `what`); no timing is asserted. */
async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: not reached`);
}

/** Polls /healthz until it answers 200 (Redis back and reconnected). */
function waitUntilHealthy(url: string): Promise<void> {
  return until(`${url} healthy`, async () => (await fetch(url)).status === 200);
}

(binaries ? describe : describe.skip)('Redis outage during a run', () => {
  let redis: RedisServer;
  let testbed: Testbed;
  beforeAll(async () => {
    redis = await RedisServer.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    testbed = await startTestbed({
      port: 0,
      fixture: SUITE_FIXTURE,
      logLevel: 'silent',
      redis: { url: redis.url, prefix: uniquePrefix('fault') },
    });
  });
  afterAll(async () => {
    await testbed?.stop();
    await redis?.destroy();
  });

  it('fails requests with 503 temporarily_unavailable while Redis is down, and recovers by itself', async () => {
    const { urls } = testbed;
    const before = await postForm(urls.token, { grant_type: 'client_credentials' }, { basic: SERVICE });
    expect(before.status).toBe(200);
    const forDirectory = await postForm(
      urls.token,
      { grant_type: 'client_credentials', resource: 'http://localhost:9402/openidm/', scope: 'fr:idm:*' },
      { basic: SERVICE },
    );
    expect(forDirectory.status).toBe(200);
    // A browser stopped at the login page: its interaction lives in Redis.
    const agent = new UserAgent();
    const config = await client.discovery(new URL(testbed.issuer), 'node-openid-client', {}, client.ClientSecretBasic('password'), {
      execute: [client.allowInsecureRequests],
    });
    const authorizationUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      state: 'state-1',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
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
    const api = await fetch(`${urls.directoryApi}info/login`, {
      headers: { authorization: `Bearer ${forDirectory.body.access_token as string}` },
    });
    expect(api.status).toBe(503);
    expect(await api.json()).toEqual(UNAVAILABLE);

    const introspection = await postForm(
      urls.introspection,
      { token: before.body.access_token as string },
      { basic: ['profile-api', 'profile-api-secret'] },
    );
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
    expect(Object.fromEntries(callback.searchParams)).toMatchObject({
      error: 'temporarily_unavailable',
      state: 'state-1',
      iss: testbed.issuer,
    });

    // An unknown client cannot be redirected to: the browser gets the error page.
    const page = await fetch(`${urls.authorization}?client_id=unknown-client&response_type=code&scope=openid`, {
      headers: { accept: 'text/html' },
    });
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
    const active = await postForm(
      urls.introspection,
      { token: after.body.access_token as string },
      { basic: ['profile-api', 'profile-api-secret'] },
    );
    expect(active.status).toBe(200);
    expect(active.body).toMatchObject({ active: true, client_id: 'service-client' });
  });

  it('answers a burst of requests during the outage, none hanging', async () => {
    await redis.stop();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => formRequest(testbed.urls.token, { grant_type: 'client_credentials' }, { basic: SERVICE })),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(503));
    await redis.start();
    await waitUntilHealthy(testbed.urls.health);
  });

  it('under load: requests in flight and arriving while Redis is down get 503, and every endpoint serves again after', async () => {
    const { urls } = testbed;
    const opaque = (await postForm(urls.token, { grant_type: 'client_credentials' }, { basic: SERVICE })).body.access_token as string;
    const spa = await discoverAt(testbed.issuer, 'spa-client');
    const { tokens } = await signIn(spa, { redirect_uri: 'http://localhost:5173/callback', scope: 'openid profile' });
    const endpoints: Record<string, () => Promise<Response>> = {
      token: () => formRequest(urls.token, { grant_type: 'client_credentials' }, { basic: SERVICE }),
      introspection: () => formRequest(urls.introspection, { token: opaque }, { basic: INTROSPECTOR }),
      userinfo: () => fetch(urls.userinfo, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
    };
    // Three loops per endpoint, each request tagged with what Redis was doing when it was sent.
    type Phase = 'up' | 'stopping' | 'down' | 'starting' | 'back';
    interface Answer {
      endpoint: string;
      sent: Phase;
      status: number;
      body: string;
      retryAfter: string | null;
    }
    const answers: Answer[] = [];
    const state = { phase: 'up' as Phase, running: true };
    const loops = Object.entries(endpoints).flatMap(([endpoint, send]) =>
      Array.from({ length: 3 }, async () => {
        while (state.running) {
          const sent = state.phase;
          const response = await send();
          answers.push({
            endpoint,
            sent,
            status: response.status,
            body: await response.text(),
            retryAfter: response.headers.get('retry-after'),
          });
        }
      }),
    );
    const seen = (sent: Phase, status: number, count: number) =>
      Object.keys(endpoints).every(
        (endpoint) =>
          answers.filter((answer) => answer.endpoint === endpoint && answer.sent === sent && answer.status === status).length >= count,
      );
    try {
      await until('200s before the outage', () => seen('up', 200, 3));
      state.phase = 'stopping';
      await redis.stop();
      state.phase = 'down';
      await until('503s during the outage', () => seen('down', 503, 5));
      state.phase = 'starting';
      await redis.start();
      state.phase = 'back';
      await until('200s after Redis is back', () => seen('back', 200, 1));
    } finally {
      state.running = false;
      await Promise.all(loops);
    }

    expect(answers.filter(({ status }) => status !== 200 && status !== 503)).toEqual([]);
    expect(answers.filter(({ sent, status }) => sent === 'down' && status !== 503)).toEqual([]);
    for (const answer of answers.filter(({ status }) => status === 503)) {
      expect(JSON.parse(answer.body)).toEqual(UNAVAILABLE);
      expect(answer.retryAfter).toBe('1');
    }
    // What was stored before the outage is still there.
    expect((await postForm(urls.introspection, { token: opaque }, { basic: INTROSPECTOR })).body).toMatchObject({
      active: true,
      client_id: 'service-client',
    });
    expect(await client.fetchUserInfo(spa, tokens.access_token, 'alice')).toMatchObject({ sub: 'alice' });
  });
});

(binaries ? describe : describe.skip)('start-up with Redis unreachable', () => {
  it('startTestbed() rejects with StoreStartupError naming the URL without its password', async () => {
    const port = await freePort();
    const failure = startTestbed({ port: 0, fixture: SUITE_FIXTURE, apis: false, redis: `redis://user:hunter2@127.0.0.1:${port}` });
    await expect(failure).rejects.toBeInstanceOf(StoreStartupError);
    await expect(failure).rejects.toThrow(`cannot reach Redis at redis://user:***@127.0.0.1:${port}`);
    await expect(failure).rejects.not.toThrow('hunter2');
  });

  it('the CLI exits with one line naming the URL; with --wait-for-redis it waits and comes up', async () => {
    const port = await freePort();
    const url = `redis://:hunter2@127.0.0.1:${port}`;
    const failed = await runCli(['start', '--port', '0', '--no-apis', '--redis', url]).exited;
    expect(failed.code).toBe(2);
    expect(failed.output.trim().split('\n')).toEqual([
      expect.stringContaining(`oidc-testbed: cannot reach Redis at redis://:***@127.0.0.1:${port} (connect ECONNREFUSED`),
    ]);
    expect(failed.output).not.toContain('hunter2');

    const waiting = runCli([
      'start',
      '--port',
      '0',
      '--no-apis',
      '--redis',
      `redis://127.0.0.1:${port}`,
      '--wait-for-redis',
      '--log-level',
      'warn',
    ]);
    let redis: RedisServer | undefined;
    try {
      // Wait until it says it is waiting, then start Redis.
      for (let attempt = 0; attempt < 200 && !waiting.output().includes('waiting for Redis'); attempt += 1)
        await new Promise((resolve) => setTimeout(resolve, 50));
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
