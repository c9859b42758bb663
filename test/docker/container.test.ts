/**
 * The container test, `npm run test:docker` (not part of `npm test`: it needs a Docker engine).
 * Builds the image, runs it as `docker run` and as both compose files, and drives it from this
 * machine with openid-client, the way a README user would. Cleans up what it created.
 *
 * The checks run in order and later ones stand on earlier ones: where a step they need failed
 * (the build, a container or compose project coming up), they fail as "not run" without running.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { loadDefaultFixture } from '../../src/fixtures/load.ts';
import { REPO_ROOT } from '../support/command.ts';
import { readJson } from '../support/http.ts';
import { client, discoverAt, signIn } from '../support/openid.ts';
import { freePort, portIsFree } from '../support/ports.ts';
import { bearer, DIRECTORY_API, PROFILE_API } from '../support/resource-servers.ts';
import { waitFor } from '../support/wait-for.ts';
import { cleanUp, compose, docker, engineVersion, onCleanUp, RUN_ID, runToExit, startContainer, waitHealthy } from './docker-cli.ts';

const IMAGE = 'oidc-testbed:test';
const BUILD_TIMEOUT_MS = 20 * 60_000;

// ---------------------------------------------------------------------------------------------
// Steps other checks need.

const passed = new Set<'image' | 'run' | 'compose' | 'replicas'>();

/** A `beforeAll` that fails every check of its block, unrun, unless `step` passed. */
function needs(step: 'image' | 'run' | 'compose' | 'replicas', reason: string): void {
  beforeAll(() => {
    if (!passed.has(step)) throw new Error(`not run: ${reason}`);
  });
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

/** What a check measured (build time, image size, stop time), printed with the run. */
const note = (check: string, text: string) => console.log(`${check}: ${text}`);

/**
 * One readiness probe, bounded: while a container starts, docker-proxy may accept a connection
 * and never answer it, and a fetch without a deadline would then hang the whole run.
 */
async function answersOk(url: string): Promise<true | undefined> {
  return (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok ? true : undefined;
}

async function getJson(url: string, init?: RequestInit) {
  return readJson(await fetch(url, { ...init, signal: AbortSignal.timeout(5000) }));
}

const REDIRECT_URI = 'http://localhost:3000/callback';

/** A code flow with headless login (login_hint=alice, the default fixture's auto_login). */
async function codeFlow(config: client.Configuration, scope: string) {
  return (await signIn(config, { redirect_uri: REDIRECT_URI, scope })).tokens;
}

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  const engine = await engineVersion();
  if ('problem' in engine) throw new Error(engine.problem);
  note('container test', `Docker engine ${engine.version}; image ${IMAGE}; names ${RUN_ID}…`);
});

afterAll(cleanUp, 120_000);

describe('image', () => {
  test(
    'docker build -f docker/Dockerfile (multi-stage, npm run build, production dependencies only)',
    async () => {
      const started = performance.now();
      // --network host: `npm ci` inside the build needs the network, which this machine's bridge lacks.
      // --force-rm: the legacy builder otherwise keeps the container of a failed step.
      await docker('build', '--network', 'host', '--force-rm', '-f', 'docker/Dockerfile', '-t', IMAGE, '.');
      const size = Number((await docker('image', 'inspect', '-f', '{{.Size}}', IMAGE)).trim());
      note('docker build', `built in ${seconds(started)}, image size ${(size / 1e6).toFixed(0)} MB`);
      passed.add('image');
    },
    BUILD_TIMEOUT_MS,
  );

  describe('what it holds', () => {
    needs('image', 'the image did not build');

    test('image: non-root user, exposed ports, health check, OCI labels', async () => {
      const config = JSON.parse(await docker('image', 'inspect', '-f', '{{json .Config}}', IMAGE)) as {
        User: string;
        ExposedPorts: Record<string, unknown>;
        Healthcheck?: { Test: string[] };
        Labels: Record<string, string> | null;
        Env: string[];
      };
      expect(config.User).toBe('node');
      expect(Object.keys(config.ExposedPorts).sort()).toEqual(['9400/tcp', '9401/tcp', '9402/tcp']);
      expect(config.Healthcheck?.Test.join(' ')).toContain('/healthz');
      const labels = [
        'org.opencontainers.image.title',
        'org.opencontainers.image.description',
        'org.opencontainers.image.licenses',
        'org.opencontainers.image.version',
      ];
      expect(labels.filter((label) => !config.Labels?.[label])).toEqual([]);
      expect(config.Env).toContain('OIDC_TESTBED_HOST=0.0.0.0');
    });

    test('image: no sources, tests or dev dependencies; dist, bin, fixtures present', async () => {
      const { devDependencies } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
        devDependencies: Record<string, string>;
      };
      const absent = [
        '/app/src',
        '/app/test',
        '/app/bench',
        '/app/tsconfig.json',
        ...Object.keys(devDependencies).map((name) => `/app/node_modules/${name}`),
      ];
      const present = [
        '/app/dist/cli/main.js',
        '/app/dist/testbed.js',
        '/app/bin/oidc-testbed.js',
        '/app/fixtures/default.yaml',
        '/app/node_modules/oidc-provider',
        '/app/package.json',
      ];
      const script = [
        ...absent.map((path) => `[ ! -e ${path} ] || echo "unexpected ${path}"`),
        ...present.map((path) => `[ -e ${path} ] || echo "missing ${path}"`),
        "find /app/dist /app/bin -name '*.ts' ! -name '*.d.ts' | sed 's/^/unexpected source /'",
      ].join('; ');
      const out = await docker('run', '--rm', '--entrypoint', 'sh', IMAGE, '-c', script);
      expect(out.trim().split('\n').filter(Boolean)).toEqual([]);
    });
  });
});

describe('docker run', () => {
  needs('image', 'the image did not build');
  const name = `${RUN_ID}-run`;
  let issuer = '';
  let profilePort = 0;
  let directoryPort = 0;

  test('docker run -p 9400:9400 -p 9401:9401 -p 9402:9402 (if those are busy: free ports and OIDC_TESTBED_ISSUER): healthy', async () => {
    const defaultsFree = (await Promise.all([9400, 9401, 9402].map((port) => portIsFree(port)))).every(Boolean);
    const [idpPort, profile, directory] = defaultsFree ? [9400, 9401, 9402] : [await freePort(), await freePort(), await freePort()];
    [issuer, profilePort, directoryPort] = [`http://localhost:${idpPort}`, profile, directory];
    await startContainer(name, [
      '-p',
      `${idpPort}:9400`,
      '-p',
      `${profilePort}:9401`,
      '-p',
      `${directoryPort}:9402`,
      // The defaults need no flag at all; other host ports need the public issuer to match.
      ...(defaultsFree ? [] : ['-e', `OIDC_TESTBED_ISSUER=${issuer}`]),
      IMAGE,
    ]);
    await waitHealthy(name);
    const { status, body } = await getJson(`${issuer}/healthz`);
    expect(status).toBe(200);
    expect(body.issuer).toBe(issuer);
    note(
      'docker run',
      defaultsFree ? 'default ports, no flags' : `default ports busy: ${idpPort}, ${profilePort}, ${directoryPort} and OIDC_TESTBED_ISSUER`,
    );
    passed.add('run');
  });

  describe('the running container', () => {
    needs('run', 'the container did not become healthy');

    test('runs as non-root', async () => {
      const uid = (await docker('exec', name, 'id', '-u')).trim();
      expect(uid).toMatch(/^\d+$/);
      expect(uid).not.toBe('0');
    });

    test('openid-client from the host: client credentials, then the directory API', async () => {
      const config = await discoverAt(issuer, 'service-client', 'service-client-secret');
      const tokens = await client.clientCredentialsGrant(config, { resource: DIRECTORY_API, scope: 'fr:idm:*' });
      expect(decodeJwt(tokens.access_token).iss).toBe(issuer);
      const users = await getJson(`http://localhost:${directoryPort}/openidm/managed/user?_queryFilter=true`, {
        headers: bearer(tokens.access_token),
      });
      expect(users.status).toBe(200);
      const names = (users.body.result as Array<{ userName: string }>).map((user) => user.userName).sort();
      expect(names).toEqual(
        loadDefaultFixture()
          .users.map((user) => user.username)
          .sort(),
      );
    });

    test('openid-client from the host: code flow with headless login, userinfo, the profile API', async () => {
      const config = await discoverAt(issuer, 'node-openid-client', 'password');
      const tokens = await codeFlow(config, 'openid profile offline_access');
      expect(tokens.claims()?.iss).toBe(issuer);
      expect(tokens.claims()?.sub).toBe('alice');
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, 'alice');
      expect(userinfo.name).toBe('Alice Example');
      const forApi = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: PROFILE_API });
      const profile = await getJson(`http://localhost:${profilePort}/userinfo`, { headers: bearer(forApi.access_token) });
      expect(profile.status).toBe(200);
      expect(profile.body.name).toBe('Alice Example');
    });

    test('SIGTERM stops the container in under 2 s, exit code 0', async () => {
      const before = performance.now();
      await docker('kill', '--signal', 'TERM', name);
      const code = Number((await docker('wait', name)).trim());
      const elapsed = performance.now() - before;
      expect(code).toBe(0);
      expect(elapsed).toBeLessThan(2000);
      note('SIGTERM', `stopped in ${elapsed.toFixed(0)} ms`);
    });
  });
});

describe('configuration by environment', () => {
  needs('image', 'the image did not build');

  test('OIDC_TESTBED_PORT=abc: exit 2 and one line naming the variable', async () => {
    const { code, output } = await runToExit(`${RUN_ID}-badport`, ['-e', 'OIDC_TESTBED_PORT=abc', IMAGE]);
    expect(code).toBe(2);
    expect(output).toEqual(['oidc-testbed: OIDC_TESTBED_PORT must be a port number (0-65535), got "abc"']);
  });

  test('a broken inline OIDC_TESTBED_FIXTURE: exit 2 and one line naming the variable and the path', async () => {
    const fixture = 'clients:\n  - client_id: broken\n    client_secret: s\n    token_endpoint_auth_method: magic\n';
    const { code, output } = await runToExit(`${RUN_ID}-badfixture`, ['-e', `OIDC_TESTBED_FIXTURE=${fixture}`, IMAGE]);
    expect(code).toBe(2);
    expect(output).toEqual([
      expect.stringMatching(/^oidc-testbed: OIDC_TESTBED_FIXTURE: clients\[0\]\.token_endpoint_auth_method: must be one of/),
    ]);
  });

  test('a fixture mounted at /config/fixture.yaml is served (with OIDC_TESTBED_PORT and OIDC_TESTBED_ISSUER)', async () => {
    const directory = mkdtempSync(join(tmpdir(), `${RUN_ID}-fixture-`));
    onCleanUp(async () => rmSync(directory, { recursive: true, force: true }));
    const file = join(directory, 'fixture.yaml');
    writeFileSync(
      file,
      [
        'resources:',
        '  - { indicator: "https://api.compose.test/", name: compose-api, scopes: [things:read] }',
        'clients:',
        '  - { client_id: mounted-client, client_secret: mounted-secret, grant_types: [client_credentials], response_types: [], redirect_uris: [] }',
      ].join('\n'),
    );
    chmodSync(file, 0o644); // the container's `node` user reads it
    const port = await freePort();
    const name = `${RUN_ID}-mounted`;
    const issuer = `http://localhost:${port}`;
    await startContainer(name, [
      '-p',
      `${port}:9500`,
      '-v',
      `${file}:/config/fixture.yaml:ro`,
      '-e',
      'OIDC_TESTBED_PORT=9500',
      '-e',
      `OIDC_TESTBED_ISSUER=${issuer}`,
      IMAGE,
    ]);
    await waitFor('the mounted-fixture testbed', () => answersOk(`${issuer}/healthz`), 30_000);
    const config = await discoverAt(issuer, 'mounted-client', 'mounted-secret');
    const tokens = await client.clientCredentialsGrant(config, { resource: 'https://api.compose.test/', scope: 'things:read' });
    expect(decodeJwt(tokens.access_token).aud).toBe('https://api.compose.test/');
    await docker('rm', '-f', name);
  });
});

describe('compose: testbed + Redis (docker/compose.yaml)', () => {
  needs('image', 'the image did not build');
  const project = `${RUN_ID}single`;
  let env: NodeJS.ProcessEnv = {};
  let issuer = '';
  let upRun = false;
  const down = () => compose(project, 'compose.yaml', env, 'down', '-v', '--remove-orphans');

  beforeAll(async () => {
    const port = await freePort();
    env = {
      TESTBED_IMAGE: IMAGE,
      TESTBED_PORT: String(port),
      TESTBED_PROFILE_API_PORT: String(await freePort()),
      TESTBED_DIRECTORY_API_PORT: String(await freePort()),
    };
    issuer = `http://localhost:${port}`;
  });
  afterAll(async () => {
    if (upRun) await down().catch(() => undefined);
  }, 120_000);

  test('docker-compose up: healthy, on Redis', async () => {
    upRun = true;
    onCleanUp(down);
    await compose(project, 'compose.yaml', env, 'up', '-d', '--no-build');
    await waitHealthy((await compose(project, 'compose.yaml', env, 'ps', '-q', 'testbed')).trim());
    const { body } = await getJson(`${issuer}/healthz`);
    expect(body.issuer).toBe(issuer);
    expect((body.store as { kind?: string }).kind).toBe('redis');
    passed.add('compose');
  });

  describe('on the compose network', () => {
    needs('compose', 'compose.yaml did not come up');

    test('an RP in a container reads discovery by the internal name: back channel internal, issuer public', async () => {
      const script = `
        const internal = 'http://testbed:9400';
        const metadata = await (await fetch(internal + '/.well-known/openid-configuration')).json();
        const answer = await fetch(metadata.token_endpoint, {
          method: 'POST',
          headers: { authorization: 'Basic ' + btoa('service-client:service-client-secret'), 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'client_credentials', resource: '${DIRECTORY_API}', scope: 'fr:idm:*' }),
        });
        const tokens = await answer.json();
        const { createRemoteJWKSet, jwtVerify } = await import('jose');
        const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(metadata.jwks_uri)), { issuer: metadata.issuer, audience: '${DIRECTORY_API}' });
        const api = await fetch('http://testbed:9402/openidm/managed/user/alice', { headers: { authorization: 'Bearer ' + tokens.access_token } });
        console.log(JSON.stringify({ issuer: metadata.issuer, authorization_endpoint: metadata.authorization_endpoint, token_endpoint: metadata.token_endpoint, jwks_uri: metadata.jwks_uri, iss: payload.iss, api: api.status }));
      `;
      const out = await docker(
        'run',
        '--rm',
        '--network',
        `${project}_default`,
        '-w',
        '/app',
        '--entrypoint',
        'node',
        IMAGE,
        '--input-type=module',
        '-e',
        script,
      );
      expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({
        issuer,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: 'http://testbed:9400/token',
        jwks_uri: 'http://testbed:9400/jwks',
        iss: issuer,
        api: 200,
      });
    });
  });
});

describe('compose: two replicas on one Redis behind one port (docker/compose.replicas.yaml)', () => {
  needs('image', 'the image did not build');
  const project = `${RUN_ID}replicas`;
  let env: NodeJS.ProcessEnv = {};
  let [lb, a, b] = ['', '', ''];
  let upRun = false;
  const down = () => compose(project, 'compose.replicas.yaml', env, 'down', '-v', '--remove-orphans');

  beforeAll(async () => {
    const [lbPort, aPort, bPort] = [await freePort(), await freePort(), await freePort()];
    env = {
      TESTBED_IMAGE: IMAGE,
      TESTBED_PORT: String(lbPort),
      TESTBED_A_PORT: String(aPort),
      TESTBED_B_PORT: String(bPort),
      TESTBED_PROFILE_API_PORT: String(await freePort()),
      TESTBED_DIRECTORY_API_PORT: String(await freePort()),
    };
    [lb, a, b] = [lbPort, aPort, bPort].map((port) => `http://localhost:${port}`);
  });
  afterAll(async () => {
    if (upRun) await down().catch(() => undefined);
  }, 120_000);

  test('docker-compose up: both replicas and the balancer healthy, one issuer', async () => {
    upRun = true;
    onCleanUp(down);
    await compose(project, 'compose.replicas.yaml', env, 'up', '-d', '--no-build');
    for (const origin of [a, b, lb]) await waitFor(`${origin}/healthz`, () => answersOk(`${origin}/healthz`));
    for (const origin of [a, b]) {
      const { body } = await getJson(`${origin}/.well-known/openid-configuration`);
      expect({ issuer: body.issuer, token_endpoint: body.token_endpoint, authorization_endpoint: body.authorization_endpoint }).toEqual({
        issuer: lb,
        token_endpoint: `${origin}/token`,
        authorization_endpoint: `${lb}/auth`,
      });
      expect(((await getJson(`${origin}/healthz`)).body.store as { kind?: string }).kind).toBe('redis');
    }
    passed.add('replicas');
  });

  describe('across the replicas', () => {
    needs('replicas', 'compose.replicas.yaml did not come up');

    test('login on replica A, refresh and userinfo on replica B; both JWKS verify the tokens', async () => {
      const onB = await discoverAt(`${b}/.well-known/openid-configuration`, 'node-openid-client', 'password');
      const discoveredA = await discoverAt(`${a}/.well-known/openid-configuration`, 'node-openid-client', 'password');
      // The front channel too on A: a browser that reaches replica A directly.
      const metadataA = (await getJson(`${a}/.well-known/openid-configuration`)).body as client.ServerMetadata;
      const onA = new client.Configuration({ ...metadataA, authorization_endpoint: `${a}/auth` }, 'node-openid-client', 'password');
      client.allowInsecureRequests(onA);
      const tokens = await codeFlow(onA, 'openid profile offline_access');
      expect(tokens.claims()?.iss).toBe(lb);
      const userinfo = await client.fetchUserInfo(onB, tokens.access_token, 'alice');
      expect(userinfo.sub).toBe('alice');
      const refreshed = await client.refreshTokenGrant(onB, tokens.refresh_token!, { resource: PROFILE_API });
      expect(refreshed.claims()?.iss).toBe(lb);
      for (const origin of [a, b]) {
        const { payload } = await jwtVerify(refreshed.access_token, createRemoteJWKSet(new URL(`${origin}/jwks`)), {
          issuer: lb,
          audience: PROFILE_API,
        });
        expect(payload.sub).toBe('alice');
      }
      // The refresh token was rotated on B: A refuses the old one (it shares B's state).
      await expect(client.refreshTokenGrant(discoveredA, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    });

    test('a whole code flow through the balancer (requests alternate between replicas)', async () => {
      const config = await discoverAt(lb, 'node-openid-client', 'password');
      const tokens = await codeFlow(config, 'openid profile offline_access');
      expect(tokens.claims()?.sub).toBe('alice');
      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
      expect(refreshed.claims()?.iss).toBe(lb);
    });
  });
});
