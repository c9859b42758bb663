/**
 * Figure 6: cold start, from spawn to the first 200 on discovery (this clone's CLI, the published
 * CLI with a keys file and with --ephemeral-keys, the peers), and idle RSS; its table also shows
 * the RSS of figures 1–5's long-running processes (peers.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { send } from '../lib/http.ts';
import { elapsed, fmt, range, type Summary, summarize, type TargetCheck } from '../lib/measure.ts';
import { type ServerProcess, startBareProvider, startMockServer, startPlainHttp } from '../lib/processes.ts';
import type { PublishedPackage } from '../lib/published-package.ts';
import type { FigureContext } from './context.ts';
import type { Memory } from './peers.ts';

export interface ColdStart {
  system: string;
  ms: Summary;
  idleRssMiB: Summary /** What the process left running after it stopped (the key pool's refill), until it ended. */;
  leftoverMs: Summary;
}

const CLI_PERSISTED_TARGET_MS = 500; // CLI to the first discovery, keys file already written
const CLI_EPHEMERAL_TARGET_MS = 700; // the same, generating keys (--ephemeral-keys)

/**
 * The CLI enables Node's module compile cache (bin/oidc-testbed.js); these rows are a machine's
 * first start, without it: from this clone (Node strips the sources' types as it loads them) and
 * as published (the compiled dist/ that `npx oidc-testbed` and the Docker image run).
 */
const FIRST_START_CLONE = "oidc-testbed from a source clone, compile cache off (a machine's first start)";
const FIRST_START_PUBLISHED = "oidc-testbed as published (dist/), compile cache off (a machine's first start)";

/**
 * What `npx oidc-testbed start` does on every start after a machine's first: the published CLI with
 * its default log and the compile cache it turns on (filled by an earlier start), with the keys file
 * an earlier start wrote, or generating keys (`--ephemeral-keys`).
 */
const CLI_PERSISTED = 'oidc-testbed CLI as published, keys file written by an earlier start (default log, compile cache warm)';
const CLI_EPHEMERAL = 'oidc-testbed CLI as published, --ephemeral-keys (default log, compile cache warm)';

type Samples = Map<string, { ms: number[]; rss: number[]; leftover: number[] }>;

export async function coldStart(ctx: FigureContext, published: PublishedPackage, coldStarts: ColdStart[]): Promise<void> {
  const { home, testbedProcess } = ctx;
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
  const samples: Samples = new Map(systems.map(([name]) => [name, { ms: [] as number[], rss: [] as number[], leftover: [] as number[] }]));
  await measureColdStarts(ctx, systems, samples);
  for (const [name, { ms, rss, leftover }] of samples) {
    coldStarts.push({ system: name, ms: summarize(ms), idleRssMiB: summarize(rss), leftoverMs: summarize(leftover) });
    console.error(
      `  ${name}: ${summarize(ms).median.toFixed(0)} ms, ${summarize(rss).median.toFixed(1)} MiB, ${summarize(leftover).median.toFixed(0)} ms left running after stop`,
    );
  }
}

async function measureColdStarts(
  { settings, home }: FigureContext,
  systems: Array<[string, () => Promise<ServerProcess>]>,
  samples: Samples,
): Promise<void> {
  for (let i = 0; i < Math.max(3, settings.runs); i += 1) {
    for (const [name, start] of systems) {
      const t0 = performance.now();
      const server = await start();
      try {
        for (let polls = 0; ; polls += 1) {
          const ok = await send(server.port, 'GET', '/.well-known/openid-configuration').then(
            (r) => r.status === 200,
            () => false,
          );
          if (ok) break;
          if (polls > 2000) throw new Error(`${name}: discovery never answered 200`);
          await new Promise((r) => setTimeout(r, 2));
        }
        samples.get(name)!.ms.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, settings.quick ? 300 : 1000));
        samples.get(name)!.rss.push(server.rssMiB());
      } finally {
        await server.stop();
      }
      samples.get(name)!.leftover.push(await home.settle());
    }
  }
}

/** Figure 6's section of the report, with the long-running processes' memory; none when it did not run. */
export function coldStartTable(coldStarts: ColdStart[], memory: Memory): string[] {
  if (coldStarts.length === 0) return [];
  const lines = [
    '',
    '### 6. Cold start (spawn → first 200 on discovery) and RSS',
    '',
    '| system | cold start ms, median (min–max) | RSS idle MiB | left running after stop, ms |',
    '|---|---:|---:|---:|',
  ];
  for (const c of coldStarts) lines.push(`| ${c.system} | ${range(c.ms)} | ${fmt(c.idleRssMiB.median, 1)} | ${fmt(c.leftoverMs.median)} |`);
  lines.push(
    '',
    '_every testbed here has the bench\'s own XDG_CACHE_HOME and XDG_STATE_HOME (its key pool, filled by a start before these, and its keys file); "left running": from the stop until no process the system started is left (the pool\'s refill), waited for before the next start_',
  );
  if (Object.keys(memory).length > 0) {
    lines.push(
      '',
      '| long-running process (bench fixture) | RSS at start MiB | after figures 1–4 (the paths both IdPs serve) MiB | after figure 5 (mock APIs) MiB |',
      '|---|---:|---:|---:|',
    );
    for (const [name, m] of Object.entries(memory))
      lines.push(`| ${name} | ${fmt(m.idle, 1)} | ${fmt(m.afterLoad ?? Number.NaN, 1)} | ${fmt(m.afterApis ?? Number.NaN, 1)} |`);
    lines.push(
      '',
      "_RSS grows with the tokens both IdPs keep until they expire (1 h in this fixture: opaque tokens, refresh tokens, grants, sessions); JWT access tokens cost neither of them any stored state; figure 5 runs in a testbed process of its own (its RSS includes the APIs' caches and the tokens minted for them)_",
    );
  }
  return lines;
}

export function coldStartTargets(coldStarts: ColdStart[], memory: Memory): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const tbCold = coldStarts.find((c) => c.system.startsWith('oidc-testbed'));
  const bareCold = coldStarts.find((c) => c.system.startsWith('bare'));
  if (tbCold && bareCold) {
    checks.push({
      target: '6. cold start ≤ bare oidc-provider',
      value: `${fmt(tbCold.ms.median)} ms vs ${fmt(bareCold.ms.median)} ms`,
      met: tbCold.ms.median <= bareCold.ms.median,
    });
    for (const [system, target] of [
      [FIRST_START_PUBLISHED, 'as published'],
      [FIRST_START_CLONE, 'from a source clone'],
    ]) {
      const firstStart = coldStarts.find((c) => c.system === system);
      if (firstStart)
        checks.push({
          target: `6. a machine's first start (no compile cache) ${target} ≤ bare oidc-provider`,
          value: `${fmt(firstStart.ms.median)} ms vs ${fmt(bareCold.ms.median)} ms`,
          met: firstStart.ms.median <= bareCold.ms.median,
        });
    }
    checks.push({
      target: '6. idle RSS ≤ bare oidc-provider + 20 MiB',
      value: `${fmt(tbCold.idleRssMiB.median, 1)} vs ${fmt(bareCold.idleRssMiB.median, 1)} MiB`,
      met: tbCold.idleRssMiB.median <= bareCold.idleRssMiB.median + 20,
    });
  }
  const tbMem = memory.testbed;
  const bareMem = memory['bare oidc-provider'];
  if (tbMem?.afterLoad && bareMem?.afterLoad) {
    checks.push({
      target: '6. RSS after figures 1–4 ≤ bare oidc-provider + 20 MiB',
      value: `${fmt(tbMem.afterLoad, 1)} vs ${fmt(bareMem.afterLoad, 1)} MiB`,
      met: tbMem.afterLoad <= bareMem.afterLoad + 20,
    });
  }
  for (const [system, limit] of [
    [CLI_PERSISTED, CLI_PERSISTED_TARGET_MS],
    [CLI_EPHEMERAL, CLI_EPHEMERAL_TARGET_MS],
  ] as const) {
    const cli = coldStarts.find((c) => c.system === system);
    if (cli)
      checks.push({
        target: `6. ${system.replace(/ \(.*$/, '')}: to the first discovery ≤ ${limit} ms`,
        value: `${fmt(cli.ms.median)} ms`,
        met: cli.ms.median <= limit,
      });
  }
  return checks;
}
