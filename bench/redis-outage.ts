/**
 * A Redis crash under load, measured. A private redis-server on a spare port (append-only file on,
 * so that its data survives a restart as a production Redis's would; the machine's Redis on 6379 is
 * never touched), a testbed started by its CLI with REDIS_URL set, and paced requests to three
 * endpoints that need the store: client credentials (an opaque token: a write), introspection and
 * userinfo (reads). Redis is killed (SIGKILL, as a crash), stays down `--outage` seconds, and is
 * started again on the same port; `--runs` times on the same testbed.
 *
 *   npm run bench:redis-outage [-- --outage 5 --runs 3 --rate 50 --out bench/results/redis-outage.json]
 *
 * Reported per run: the latency of the answers to requests sent during the outage (each must be
 * `503 temporarily_unavailable` with Retry-After), how long after the crash the requests that
 * were in flight then were answered, and the time from the restart (redis-server spawned) to each
 * endpoint's first 200. Targets: every 503 within 100 ms, the first success within 1 s of the
 * restart; exit 1 when one is missed or any answer is something else (a 500, a socket error).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { RedisServer, requireRedisBinaries } from '../test/store/redis-servers.ts';
import { pinningDescription, pinSelfToLoadCore } from './lib/cpu.ts';
import { codeFlow } from './lib/flows.ts';
import type { Response } from './lib/http.ts';
import { type LatencySummary, PacedLoad, summarizeLatencies } from './lib/paced.ts';
import { REPO, startTestbedProcess } from './lib/processes.ts';
import { accessTokenOf, bearerRequest, CC_OPAQUE, clientCredentialsRequest, introspectionRequest, sendRequest } from './lib/requests.ts';

const { values } = parseArgs({
  options: {
    outage: { type: 'string', default: '5' },
    runs: { type: 'string', default: '3' },
    rate: { type: 'string', default: '50' },
    out: { type: 'string', default: 'bench/results/redis-outage.json' },
  },
});
const OUTAGE_S = Number(values.outage);
const RUNS = Number(values.runs);
const RATE = Number(values.rate);
if (!(OUTAGE_S > 0 && Number.isInteger(RUNS) && RUNS > 0 && RATE > 0))
  throw new Error('--outage and --rate must be positive numbers, --runs a positive integer');
const STEADY_MS = 2000; // before each crash and after each restart
const TARGET_503_MS = 100;
const TARGET_RECOVERY_MS = 1000;

interface Answer {
  endpoint: string;
  sent: number;
  done: number;
  status: number;
  /** `error` of a JSON error body. */
  error?: string;
  retryAfter?: string;
  /** A socket error or a timeout instead of an answer. */
  failure?: string;
}

interface RunFigures {
  /** Answers to requests sent while Redis was down (from its exit to its restart). */
  during: LatencySummary;
  /** Requests in flight at the crash answered with a 503: ms from the crash to their answer. */
  inFlightAtCrash: LatencySummary;
  /** ms from the restart (redis-server spawned) to each endpoint's first 200; and from Redis answering PING. */
  firstSuccess: Record<string, { fromRestartMs: number; fromPingMs: number }>;
  redisStartMs: number;
  unexpected: Answer[];
}

if (!requireRedisBinaries()) throw new Error('redis-server and redis-cli are needed (apt-get install redis-server)');
pinSelfToLoadCore();
const redis = await RedisServer.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
const testbed = await startTestbedProcess('testbed (Redis)', { env: { REDIS_URL: redis.url }, logLevel: null }).catch(
  async (error: unknown) => {
    await redis.destroy();
    throw error;
  },
);
const answers: Answer[] = [];
const figures: RunFigures[] = [];
try {
  const opaque = accessTokenOf(await sendRequest(testbed.port, clientCredentialsRequest(CC_OPAQUE)));
  // No resource: an opaque access token for userinfo, stored in Redis.
  const user = await codeFlow({ port: testbed.port, dialect: 'testbed' });
  const endpoints = {
    token: clientCredentialsRequest(CC_OPAQUE),
    introspection: introspectionRequest(opaque),
    userinfo: bearerRequest('/me', user.access_token),
  };
  const record = (endpoint: string, sent: number, response: Response) => {
    let error: string | undefined;
    try {
      error = (JSON.parse(response.body) as { error?: string }).error;
    } catch {
      // not JSON: counted as unexpected below
    }
    const retryAfter = response.headers['retry-after'];
    answers.push({
      endpoint,
      sent,
      done: performance.now(),
      status: response.status,
      error,
      retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
    });
  };
  const load = new PacedLoad(
    Object.entries(endpoints).map(([endpoint, request]) => ({
      name: endpoint,
      rate: RATE,
      maxInFlight: 64,
      run: async () => {
        const sent = performance.now();
        try {
          record(endpoint, sent, await sendRequest(testbed.port, request));
        } catch (error) {
          answers.push({ endpoint, sent, done: performance.now(), status: 0, failure: (error as Error).message });
        }
      },
    })),
  );
  console.error(
    `${RUNS} outages of ${OUTAGE_S} s, ${RATE} requests/s to each of ${Object.keys(endpoints).join(', ')}; ${pinningDescription()}; load average ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
  );
  load.start();
  const timelines: Timeline[] = [];
  let from = performance.now();
  await sleep(STEADY_MS);
  for (let run = 0; run < RUNS; run += 1) {
    const crashAt = performance.now();
    await redis.stop();
    const downAt = performance.now();
    await sleep(OUTAGE_S * 1000);
    const restartAt = performance.now();
    await redis.start();
    const upAt = performance.now();
    await sleep(STEADY_MS);
    // Each run's answers: those sent from the end of the previous run (its steady time before the crash) to its own end.
    timelines.push({ from, crashAt, downAt, restartAt, upAt, to: (from = performance.now()) });
  }
  await load.stop();
  for (const [index, at] of timelines.entries()) {
    figures.push(
      figuresOf(
        answers.filter((answer) => answer.sent >= at.from && answer.sent < at.to),
        Object.keys(endpoints),
        at,
      ),
    );
    console.error(`  outage ${index + 1}: ${line(figures[index])}`);
  }
} finally {
  await testbed.stop();
  await redis.destroy();
}

/** performance.now() instants of one run: Redis killed, seen exited, spawned again, answering PING. */
interface Timeline {
  from: number;
  crashAt: number;
  downAt: number;
  restartAt: number;
  upAt: number;
  to: number;
}

function figuresOf(window: Answer[], endpoints: string[], at: Timeline): RunFigures {
  const isUnavailable = (answer: Answer) =>
    answer.status === 503 && answer.error === 'temporarily_unavailable' && answer.retryAfter !== undefined;
  const during = window.filter((answer) => answer.sent >= at.downAt && answer.sent < at.restartAt);
  const inFlight = window.filter((answer) => answer.sent < at.downAt && answer.done > at.crashAt && answer.status === 503);
  const unexpected = window.filter(
    (answer) => !(answer.status === 200 || isUnavailable(answer)) || (during.includes(answer) && answer.status !== 503),
  );
  const firstSuccess: RunFigures['firstSuccess'] = {};
  for (const endpoint of endpoints) {
    const first = window
      .filter((answer) => answer.endpoint === endpoint && answer.status === 200 && answer.sent >= at.restartAt)
      .sort((a, b) => a.done - b.done)[0];
    firstSuccess[endpoint] = first
      ? { fromRestartMs: first.done - at.restartAt, fromPingMs: first.done - at.upAt }
      : { fromRestartMs: Number.NaN, fromPingMs: Number.NaN };
  }
  return {
    during: summarizeLatencies(during.map((answer) => answer.done - answer.sent)),
    inFlightAtCrash: summarizeLatencies(inFlight.map((answer) => answer.done - at.crashAt)),
    firstSuccess,
    redisStartMs: at.upAt - at.restartAt,
    unexpected,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

/** The slowest endpoint's first 200 after the restart (NaN, failing the check, when one had none). */
function recoveryOf(run: RunFigures): number {
  return Math.max(...Object.values(run.firstSuccess).map((first) => first.fromRestartMs));
}

function worst503Of(run: RunFigures): number {
  return Math.max(run.during.max, run.inFlightAtCrash.count > 0 ? run.inFlightAtCrash.max : 0);
}

function line(run: RunFigures): string {
  const firsts = Object.entries(run.firstSuccess)
    .map(([endpoint, first]) => `${endpoint} ${fmt(first.fromRestartMs, 0)}`)
    .join(', ');
  return (
    `${run.during.count} answers during the outage, p50 ${fmt(run.during.p50)} / p99 ${fmt(run.during.p99)} / max ${fmt(run.during.max)} ms; ` +
    `${run.inFlightAtCrash.count} in flight at the crash answered 503 within ${fmt(run.inFlightAtCrash.max)} ms of it; ` +
    `first 200 after the restart (ms): ${firsts}; ${run.unexpected.length} unexpected`
  );
}

const worst503 = Math.max(...figures.map(worst503Of));
const worstRecovery = Math.max(...figures.map(recoveryOf));
const unexpected = figures.flatMap((run) => run.unexpected);
const checks = [
  {
    target: `every 503 during the outage within ${TARGET_503_MS} ms (of sending, or of the crash for requests in flight then)`,
    value: `${fmt(worst503)} ms (worst run)`,
    met: worst503 <= TARGET_503_MS,
  },
  {
    target: `first success within ${TARGET_RECOVERY_MS} ms of the restart (every endpoint)`,
    value: `${fmt(worstRecovery, 0)} ms (worst run)`,
    met: worstRecovery <= TARGET_RECOVERY_MS,
  },
  {
    target: 'every answer 200 or 503 temporarily_unavailable with Retry-After; none during the outage a 200',
    value: `${unexpected.length} otherwise`,
    met: unexpected.length === 0,
  },
];

const rows = [
  '| outage | answers during it | p50 / p99 / max ms | in flight at the crash: 503s, max ms after it | first 200 after restart (ms from spawn): token / introspection / userinfo | redis-server start to PING (ms) |',
  '|---:|---:|---:|---:|---:|---:|',
  ...figures.map(
    (run, index) =>
      `| ${index + 1} | ${run.during.count} | ${fmt(run.during.p50)} / ${fmt(run.during.p99)} / ${fmt(run.during.max)} | ${run.inFlightAtCrash.count}, ${fmt(run.inFlightAtCrash.max)} | ${Object.values(
        run.firstSuccess,
      )
        .map((first) => fmt(first.fromRestartMs, 0))
        .join(' / ')} | ${fmt(run.redisStartMs, 0)} |`,
  ),
  '',
  '| target | value | met |',
  '|---|---|---|',
  ...checks.map((check) => `| ${check.target} | ${check.value} | ${check.met ? 'met' : 'NOT met'} |`),
];
console.log(rows.join('\n'));
if (unexpected.length > 0) console.error(`unexpected answers (first 5): ${JSON.stringify(unexpected.slice(0, 5))}`);

const out = resolve(REPO, values.out);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: { cores: cpus().length, loadavg: loadavg(), pinning: pinningDescription() },
      settings: {
        outageSeconds: OUTAGE_S,
        runs: RUNS,
        ratePerEndpoint: RATE,
        redis: 'private redis-server, appendonly yes, appendfsync always; stopped by SIGKILL; restarted on the same port',
        testbed: 'bin/oidc-testbed.js start with REDIS_URL set, default fixture and log level',
      },
      runs: figures.map((run) => ({ ...run, unexpected: run.unexpected.slice(0, 20), unexpectedCount: run.unexpected.length })),
      worst: { answer503Ms: worst503, firstSuccessMs: worstRecovery },
      checks,
    },
    null,
    2,
  )}\n`,
);
console.error(`results: ${out}`);
if (checks.some((check) => !check.met)) process.exitCode = 1;
