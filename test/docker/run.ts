/**
 * The container test, `npm run test:docker` (not part of `npm test`: it needs a Docker engine).
 * Builds the image, runs it as `docker run` and as both compose files, and drives it from this
 * machine with openid-client, the way a README user would. Cleans up what it created.
 *
 *   docker: `docker` on PATH (DOCKER=… to choose); compose: `docker compose`, else `docker-compose`.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { loadDefaultFixture } from '../../src/fixtures/load.ts';
import { authorize, client } from '../support/openid.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCKER = process.env.DOCKER ?? 'docker';
const IMAGE = 'oidc-testbed:test';
const RUN_ID = `oidctb${process.pid}`;
const PROFILE_API = 'http://localhost:9401/';
const DIRECTORY_API = 'http://localhost:9402/openidm/';

// ---------------------------------------------------------------------------------------------
// Plumbing: commands, results, clean-up.

interface Result { code: number; stdout: string; stderr: string }

function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
    });
  });
}

async function must(command: string, args: string[], options?: { env?: NodeJS.ProcessEnv }): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.slice(0, 3).join(' ')} … exited ${result.code}: ${(result.stderr || result.stdout).trim().split('\n').slice(-8).join('\n')}`);
  return result.stdout;
}

const docker = (...args: string[]) => must(DOCKER, args);

let composeCommand: string[] | undefined;
async function compose(project: string, file: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
  composeCommand ??= (await run(DOCKER, ['compose', 'version'])).code === 0 ? [DOCKER, 'compose'] : ['docker-compose'];
  const [command, ...prefix] = composeCommand;
  return must(command, [...prefix, '-p', project, '-f', join(ROOT, 'docker', file), ...args], { env });
}

const cleanups: Array<() => Promise<unknown>> = [];
async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
}
process.once('SIGINT', () => { void cleanUp().then(() => process.exit(130)); });

async function startContainer(name: string, args: string[]): Promise<string> {
  cleanups.push(() => run(DOCKER, ['rm', '-f', '-v', name]));
  return (await docker('run', '-d', '--name', name, ...args)).trim();
}

let passed = 0;
let failed = 0;
async function check(name: string, body: () => Promise<string | void>): Promise<boolean> {
  const started = performance.now();
  try {
    const note = await body();
    passed += 1;
    console.log(`  ok    ${name} (${seconds(started)})${note ? `: ${note}` : ''}`);
    return true;
  } catch (error) {
    failed += 1;
    console.log(`  FAIL  ${name} (${seconds(started)}): ${(error as Error).message.replace(/\n/g, '\n        ')}`);
    return false;
  }
}

function skip(names: string[], reason: string): void {
  for (const name of names) {
    failed += 1;
    console.log(`  FAIL  ${name}: not run, ${reason}`);
  }
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function equal(actual: unknown, expected: unknown, what: string): void {
  assert(JSON.stringify(actual) === JSON.stringify(expected), `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/**
 * One readiness probe, bounded: while a container starts, docker-proxy may accept a connection
 * and never answer it, and a fetch without a deadline would then hang the whole run.
 */
function boundedFetch(url: string): Promise<Response> {
  return fetch(url, { signal: AbortSignal.timeout(2000) });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (${(last as Error).message})` : ''}`);
}

/** A port nothing on this machine listens on (every interface, as docker publishes). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function containerState(name: string): Promise<{ Status: string; ExitCode: number; Health?: { Status: string } }> {
  return JSON.parse(await docker('inspect', '-f', '{{json .State}}', name));
}

async function waitHealthy(name: string): Promise<void> {
  await waitFor(`${name} to be healthy`, async () => {
    const state = await containerState(name);
    if (state.Status === 'exited') throw new Error(`${name} exited ${state.ExitCode}: ${(await run(DOCKER, ['logs', '--tail', '5', name])).stderr.trim()}`);
    return state.Health?.Status === 'healthy' ? true : undefined;
  });
}

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`${url} answered ${response.status} with non-JSON: ${text.slice(0, 200)}`);
  }
  return { status: response.status, body };
}

/** Runs the container to its end and returns its exit code and its whole output. */
async function runToExit(name: string, args: string[]): Promise<{ code: number; output: string[] }> {
  await startContainer(name, args);
  const code = Number((await docker('wait', name)).trim());
  const logs = await run(DOCKER, ['logs', name]);
  return { code, output: `${logs.stdout}${logs.stderr}`.split('\n').filter((line) => line !== '') };
}

const insecure = { execute: [client.allowInsecureRequests] };

/** openid-client discovering by `origin`, which may differ from the issuer (a replica, an internal name). */
function discoverAt(origin: string, clientId: string, secret: string): Promise<client.Configuration> {
  return client.discovery(new URL(`${origin}/.well-known/openid-configuration`), clientId, secret, undefined, insecure);
}

/** A code flow with headless login (login_hint=alice, the default fixture's auto_login). */
async function codeFlow(config: client.Configuration, scope: string, resource?: string) {
  const auth = await authorize(config, { redirect_uri: 'http://localhost:3000/callback', scope, ...(resource ? { resource } : {}) });
  return client.authorizationCodeGrant(config, auth.callbackUrl, { pkceCodeVerifier: auth.codeVerifier, expectedState: auth.state, expectedNonce: auth.nonce });
}

// ---------------------------------------------------------------------------------------------
// The checks.

async function main(): Promise<void> {
  const started = performance.now();
  const info = await run(DOCKER, ['info', '--format', '{{.ServerVersion}}']);
  if (info.code !== 0) {
    console.error(`No Docker engine (${DOCKER} info: ${info.stderr.trim().split('\n')[0]}). Start one first (here: bash ../shared/tools/docker-engine.sh).`);
    console.log('0 passed, 1 failed');
    process.exitCode = 1;
    return;
  }
  console.log(`Docker engine ${info.stdout.trim()}; image ${IMAGE}`);

  console.log('image');
  const built = await check('docker build -f docker/Dockerfile (multi-stage, npm run build, production dependencies only)', async () => {
    const buildStarted = performance.now();
    // --network host: `npm ci` inside the build needs the network, which this machine's bridge lacks.
    await docker('build', '--network', 'host', '-f', 'docker/Dockerfile', '-t', IMAGE, '.');
    const size = Number((await docker('image', 'inspect', '-f', '{{.Size}}', IMAGE)).trim());
    return `built in ${seconds(buildStarted)}, image size ${(size / 1e6).toFixed(0)} MB`;
  });
  if (!built) {
    skip(['every container check'], 'the image did not build');
    return;
  }

  await check('image: non-root user, exposed ports, health check, OCI labels', async () => {
    const config = JSON.parse(await docker('image', 'inspect', '-f', '{{json .Config}}', IMAGE)) as {
      User: string; ExposedPorts: Record<string, unknown>; Healthcheck?: { Test: string[] }; Labels: Record<string, string>; Env: string[];
    };
    equal(config.User, 'node', 'USER');
    equal(Object.keys(config.ExposedPorts).sort(), ['9400/tcp', '9401/tcp', '9402/tcp'], 'EXPOSE');
    assert(config.Healthcheck?.Test.join(' ').includes('/healthz'), `HEALTHCHECK does not probe /healthz: ${JSON.stringify(config.Healthcheck)}`);
    for (const label of ['org.opencontainers.image.title', 'org.opencontainers.image.description', 'org.opencontainers.image.licenses', 'org.opencontainers.image.version']) {
      assert(config.Labels?.[label], `label ${label} missing`);
    }
    assert(config.Env.includes('OIDC_TESTBED_HOST=0.0.0.0'), 'OIDC_TESTBED_HOST=0.0.0.0 not set');
  });

  await check('image: no sources, tests or dev dependencies; dist, bin, fixtures present', async () => {
    const { devDependencies } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    const absent = ['/app/src', '/app/test', '/app/bench', '/app/tsconfig.json', ...Object.keys(devDependencies).map((name) => `/app/node_modules/${name}`)];
    const present = ['/app/dist/cli/main.js', '/app/dist/testbed.js', '/app/bin/oidc-testbed.js', '/app/fixtures/default.yaml', '/app/node_modules/oidc-provider', '/app/package.json'];
    const script = [
      ...absent.map((path) => `[ ! -e ${path} ] || echo "unexpected ${path}"`),
      ...present.map((path) => `[ -e ${path} ] || echo "missing ${path}"`),
      "find /app/dist /app/bin -name '*.ts' ! -name '*.d.ts' | sed 's/^/unexpected source /'",
    ].join('; ');
    const out = await docker('run', '--rm', '--entrypoint', 'sh', IMAGE, '-c', script);
    equal(out.trim().split('\n').filter(Boolean), [], 'image contents');
  });

  // -------------------------------------------------------------------------------------------
  console.log('docker run');
  const defaultsFree = (await Promise.all([9400, 9401, 9402].map(portIsFree))).every(Boolean);
  const [idpPort, profilePort, directoryPort] = defaultsFree ? [9400, 9401, 9402] : [await freePort(), await freePort(), await freePort()];
  const issuer = `http://localhost:${idpPort}`;
  const single = `${RUN_ID}-run`;
  const up = await check(`docker run -p ${idpPort}:9400 -p ${profilePort}:9401 -p ${directoryPort}:9402${defaultsFree ? '' : ` -e OIDC_TESTBED_ISSUER=${issuer}`}: healthy`, async () => {
    await startContainer(single, [
      '-p', `${idpPort}:9400`, '-p', `${profilePort}:9401`, '-p', `${directoryPort}:9402`,
      // The defaults need no flag at all; other host ports need the public issuer to match.
      ...(defaultsFree ? [] : ['-e', `OIDC_TESTBED_ISSUER=${issuer}`]),
      IMAGE,
    ]);
    await waitHealthy(single);
    const { status, body } = await getJson(`${issuer}/healthz`);
    equal(status, 200, '/healthz status');
    equal(body.issuer, issuer, '/healthz issuer');
    return defaultsFree ? 'default ports, no flags' : 'default ports busy: free ports and OIDC_TESTBED_ISSUER';
  });
  if (up) {
    await check('runs as non-root', async () => {
      const uid = (await docker('exec', single, 'id', '-u')).trim();
      assert(uid !== '0' && /^\d+$/.test(uid), `id -u is ${uid}`);
      return `uid ${uid}`;
    });

    await check('openid-client from the host: client credentials, then the directory API', async () => {
      const config = await client.discovery(new URL(issuer), 'service-client', 'service-client-secret', undefined, insecure);
      const tokens = await client.clientCredentialsGrant(config, { resource: DIRECTORY_API, scope: 'fr:idm:*' });
      equal(decodeJwt(tokens.access_token).iss, issuer, 'access token iss');
      const users = await getJson(`http://localhost:${directoryPort}/openidm/managed/user?_queryFilter=true`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      equal(users.status, 200, 'directory API status');
      const names = (users.body.result as Array<{ userName: string }>).map((user) => user.userName).sort();
      equal(names, loadDefaultFixture().users.map((user) => user.username).sort(), 'directory API users: the default fixture\'s');
    });

    await check('openid-client from the host: code flow with headless login, userinfo, the profile API', async () => {
      const config = await client.discovery(new URL(issuer), 'node-openid-client', 'password', undefined, insecure);
      const tokens = await codeFlow(config, 'openid profile offline_access');
      equal(tokens.claims()?.iss, issuer, 'ID token iss');
      equal(tokens.claims()?.sub, 'alice', 'ID token sub');
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, 'alice');
      equal(userinfo.name, 'Alice Example', 'userinfo name');
      const forApi = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: PROFILE_API });
      const profile = await getJson(`http://localhost:${profilePort}/userinfo`, { headers: { authorization: `Bearer ${forApi.access_token}` } });
      equal(profile.status, 200, 'profile API status');
      equal(profile.body.name, 'Alice Example', 'profile API name');
    });

    await check('SIGTERM stops the container in under 2 s, exit code 0', async () => {
      const before = performance.now();
      await docker('kill', '--signal', 'TERM', single);
      const code = Number((await docker('wait', single)).trim());
      const elapsed = performance.now() - before;
      equal(code, 0, 'exit code');
      assert(elapsed < 2000, `took ${elapsed.toFixed(0)} ms`);
      return `stopped in ${elapsed.toFixed(0)} ms`;
    });
  } else {
    skip(['runs as non-root', 'client credentials', 'code flow', 'SIGTERM'], 'the container did not become healthy');
  }

  // -------------------------------------------------------------------------------------------
  console.log('configuration by environment');
  await check('OIDC_TESTBED_PORT=abc: exit 2 and one line naming the variable', async () => {
    const { code, output } = await runToExit(`${RUN_ID}-badport`, ['-e', 'OIDC_TESTBED_PORT=abc', IMAGE]);
    equal(code, 2, 'exit code');
    equal(output, ['oidc-testbed: OIDC_TESTBED_PORT must be a port number (0-65535), got "abc"'], 'output');
  });

  await check('a broken inline OIDC_TESTBED_FIXTURE: exit 2 and one line naming the variable and the path', async () => {
    const fixture = 'clients:\n  - client_id: broken\n    client_secret: s\n    token_endpoint_auth_method: magic\n';
    const { code, output } = await runToExit(`${RUN_ID}-badfixture`, ['-e', `OIDC_TESTBED_FIXTURE=${fixture}`, IMAGE]);
    equal(code, 2, 'exit code');
    equal(output.length, 1, `one line (got ${JSON.stringify(output)})`);
    assert(output[0].startsWith('oidc-testbed: OIDC_TESTBED_FIXTURE: clients[0].token_endpoint_auth_method: must be one of'), `output: ${output[0]}`);
  });

  await check('a fixture mounted at /config/fixture.yaml is served (with OIDC_TESTBED_PORT and OIDC_TESTBED_ISSUER)', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'oidc-testbed-docker-'));
    cleanups.push(async () => rmSync(directory, { recursive: true, force: true }));
    const file = join(directory, 'fixture.yaml');
    writeFileSync(file, [
      'resources:',
      '  - { indicator: "https://api.compose.test/", name: compose-api, scopes: [things:read] }',
      'clients:',
      '  - { client_id: mounted-client, client_secret: mounted-secret, grant_types: [client_credentials], response_types: [], redirect_uris: [] }',
    ].join('\n'));
    chmodSync(file, 0o644); // the container's `node` user reads it
    const port = await freePort();
    const name = `${RUN_ID}-mounted`;
    const mountedIssuer = `http://localhost:${port}`;
    await startContainer(name, ['-p', `${port}:9500`, '-v', `${file}:/config/fixture.yaml:ro`, '-e', 'OIDC_TESTBED_PORT=9500', '-e', `OIDC_TESTBED_ISSUER=${mountedIssuer}`, IMAGE]);
    await waitFor('the mounted-fixture testbed', async () => ((await boundedFetch(`${mountedIssuer}/healthz`)).ok ? true : undefined), 30_000);
    const config = await client.discovery(new URL(mountedIssuer), 'mounted-client', 'mounted-secret', undefined, insecure);
    const tokens = await client.clientCredentialsGrant(config, { resource: 'https://api.compose.test/', scope: 'things:read' });
    equal(decodeJwt(tokens.access_token).aud, 'https://api.compose.test/', 'aud');
    await docker('rm', '-f', name);
  });

  // -------------------------------------------------------------------------------------------
  console.log('compose: testbed + Redis (docker/compose.yaml)');
  {
    const project = `${RUN_ID}single`;
    const port = await freePort();
    const env = { TESTBED_IMAGE: IMAGE, TESTBED_PORT: String(port), TESTBED_PROFILE_API_PORT: String(await freePort()), TESTBED_DIRECTORY_API_PORT: String(await freePort()) };
    cleanups.push(() => compose(project, 'compose.yaml', env, 'down', '-v', '--remove-orphans'));
    const composeIssuer = `http://localhost:${port}`;
    const composed = await check('docker-compose up: healthy, on Redis', async () => {
      await compose(project, 'compose.yaml', env, 'up', '-d', '--no-build');
      await waitHealthy((await compose(project, 'compose.yaml', env, 'ps', '-q', 'testbed')).trim());
      const { body } = await getJson(`${composeIssuer}/healthz`);
      equal(body.issuer, composeIssuer, '/healthz issuer');
      equal((body.store as { kind?: string }).kind, 'redis', '/healthz store kind');
    });
    if (composed) {
      await check('an RP in a container reads discovery by the internal name: back channel internal, issuer public', async () => {
        const network = `${project}_default`;
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
        const out = await docker('run', '--rm', '--network', network, '-w', '/app', '--entrypoint', 'node', IMAGE, '--input-type=module', '-e', script);
        equal(JSON.parse(out.trim().split('\n').pop()!), {
          issuer: composeIssuer,
          authorization_endpoint: `${composeIssuer}/auth`,
          token_endpoint: 'http://testbed:9400/token',
          jwks_uri: 'http://testbed:9400/jwks',
          iss: composeIssuer,
          api: 200,
        }, 'what the RP saw');
      });
    } else {
      skip(['an RP in a container'], 'compose.yaml did not come up');
    }
    await compose(project, 'compose.yaml', env, 'down', '-v', '--remove-orphans').catch(() => undefined);
  }

  // -------------------------------------------------------------------------------------------
  console.log('compose: two replicas on one Redis behind one port (docker/compose.replicas.yaml)');
  {
    const project = `${RUN_ID}replicas`;
    const [lbPort, aPort, bPort] = [await freePort(), await freePort(), await freePort()];
    const env = {
      TESTBED_IMAGE: IMAGE, TESTBED_PORT: String(lbPort), TESTBED_A_PORT: String(aPort), TESTBED_B_PORT: String(bPort),
      TESTBED_PROFILE_API_PORT: String(await freePort()), TESTBED_DIRECTORY_API_PORT: String(await freePort()),
    };
    cleanups.push(() => compose(project, 'compose.replicas.yaml', env, 'down', '-v', '--remove-orphans'));
    const lb = `http://localhost:${lbPort}`;
    const [a, b] = [`http://localhost:${aPort}`, `http://localhost:${bPort}`];
    const composed = await check('docker-compose up: both replicas and the balancer healthy, one issuer', async () => {
      await compose(project, 'compose.replicas.yaml', env, 'up', '-d', '--no-build');
      for (const origin of [a, b, lb]) {
        await waitFor(`${origin}/healthz`, async () => ((await boundedFetch(`${origin}/healthz`)).ok ? true : undefined));
      }
      for (const origin of [a, b]) {
        const { body } = await getJson(`${origin}/.well-known/openid-configuration`);
        equal(body.issuer, lb, `issuer at ${origin}`);
        equal(body.token_endpoint, `${origin}/token`, `token endpoint at ${origin}`);
        equal(body.authorization_endpoint, `${lb}/auth`, `authorization endpoint at ${origin}`);
        equal(((await getJson(`${origin}/healthz`)).body.store as { kind?: string }).kind, 'redis', `store of ${origin}`);
      }
    });
    if (composed) {
      await check('login on replica A, refresh and userinfo on replica B; both JWKS verify the tokens', async () => {
        const onB = await discoverAt(b, 'node-openid-client', 'password');
        const discoveredA = await discoverAt(a, 'node-openid-client', 'password');
        // The front channel too on A: a browser that reaches replica A directly.
        const metadataA = (await getJson(`${a}/.well-known/openid-configuration`)).body as client.ServerMetadata;
        const onA = new client.Configuration({ ...metadataA, authorization_endpoint: `${a}/auth` }, 'node-openid-client', 'password');
        client.allowInsecureRequests(onA);
        const tokens = await codeFlow(onA, 'openid profile offline_access');
        equal(tokens.claims()?.iss, lb, 'ID token iss (from A)');
        const userinfo = await client.fetchUserInfo(onB, tokens.access_token, 'alice');
        equal(userinfo.sub, 'alice', 'userinfo at B');
        const refreshed = await client.refreshTokenGrant(onB, tokens.refresh_token!, { resource: PROFILE_API });
        equal(refreshed.claims()?.iss, lb, 'ID token iss (from B)');
        for (const origin of [a, b]) {
          const { payload } = await jwtVerify(refreshed.access_token, createRemoteJWKSet(new URL(`${origin}/jwks`)), { issuer: lb, audience: PROFILE_API });
          equal(payload.sub, 'alice', `access token verified with the JWKS of ${origin}`);
        }
        // The refresh token was rotated on B: A refuses the old one (it shares B's state).
        const reuse = await client.refreshTokenGrant(discoveredA, tokens.refresh_token!).then(() => 'accepted', (error: { error?: string }) => error.error);
        equal(reuse, 'invalid_grant', 'reusing the rotated refresh token at A');
      });

      await check('a whole code flow through the balancer (requests alternate between replicas)', async () => {
        const config = await client.discovery(new URL(lb), 'node-openid-client', 'password', undefined, insecure);
        const tokens = await codeFlow(config, 'openid profile offline_access');
        equal(tokens.claims()?.sub, 'alice', 'sub');
        const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
        equal(refreshed.claims()?.iss, lb, 'iss after refresh');
      });
    } else {
      skip(['login on A, refresh on B', 'a code flow through the balancer'], 'compose.replicas.yaml did not come up');
    }
    await compose(project, 'compose.replicas.yaml', env, 'down', '-v', '--remove-orphans').catch(() => undefined);
  }
  console.log(`container test: ${seconds(started)}`);
}

try {
  await main();
} catch (error) {
  failed += 1;
  console.log(`  FAIL  the container test stopped: ${(error as Error).stack}`);
} finally {
  await cleanUp();
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
