/**
 * A bounded soak: the testbed as a user starts it (`bin/oidc-testbed.js start`: the default
 * fixture with what logins store living 2 minutes, the default log level, both mock APIs), under a
 * paced open-loop mix at about 80% of the
 * capacity measured for client credentials, for `--minutes`; its RSS sampled every 10 s.
 *
 *   npm run soak                      # 10 minutes
 *   npm run soak -- --minutes 1       # the CI variant
 *   node bench/soak.ts [--minutes M | --seconds S] [--load 0.8] [--capacity N] [--out bench/results/soak.json]
 *
 * "80% of capacity" is a share of the server's CPU, so that a mix of unequal operations can be held
 * to it: client credentials are first sent as fast as the server answers them (wrk, 16
 * connections; or `--capacity N` per second is taken as given), which gives the CPU time the server
 * uses per second at capacity; each operation of the mix is then timed in server CPU per operation,
 * and the rates are set so that the mix costs `--load` of that.
 *
 * The mix: logins (code flows, auto-login with login_hint=alice) and refreshes at fixed rates, so
 * that a faster machine does not store more; what they store (sessions, grants, interactions,
 * refresh tokens) lives SOAK_STATE_TTL seconds (bench/lib/fixtures.ts), so the store reaches a
 * steady size and memory that still grows is a leak (in the default fixture it lives 14 days and
 * grows for as long as the soak runs); each refresh chain starts over with a new login before its
 * grant expires. The rest of the budget goes to client
 * credentials (JWTs for both mock APIs), introspection (a fixed pool of tokens: introspecting a JWT
 * stores a record, so ever new ones would grow the store) and the mock APIs (the latest tokens:
 * first uses and repeats). /healthz's store entry count is sampled with RSS, so stored state and
 * a leak can be told apart.
 *
 * Exit 1 on any failed operation or 5xx answer, or when RSS grows: the mean of the last minute's
 * samples more than 10% above the second minute's. Runs shorter than 3 minutes compare windows of a
 * third of the run instead (the first third being warm-up) and say so.
 */
import { subscribe } from 'node:diagnostics_channel';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pinningDescription, pinSelfToLoadCore } from './lib/cpu.ts';
import { PROFILE_RESOURCE, SOAK_STATE_TTL, writeSoakFixture } from './lib/fixtures.ts';
import { codeFlow, drive, type FlowTarget, refresh, type Tokens } from './lib/flows.ts';
import { json, send, times } from './lib/http.ts';
import { type LatencySummary, PacedLoad, type PacedOperation, summarizeLatencies } from './lib/paced.ts';
import { cpuMicros, REPO, startTestbedProcess } from './lib/processes.ts';
import {
  accessTokenOf,
  bearerRequest,
  CC_DIRECTORY,
  CC_OPAQUE,
  CC_PROFILE,
  clientCredentialsRequest,
  introspectionRequest,
  sendRequest,
} from './lib/requests.ts';
import { wrk } from './lib/wrk.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    seconds: { type: 'string' },
    load: { type: 'string', default: '0.8' },
    capacity: { type: 'string' },
    out: { type: 'string', default: 'bench/results/soak.json' },
  },
});
const SAMPLE_S = 10;
const requested = values.seconds !== undefined ? Number(values.seconds) : Number(values.minutes) * 60;
const DURATION_S = Math.round(requested / SAMPLE_S) * SAMPLE_S;
// The introspected tokens are minted once and live an hour (the default fixture's access-token TTL).
if (!(DURATION_S >= 30 && DURATION_S <= 50 * 60)) throw new Error('--minutes / --seconds: the soak runs from 30 s to 50 minutes');
const LOAD = Number(values.load);
if (!(LOAD > 0 && LOAD <= 1)) throw new Error('--load is a share of capacity, above 0 and at most 1');
const GROWTH_LIMIT = 0.1;
/** Operations at fixed rates (per second). */
const FIXED_RATES = { 'code flow': 2, refresh: 4 };
/** At most this share of the budget goes to the fixed-rate operations (slower machines get fewer). */
const FIXED_SHARE_LIMIT = 0.3;
/** How the rest of the budget (server CPU) is shared. */
const SHARES = { 'client credentials': 0.5, introspection: 0.2, 'profile API': 0.15, 'directory API': 0.15 };
const CONNECTIONS = 16;
const SETTLE_S = 10;
/** Per operation: a stalled server makes skips, not an unbounded queue here. */
const MAX_IN_FLIGHT = 256;

// Every answer this process gets, whoever sent it (flows.ts, requests.ts): 5xx are counted here.
const responses = { count: 0, serverErrors: 0, firstServerError: undefined as string | undefined };
subscribe('http.client.response.finish', (message) => {
  const { request, response } = message as { request: { method: string; path: string }; response: IncomingMessage };
  responses.count += 1;
  if ((response.statusCode ?? 0) >= 500) {
    responses.serverErrors += 1;
    responses.firstServerError ??= `${response.statusCode} ${request.method} ${request.path.split('?')[0]}`;
  }
});

pinSelfToLoadCore();
const testbed = await startTestbedProcess('testbed', { logLevel: null, fixture: writeSoakFixture() });
const stopOnSignal = () => void testbed.stop().then(() => process.exit(130));
process.once('SIGINT', stopOnSignal);
process.once('SIGTERM', stopOnSignal);

interface Sample {
  t: number;
  rssMiB: number;
  storeEntries: number;
  /** Since the previous sample: the server's CPU time per wall time, this process's, and the answers it got per second. */
  serverCpuPercent: number;
  generatorCpuPercent: number;
  responsesPerSecond: number;
  failedSoFar: number;
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const sleep = (ms: number) => new Promise((done) => setTimeout(done, Math.max(0, ms)));
const mean = (numbers: number[]) => numbers.reduce((sum, n) => sum + n, 0) / numbers.length;

const loadAtStart = loadavg();
try {
  const { port } = testbed;
  const profileTarget: FlowTarget = { port, dialect: 'testbed', resource: PROFILE_RESOURCE };
  console.error(
    `soak: ${DURATION_S} s at ${LOAD * 100}% of client-credentials capacity; ${pinningDescription()}; load average ${loadAtStart.map((n) => n.toFixed(2)).join(' ')}`,
  );

  // Capacity: client credentials (JWT for the profile API, ES256) as fast as the server answers.
  const ccRequest = clientCredentialsRequest(CC_PROFILE);
  await wrk({ port, seconds: 1, connections: CONNECTIONS }, { request: ccRequest });
  const measured =
    values.capacity === undefined ? await wrk({ port, seconds: 5, connections: CONNECTIONS }, { request: ccRequest }) : undefined;
  if (measured && (measured.errors > 0 || measured.serverCpuMicros === undefined))
    throw new Error(`capacity run: ${measured.errors} errors`);

  // Tokens the mix starts from: a pool to introspect, refresh chains, the mock APIs' first tokens.
  const mint = (fields: Record<string, string>) => sendRequest(port, clientCredentialsRequest(fields)).then(accessTokenOf);
  const introspected = [...(await times(16, 8, () => mint(CC_OPAQUE))), ...(await times(16, 8, () => mint(CC_PROFILE)))];
  const chains: Tokens[] = await times(8, 8, () => codeFlow(profileTarget));
  // A chain's grant lives SOAK_STATE_TTL from its login: the chain starts over a while before.
  const chainStarted = chains.map(() => Date.now());
  const CHAIN_LIFE_MS = (SOAK_STATE_TTL - 30) * 1000;
  const idleChains = [...chains.keys()];
  const latest = { user: chains[0].access_token, directory: await mint(CC_DIRECTORY) };
  const sent = { clientCredentials: 0, introspection: 0 };

  const expect200 = async (what: string, response: Promise<{ status: number; body: string }>) => {
    const { status, body } = await response;
    if (status !== 200) throw new Error(`${what}: ${status} ${body.slice(0, 200)}`);
    return body;
  };
  const operations: Record<string, () => Promise<void>> = {
    'client credentials': async () => {
      const directory = (sent.clientCredentials += 1) % 2 === 0;
      const token = accessTokenOf(await sendRequest(port, clientCredentialsRequest(directory ? CC_DIRECTORY : CC_PROFILE)));
      if (directory) latest.directory = token;
    },
    'code flow': async () => {
      latest.user = (await codeFlow(profileTarget)).access_token;
    },
    refresh: async () => {
      const chain = idleChains.pop();
      if (chain === undefined) throw new Error('no idle refresh chain'); // maxInFlight is the pool size: cannot happen
      try {
        const renew = Date.now() - chainStarted[chain] > CHAIN_LIFE_MS;
        chains[chain] = renew ? await codeFlow(profileTarget) : await refresh(profileTarget, chains[chain].refresh_token!);
        if (renew) chainStarted[chain] = Date.now();
        latest.user = chains[chain].access_token;
      } finally {
        idleChains.push(chain);
      }
    },
    introspection: async () => {
      const body = await expect200(
        'introspection',
        sendRequest(port, introspectionRequest(introspected[(sent.introspection += 1) % introspected.length])),
      );
      if ((JSON.parse(body) as { active?: boolean }).active !== true) throw new Error(`introspection: not active: ${body.slice(0, 200)}`);
    },
    'profile API': async () => {
      await expect200('profile API', sendRequest(testbed.ports.profileApi, bearerRequest('/userinfo', latest.user)));
    },
    'directory API': async () => {
      await expect200('directory API', sendRequest(testbed.ports.directoryApi, bearerRequest('/openidm/info/login', latest.directory)));
    },
  };

  // Server CPU per operation, each run back to back by 4 loops for 1.5 s (this also warms the paths up).
  const costs: Record<string, number> = {};
  for (const [name, operation] of Object.entries(operations)) {
    const before = cpuMicros(testbed.pid)!;
    const result = await drive(1.5, name === 'refresh' ? 1 : 4, 100_000, operation);
    if (result.errors > 0 || result.requests === 0)
      throw new Error(`timing ${name}: ${result.errors} failed of ${result.requests + result.errors}`);
    costs[name] = (cpuMicros(testbed.pid)! - before) / result.requests;
  }

  // The budget: `LOAD` of the server CPU per second used at capacity.
  const capacityPerSecond = measured ? measured.perSecond : Number(values.capacity);
  const ccCpuMicros = measured?.serverCpuMicros ?? costs['client credentials'];
  const budget = LOAD * capacityPerSecond * ccCpuMicros; // µs of server CPU per second
  // Rates from costs (µs of server CPU per operation): fixed ones first (scaled down if they would
  // take more than FIXED_SHARE_LIMIT of the budget), the rest of the budget by SHARES.
  const plan = (cost: Record<string, number>): Record<string, number> => {
    const fixedCost = Object.entries(FIXED_RATES).reduce((sum, [name, rate]) => sum + rate * cost[name], 0);
    const fixedScale = Math.min(1, (FIXED_SHARE_LIMIT * budget) / fixedCost);
    const planned: Record<string, number> = {};
    for (const [name, rate] of Object.entries(FIXED_RATES)) planned[name] = rate * fixedScale;
    for (const [name, share] of Object.entries(SHARES)) planned[name] = (share * (budget - fixedCost * fixedScale)) / cost[name];
    return planned;
  };
  let rates = plan(costs);
  console.error(
    `capacity: ${fmt(capacityPerSecond)} client credentials/s${measured ? ` (measured, p99 ${fmt(measured.p99, 1)} ms)` : ' (--capacity)'}, ${fmt(ccCpuMicros)} µs of server CPU each: ${fmt((capacityPerSecond * ccCpuMicros) / 1e4)}% of a core at capacity; target ${fmt(budget / 1e4)}%`,
  );
  const mixLoad = () =>
    new PacedLoad(
      Object.entries(operations).map(
        ([name, run]) =>
          ({
            name,
            rate: rates[name],
            run,
            maxInFlight: name === 'refresh' ? chains.length : MAX_IN_FLIGHT,
          }) satisfies PacedOperation,
      ),
    );

  // Settling: the planned mix for a while. Operations mixed, many at a time, cost another amount of
  // CPU each than timed alone, 4 at a time: the ratio of the CPU the server used to what the
  // operations it completed cost alone corrects the costs. (A ratio per completed operation, not
  // the CPU share itself: a server that other processes keep off its core completes fewer.)
  const settling = mixLoad();
  const settleCpu = cpuMicros(testbed.pid)!;
  settling.start();
  await sleep(SETTLE_S * 1000);
  await settling.stop();
  const costAlone = [...settling.counts].reduce((sum, [name, counts]) => sum + (counts.succeeded + counts.failed) * costs[name], 0);
  const mixedRatio = Math.min(2, Math.max(0.5, (cpuMicros(testbed.pid)! - settleCpu) / costAlone));
  const mixedCosts = Object.fromEntries(Object.entries(costs).map(([name, cost]) => [name, cost * mixedRatio]));
  rates = plan(mixedCosts);
  const settleFailed = [...settling.counts.values()].reduce((sum, counts) => sum + counts.failed, 0);
  const settleFirstError = [...settling.counts.values()].find((counts) => counts.firstError)?.firstError;
  console.error(
    `settling: ${SETTLE_S} s of the planned mix: operations cost ×${fmt(mixedRatio, 2)} their CPU timed alone; ${settleFailed} failed`,
  );
  console.error(
    `mix (per second, server CPU µs each): ${Object.keys(operations)
      .map((name) => `${name} ${fmt(rates[name], 1)} (${fmt(mixedCosts[name])})`)
      .join(', ')}`,
  );

  const load = mixLoad();
  const samples: Sample[] = [];
  let previous = { at: performance.now(), serverCpu: cpuMicros(testbed.pid)!, ownCpu: process.cpuUsage(), responses: responses.count };
  const failed = () => [...load.counts.values()].reduce((sum, counts) => sum + counts.failed, 0);
  const takeSample = async (t: number) => {
    const storeEntries =
      (await json<{ store: { entries?: number } }>(send(port, 'GET', '/healthz'), 'healthz')).store.entries ?? Number.NaN;
    const now = { at: performance.now(), serverCpu: cpuMicros(testbed.pid)!, ownCpu: process.cpuUsage(), responses: responses.count };
    const wallMicros = (now.at - previous.at) * 1000;
    const own = process.cpuUsage(previous.ownCpu);
    samples.push({
      t,
      rssMiB: testbed.rssMiB(),
      storeEntries,
      serverCpuPercent: t === 0 ? Number.NaN : (100 * (now.serverCpu - previous.serverCpu)) / wallMicros,
      generatorCpuPercent: t === 0 ? Number.NaN : (100 * (own.user + own.system)) / wallMicros,
      responsesPerSecond: t === 0 ? Number.NaN : ((now.responses - previous.responses) * 1e6) / wallMicros,
      failedSoFar: failed(),
    });
    previous = now;
  };

  const baseline = { responses: responses.count };
  await takeSample(0);
  const started = performance.now();
  load.start();
  for (let t = SAMPLE_S; t <= DURATION_S; t += SAMPLE_S) {
    await sleep(started + t * 1000 - performance.now());
    await takeSample(t);
    const s = samples.at(-1)!;
    console.error(
      `  ${t} s: RSS ${fmt(s.rssMiB, 1)} MiB, ${s.storeEntries} store entries, server CPU ${fmt(s.serverCpuPercent)}%, ${fmt(s.responsesPerSecond)} responses/s, ${s.failedSoFar} failed`,
    );
  }
  await load.stop();
  const elapsed = (performance.now() - started) / 1000;

  // RSS growth: the second minute against the last; shorter runs use thirds of the run.
  const window = Math.min(60, DURATION_S / 3);
  const early = samples.filter((s) => s.t > window && s.t <= 2 * window);
  const last = samples.filter((s) => s.t > DURATION_S - window);
  const growth = mean(last.map((s) => s.rssMiB)) / mean(early.map((s) => s.rssMiB)) - 1;
  const windows =
    DURATION_S >= 180
      ? 'the last minute against the second minute (means of their 10 s samples)'
      : `a run under 3 minutes: the last ${window} s against ${window}–${2 * window} s, after ${window} s of warm-up (means of their 10 s samples)`;

  const mix = Object.keys(operations).map((name) => {
    const counts = load.counts.get(name)!;
    const latency: LatencySummary = summarizeLatencies(counts.latenciesMs);
    return {
      name,
      targetPerSecond: rates[name],
      achievedPerSecond: counts.succeeded / elapsed,
      serverCpuMicrosEach: mixedCosts[name],
      serverCpuMicrosEachAlone: costs[name],
      latencyMs: latency,
      succeeded: counts.succeeded,
      failed: counts.failed,
      skipped: counts.skipped,
      firstError: counts.firstError,
    };
  });
  const errors = settleFailed + mix.reduce((sum, row) => sum + row.failed, 0);
  const firstError = settleFirstError ?? mix.find((row) => row.firstError)?.firstError;
  // Every 5xx since the start, the timing and settling runs included (wrk's capacity run aside: it fails on any).
  const serverErrors = responses.serverErrors;
  const loaded = samples.filter((s) => s.t > 0);
  const achievedCpu = mean(loaded.map((s) => s.serverCpuPercent));
  const checks = [
    {
      target: 'no failed operation (settling and soak)',
      value: `${errors} failed${firstError ? ` (first: ${firstError})` : ''}`,
      met: errors === 0,
    },
    {
      target: 'no 5xx',
      value: `${serverErrors}${responses.firstServerError ? ` (first: ${responses.firstServerError})` : ''}`,
      met: serverErrors === 0,
    },
    {
      target: `RSS growth ≤ ${GROWTH_LIMIT * 100}%: ${windows}`,
      value: `${fmt(mean(early.map((s) => s.rssMiB)), 1)} → ${fmt(mean(last.map((s) => s.rssMiB)), 1)} MiB (${growth >= 0 ? '+' : ''}${fmt(growth * 100, 1)}%)`,
      met: growth <= GROWTH_LIMIT,
    },
  ];

  const lines = [
    `Soak: ${DURATION_S} s, oidc-testbed (CLI, default fixture with logins' state living ${SOAK_STATE_TTL} s, default log level: a JSON line per request), ${cpus().length} cores, ${pinningDescription()}; load average (1 min) ${fmt(loadAtStart[0], 2)} at the start, ${fmt(loadavg()[0], 2)} at the end (other processes share the cores)`,
    `Load: target ${fmt(budget / 1e4)}% of a core of server CPU (${LOAD * 100}% of the ${fmt((capacityPerSecond * ccCpuMicros) / 1e4)}% used at ${fmt(capacityPerSecond)} client credentials/s); achieved ${fmt(achievedCpu)}%, ${fmt((responses.count - baseline.responses) / elapsed)} responses/s; the load generator (this process) used ${fmt(mean(loaded.map((s) => s.generatorCpuPercent)))}% of a core`,
    '',
    '| operation | target /s | achieved /s | server CPU µs each (mixed) | p50 / p99 / max ms | failed | skipped (generator at its in-flight limit) |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...mix.map(
      (row) =>
        `| ${row.name} | ${fmt(row.targetPerSecond, 1)} | ${fmt(row.achievedPerSecond, 1)} | ${fmt(row.serverCpuMicrosEach)} | ${fmt(row.latencyMs.p50, 1)} / ${fmt(row.latencyMs.p99, 1)} / ${fmt(row.latencyMs.max, 1)} | ${row.failed} | ${row.skipped} |`,
    ),
    '',
    '| t (s) | RSS MiB | store entries | server CPU % | responses/s | generator CPU % | failed so far |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...samples.map(
      (s) =>
        `| ${s.t} | ${fmt(s.rssMiB, 1)} | ${s.storeEntries} | ${fmt(s.serverCpuPercent)} | ${fmt(s.responsesPerSecond)} | ${fmt(s.generatorCpuPercent)} | ${s.failedSoFar} |`,
    ),
    '',
    '| check | value | met |',
    '|---|---|---|',
    ...checks.map((check) => `| ${check.target} | ${check.value} | ${check.met ? 'met' : 'NOT met'} |`),
  ];
  console.log(lines.join('\n'));

  const out = resolve(REPO, values.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: { cores: cpus().length, loadavgAtStart: loadAtStart, loadavgAtEnd: loadavg(), pinning: pinningDescription() },
        settings: {
          seconds: DURATION_S,
          load: LOAD,
          sampleSeconds: SAMPLE_S,
          fixedRates: FIXED_RATES,
          shares: SHARES,
          testbed: `bin/oidc-testbed.js start --port 0 --ephemeral-keys (default fixture, logins' state living ${SOAK_STATE_TTL} s; default log level)`,
        },
        capacity: {
          clientCredentialsPerSecond: capacityPerSecond,
          measured: measured !== undefined,
          serverCpuMicrosEach: ccCpuMicros,
          p99Ms: measured?.p99,
          coreShareAtCapacity: (capacityPerSecond * ccCpuMicros) / 1e6,
        },
        load: {
          targetServerCpuPercent: budget / 1e4,
          settling: { seconds: SETTLE_S, costRatioMixedToAlone: mixedRatio, failed: settleFailed },
          achievedServerCpuPercent: achievedCpu,
          responsesPerSecond: (responses.count - baseline.responses) / elapsed,
          generatorCpuPercent: mean(loaded.map((s) => s.generatorCpuPercent)),
        },
        mix,
        errors,
        serverErrors,
        rss: { windows, earlyMiB: mean(early.map((s) => s.rssMiB)), lastMiB: mean(last.map((s) => s.rssMiB)), growth },
        samples,
        checks,
      },
      null,
      2,
    )}\n`,
  );
  console.error(`results: ${out}`);
  if (checks.some((check) => !check.met)) process.exitCode = 1;
} finally {
  await testbed.stop();
}
