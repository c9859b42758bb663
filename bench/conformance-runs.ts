/**
 * Conformance runs (issue 21's figure): the `basic` plan against the express-openid-connect
 * example (examples/express-openid-connect/conformance.yaml: the app started once per scenario,
 * its sessions in Redis), serially and with `--parallel 4`: wall time, scenarios per second, and
 * the outcomes (they must not change with parallelism).
 *
 *   node bench/conformance-runs.ts [--runs 2] [--plan basic]
 *
 * Needs Redis at 127.0.0.1:6379 (or REDIS_URL). The plan's `wait_s` (1 s) is the wait for what a
 * relying party does after a defect; most of the wall time is that wait, and the RP's start.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadPlanFile } from '../src/conformance/plan.ts';
import { runConformance } from '../src/index.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '2' }, plan: { type: 'string', default: 'basic' } } });
const RUNS = Number(values.runs);
const PLAN = fileURLToPath(new URL('../examples/express-openid-connect/conformance.yaml', import.meta.url));
const { wait_s: waitS } = loadPlanFile(PLAN);

const rows: string[] = [];
const outcomes = new Set<string>();
for (const parallel of [1, 4]) {
  const walls: number[] = [];
  let scenarios = 0;
  for (let run = 0; run < RUNS; run += 1) {
    const started = performance.now();
    const report = await runConformance(PLAN, { plans: [values.plan], parallel });
    walls.push((performance.now() - started) / 1000);
    scenarios = report.results.length;
    const counts = new Map<string, number>();
    for (const result of report.results) counts.set(result.status, (counts.get(result.status) ?? 0) + 1);
    outcomes.add([...counts].map(([status, count]) => `${count} ${status}`).join(', '));
    console.error(`parallel ${parallel}, run ${run + 1}: ${walls.at(-1)!.toFixed(1)} s, ${scenarios} scenarios`);
  }
  walls.sort((a, b) => a - b);
  const median = walls[Math.floor(walls.length / 2)];
  rows.push(
    `| ${parallel === 1 ? 'serial' : `--parallel ${parallel}`} | ${scenarios} | ${median.toFixed(1)} (${walls[0].toFixed(1)}–${walls.at(-1)!.toFixed(1)}) | ${(scenarios / median).toFixed(2)} |`,
  );
}

console.log(
  `\n### Conformance runs: the ${values.plan} plan against examples/express-openid-connect (wait_s ${waitS}, ${RUNS} run(s) each)\n`,
);
console.log('| mode | scenarios | wall s, median (min–max) | scenarios/s |');
console.log('|---|---:|---:|---:|');
for (const row of rows) console.log(row);
console.log(
  `\n_outcomes: ${[...outcomes].join(' / ')}${outcomes.size > 1 ? ' (they differ between runs: look at the JSON reports)' : ' (the same in every run)'}; target: the whole basic plan serially under 60 s_`,
);
