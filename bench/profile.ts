/**
 * Where the time goes in one benchmark scenario: the system runs under `node --cpu-prof` on the
 * server core, wrk loads it from the load core, and only the samples taken while wrk ran are
 * counted (start-up and shutdown are left out).
 *
 *   node bench/profile.ts <scenario> [--system testbed|bare|floor] [--seconds 6] [--top 30]
 *
 * Scenarios: discovery, jwks, cc-opaque, cc-jwt (ES256, the default), introspect (opaque token),
 * api-repeat (directory API, the same JWT again), api-first (directory API, each client-credentials
 * JWT once; api-first-rs256: its resource signing with RS256), profile-first (profile API, each
 * user JWT once, minted by refresh); the API scenarios run on the testbed or on the Koa + jose floor
 * (`--system floor`: the same tokens, verified by its /verify route, or for api-repeat its /plain
 * route). Prints the CPU time of each of the system's threads per response (the profile samples
 * only the main one), then self time by package or source file and by function, each in µs per
 * response as well.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pinSelfToLoadCore } from './lib/cpu.ts';
import { DIRECTORY_RESOURCE, PROFILE_RESOURCE, writeBenchFixtures } from './lib/fixtures.ts';
import { userTokens } from './lib/flows.ts';
import { basic, form, json, send, times } from './lib/http.ts';
import { cpuMicrosByThread, startBareProvider, startFloor, startTestbedProcess } from './lib/processes.ts';
import { type HttpRequest, removeScratch, wrk } from './lib/wrk.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    system: { type: 'string', default: 'testbed' },
    seconds: { type: 'string', default: '6' },
    top: { type: 'string', default: '30' },
  },
});
const scenario = positionals[0];
const SCENARIOS = ['discovery', 'jwks', 'cc-opaque', 'cc-jwt', 'introspect', 'api-repeat', 'api-first', 'api-first-rs256', 'profile-first'];
if (!scenario || !SCENARIOS.includes(scenario)) {
  console.error(`usage: node bench/profile.ts <${SCENARIOS.join('|')}> [--system testbed|bare|floor] [--seconds 6] [--top 30]`);
  process.exit(2);
}
const bare = values.system === 'bare';
const floor = values.system === 'floor';
if (bare && /^(api|profile)-/.test(scenario)) throw new Error('the bare peer has no mock APIs');
if (floor && !/^(api|profile)-/.test(scenario)) throw new Error('the floor is profiled for the API scenarios only');

pinSelfToLoadCore();
const dir = mkdtempSync(join(tmpdir(), 'oidc-testbed-profile-'));
const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
const fixtures = writeBenchFixtures();
const fixture = scenario === 'api-first-rs256' ? fixtures.rs256Apis : fixtures.main;
const server = bare
  ? await startBareProvider(fixture, nodeArgs)
  : await startTestbedProcess('testbed', { fixture, nodeArgs: floor ? [] : nodeArgs });
// The floor (bench/servers/koa-jose-floor.ts) gets the same tokens: on its route that verifies nothing
// for api-repeat, on the one that verifies them for the first-use scenarios.
const floorServer = floor ? await startFloor([server], nodeArgs) : undefined;

const SERVICE = basic('service-client', 'service-client-secret');
const FORM = 'application/x-www-form-urlencoded';
const token = (fields: Record<string, string>) =>
  json<{ access_token: string }>(
    send(server.port, 'POST', '/token', { authorization: SERVICE }, form({ grant_type: 'client_credentials', ...fields })),
    'token',
  ).then((body) => body.access_token);
const directory = { resource: DIRECTORY_RESOURCE, scope: 'fr:idm:*' };

let window: [number, number];
let responses = 0;
try {
  const now = () => Number(process.hrtime.bigint() / 1000n); // the profile's clock: monotonic µs
  const options = { seconds: Number(values.seconds), connections: 16 };
  let load: { request: HttpRequest } | { requests: HttpRequest[] };
  let port = server.port;
  switch (scenario) {
    case 'discovery':
      load = { request: { path: '/.well-known/openid-configuration' } };
      break;
    case 'jwks':
      load = { request: { path: '/jwks' } };
      break;
    case 'cc-opaque':
      load = {
        request: {
          method: 'POST',
          path: '/token',
          headers: { authorization: SERVICE, 'content-type': FORM },
          body: form({ grant_type: 'client_credentials' }),
        },
      };
      break;
    case 'cc-jwt':
      load = {
        request: {
          method: 'POST',
          path: '/token',
          headers: { authorization: SERVICE, 'content-type': FORM },
          body: form({ grant_type: 'client_credentials', resource: PROFILE_RESOURCE, scope: 'profile' }),
        },
      };
      break;
    case 'introspect':
      load = {
        request: {
          method: 'POST',
          path: '/token/introspection',
          headers: { authorization: basic('profile-api', 'profile-api-secret'), 'content-type': FORM },
          body: form({ token: await token({}) }),
        },
      };
      break;
    case 'api-repeat':
      port = floorServer?.port ?? server.ports.directoryApi;
      load = {
        request: { path: floorServer ? '/plain' : '/openidm/info/login', headers: { authorization: `Bearer ${await token(directory)}` } },
      };
      break;
    case 'profile-first': {
      port = floorServer?.port ?? server.ports.profileApi;
      const tokens = await userTokens(server.port, PROFILE_RESOURCE, Number(values.seconds) * 2000);
      load = {
        requests: tokens.map((value) => ({ path: floorServer ? '/verify' : '/userinfo', headers: { authorization: `Bearer ${value}` } })),
      };
      break;
    }
    default: {
      port = floorServer?.port ?? server.ports.directoryApi;
      const tokens = await times(Number(values.seconds) * 3000, 32, () => token(directory));
      load = {
        requests: tokens.map((value) => ({
          path: floorServer ? '/verify' : '/openidm/info/login',
          headers: { authorization: `Bearer ${value}` },
        })),
      };
    }
  }
  const profiled = (floorServer ?? server).pid;
  const threadsBefore = cpuMicrosByThread(profiled);
  const started = now();
  const result = await wrk({ ...options, port }, load);
  window = [started, now()];
  responses = result.requests + result.errors;
  // The profile samples the main thread only; the others (V8's workers, libuv's pool: WebCrypto) are counted here.
  const byThread = [...cpuMicrosByThread(profiled)]
    .map(([name, us]) => [name, (us - (threadsBefore.get(name) ?? 0)) / responses] as const)
    .filter(([, us]) => us > 0)
    .map(([name, us]) => `${name} ${us.toFixed(1)}`);
  console.log(`CPU µs per response by thread: ${byThread.join(', ')}`);
  console.log(
    `${scenario} on ${(floorServer ?? server).name}: ${result.perSecond.toFixed(0)}/s, p50 ${result.p50.toFixed(1)} ms, ${result.errors} errors`,
  );
} finally {
  await floorServer?.stop();
  await server.stop();
  removeScratch();
}

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
}
const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
if (!file) throw new Error('no profile was written');
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
};
rmSync(dir, { recursive: true, force: true });
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parents = new Map(profile.nodes.flatMap((node) => (node.children ?? []).map((child) => [child, node.id] as const)));
const shortPath = (url: string) =>
  url.replace(/^file:\/\/.*?\/node_modules\//, 'node_modules/').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/');
const nameOf = ({ functionName, url, lineNumber }: ProfileNode['callFrame']) =>
  `${functionName || '(anonymous)'} ${shortPath(url)}${url ? `:${lineNumber + 1}` : ''}`;
const byFunction = new Map<string, number>();
const byOrigin = new Map<string, number>();
const inclusiveOurs = new Map<string, number>(); // time under each function of src/ (its callees included)
let total = 0;
let at = profile.startTime;
profile.samples.forEach((id, i) => {
  at += profile.timeDeltas[i] ?? 0;
  if (at < window[0] || at > window[1]) return;
  const delta = profile.timeDeltas[i] ?? 0;
  const { callFrame } = nodes.get(id)!;
  const path = shortPath(callFrame.url);
  const origin = path.startsWith('node_modules/')
    ? path
        .split('/')
        .slice(0, path.startsWith('node_modules/@') ? 3 : 2)
        .join('/')
    : path || callFrame.functionName;
  byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + delta);
  byFunction.set(nameOf(callFrame), (byFunction.get(nameOf(callFrame)) ?? 0) + delta);
  const onStack = new Set<string>();
  for (let node: number | undefined = id; node !== undefined; node = parents.get(node)) {
    const frame = nodes.get(node)!.callFrame;
    if (shortPath(frame.url).startsWith('src/')) onStack.add(nameOf(frame));
  }
  for (const name of onStack) inclusiveOurs.set(name, (inclusiveOurs.get(name) ?? 0) + delta);
  total += delta;
});
// Per request as well as in per cent: two systems' profiles of the same load compare by the first.
const top = (map: Map<string, number>) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(values.top))
    .map(([name, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}% ${(us / responses).toFixed(1).padStart(7)} µs  ${name}`)
    .join('\n');
const busy = total - (byFunction.get('(idle) ') ?? 0);
console.log(
  `\n${responses} responses; ${(total / 1000).toFixed(0)} ms of samples while loaded, ${(busy / responses).toFixed(1)} µs per response not idle`,
);
console.log(`\nself time while loaded, by package or file:\n${top(byOrigin)}\n\nby function:\n${top(byFunction)}`);
console.log(`\ntotal time (callees included) of the testbed's own functions (src/):\n${top(inclusiveOurs)}`);
