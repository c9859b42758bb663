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
 *
 * Each figure is a module of bench/figures/ (its setup, runs and table rows); bench/lib/measure.ts
 * is how they measure. This file reads the flags, runs the figures asked for, and writes the report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { codeFlow, codeFlowTargets } from './figures/code-flow.ts';
import { type ColdStart, coldStart, coldStartTable, coldStartTargets } from './figures/cold-start.ts';
import { figureContext, type Settings } from './figures/context.ts';
import { discoveryAndJwks } from './figures/discovery-jwks.ts';
import { introspectionAndRevocation, jwtIntrospectionAndRevocation } from './figures/introspection-revocation.ts';
import { emptyStartup, libraryStartup, startupTable, startupTargets } from './figures/library-startup.ts';
import { mockApis } from './figures/mock-apis.ts';
import { type Memory, sampleMemoryAfterLoad, startPeers } from './figures/peers.ts';
import { redisStore } from './figures/redis-store.ts';
import { emptyGrowth, growthTable, growthTargets, storeGrowth } from './figures/store-growth.ts';
import { tokenIssuance } from './figures/token-issuance.ts';
import { PINNING, pinningDescription, pinSelfToLoadCore } from './lib/cpu.ts';
import { writeBenchFixtures } from './lib/fixtures.ts';
import { comparisonTargets, elapsed, groupTables, verdict } from './lib/measure.ts';
import { REPO } from './lib/processes.ts';
import { publishedPackage } from './lib/published-package.ts';
import { removeScratch } from './lib/wrk.ts';

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
const settings: Settings = {
  quick: QUICK,
  runs: Number(values.runs ?? (QUICK ? 1 : 7)),
  seconds: Number(values.seconds ?? (QUICK ? 1 : 2)),
  connections: Number(values.connections),
  tokensPerRun: QUICK ? 3000 : 8000,
  opaqueTokensPerRun: QUICK ? 1000 : 3000,
  userTokensPerRun: QUICK ? 1000 : 5000,
  growthTokens: QUICK ? 5000 : 100_000,
  redis: values.redis,
};
const { runs: RUNS, seconds: SECONDS, connections: CONNECTIONS } = settings;
const ONLY = values.only ? new Set(values.only.split(',').map(Number)) : undefined;
const wants = (figure: number) => !ONLY || ONLY.has(figure);

pinSelfToLoadCore();
const startedAt = new Date();
const loadBefore = loadavg();
console.error(
  `oidc-testbed bench (${QUICK ? 'quick' : 'full'}): ${RUNS} run(s) of ${SECONDS} s per scenario and system, ${CONNECTIONS} connections; ${pinningDescription()}; load average ${loadBefore.map((n) => n.toFixed(2)).join(' ')}`,
);
const ctx = figureContext(settings, writeBenchFixtures());
const { groups } = ctx.bench;
const memory: Memory = {};
const coldStarts: ColdStart[] = [];
const growth = emptyGrowth(settings.growthTokens);
const startup = emptyStartup();
const deadline = setTimeout(
  () => {
    console.error('bench: time limit reached, stopping');
    process.exit(3);
  },
  (QUICK ? 5 : 30) * 60_000,
);
deadline.unref();
// Built before anything is measured: figures 6 and 9 run the package as published.
const published = [6, 9].some(wants) ? publishedPackage() : undefined;
try {
  if ([1, 2, 3, 4, 5].some(wants)) {
    const peers = await startPeers(ctx, memory, { defaultLog: wants(1) });
    try {
      if (wants(1)) await tokenIssuance(ctx, peers);
      if (wants(2)) await codeFlow(ctx, peers);
      if (wants(3)) await introspectionAndRevocation(ctx, peers);
      if (wants(4)) await discoveryAndJwks(ctx, peers);
      if ([1, 2, 3, 4].some(wants)) sampleMemoryAfterLoad(peers);
      if (wants(3)) await jwtIntrospectionAndRevocation(ctx, peers);
      if (wants(5)) await mockApis(ctx, peers);
    } finally {
      await peers.stop();
    }
  }
  if (wants(6)) await coldStart(ctx, published!, coldStarts);
  if (wants(7)) await redisStore(ctx);
  if (wants(8)) await storeGrowth(ctx, growth);
  if (wants(9)) await libraryStartup(ctx, published!, startup);
} finally {
  published?.remove();
  ctx.home.remove();
  removeScratch();
}
const checks = [
  ...comparisonTargets(groups),
  ...codeFlowTargets(groups),
  ...coldStartTargets(coldStarts, memory),
  ...startupTargets(startup),
  ...growthTargets(growth),
];
const header = [
  `oidc-testbed bench, ${startedAt.toISOString()}: ${QUICK ? 'quick' : 'full'} run, ${RUNS} run(s) × ${SECONDS} s per scenario and system, wrk 1 thread × ${CONNECTIONS} connections`,
  `${pinningDescription()}; ${cpus().length} cores (${cpus()[0]?.model ?? '?'}); Node ${process.version}; load average before ${loadBefore.map((n) => n.toFixed(2)).join(' ')}, after ${loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')}`,
];
const table = [...groupTables(groups), ...coldStartTable(coldStarts, memory), ...growthTable(growth), ...startupTable(startup)].join('\n');
const report = `${header.join('\n')}\n${table}\n\n### Targets\n\n| target | measured | |\n|---|---:|---|\n${checks.map((c) => `| ${c.target} | ${c.value} | ${verdict(c.met)} |`).join('\n')}\n`;
console.log(report);
const out = resolve(REPO, values.out);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify(
    {
      startedAt: startedAt.toISOString(),
      quick: QUICK,
      runs: RUNS,
      seconds: SECONDS,
      connections: CONNECTIONS,
      pinned: PINNING,
      pinning: pinningDescription(),
      node: process.version,
      cpus: cpus().length,
      loadAverage: { before: loadBefore, after: loadavg() },
      groups,
      coldStarts,
      memory,
      growth,
      startup,
      targets: checks,
    },
    null,
    2,
  )}\n`,
);
console.error(`[${elapsed()}] results: ${out}`);
const errors = groups.flatMap((g) => g.entries).reduce((sum, e) => sum + e.errors, 0);
if (errors > 0) {
  console.error(`${errors} requests failed: see the errors column`);
  process.exitCode = 1;
}
