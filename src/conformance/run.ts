/**
 * `runConformance(plan, options)`: drives a relying party through a plan's scenarios — a testbed
 * started for it (or a running one, `issuer`), `parallel` scenarios at a time on ports of
 * `rp.ports`, each bounded by `timeout_s` and the whole run by `limit_s` — and reports.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadDefaultFixture, loadFixtureFile } from '../fixtures/load.ts';
import type { Fixture, FixtureClient } from '../fixtures/schema.ts';
import type { ScenarioDefinition } from '../scenarios/scenario.ts';
import { startTestbed, type Testbed, type TestbedOptions } from '../testbed.ts';
import { type ConformanceBrowser, type DriveContext, driveScenario, httpBrowser, type ScenarioResult } from './drive.ts';
import { polarityOf } from './judge.ts';
import { expand } from './placeholders.ts';
import { type ConformancePlan, loadPlanFile, PlanError, portRange, validatePlan } from './plan.ts';
import { type ConformanceReport, jsonReport, junitXml, markdownReport } from './report.ts';
import type { RpProcess } from './rp-process.ts';
import { selectScenarios } from './selection.ts';

export interface ConformanceOptions {
  /** Only these scenarios (names), instead of the plan's selection. */
  only?: readonly string[];
  /** These built-in plans instead of the plan's `plans` (and `scenarios`). */
  plans?: readonly string[];
  /** Scenarios at once (overrides the plan's `parallel`). */
  parallel?: number;
  /** A running testbed's issuer: runs are made there instead of in a testbed started for the run. */
  issuer?: string;
  /** Sent as `Authorization: Bearer` to a running testbed's control endpoints (not on this machine). */
  controlToken?: string;
  /** `http` (default): the runner's own HTTP browser; `chromium`: Debian's Chromium through playwright-core. */
  browser?: 'http' | 'chromium';
  /** Report files written at the end. */
  junit?: string;
  json?: string;
  markdown?: string;
  /** Called as each scenario ends (the CLI prints a line). */
  onResult?: (result: ScenarioResult, done: number, total: number) => void;
  /** Options of the testbed started for the run (its fixture comes from the plan). */
  testbed?: Omit<TestbedOptions, 'fixture'>;
}

/** Runs the plan (a file path, a plan object, or a validated plan) and reports; throws PlanError for a plan that cannot run. */
export async function runConformance(
  plan: string | ConformancePlan | unknown,
  options: ConformanceOptions = {},
): Promise<ConformanceReport> {
  const checked = typeof plan === 'string' ? loadPlanFile(plan) : isValidated(plan) ? plan : validatePlan(plan);
  const selection =
    options.only || options.plans
      ? selectScenarios({ only: options.only, plans: options.plans }, options.only ? '--only' : '--plan', {})
      : selectScenarios({ plans: checked.plans, scenarios: checked.scenarios }, checked.source);
  const parallel = options.parallel ?? checked.parallel;
  const ports = portRange(checked);
  if (parallel > 1 && (!checked.rp.start || ports.length < parallel))
    throw new PlanError(checked.source, [
      {
        path: ['rp', checked.rp.start ? 'ports' : 'start'],
        message: `--parallel ${parallel} needs rp.start and at least ${parallel} ports in rp.ports`,
      },
    ]);

  const started = Date.now();
  const testbed = options.issuer
    ? undefined
    : await startTestbed({
        port: checked.testbed.port,
        logLevel: 'silent',
        apis: false,
        ...options.testbed,
        fixture: fixtureFor(checked, ports),
      });
  try {
    const issuer = options.issuer?.replace(/\/+$/, '') ?? testbed!.issuer;
    const client = clientOf(checked, testbed);
    const password = checked.rp.password ?? testbed?.fixture.users.find((user) => user.username === checked.rp.user)?.password;
    const newBrowser = await browserFactory(options.browser ?? 'http');
    try {
      const results = await runAll(selection, {
        parallel,
        ports,
        limitMs: checked.limit_s * 1000,
        timeoutMs: checked.timeout_s * 1000,
        onResult: options.onResult,
        context: (port) => ({
          plan: checked,
          testbedIssuer: issuer,
          client,
          password,
          port,
          controlToken: options.controlToken,
          newBrowser: newBrowser.open,
        }),
      });
      const totals = {
        scenarios: results.length,
        passed: results.filter((result) => result.status === 'passed').length,
        failed: results.filter((result) => result.status === 'failed').length,
        skipped: results.filter((result) => result.status === 'skipped').length,
      };
      const report: ConformanceReport = {
        plan: checked.source,
        issuer,
        started_at: new Date(started).toISOString(),
        duration_ms: Date.now() - started,
        totals,
        results,
        exit_code: totals.failed > 0 ? 1 : 0,
      };
      await Promise.all([
        options.junit && writeFile(options.junit, junitXml(report)),
        options.json && writeFile(options.json, jsonReport(report)),
        options.markdown && writeFile(options.markdown, markdownReport(report)),
      ]);
      return report;
    } finally {
      await newBrowser.close();
    }
  } finally {
    await testbed?.stop();
  }
}

function isValidated(plan: unknown): plan is ConformancePlan {
  return typeof plan === 'object' && plan !== null && 'baseDir' in plan && 'source' in plan;
}

interface Pool {
  parallel: number;
  ports: number[];
  limitMs: number;
  timeoutMs: number;
  onResult?: ConformanceOptions['onResult'];
  context(port: number | undefined): DriveContext;
}

/** `parallel` workers, each with its own port, taking scenarios in catalog order; results in that order. */
async function runAll(scenarios: ScenarioDefinition[], pool: Pool): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = new Array(scenarios.length);
  const deadline = Date.now() + pool.limitMs;
  let next = 0;
  let done = 0;
  const worker = async (slot: number) => {
    for (let index = next++; index < scenarios.length; index = next++) {
      const scenario = scenarios[index];
      const result =
        Date.now() >= deadline
          ? notRun(scenario, `not run: the run's limit (limit_s: ${pool.limitMs / 1000}) was reached`)
          : await bounded(
              scenario,
              pool.context(pool.ports[slot]),
              Math.min(pool.timeoutMs, deadline - Date.now()),
              deadline - Date.now() < pool.timeoutMs
                ? `the run's limit (limit_s: ${pool.limitMs / 1000}) was reached during it; the RP was stopped`
                : `timed out after ${Math.round(pool.timeoutMs / 1000)} s (timeout_s): the RP or the sign-in hung; the RP was stopped`,
            );
      results[index] = result;
      done += 1;
      pool.onResult?.(result, done, scenarios.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(pool.parallel, scenarios.length) }, (_, slot) => worker(slot)));
  return results;
}

/** The scenario, or `failed` at `timeoutMs` with its RP stopped (a hung RP is killed and reported). */
async function bounded(
  scenario: ScenarioDefinition,
  context: DriveContext,
  timeoutMs: number,
  timeoutReason: string,
): Promise<ScenarioResult> {
  let process: RpProcess | undefined;
  let timer: NodeJS.Timeout | undefined;
  let expired = false;
  const started = Date.now();
  const timedOut = new Promise<ScenarioResult>((resolvePromise) => {
    timer = setTimeout(async () => {
      // From here the scenario's own result (its RP killed under it) is not the story.
      expired = true;
      const output = process?.tail();
      await process?.stop();
      resolvePromise({
        ...notRun(scenario, timeoutReason),
        duration_ms: Date.now() - started,
        rp: output ? { output } : {},
      });
    }, timeoutMs);
  });
  const run = driveScenario(scenario, { ...context, onProcess: (made) => (process = made) });
  try {
    const first = await Promise.race([run, timedOut]);
    if (!expired) return first;
    // The scenario's own steps end soon once its RP is gone (every request has a timeout): waited
    // for, so none outlives the run (and the testbed it talks to).
    await Promise.race([run, new Promise((resolveWait) => setTimeout(resolveWait, 15_000).unref())]);
    return await timedOut;
  } finally {
    clearTimeout(timer);
  }
}

function notRun(scenario: ScenarioDefinition, reason: string): ScenarioResult {
  return {
    scenario: scenario.name,
    title: scenario.title,
    plans: scenario.plans,
    expects: polarityOf(scenario),
    status: 'failed',
    reason,
    run: '',
    issuer: '',
    duration_ms: 0,
    requests: [],
    rp: {},
  };
}

/** The fixture of the testbed started for the run: the plan's (or the default), with the plan's client added. */
function fixtureFor(plan: ConformancePlan, ports: number[]): Fixture {
  const fixture = plan.testbed.fixture ? loadFixtureFile(resolve(plan.baseDir, plan.testbed.fixture)) : loadDefaultFixture();
  if (typeof plan.client === 'string') {
    if (!fixture.clients.some((client) => client.client_id === plan.client))
      throw new PlanError(plan.source, [
        {
          path: ['client'],
          message: `the fixture has no client "${plan.client}": name one of ${fixture.clients.map((client) => client.client_id).join(', ')}, or give a client entry`,
        },
      ]);
    return fixture;
  }
  const template = plan.client as FixtureClient;
  const entries = template.client_id.includes('{port}') ? ports.map((port) => writeOut(template, [port])) : [writeOut(template, ports)];
  const added = new Set(entries.map((entry) => entry.client_id));
  return { ...fixture, clients: [...fixture.clients.filter((client) => !added.has(client.client_id)), ...entries] };
}

/** `{port}` written out: a list gets one entry per port, a single value the (one) port. */
function writeOut(template: FixtureClient, ports: number[]): FixtureClient {
  const each = (text: string) => (text.includes('{port}') ? ports.map((port) => expand(text, { port: String(port) })) : [text]);
  return Object.fromEntries(
    Object.entries(template).map(([key, value]) => [
      key,
      Array.isArray(value)
        ? [...new Set(value.flatMap((item) => (typeof item === 'string' ? each(item) : [item])))]
        : typeof value === 'string'
          ? each(value)[0]
          : value,
    ]),
  ) as FixtureClient;
}

/** The client_id and secret for `{client_id}` and `{client_secret}` (`{port}` in the id stays for the slot). */
function clientOf(plan: ConformancePlan, testbed: Testbed | undefined): { client_id: string; client_secret?: string } {
  if (typeof plan.client === 'object') return { client_id: plan.client.client_id, client_secret: plan.client.client_secret };
  const secret = testbed?.fixture.clients.find((client) => client.client_id === plan.client)?.client_secret;
  return { client_id: plan.client as string, ...(secret !== undefined ? { client_secret: secret } : {}) };
}

async function browserFactory(kind: 'http' | 'chromium'): Promise<{ open: DriveContext['newBrowser']; close(): Promise<void> }> {
  if (kind === 'http') return { open: httpBrowser, close: async () => {} };
  const { chromiumBrowsers } = await import('./chromium.ts');
  return chromiumBrowsers();
}

export type { ConformanceBrowser };
