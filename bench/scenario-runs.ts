/**
 * Scenario runs (issue 19's figure): how long a new run takes to create and answer its first
 * discovery request, the memory each idle run holds at 10, 100 and 1,000 runs, and the main
 * issuer's client-credentials throughput beside them (against the same process with no runs).
 *
 *   node bench/scenario-runs.ts [--runs 1000] [--seconds 3] [--connections 16]
 *
 * The testbed runs in its own process (bench/probes/scenario-host.ts, --expose-gc); load comes from
 * wrk. Runs are created one at a time, cycling through the catalog's scenarios.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultKeyPoolDir } from '../src/provider/key-pool.ts';
import { SCENARIO_CATALOG } from '../src/scenarios/catalog.ts';
import { fmt } from './lib/measure.ts';
import { CC_PROFILE, clientCredentialsRequest } from './lib/requests.ts';
import { removeScratch, wrk } from './lib/wrk.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '16' },
  },
});
const RUNS = Number(values.runs);
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const CHECKPOINTS = [10, 100, 1000].filter((count) => count <= RUNS);
const NAMES = [...SCENARIO_CATALOG.keys()];

const host = fork(fileURLToPath(new URL('./probes/scenario-host.ts', import.meta.url)), [], {
  execArgv: ['--expose-gc'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const next = <T>() => new Promise<T>((resolve) => host.once('message', (message) => resolve(message as T)));
const { port, issuer } = await next<{ port: string; issuer: string }>();
const memory = async () => {
  host.send({ cmd: 'rss' });
  return next<{ rss: number; heapUsed: number }>();
};
/** The key pool's filler (a background process at the lowest priority) still shares the cores while it refills: wait for it. */
const poolSettled = async () => {
  for (let waited = 0; waited < 120 && existsSync(join(defaultKeyPoolDir(), 'fill.lock')); waited += 1) await sleep(1000);
};
const throughput = async () =>
  (await wrk({ port: Number(port), seconds: SECONDS, connections: CONNECTIONS }, { request: clientCredentialsRequest(CC_PROFILE) }))
    .perSecond;

const mib = (bytes: number) => bytes / 1024 / 1024;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))];

try {
  await throughput(); // warm-up
  const baselineRate = Math.max(await throughput(), await throughput());
  const base = await memory();
  const created: number[] = [];
  const rows: string[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const name = NAMES[i % NAMES.length];
    const started = performance.now();
    const answer = await fetch(`${issuer}/scenarios/${name}/runs/bench-${i}/.well-known/openid-configuration`);
    await answer.arrayBuffer();
    created.push(performance.now() - started);
    if (answer.status !== 200) throw new Error(`run ${i} (${name}): discovery answered ${answer.status}`);
    if (CHECKPOINTS.includes(i + 1)) {
      const now = await memory();
      await poolSettled();
      const rate = Math.max(await throughput(), await throughput());
      const window = created.slice(-Math.min(created.length, 100));
      rows.push(
        `| ${i + 1} | ${fmt(median(window))} | ${fmt(quantile(window, 0.9))} | ${fmt((mib(now.rss - base.rss) / (i + 1)) * 1024)} KiB | ${fmt(mib(now.rss))} MiB | ${fmt(rate)} | ${fmt(rate / baselineRate, 2)}× |`,
      );
      console.error(
        `${i + 1} runs: creation median ${fmt(median(window))} ms, ${fmt(mib(now.rss))} MiB RSS, client credentials ${fmt(rate)}/s`,
      );
    }
  }
  console.log(`### Scenario runs (${RUNS} created one at a time, cycling through ${NAMES.length} scenarios)

Baseline (no runs): ${fmt(mib(base.rss))} MiB RSS, main-issuer client credentials ${fmt(baselineRate)}/s (wrk, ${CONNECTIONS} connections, ${SECONDS} s).
Creation = a new run's first discovery answer (its issuer built, its RS256 key from the reservoir or made on the spot); per-run memory = RSS growth after a full GC divided by the runs alive.

| runs alive | creation median (ms, last ≤100) | creation p90 (ms) | RSS per run | RSS | client credentials /s | vs no runs |
|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

Targets: creation median ≤ 20 ms (all ${RUNS}: median ${fmt(median(created))} ms, p90 ${fmt(quantile(created, 0.9))} ms); ≤ 1 MiB per idle run; throughput ≥ 0.95× with 1,000 runs.`);
} finally {
  host.send({ cmd: 'stop' });
  removeScratch();
}
