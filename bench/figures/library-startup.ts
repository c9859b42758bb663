/**
 * Figure 9: start-up in the library: `await import()` of the published package and its peers, and
 * the first and the next 20 start calls in one process, each in fresh processes on the server core,
 * timed inside them (bench/probes/startup.mjs).
 */
import { join } from 'node:path';
import { elapsed, fmt, range, type Summary, summarize, type TargetCheck, verdict } from '../lib/measure.ts';
import type { PublishedPackage } from '../lib/published-package.ts';
import { installProbe, type ProbeResult, runProbe } from '../lib/startup.ts';
import type { FigureContext } from './context.ts';

interface ImportRow {
  system: string;
  specifier: string;
  compileCache: string;
  ms: Summary;
  runs: number[];
}
interface StartRow {
  system: string;
  call: string;
  first: Summary;
  next: Summary;
  importMs: Summary;
  leftoverMs: Summary;
  processes: number;
  firstRuns: number[];
  nextRuns: number[];
}
export interface Startup {
  imports: ImportRow[];
  importRatio?: Summary;
  starts: StartRow[];
  notes: string[];
}

export const emptyStartup = (): Startup => ({ imports: [], starts: [], notes: [] });

const IMPORT_RATIO_TARGET = 1.2; // import('oidc-testbed') ≤ 1.2 × import('oidc-provider')
const START_TARGET_MS = 25; // startTestbed({ port: 0 }), median of the calls after the first
const IMPORT_TESTBED = 'oidc-testbed (published dist/)';
const IMPORT_FLOOR = 'oidc-provider alone (the floor)';
const START_DEFAULT = 'startTestbed({ port: 0 })';
const NEXT_CALLS = 20;

export async function libraryStartup({ home, settings }: FigureContext, published: PublishedPackage, startup: Startup): Promise<void> {
  console.error(`[${elapsed()}] figure 9: start-up in the library (import, startTestbed)`);
  installProbe(published.dir);
  const cacheDir = join(published.dir, '.compile-cache');
  const imports: Array<{ system: string; specifier: string; compileCache: string; env?: Record<string, string> }> = [
    { system: IMPORT_TESTBED, specifier: 'oidc-testbed', compileCache: "off (Node's default for a library)" },
    { system: IMPORT_FLOOR, specifier: 'oidc-provider', compileCache: 'off' },
    { system: 'oauth2-mock-server', specifier: 'oauth2-mock-server', compileCache: 'off' },
    {
      system: 'oidc-testbed (published dist/), NODE_COMPILE_CACHE set',
      specifier: 'oidc-testbed',
      compileCache: 'on, filled by an earlier import',
      env: { NODE_COMPILE_CACHE: cacheDir },
    },
  ];
  const probe = async (args: string[], env: Record<string, string> = {}) => {
    const result = await runProbe(published.dir, args, { env: { ...home.env, ...env } });
    return { ...result, leftoverMs: await home.settle() };
  };
  await probe(['import', 'oidc-testbed'], { NODE_COMPILE_CACHE: cacheDir });
  await probe(['start-testbed', JSON.stringify({ port: 0 }), '1']); // fills the key pool, as on a machine that has run the testbed before
  const importRuns = new Map(imports.map((row) => [row.system, [] as number[]]));
  for (let round = 0; round < (settings.quick ? 5 : 3 * settings.runs); round += 1) {
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
    {
      system: 'oidc-testbed (the defaults: keys in memory, mock APIs on)',
      call: START_DEFAULT,
      args: ['start-testbed', JSON.stringify({ port: 0 })],
    },
    {
      system: 'oidc-testbed (no mock APIs)',
      call: 'startTestbed({ port: 0, apis: false })',
      args: ['start-testbed', JSON.stringify({ port: 0, apis: false })],
    },
    {
      system: 'oauth2-mock-server',
      call: "new OAuth2Server(); keys.generate('RS256'); start(0, '127.0.0.1')",
      args: ['mock-server', 'RS256'],
    },
    {
      system: 'oauth2-mock-server',
      call: "new OAuth2Server(); keys.generate('ES256'); start(0, '127.0.0.1')",
      args: ['mock-server', 'ES256'],
    },
  ];
  const processes = settings.quick ? 2 : Math.max(3, settings.runs);
  const results = new Map(starts.map((row) => [row.call, [] as Array<ProbeResult & { leftoverMs: number }>]));
  for (let round = 0; round < processes; round += 1) {
    for (const row of round % 2 ? [...starts].reverse() : starts)
      results.get(row.call)!.push(await probe([...row.args, String(1 + NEXT_CALLS)]));
  }
  for (const row of starts) {
    const runs = results.get(row.call)!;
    const firstRuns = runs.map((run) => (run.ms as number[])[0]);
    const nextRuns = runs.flatMap((run) => (run.ms as number[]).slice(1));
    startup.starts.push({
      system: row.system,
      call: row.call,
      first: summarize(firstRuns),
      next: summarize(nextRuns),
      importMs: summarize(runs.map((run) => run.importMs!)),
      leftoverMs: summarize(runs.map((run) => run.leftoverMs)),
      processes,
      firstRuns,
      nextRuns,
    });
    console.error(
      `  ${row.call}: first ${fmt(summarize(firstRuns).median)} ms, next ${NEXT_CALLS} ${fmt(summarize(nextRuns).median, 1)} ms`,
    );
  }
  startup.notes.push(
    `import: performance.now() around \`await import(specifier)\` in a fresh process (${importRuns.get(IMPORT_TESTBED)!.length} per row, rounds alternating the order), run from the published package's directory so that 'oidc-testbed' resolves through its exports and the others through its node_modules (this clone's)`,
    `start calls: in each of ${processes} fresh processes per row, after the import (its time shown apart), the first call and ${NEXT_CALLS} more, each awaited, then (untimed) a GET of its discovery document (200) and stop(); "next" pools the ${NEXT_CALLS} later calls of every process; the library's default log level (warn) writes no line per start`,
    "every probe has the bench's own XDG_CACHE_HOME (the testbed's key pool: filled by an untimed start before these rows, as on a machine that has run the testbed before); what a process starts that outlives it (the pool's refill) runs on the server core as it did, during the calls after the first, and is waited for before the next process (\"left running after exit\")",
  );
}

export function startupTable(startup: Startup): string[] {
  const lines: string[] = [];
  if (startup.imports.length > 0) {
    lines.push(
      '',
      '### 9. Start-up in the library: import',
      '',
      '| import | system | compile cache | ms, median (min–max) |',
      '|---|---|---|---:|',
    );
    for (const row of startup.imports)
      lines.push(`| \`import('${row.specifier}')\` | ${row.system} | ${row.compileCache} | ${range(row.ms)} |`);
    if (startup.importRatio)
      lines.push(
        '',
        '| ratio (pair by pair) | median (min–max) | target | |',
        '|---|---:|---:|---|',
        `| oidc-testbed / oidc-provider alone | ${range(startup.importRatio, 2)} | ≤ ${IMPORT_RATIO_TARGET} | ${verdict(startup.importRatio.median <= IMPORT_RATIO_TARGET)} |`,
      );
  }
  if (startup.starts.length > 0) {
    lines.push(
      '',
      '### 9. Start-up in the library: start calls',
      '',
      `| system | call (then stop()) | first call ms, median (min–max) | next ${NEXT_CALLS} calls ms, median (min–max) | import ms before them | left running after exit, ms |`,
      '|---|---|---:|---:|---:|---:|',
    );
    for (const row of startup.starts)
      lines.push(
        `| ${row.system} | \`${row.call}\` | ${range(row.first)} | ${range(row.next, 1)} | ${fmt(row.importMs.median)} | ${fmt(row.leftoverMs.median)} |`,
      );
    const start = startup.starts.find((row) => row.call === START_DEFAULT);
    if (start)
      lines.push(
        '',
        `_target: ${START_DEFAULT}, the next calls' median ≤ ${START_TARGET_MS} ms: ${verdict(start.next.median <= START_TARGET_MS)}_`,
      );
  }
  for (const note of startup.notes) lines.push('', `_${note}_`);
  return lines;
}

export function startupTargets(startup: Startup): TargetCheck[] {
  const checks: TargetCheck[] = [];
  if (startup.importRatio) {
    const [testbed, floor] = [IMPORT_TESTBED, IMPORT_FLOOR].map((system) => startup.imports.find((row) => row.system === system)!);
    checks.push({
      target: `9. import('oidc-testbed') ≤ ${IMPORT_RATIO_TARGET}× import('oidc-provider')`,
      value: `${fmt(startup.importRatio.median, 2)}× (${fmt(testbed.ms.median)} ms vs ${fmt(floor.ms.median)} ms)`,
      met: startup.importRatio.median <= IMPORT_RATIO_TARGET,
    });
  }
  const defaultStart = startup.starts.find((row) => row.call === START_DEFAULT);
  if (defaultStart)
    checks.push({
      target: `9. ${START_DEFAULT}, median of the ${NEXT_CALLS} calls after the first ≤ ${START_TARGET_MS} ms`,
      value: `${fmt(defaultStart.next.median, 1)} ms (first ${fmt(defaultStart.first.median)} ms)`,
      met: defaultStart.next.median <= START_TARGET_MS,
    });
  return checks;
}
