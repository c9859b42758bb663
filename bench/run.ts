/**
 * oidc-testbed against its peers, in one run: bare oidc-provider (same configuration, without the
 * testbed's layers), oauth2-mock-server, and a Koa + jose floor for the mock APIs.
 *
 *   npm run bench            # full: 7 runs of 2 s per scenario and system (≈ 16 min)
 *   npm run bench:quick      # smoke: 1 run of 1 s, small token counts (≈ 3 min)
 *   node bench/run.ts [--quick] [--runs N] [--seconds S] [--connections 16] [--only 1,6,9]
 *                     [--redis redis://127.0.0.1:6379] [--out bench/results/latest.json]
 *
 * Every system runs in its own process on core 0; wrk (one thread, 16 connections) and this
 * process (the Node-driven flows) on core 1. Runs alternate between systems, so each testbed run
 * has a peer run next to it (in turns first and second) and the ratio is taken pair by pair; the table shows the median and
 * min–max of runs and of ratios. Requests go to 127.0.0.1 only; every loop is bounded in time and
 * count.
 *
 * Start-up: figure 6 times processes from spawn to the first 200 on discovery (this clone's CLI, the
 * published CLI with a keys file and with --ephemeral-keys, the peers); figure 9 times, inside fresh
 * processes, `import()` of the published package beside oidc-provider's and oauth2-mock-server's, and
 * `startTestbed()` (first call, then 20 more) beside oauth2-mock-server's start.
 */
import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign as signData } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { PINNING, pinningDescription, pinSelfToLoadCore } from './lib/cpu.ts';
import { DIRECTORY_RESOURCE, PROFILE_RESOURCE, RS256_RESOURCE, RS256_SCOPE, SHORT_TTL, writeBenchFixtures } from './lib/fixtures.ts';
import { codeFlow, drive, refresh, userTokens, type FlowTarget } from './lib/flows.ts';
import { basic, form, json, send, times } from './lib/http.ts';
import { scratchHome } from './lib/background.ts';
import { REPO, startBareProvider, startFloor, startMockServer, startPlainHttp, startTestbedProcess, type ServerProcess, type TestbedStart } from './lib/processes.ts';
import { publishedPackage, type PublishedPackage } from './lib/published-package.ts';
import { installProbe, runProbe, type ProbeResult } from './lib/startup.ts';
import { removeScratch, wrk, type HttpRequest, type LoadResult } from './lib/wrk.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string', default: '16' },
    only: { type: 'string' },
    redis: { type: 'string', default: process.env.REDIS_URL || 'redis://127.0.0.1:6379' },
    out: { type: 'string', default: 'bench/results/latest.json' },
  },
});
const QUICK = values.quick;
const RUNS = Number(values.runs ?? (QUICK ? 1 : 7));
const SECONDS = Number(values.seconds ?? (QUICK ? 1 : 2));
const CONNECTIONS = Number(values.connections);
const ONLY = values.only ? new Set(values.only.split(',').map(Number)) : undefined;
const TOKENS_PER_RUN = QUICK ? 3000 : 8000; // first-use and revocation runs: each token used once
const OPAQUE_TOKENS_PER_RUN = QUICK ? 1000 : 3000; // first use through introspection is slower
const USER_TOKENS_PER_RUN = QUICK ? 1000 : 5000; // minted by refresh chains (slower to make)
const GROWTH_TOKENS = QUICK ? 5000 : 100_000;
const wants = (figure: number) => !ONLY || ONLY.has(figure);

const SERVICE = basic('service-client', 'service-client-secret');
const INTROSPECTOR = basic('profile-api', 'profile-api-secret');
const FORM = 'application/x-www-form-urlencoded';

// ---------------------------------------------------------------------------------------------
// Measurement groups: entries run interleaved, run i of every entry before run i + 1 of any.

interface Entry {
  key: string;
  scenario: string;
  system: string;
  unit?: string;
  /** One measured run (preparation inside is not timed: wrk and drive() time themselves). */
  run: () => Promise<LoadResult>;
  /** A short untimed warm-up, for paths that JIT-compile on first use. */
  warm?: () => Promise<unknown>;
}

interface Comparison {
  label: string;
  testbed: string;
  peer: string;
  /** The testbed/peer ratio the issue asks for, if any. */
  target?: number;
}

interface Summary {
  median: number;
  min: number;
  max: number;
}

interface EntryResult {
  key: string;
  scenario: string;
  system: string;
  unit: string;
  perSecond: Summary;
  /** Server CPU time per request, µs (runs driven by wrk only). */
  cpuMicros?: Summary;
  p50ms: number;
  p99ms: number;
  errors: number;
  runs: LoadResult[];
}

interface ComparisonResult extends Comparison {
  ratio: Summary;
  /** The same ratio from server CPU per request (peer's µs / testbed's µs, pair by pair): the cost, less disturbed by the machine. */
  cpuRatio?: Summary;
  met?: boolean;
}

interface Group {
  figure: number;
  title: string;
  entries: EntryResult[];
  comparisons: ComparisonResult[];
  notes: string[];
}

const groups: Group[] = [];

function summarize(numbers: number[]): Summary {
  const sorted = [...numbers].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

const benchStarted = performance.now();
const elapsed = () => `${((performance.now() - benchStarted) / 1000).toFixed(0)} s`;

async function measure(figure: number, title: string, entries: Entry[], comparisons: Comparison[] = [], notes: string[] = [], runCount = RUNS): Promise<Group> {
  console.error(`[${elapsed()}] figure ${figure}: ${title}`);
  if (!QUICK) for (const entry of entries) await entry.warm?.();
  const runs = new Map(entries.map((entry) => [entry.key, [] as LoadResult[]]));
  for (let i = 0; i < runCount; i += 1) {
    // Every other run goes through the entries backwards, so neither side of a pair always runs first.
    for (const entry of i % 2 ? [...entries].reverse() : entries) {
      const result = await entry.run();
      runs.get(entry.key)!.push(result);
      console.error(`  ${entry.scenario} · ${entry.system}: ${result.perSecond.toFixed(0)}/s${result.serverCpuMicros ? `, ${result.serverCpuMicros.toFixed(0)} µs CPU/request` : ''}${result.errors ? ` (${result.errors} errors)` : ''}`);
    }
  }
  const results: EntryResult[] = entries.map((entry) => {
    const list = runs.get(entry.key)!;
    const perSecond = summarize(list.map((r) => r.perSecond));
    const middle = [...list].sort((a, b) => a.perSecond - b.perSecond)[list.length >> 1];
    const cpu = list.map((r) => r.serverCpuMicros);
    return {
      key: entry.key, scenario: entry.scenario, system: entry.system, unit: entry.unit ?? 'req/s', perSecond,
      ...(cpu.every((us) => us !== undefined) ? { cpuMicros: summarize(cpu as number[]) } : {}),
      p50ms: middle.p50, p99ms: middle.p99, errors: list.reduce((sum, r) => sum + r.errors, 0), runs: list,
    };
  });
  const compared: ComparisonResult[] = comparisons.map((comparison) => {
    const a = runs.get(comparison.testbed)!;
    const b = runs.get(comparison.peer)!;
    const ratio = summarize(a.map((run, i) => run.perSecond / b[i].perSecond));
    const costs = a.map((run, i) => (run.serverCpuMicros && b[i].serverCpuMicros ? b[i].serverCpuMicros! / run.serverCpuMicros : undefined));
    const cpuRatio = costs.every((r) => r !== undefined) ? summarize(costs as number[]) : undefined;
    return { ...comparison, ratio, ...(cpuRatio ? { cpuRatio } : {}), ...(comparison.target === undefined ? {} : { met: ratio.median >= comparison.target }) };
  });
  const group = { figure, title, entries: results, comparisons: compared, notes };
  groups.push(group);
  return group;
}

// ---------------------------------------------------------------------------------------------
// Requests and token preparation.

const load = (port: number, request: HttpRequest, seconds = SECONDS) => wrk({ port, seconds, connections: CONNECTIONS }, { request });
const loadList = (port: number, requests: HttpRequest[]) => wrk({ port, seconds: Math.max(10, SECONDS * 5), connections: CONNECTIONS }, { requests });

const ccRequest = (fields: Record<string, string>, authorization = SERVICE): HttpRequest => ({
  method: 'POST', path: '/token', headers: { authorization, 'content-type': FORM }, body: form({ grant_type: 'client_credentials', ...fields }),
});
const CC_OPAQUE = {};
const CC_RS256 = { resource: RS256_RESOURCE, scope: RS256_SCOPE };
const CC_DEFAULT = { resource: PROFILE_RESOURCE, scope: 'profile' };
const CC_DIRECTORY = { resource: DIRECTORY_RESOURCE, scope: 'fr:idm:*' };

async function issue(port: number, fields: Record<string, string>, count: number, headers: (i: number) => Record<string, string> = () => ({})): Promise<string[]> {
  return times(count, 32, async (i) => {
    const body = await json<{ access_token: string }>(send(port, 'POST', '/token', { authorization: SERVICE, ...headers(i) }, form({ grant_type: 'client_credentials', ...fields })), 'token');
    return body.access_token;
  });
}

const introspectRequest = (token: string, path = '/token/introspection', authorization = INTROSPECTOR): HttpRequest => ({
  method: 'POST', path, headers: { authorization, 'content-type': FORM }, body: form({ token }),
});
const revokeRequest = (token: string, path = '/token/revocation'): HttpRequest => ({
  method: 'POST', path, headers: { authorization: SERVICE, 'content-type': FORM }, body: form({ token, token_type_hint: 'access_token' }),
});
const bearer = (path: string, token: string): HttpRequest => ({ path, headers: { authorization: `Bearer ${token}` } });

// DPoP (RFC 9449): one ES256 key, one proof per request.
const dpopKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const dpopJwk = dpopKeys.publicKey.export({ format: 'jwk' });
function dpopProof(htm: string, htu: string, accessToken?: string): string {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: dpopJwk.kty, crv: dpopJwk.crv, x: dpopJwk.x, y: dpopJwk.y } });
  const claims: Record<string, unknown> = { jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000) };
  if (accessToken) claims.ath = createHash('sha256').update(accessToken).digest('base64url');
  const input = `${header}.${b64(claims)}`;
  return `${input}.${signData('sha256', Buffer.from(input), { key: dpopKeys.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

/** A token list for two entries of one run (an API and the floor): made by the first that asks, handed to the second. */
function sharedByTwo(mint: () => Promise<string[]>): () => Promise<string[]> {
  let current: Promise<string[]> | undefined;
  let handedOut = 0;
  return () => {
    if (!current || handedOut === 2) {
      current = mint();
      handedOut = 0;
    }
    handedOut += 1;
    return current;
  };
}

async function health(port: number): Promise<{ entries?: number }> {
  const body = await json<{ store: { entries?: number } }>(send(port, 'GET', '/healthz'), 'healthz');
  return body.store;
}

// ---------------------------------------------------------------------------------------------
// The figures. Targets of ratios are in each figure's comparisons; these are absolute ones.

const CLI_PERSISTED_TARGET_MS = 500; // figure 6: CLI to the first discovery, keys file already written
const CLI_EPHEMERAL_TARGET_MS = 700; // figure 6: the same, generating keys (--ephemeral-keys)
const IMPORT_RATIO_TARGET = 1.2; // figure 9: import('oidc-testbed') ≤ 1.2 × import('oidc-provider')
const START_TARGET_MS = 25; // figure 9: startTestbed({ port: 0 }), median of the calls after the first

/** The bench's own XDG homes (bench/lib/background.ts): the testbed's key pool and keys file, and what it leaves running. */
const home = scratchHome();
const testbedProcess = (name: string, options: TestbedStart = {}) => startTestbedProcess(name, { ...options, env: { ...home.env, ...options.env } });

const MEMORY: Record<string, { idle: number; afterLoad?: number; afterApis?: number }> = {};

async function figures1to5(fixtures: ReturnType<typeof writeBenchFixtures>): Promise<void> {
  const tb = await testbedProcess('testbed', { fixture: fixtures.main, logLevel: 'warn' });
  // The CLI's default log (no --log-level: info, a JSON line per request on stdout, a pipe this process drains).
  const tbLog = wants(1) ? await testbedProcess('testbed (default log)', { fixture: fixtures.main, logLevel: null }) : undefined;
  const bare = await startBareProvider(fixtures.main);
  const mock = await startMockServer();
  const all: ServerProcess[] = [tb, bare, mock, ...(tbLog ? [tbLog] : [])];
  // What the starts left running (the key pool's refill) finishes before anything is timed.
  const settled = () => home.settle(all.map((server) => server.pid));
  try {
    await settled();
    await new Promise((r) => setTimeout(r, 500));
    for (const server of [tb, bare, mock]) MEMORY[server.name] = { idle: server.rssMiB() };
    const T = 'oidc-testbed';
    const B = 'bare oidc-provider';
    const M = 'oauth2-mock-server';
    const fixed = (key: string, scenario: string, system: string, port: number, request: HttpRequest): Entry => ({
      key, scenario, system, run: () => load(port, request), warm: () => load(port, request, 1),
    });
    const revokeList = (key: string, system: string, port: number, fields: Record<string, string>, scenario: string): Entry => ({
      key, scenario, system, run: async () => loadList(port, (await issue(port, fields, TOKENS_PER_RUN)).map((token) => revokeRequest(token))),
    });

    if (wants(1) && tbLog) {
      const logged = { lines: 0, bytes: 0, responses: 0 };
      const withLog: Entry = {
        key: 't-default-log', scenario: 'JWT default alg (ES256), the CLI\'s default log (info)', system: T,
        run: async () => {
          const before = tbLog.stdoutWritten!();
          const result = await load(tbLog.port, ccRequest(CC_DEFAULT));
          await new Promise((r) => setTimeout(r, 100)); // the last responses' lines, still on their way through the pipe
          const after = tbLog.stdoutWritten!();
          logged.lines += after.lines - before.lines;
          logged.bytes += after.bytes - before.bytes;
          logged.responses += result.requests + result.errors;
          return result;
        },
        warm: () => load(tbLog.port, ccRequest(CC_DEFAULT), 1),
      };
      // Even in a quick run (which warms nothing): the other processes have served figure 1's earlier rows before their ES256 row.
      await load(tbLog.port, ccRequest(CC_DEFAULT), 1);
      const group = await measure(1, 'client_credentials token issuance', [
        fixed('t-opaque', 'opaque', T, tb.port, ccRequest(CC_OPAQUE)),
        fixed('b-opaque', 'opaque', B, bare.port, ccRequest(CC_OPAQUE)),
        fixed('t-rs256', 'JWT RS256', T, tb.port, ccRequest(CC_RS256)),
        fixed('b-rs256', 'JWT RS256', B, bare.port, ccRequest(CC_RS256)),
        fixed('m-rs256', 'JWT RS256', M, mock.port, ccRequest({ scope: 'profile' })),
        fixed('t-default', 'JWT default alg (ES256)', T, tb.port, ccRequest(CC_DEFAULT)),
        withLog,
        fixed('b-default', 'JWT default alg (ES256)', B, bare.port, ccRequest(CC_DEFAULT)),
      ], [
        { label: 'opaque vs bare', testbed: 't-opaque', peer: 'b-opaque', target: 0.9 },
        { label: 'RS256 vs bare', testbed: 't-rs256', peer: 'b-rs256', target: 0.9 },
        { label: 'ES256 vs bare', testbed: 't-default', peer: 'b-default', target: 0.9 },
        { label: 'ES256, the CLI\'s default log (info: a line per request on stdout) vs bare', testbed: 't-default-log', peer: 'b-default', target: 0.9 },
        { label: 'RS256 vs oauth2-mock-server', testbed: 't-rs256', peer: 'm-rs256' },
        { label: 'default (ES256) vs oauth2-mock-server (RS256)', testbed: 't-default', peer: 'm-rs256', target: 2.5 },
      ], ['oauth2-mock-server issues JWTs only (RS256, its default key); the testbed\'s client-credentials JWTs store nothing (their claims are their record), as the bare peer\'s']);
      const perResponse = (n: number) => fmt(n / Math.max(1, logged.responses), 2);
      group.notes.push(`the testbed's rows run with --log-level warn (no line per request) except "the CLI's default log": the CLI without --log-level (info), its stdout a pipe that this bench process drains on the load core, as a terminal or a container runtime would; it wrote ${perResponse(logged.lines)} lines and ${perResponse(logged.bytes)} bytes per measured response (one line per request expected)`);
    }

    if (wants(2)) {
      const flows = (key: string, system: string, target: FlowTarget): Entry => ({
        key, scenario: 'code flow (authorize → code → token)', system, unit: 'flows/s',
        run: () => drive(SECONDS, CONNECTIONS, 100_000, async () => { await codeFlow(target); }),
        warm: () => drive(1, CONNECTIONS, 1000, async () => { await codeFlow(target); }),
      });
      const refreshes = (key: string, system: string, target: FlowTarget): Entry => ({
        key, scenario: 'refresh (rotating)', system,
        run: async () => {
          const chains = await times(CONNECTIONS, CONNECTIONS, () => codeFlow(target));
          return drive(SECONDS, CONNECTIONS, 1_000_000, async (loop) => {
            chains[loop] = await refresh(target, chains[loop].refresh_token!);
          });
        },
      });
      const tbFlow: FlowTarget = { port: tb.port, dialect: 'testbed', resource: PROFILE_RESOURCE };
      const bareFlow: FlowTarget = { port: bare.port, dialect: 'testbed', resource: PROFILE_RESOURCE };
      const mockFlow: FlowTarget = { port: mock.port, dialect: 'oauth2-mock-server' };
      await measure(2, 'authorization code flow with headless login, and refresh', [
        flows('t-flow', T, tbFlow), flows('b-flow', B, bareFlow), flows('m-flow', M, mockFlow),
        refreshes('t-refresh', T, tbFlow), refreshes('b-refresh', B, bareFlow), refreshes('m-refresh', M, mockFlow),
      ], [
        { label: 'code flow vs bare', testbed: 't-flow', peer: 'b-flow', target: 0.9 },
        { label: 'code flow vs oauth2-mock-server', testbed: 't-flow', peer: 'm-flow' },
        { label: 'refresh vs bare', testbed: 't-refresh', peer: 'b-refresh', target: 0.9 },
        { label: 'refresh vs oauth2-mock-server', testbed: 't-refresh', peer: 'm-refresh' },
      ], [
        `client web-app (first party, client_secret_post, PKCE S256), login_hint=alice, scope openid profile offline_access, resource ${PROFILE_RESOURCE}: ID token RS256, access token JWT ES256, refresh token; ${CONNECTIONS} flows in flight, driven from Node on the load core`,
        'the bare peer runs the testbed\'s interaction routes (oidc-provider has no headless login of its own); oauth2-mock-server redirects with a code at once (no session, no login)',
      ]);
    }

    if (wants(3)) {
      const [tOpaque] = await issue(tb.port, CC_OPAQUE, 1);
      const [bOpaque] = await issue(bare.port, CC_OPAQUE, 1);
      await measure(3, 'introspection and revocation', [
        fixed('t-intro', 'introspect opaque', T, tb.port, introspectRequest(tOpaque)),
        fixed('b-intro', 'introspect opaque', B, bare.port, introspectRequest(bOpaque)),
        fixed('m-intro', 'introspect opaque', M, mock.port, introspectRequest('any-token', '/introspect')),
        revokeList('t-revoke', T, tb.port, CC_OPAQUE, 'revoke opaque (each token once)'),
        revokeList('b-revoke', B, bare.port, CC_OPAQUE, 'revoke opaque (each token once)'),
        fixed('m-revoke', 'revoke opaque (each token once)', M, mock.port, revokeRequest('any-token', '/revoke')),
      ], [
        { label: 'introspect opaque vs bare', testbed: 't-intro', peer: 'b-intro', target: 0.9 },
        { label: 'introspect vs oauth2-mock-server', testbed: 't-intro', peer: 'm-intro' },
        { label: 'revoke opaque vs bare', testbed: 't-revoke', peer: 'b-revoke', target: 0.9 },
        { label: 'revoke vs oauth2-mock-server', testbed: 't-revoke', peer: 'm-revoke' },
      ], [
        'oauth2-mock-server keeps no token state: its introspection answers active for anything and its revocation does nothing',
      ]);
    }

    if (wants(4)) {
      const get = (path: string): HttpRequest => ({ path });
      await measure(4, 'discovery and JWKS', [
        fixed('t-disc', 'discovery', T, tb.port, get('/.well-known/openid-configuration')),
        fixed('b-disc', 'discovery', B, bare.port, get('/.well-known/openid-configuration')),
        fixed('m-disc', 'discovery', M, mock.port, get('/.well-known/openid-configuration')),
        fixed('t-jwks', 'JWKS', T, tb.port, get('/jwks')),
        fixed('b-jwks', 'JWKS', B, bare.port, get('/jwks')),
        fixed('m-jwks', 'JWKS', M, mock.port, get('/jwks')),
      ], [
        { label: 'discovery vs bare', testbed: 't-disc', peer: 'b-disc', target: 0.9 },
        { label: 'discovery vs oauth2-mock-server', testbed: 't-disc', peer: 'm-disc' },
        { label: 'JWKS vs bare', testbed: 't-jwks', peer: 'b-jwks', target: 0.9 },
        { label: 'JWKS vs oauth2-mock-server', testbed: 't-jwks', peer: 'm-jwks' },
      ]);
    }

    // After the paths both IdPs serve (figures 1–4): the like-for-like memory comparison.
    if ([1, 2, 3, 4].some(wants)) for (const server of [tb, bare, mock]) MEMORY[server.name].afterLoad = server.rssMiB();

    // What only the testbed does (after the memory sample above, which it would otherwise skew):
    // introspection and revocation of JWT access tokens.
    if (wants(3)) {
      const [tJwt] = await issue(tb.port, CC_DEFAULT, 1);
      await measure(3, 'JWT access tokens at introspection and revocation (the testbed only)', [
        fixed('t-intro-jwt', 'introspect client-credentials JWT (ES256)', T, tb.port, introspectRequest(tJwt)),
        revokeList('t-revoke-jwt', T, tb.port, CC_DEFAULT, 'revoke client-credentials JWT (each token once)'),
      ], [], [
        'bare oidc-provider cannot introspect or revoke JWT access tokens (400 unsupported_token_type): no peer',
        'a client-credentials JWT has no stored record: the first introspection or revocation verifies its signature and makes one from its claims; revocation then stores a revocation mark until it expires',
      ]);
    }

    if (wants(5)) {
      // The mock APIs get testbed processes of their own, as the floor has: the long-running one
      // carries the state of figures 1–4 (hundreds of MiB of live tokens), which no API request reads
      // but every one of them pays for in garbage collection.
      const apis = await testbedProcess('testbed (mock APIs)', { fixture: fixtures.main });
      all.push(apis);
      const rs256 = await testbedProcess('testbed (mock APIs, RS256)', { fixture: fixtures.rs256Apis });
      all.push(rs256);
      MEMORY[apis.name] = { idle: apis.rssMiB() };
      // The floor verifies the very JWTs the APIs get: the testbeds' keys, issuer and audiences.
      const floor = await startFloor([apis, rs256]);
      all.push(floor);
      await settled();
      const F = 'Koa + jose floor';
      const [dirToken] = await issue(apis.port, CC_DIRECTORY, 1);
      const [profToken] = await userTokens(apis.port, PROFILE_RESOURCE, 1);
      const [dpopToken] = await issue(apis.port, CC_DIRECTORY, 1, () => ({ dpop: dpopProof('POST', `http://127.0.0.1:${apis.port}/token`) }));
      const dpopUrl = `http://127.0.0.1:${apis.ports.directoryApi}/openidm/info/login`;
      const firstUse = (key: string, scenario: string, system: string, port: number, path: string, tokens: () => Promise<string[]>): Entry => ({
        key, scenario, system, run: async () => loadList(port, (await tokens()).map((token) => bearer(path, token))),
      });
      const cc = (port: number) => sharedByTwo(() => issue(port, CC_DIRECTORY, TOKENS_PER_RUN));
      const dirTokens = cc(apis.port);
      const profTokens = sharedByTwo(() => userTokens(apis.port, PROFILE_RESOURCE, USER_TOKENS_PER_RUN));
      const rs256Tokens = cc(rs256.port);
      await measure(5, 'mock APIs (JWT access tokens)', [
        firstUse('dir-first', 'directory GET /openidm/info/login, JWT (ES256) first use', T, apis.ports.directoryApi, '/openidm/info/login', dirTokens),
        firstUse('floor-dir-first', 'floor: verify the same JWTs, each once', F, floor.port, '/verify', dirTokens),
        firstUse('prof-first', 'profile GET /userinfo, user JWT (ES256) first use', T, apis.ports.profileApi, '/userinfo', profTokens),
        firstUse('floor-prof-first', 'floor: verify the same user JWTs, each once', F, floor.port, '/verify', profTokens),
        firstUse('rs-first', 'directory GET /openidm/info/login, JWT (RS256) first use', T, rs256.ports.directoryApi, '/openidm/info/login', rs256Tokens),
        firstUse('floor-rs-first', 'floor: verify the same RS256 JWTs, each once', F, floor.port, '/verify', rs256Tokens),
        fixed('dir-repeat', 'directory GET /openidm/info/login, same JWT again', T, apis.ports.directoryApi, bearer('/openidm/info/login', dirToken)),
        fixed('prof-repeat', 'profile GET /userinfo, same JWT again', T, apis.ports.profileApi, bearer('/userinfo', profToken)),
        fixed('floor-plain', 'floor: no verification', F, floor.port, bearer('/plain', dirToken)),
        {
          key: 'dir-dpop', scenario: 'directory info/login, DPoP-bound JWT, fresh proof each request', system: T,
          run: () => loadList(apis.ports.directoryApi, Array.from({ length: TOKENS_PER_RUN }, () => ({
            path: '/openidm/info/login', headers: { authorization: `DPoP ${dpopToken}`, dpop: dpopProof('GET', dpopUrl, dpopToken) },
          }))),
        },
      ], [
        { label: 'directory first use vs floor (ES256, the default)', testbed: 'dir-first', peer: 'floor-dir-first', target: 0.9 },
        { label: 'profile first use vs floor (ES256 user JWTs)', testbed: 'prof-first', peer: 'floor-prof-first', target: 0.9 },
        { label: 'directory first use vs floor (RS256)', testbed: 'rs-first', peer: 'floor-rs-first', target: 0.9 },
        { label: 'directory repeated vs no-verification floor', testbed: 'dir-repeat', peer: 'floor-plain', target: 0.6 },
        { label: 'profile repeated vs no-verification floor', testbed: 'prof-repeat', peer: 'floor-plain', target: 0.6 },
      ], [
        `first use: ${TOKENS_PER_RUN} client-credentials JWTs (directory) or ${USER_TOKENS_PER_RUN} user JWTs minted by refresh (profile) per run, each sent once to the API and once to the floor; every testbed API request also checks revocation in the IdP's store (and a user JWT's grant and session)`,
        'the floor is a Koa route that verifies a JWT with jose against a local JWKS (no revocation check) and answers a small JSON body, given the testbeds\' keys so that it verifies the same tokens; the APIs run in testbed processes that serve only this figure (ES256, the default, and one whose API resources sign with RS256), as the floor does',
      ]);
      MEMORY[apis.name].afterApis = apis.rssMiB();

      const opaque = await testbedProcess('testbed (opaque API tokens)', { fixture: fixtures.opaqueApis });
      all.push(opaque);
      await settled();
      const [opaqueToken] = await issue(opaque.port, CC_DIRECTORY, 1);
      await measure(5, 'mock APIs, opaque access tokens (introspection)', [
        firstUse('op-first', 'directory info/login, opaque first use (introspection)', T, opaque.ports.directoryApi, '/openidm/info/login', () => issue(opaque.port, CC_DIRECTORY, OPAQUE_TOKENS_PER_RUN)),
        fixed('op-repeat', 'directory info/login, same opaque token again (cached)', T, opaque.ports.directoryApi, bearer('/openidm/info/login', opaqueToken)),
        fixed('floor-plain-2', 'floor: no verification', F, floor.port, bearer('/plain', opaqueToken)),
      ], [
        { label: 'opaque repeated vs no-verification floor', testbed: 'op-repeat', peer: 'floor-plain-2' },
      ], ['a separate testbed whose mock-API resources issue opaque tokens; first use = one RFC 7662 introspection call over HTTP to the IdP (same process)']);
    }
  } finally {
    for (const server of all) await server.stop();
  }
}

interface ColdStart { system: string; ms: Summary; idleRssMiB: Summary; /** What the process left running after it stopped (the key pool's refill), until it ended. */ leftoverMs: Summary }
const coldStarts: ColdStart[] = [];
/**
 * The CLI enables Node's module compile cache (bin/oidc-testbed.js); these rows are a machine's
 * first start, without it: from this clone (Node strips the sources' types as it loads them) and
 * as published (the compiled dist/ that `npx oidc-testbed` and the Docker image run).
 */
const FIRST_START_CLONE = 'oidc-testbed from a source clone, compile cache off (a machine\'s first start)';
const FIRST_START_PUBLISHED = 'oidc-testbed as published (dist/), compile cache off (a machine\'s first start)';

/**
 * What `npx oidc-testbed start` does on every start after a machine's first: the published CLI with
 * its default log and the compile cache it turns on (filled by an earlier start), with the keys file
 * an earlier start wrote, or generating keys (`--ephemeral-keys`).
 */
const CLI_PERSISTED = 'oidc-testbed CLI as published, keys file written by an earlier start (default log, compile cache warm)';
const CLI_EPHEMERAL = 'oidc-testbed CLI as published, --ephemeral-keys (default log, compile cache warm)';

async function figure6(published: PublishedPackage): Promise<void> {
  console.error(`[${elapsed()}] figure 6: cold start and memory`);
  const cacheOff = { NODE_DISABLE_COMPILE_CACHE: '1' };
  const cli = { packageDir: published.dir, logLevel: null };
  const keysFile = join(published.dir, 'state', 'keys.json');
  // Also fills the key pool, as on a machine that has run the testbed before.
  await (await testbedProcess('testbed (writes its keys file)', { ...cli, keysFile })).stop();
  await home.settle();
  if (!existsSync(keysFile)) throw new Error(`the CLI wrote no keys file at ${keysFile}`);
  const systems: Array<[string, () => Promise<ServerProcess>]> = [
    ['oidc-testbed (default fixture, both APIs)', () => testbedProcess('testbed')],
    [FIRST_START_CLONE, () => testbedProcess('testbed', { env: cacheOff })],
    [FIRST_START_PUBLISHED, () => testbedProcess('testbed', { env: cacheOff, packageDir: published.dir })],
    [CLI_PERSISTED, () => testbedProcess('testbed', { ...cli, keysFile })],
    [CLI_EPHEMERAL, () => testbedProcess('testbed', cli)],
    ['bare oidc-provider (default fixture)', () => startBareProvider()],
    ['oauth2-mock-server', () => startMockServer()],
    ['plain node:http', () => startPlainHttp()],
  ];
  const samples = new Map(systems.map(([name]) => [name, { ms: [] as number[], rss: [] as number[], leftover: [] as number[] }]));
  await measureColdStarts(systems, samples);
  for (const [name, { ms, rss, leftover }] of samples) {
    coldStarts.push({ system: name, ms: summarize(ms), idleRssMiB: summarize(rss), leftoverMs: summarize(leftover) });
    console.error(`  ${name}: ${summarize(ms).median.toFixed(0)} ms, ${summarize(rss).median.toFixed(1)} MiB, ${summarize(leftover).median.toFixed(0)} ms left running after stop`);
  }
}

async function measureColdStarts(systems: Array<[string, () => Promise<ServerProcess>]>, samples: Map<string, { ms: number[]; rss: number[]; leftover: number[] }>): Promise<void> {
  for (let i = 0; i < Math.max(3, RUNS); i += 1) {
    for (const [name, start] of systems) {
      const t0 = performance.now();
      const server = await start();
      try {
        for (let polls = 0; ; polls += 1) {
          const ok = await send(server.port, 'GET', '/.well-known/openid-configuration').then((r) => r.status === 200, () => false);
          if (ok) break;
          if (polls > 2000) throw new Error(`${name}: discovery never answered 200`);
          await new Promise((r) => setTimeout(r, 2));
        }
        samples.get(name)!.ms.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, QUICK ? 300 : 1000));
        samples.get(name)!.rss.push(server.rssMiB());
      } finally {
        await server.stop();
      }
      samples.get(name)!.leftover.push(await home.settle());
    }
  }
}

async function figure7(fixtures: ReturnType<typeof writeBenchFixtures>): Promise<void> {
  const probe = new Redis(values.redis, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 1000 });
  try {
    await probe.connect();
    await probe.ping();
  } catch {
    console.error(`figure 7 skipped: no Redis at ${values.redis}`);
    groups.push({ figure: 7, title: 'memory vs Redis store', entries: [], comparisons: [], notes: [`skipped: no Redis at ${values.redis}`] });
    probe.disconnect();
    return;
  }
  const prefix = `oidc-testbed-bench:${randomBytes(4).toString('hex')}:`;
  const memory = await testbedProcess('testbed (memory)', { fixture: fixtures.main, apis: false });
  const redis = await testbedProcess('testbed (Redis)', { fixture: fixtures.main, apis: false, redis: values.redis, redisPrefix: prefix });
  try {
    await home.settle([memory.pid, redis.pid]);
    const entries: Entry[] = [];
    const comparisons: Comparison[] = [];
    const pair = (key: string, scenario: string, make: (server: ServerProcess) => Omit<Entry, 'key' | 'scenario' | 'system'>) => {
      entries.push({ key: `mem-${key}`, scenario, system: 'memory', ...make(memory) }, { key: `redis-${key}`, scenario, system: 'Redis', ...make(redis) });
      comparisons.push({ label: `${scenario}: Redis / memory`, testbed: `redis-${key}`, peer: `mem-${key}` });
    };
    const tokens = new Map<number, { opaque: string; jwt: string }>();
    for (const server of [memory, redis]) tokens.set(server.port, { opaque: (await issue(server.port, CC_OPAQUE, 1))[0], jwt: (await issue(server.port, CC_DEFAULT, 1))[0] });
    pair('opaque', 'issue opaque', (s) => ({ run: () => load(s.port, ccRequest(CC_OPAQUE)), warm: () => load(s.port, ccRequest(CC_OPAQUE), 1) }));
    pair('rs256', 'issue JWT RS256', (s) => ({ run: () => load(s.port, ccRequest(CC_RS256)) }));
    pair('es256', 'issue JWT ES256 (default)', (s) => ({ run: () => load(s.port, ccRequest(CC_DEFAULT)) }));
    pair('flow', 'code flow', (s) => ({ unit: 'flows/s', run: () => drive(SECONDS, CONNECTIONS, 100_000, async () => { await codeFlow({ port: s.port, dialect: 'testbed', resource: PROFILE_RESOURCE }); }) }));
    pair('refresh', 'refresh', (s) => ({
      run: async () => {
        const target: FlowTarget = { port: s.port, dialect: 'testbed', resource: PROFILE_RESOURCE };
        const chains = await times(CONNECTIONS, CONNECTIONS, () => codeFlow(target));
        return drive(SECONDS, CONNECTIONS, 1_000_000, async (loop) => { chains[loop] = await refresh(target, chains[loop].refresh_token!); });
      },
    }));
    pair('intro', 'introspect opaque', (s) => ({ run: () => load(s.port, introspectRequest(tokens.get(s.port)!.opaque)) }));
    pair('intro-jwt', 'introspect JWT', (s) => ({ run: () => load(s.port, introspectRequest(tokens.get(s.port)!.jwt)) }));
    pair('revoke', 'revoke opaque (each once)', (s) => ({ run: async () => loadList(s.port, (await issue(s.port, CC_OPAQUE, TOKENS_PER_RUN)).map((t) => revokeRequest(t))) }));
    await measure(7, 'memory vs Redis store (figures 1–3 on the testbed)', entries, comparisons, [`Redis ${values.redis.replace(/\/\/[^@]*@/, '//***@')} on this machine (its own process, not pinned); keys under a throw-away prefix, deleted afterwards; ${Math.min(RUNS, 3)} runs`], Math.min(RUNS, 3));
  } finally {
    await memory.stop();
    await redis.stop();
    for await (const keys of probe.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) await probe.unlink(...keys);
    }
    probe.disconnect();
  }
}

interface GrowthPoint { when: string; rssMiB: number; storeEntries?: number; issuePerSecond: number; p50ms: number; p99ms: number }
const growth: { tokens: number; ttlSeconds: number; points: GrowthPoint[]; notes: string[] } = { tokens: GROWTH_TOKENS, ttlSeconds: SHORT_TTL, points: [], notes: [] };

async function figure8(fixtures: ReturnType<typeof writeBenchFixtures>): Promise<void> {
  console.error(`[${elapsed()}] figure 8: growth over ${GROWTH_TOKENS} tokens`);
  const server = await testbedProcess('testbed (short TTL)', { fixture: fixtures.shortTtl, apis: false });
  try {
    await home.settle([server.pid]);
    // Opaque tokens: each is a stored record until it expires (client-credentials JWTs store nothing).
    const request = ccRequest(CC_OPAQUE);
    const point = async (when: string) => {
      const entries = (await health(server.port)).entries; // before the probe adds its own tokens
      const probe = await load(server.port, request, 1);
      const p: GrowthPoint = { when, rssMiB: server.rssMiB(), storeEntries: entries, issuePerSecond: probe.perSecond, p50ms: probe.p50, p99ms: probe.p99 };
      growth.points.push(p);
      console.error(`  ${when}: RSS ${p.rssMiB.toFixed(1)} MiB, ${entries} store entries, ${p.issuePerSecond.toFixed(0)}/s p50 ${p.p50ms.toFixed(1)} ms`);
    };
    await point('start (after a 1 s probe)');
    const bulk = await wrk({ port: server.port, seconds: 300, connections: CONNECTIONS }, { requests: Array.from({ length: GROWTH_TOKENS }, () => request) });
    growth.notes.push(`${bulk.requests} opaque access tokens (each a stored record) issued at ${bulk.perSecond.toFixed(0)}/s, ${bulk.errors} errors; each probe (after the entries are counted) issues ~1 s more`);
    await point(`after ${GROWTH_TOKENS} tokens`);
    if (QUICK) {
      growth.notes.push('quick run: the sweep (every 30 s) is not awaited');
      return;
    }
    const peak = growth.points.at(-1)!.storeEntries ?? 0;
    // Stores keep expired records a little past their TTL (15 s), then the sweep runs every 30 s.
    const deadline = performance.now() + (SHORT_TTL + 60) * 1000;
    while (performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2000));
      const { entries } = await health(server.port);
      if (entries !== undefined && entries < peak * 0.05) break;
    }
    await point(`after expiry (${SHORT_TTL} s TTL) and the 30 s sweep`);
  } finally {
    await server.stop();
  }
}

interface ImportRow { system: string; specifier: string; compileCache: string; ms: Summary; runs: number[] }
interface StartRow { system: string; call: string; first: Summary; next: Summary; importMs: Summary; leftoverMs: Summary; processes: number; firstRuns: number[]; nextRuns: number[] }
const startup: { imports: ImportRow[]; importRatio?: Summary; starts: StartRow[]; notes: string[] } = { imports: [], starts: [], notes: [] };
const IMPORT_TESTBED = 'oidc-testbed (published dist/)';
const IMPORT_FLOOR = 'oidc-provider alone (the floor)';
const START_DEFAULT = 'startTestbed({ port: 0 })';
const NEXT_CALLS = 20;

/**
 * Start-up in the library: `await import()` of the published package and its peers, and the first
 * and the next 20 start calls in one process, each in fresh processes on the server core, timed
 * inside them (bench/probes/startup.mjs).
 */
async function figure9(published: PublishedPackage): Promise<void> {
  console.error(`[${elapsed()}] figure 9: start-up in the library (import, startTestbed)`);
  installProbe(published.dir);
  const cacheDir = join(published.dir, '.compile-cache');
  const imports: Array<{ system: string; specifier: string; compileCache: string; env?: Record<string, string> }> = [
    { system: IMPORT_TESTBED, specifier: 'oidc-testbed', compileCache: 'off (Node\'s default for a library)' },
    { system: IMPORT_FLOOR, specifier: 'oidc-provider', compileCache: 'off' },
    { system: 'oauth2-mock-server', specifier: 'oauth2-mock-server', compileCache: 'off' },
    { system: 'oidc-testbed (published dist/), NODE_COMPILE_CACHE set', specifier: 'oidc-testbed', compileCache: 'on, filled by an earlier import', env: { NODE_COMPILE_CACHE: cacheDir } },
  ];
  const probe = async (args: string[], env: Record<string, string> = {}) => {
    const result = await runProbe(published.dir, args, { env: { ...home.env, ...env } });
    return { ...result, leftoverMs: await home.settle() };
  };
  await probe(['import', 'oidc-testbed'], { NODE_COMPILE_CACHE: cacheDir });
  await probe(['start-testbed', JSON.stringify({ port: 0 }), '1']); // fills the key pool, as on a machine that has run the testbed before
  const importRuns = new Map(imports.map((row) => [row.system, [] as number[]]));
  for (let round = 0; round < (QUICK ? 5 : 3 * RUNS); round += 1) {
    for (const row of round % 2 ? [...imports].reverse() : imports) {
      importRuns.get(row.system)!.push((await probe(['import', row.specifier], row.env)).ms as number);
    }
  }
  for (const row of imports) {
    const runs = importRuns.get(row.system)!;
    startup.imports.push({ system: row.system, specifier: row.specifier, compileCache: row.compileCache, ms: summarize(runs), runs });
    console.error(`  import('${row.specifier}') · ${row.system}: ${fmt(summarize(runs).median)} ms`);
  }
  const floor = importRuns.get(IMPORT_FLOOR)!;
  startup.importRatio = summarize(importRuns.get(IMPORT_TESTBED)!.map((ms, i) => ms / floor[i]));

  const starts: Array<{ system: string; call: string; args: string[] }> = [
    { system: 'oidc-testbed (the defaults: keys in memory, mock APIs on)', call: START_DEFAULT, args: ['start-testbed', JSON.stringify({ port: 0 })] },
    { system: 'oidc-testbed (no mock APIs)', call: 'startTestbed({ port: 0, apis: false })', args: ['start-testbed', JSON.stringify({ port: 0, apis: false })] },
    { system: 'oauth2-mock-server', call: 'new OAuth2Server(); keys.generate(\'RS256\'); start(0, \'127.0.0.1\')', args: ['mock-server', 'RS256'] },
    { system: 'oauth2-mock-server', call: 'new OAuth2Server(); keys.generate(\'ES256\'); start(0, \'127.0.0.1\')', args: ['mock-server', 'ES256'] },
  ];
  const processes = QUICK ? 2 : Math.max(3, RUNS);
  const results = new Map(starts.map((row) => [row.call, [] as Array<ProbeResult & { leftoverMs: number }>]));
  for (let round = 0; round < processes; round += 1) {
    for (const row of round % 2 ? [...starts].reverse() : starts) results.get(row.call)!.push(await probe([...row.args, String(1 + NEXT_CALLS)]));
  }
  for (const row of starts) {
    const runs = results.get(row.call)!;
    const firstRuns = runs.map((run) => (run.ms as number[])[0]);
    const nextRuns = runs.flatMap((run) => (run.ms as number[]).slice(1));
    startup.starts.push({ system: row.system, call: row.call, first: summarize(firstRuns), next: summarize(nextRuns), importMs: summarize(runs.map((run) => run.importMs!)), leftoverMs: summarize(runs.map((run) => run.leftoverMs)), processes, firstRuns, nextRuns });
    console.error(`  ${row.call}: first ${fmt(summarize(firstRuns).median)} ms, next ${NEXT_CALLS} ${fmt(summarize(nextRuns).median, 1)} ms`);
  }
  startup.notes.push(
    `import: performance.now() around \`await import(specifier)\` in a fresh process (${importRuns.get(IMPORT_TESTBED)!.length} per row, rounds alternating the order), run from the published package's directory so that 'oidc-testbed' resolves through its exports and the others through its node_modules (this clone's)`,
    `start calls: in each of ${processes} fresh processes per row, after the import (its time shown apart), the first call and ${NEXT_CALLS} more, each awaited, then (untimed) a GET of its discovery document (200) and stop(); "next" pools the ${NEXT_CALLS} later calls of every process; the library's default log level (warn) writes no line per start`,
    'every probe has the bench\'s own XDG_CACHE_HOME (the testbed\'s key pool: filled by an untimed start before these rows, as on a machine that has run the testbed before); what a process starts that outlives it (the pool\'s refill) runs on the server core as it did, during the calls after the first, and is waited for before the next process ("left running after exit")',
  );
}

// ---------------------------------------------------------------------------------------------
// Report.

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const range = (s: Summary, digits = 0) => `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;

function table(): string {
  const lines: string[] = [];
  for (const group of groups) {
    lines.push('', `### ${group.figure}. ${group.title}`, '');
    if (group.entries.length > 0) {
      lines.push('| scenario | system | per second, median (min–max) | server CPU µs per request | p50 / p99 ms | errors |', '|---|---|---:|---:|---:|---:|');
      for (const e of group.entries) lines.push(`| ${e.scenario} | ${e.system} | ${range(e.perSecond)} ${e.unit === 'req/s' ? '' : e.unit} | ${e.cpuMicros ? range(e.cpuMicros) : '—'} | ${fmt(e.p50ms, 1)} / ${fmt(e.p99ms, 1)} | ${e.errors} |`);
    }
    if (group.comparisons.length > 0) {
      lines.push('', '| ratio (pair by pair) | median (min–max) | same, by server CPU per request | target | |', '|---|---:|---:|---:|---|');
      for (const c of group.comparisons) lines.push(`| ${c.label} | ${range(c.ratio, 2)} | ${c.cpuRatio ? range(c.cpuRatio, 2) : '—'} | ${c.target === undefined ? '' : `≥ ${c.target}`} | ${c.met === undefined ? '' : c.met ? 'met' : '**missed**'} |`);
    }
    for (const note of group.notes) lines.push('', `_${note}_`);
  }
  if (coldStarts.length > 0) {
    lines.push('', '### 6. Cold start (spawn → first 200 on discovery) and RSS', '', '| system | cold start ms, median (min–max) | RSS idle MiB | left running after stop, ms |', '|---|---:|---:|---:|');
    for (const c of coldStarts) lines.push(`| ${c.system} | ${range(c.ms)} | ${fmt(c.idleRssMiB.median, 1)} | ${fmt(c.leftoverMs.median)} |`);
    lines.push('', '_every testbed here has the bench\'s own XDG_CACHE_HOME and XDG_STATE_HOME (its key pool, filled by a start before these, and its keys file); "left running": from the stop until no process the system started is left (the pool\'s refill), waited for before the next start_');
    if (Object.keys(MEMORY).length > 0) {
      lines.push('', '| long-running process (bench fixture) | RSS at start MiB | after figures 1–4 (the paths both IdPs serve) MiB | after figure 5 (mock APIs) MiB |', '|---|---:|---:|---:|');
      for (const [name, m] of Object.entries(MEMORY)) lines.push(`| ${name} | ${fmt(m.idle, 1)} | ${fmt(m.afterLoad ?? Number.NaN, 1)} | ${fmt(m.afterApis ?? Number.NaN, 1)} |`);
      lines.push('', '_RSS grows with the tokens both IdPs keep until they expire (1 h in this fixture: opaque tokens, refresh tokens, grants, sessions); JWT access tokens cost neither of them any stored state; figure 5 runs in a testbed process of its own (its RSS includes the APIs\' caches and the tokens minted for them)_');
    }
  }
  if (growth.points.length > 0) {
    lines.push('', `### 8. Growth: ${growth.tokens} tokens, ${growth.ttlSeconds} s access-token TTL`, '', '| when | RSS MiB | store entries | issue/s | p50 / p99 ms |', '|---|---:|---:|---:|---:|');
    for (const p of growth.points) lines.push(`| ${p.when} | ${fmt(p.rssMiB, 1)} | ${p.storeEntries ?? '-'} | ${fmt(p.issuePerSecond)} | ${fmt(p.p50ms, 1)} / ${fmt(p.p99ms, 1)} |`);
    for (const note of growth.notes) lines.push('', `_${note}_`);
  }
  if (startup.imports.length > 0) {
    lines.push('', '### 9. Start-up in the library: import', '', '| import | system | compile cache | ms, median (min–max) |', '|---|---|---|---:|');
    for (const row of startup.imports) lines.push(`| \`import('${row.specifier}')\` | ${row.system} | ${row.compileCache} | ${range(row.ms)} |`);
    if (startup.importRatio) lines.push('', '| ratio (pair by pair) | median (min–max) | target | |', '|---|---:|---:|---|', `| oidc-testbed / oidc-provider alone | ${range(startup.importRatio, 2)} | ≤ ${IMPORT_RATIO_TARGET} | ${startup.importRatio.median <= IMPORT_RATIO_TARGET ? 'met' : '**missed**'} |`);
  }
  if (startup.starts.length > 0) {
    lines.push('', '### 9. Start-up in the library: start calls', '', `| system | call (then stop()) | first call ms, median (min–max) | next ${NEXT_CALLS} calls ms, median (min–max) | import ms before them | left running after exit, ms |`, '|---|---|---:|---:|---:|---:|');
    for (const row of startup.starts) lines.push(`| ${row.system} | \`${row.call}\` | ${range(row.first)} | ${range(row.next, 1)} | ${fmt(row.importMs.median)} | ${fmt(row.leftoverMs.median)} |`);
    const start = startup.starts.find((row) => row.call === START_DEFAULT);
    if (start) lines.push('', `_target: ${START_DEFAULT}, the next calls' median ≤ ${START_TARGET_MS} ms: ${start.next.median <= START_TARGET_MS ? 'met' : '**missed**'}_`);
  }
  for (const note of startup.notes) lines.push('', `_${note}_`);
  return lines.join('\n');
}

interface TargetCheck { target: string; value: string; met: boolean | undefined }

function targets(): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const group of groups) {
    for (const c of group.comparisons) {
      if (c.target !== undefined) checks.push({ target: `${group.figure}. ${c.label} ≥ ${c.target}×`, value: `${fmt(c.ratio.median, 2)}×${c.cpuRatio ? ` (by CPU per request ${fmt(c.cpuRatio.median, 2)}×)` : ""}`, met: c.met });
    }
  }
  const flow = groups.flatMap((g) => g.entries).find((e) => e.key === 't-flow');
  if (flow) checks.push({ target: '2. headless code flow ≥ 200 flows/s', value: `${fmt(flow.perSecond.median)} flows/s`, met: flow.perSecond.median >= 200 });
  const tbCold = coldStarts.find((c) => c.system.startsWith('oidc-testbed'));
  const bareCold = coldStarts.find((c) => c.system.startsWith('bare'));
  if (tbCold && bareCold) {
    checks.push({ target: '6. cold start ≤ bare oidc-provider', value: `${fmt(tbCold.ms.median)} ms vs ${fmt(bareCold.ms.median)} ms`, met: tbCold.ms.median <= bareCold.ms.median });
    for (const [system, target] of [[FIRST_START_PUBLISHED, 'as published'], [FIRST_START_CLONE, 'from a source clone']]) {
      const firstStart = coldStarts.find((c) => c.system === system);
      if (firstStart) checks.push({ target: `6. a machine's first start (no compile cache) ${target} ≤ bare oidc-provider`, value: `${fmt(firstStart.ms.median)} ms vs ${fmt(bareCold.ms.median)} ms`, met: firstStart.ms.median <= bareCold.ms.median });
    }
    checks.push({ target: '6. idle RSS ≤ bare oidc-provider + 20 MiB', value: `${fmt(tbCold.idleRssMiB.median, 1)} vs ${fmt(bareCold.idleRssMiB.median, 1)} MiB`, met: tbCold.idleRssMiB.median <= bareCold.idleRssMiB.median + 20 });
  }
  const tbMem = MEMORY['testbed'];
  const bareMem = MEMORY['bare oidc-provider'];
  if (tbMem?.afterLoad && bareMem?.afterLoad) {
    checks.push({ target: '6. RSS after figures 1–4 ≤ bare oidc-provider + 20 MiB', value: `${fmt(tbMem.afterLoad, 1)} vs ${fmt(bareMem.afterLoad, 1)} MiB`, met: tbMem.afterLoad <= bareMem.afterLoad + 20 });
  }
  for (const [system, limit] of [[CLI_PERSISTED, CLI_PERSISTED_TARGET_MS], [CLI_EPHEMERAL, CLI_EPHEMERAL_TARGET_MS]] as const) {
    const cli = coldStarts.find((c) => c.system === system);
    if (cli) checks.push({ target: `6. ${system.replace(/ \(.*$/, '')}: to the first discovery ≤ ${limit} ms`, value: `${fmt(cli.ms.median)} ms`, met: cli.ms.median <= limit });
  }
  if (startup.importRatio) {
    const [testbed, floor] = [IMPORT_TESTBED, IMPORT_FLOOR].map((system) => startup.imports.find((row) => row.system === system)!);
    checks.push({ target: `9. import('oidc-testbed') ≤ ${IMPORT_RATIO_TARGET}× import('oidc-provider')`, value: `${fmt(startup.importRatio.median, 2)}× (${fmt(testbed.ms.median)} ms vs ${fmt(floor.ms.median)} ms)`, met: startup.importRatio.median <= IMPORT_RATIO_TARGET });
  }
  const defaultStart = startup.starts.find((row) => row.call === START_DEFAULT);
  if (defaultStart) checks.push({ target: `9. ${START_DEFAULT}, median of the ${NEXT_CALLS} calls after the first ≤ ${START_TARGET_MS} ms`, value: `${fmt(defaultStart.next.median, 1)} ms (first ${fmt(defaultStart.first.median)} ms)`, met: defaultStart.next.median <= START_TARGET_MS });
  if (growth.points.length >= 3) {
    const [start, peak, end] = [growth.points[0], growth.points[1], growth.points.at(-1)!];
    checks.push({ target: '8. expired entries swept (entries back near the start)', value: `${start.storeEntries} → ${peak.storeEntries} → ${end.storeEntries}`, met: (end.storeEntries ?? Infinity) < Math.max(1000, (peak.storeEntries ?? 0) * 0.05) });
  }
  return checks;
}

// ---------------------------------------------------------------------------------------------

pinSelfToLoadCore();
const startedAt = new Date();
const loadBefore = loadavg();
console.error(`oidc-testbed bench (${QUICK ? 'quick' : 'full'}): ${RUNS} run(s) of ${SECONDS} s per scenario and system, ${CONNECTIONS} connections; ${pinningDescription()}; load average ${loadBefore.map((n) => n.toFixed(2)).join(' ')}`);
const fixtures = writeBenchFixtures();
const deadline = setTimeout(() => {
  console.error('bench: time limit reached, stopping');
  process.exit(3);
}, (QUICK ? 5 : 30) * 60_000);
deadline.unref();
// Built before anything is measured: figures 6 and 9 run the package as published.
const published = [6, 9].some(wants) ? publishedPackage() : undefined;
try {
  if ([1, 2, 3, 4, 5].some(wants)) await figures1to5(fixtures);
  if (wants(6)) await figure6(published!);
  if (wants(7)) await figure7(fixtures);
  if (wants(8)) await figure8(fixtures);
  if (wants(9)) await figure9(published!);
} finally {
  published?.remove();
  home.remove();
  removeScratch();
}
const checks = targets();
const header = [
  `oidc-testbed bench, ${startedAt.toISOString()}: ${QUICK ? 'quick' : 'full'} run, ${RUNS} run(s) × ${SECONDS} s per scenario and system, wrk 1 thread × ${CONNECTIONS} connections`,
  `${pinningDescription()}; ${cpus().length} cores (${cpus()[0]?.model ?? '?'}); Node ${process.version}; load average before ${loadBefore.map((n) => n.toFixed(2)).join(' ')}, after ${loadavg().map((n) => n.toFixed(2)).join(' ')}`,
];
const report = `${header.join('\n')}\n${table()}\n\n### Targets\n\n| target | measured | |\n|---|---:|---|\n${checks.map((c) => `| ${c.target} | ${c.value} | ${c.met === undefined ? '' : c.met ? 'met' : '**missed**'} |`).join('\n')}\n`;
console.log(report);
const out = resolve(REPO, values.out);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({
  startedAt: startedAt.toISOString(), quick: QUICK, runs: RUNS, seconds: SECONDS, connections: CONNECTIONS, pinned: PINNING, pinning: pinningDescription(),
  node: process.version, cpus: cpus().length, loadAverage: { before: loadBefore, after: loadavg() },
  groups, coldStarts, memory: MEMORY, growth, startup, targets: checks,
}, null, 2)}\n`);
console.error(`[${elapsed()}] results: ${out}`);
const errors = groups.flatMap((g) => g.entries).reduce((sum, e) => sum + e.errors, 0);
if (errors > 0) {
  console.error(`${errors} requests failed: see the errors column`);
  process.exitCode = 1;
}
