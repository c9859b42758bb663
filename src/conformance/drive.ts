/**
 * One scenario, end to end: a fresh run (an isolated issuer), the RP started against it (or told
 * about it), signed in as a browser would, the logout or refresh the scenario is about, the
 * verdict waited for, the RP stopped, and the outcome judged.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { ROUTES, SCENARIOS_PATH } from '../endpoints.ts';
import type { Verdict } from '../scenarios/runs.ts';
import type { ScenarioDefinition } from '../scenarios/scenario.ts';
import { HttpBrowser, type Navigation } from './http-browser.ts';
import { driveOf, judge, type Observed, type Outcome, polarityOf } from './judge.ts';
import { expand, type PlaceholderValues } from './placeholders.ts';
import type { ConformancePlan } from './plan.ts';
import { RpProcess } from './rp-process.ts';

export interface ScenarioResult {
  scenario: string;
  title: string;
  plans: readonly string[];
  /** What a correct RP does: go on, stop, or either. */
  expects: 'positive' | 'negative' | 'either';
  status: Outcome;
  /** One line. */
  reason: string;
  run: string;
  issuer: string;
  duration_ms: number;
  /** The run's verdict at the end (its own status and reason, and the requests the RP made). */
  verdict?: Pick<Verdict, 'status' | 'reason' | 'defect_served_at'>;
  requests: Verdict['requests'];
  rp: {
    /** The RP's answer to its callback. */
    callback?: { url: string; status: number; location?: string };
    logged_in_after_sign_in?: boolean;
    logged_in_at_end?: boolean;
    /** The RP's stdout/stderr tail, when it failed. */
    output?: string;
  };
}

/** What a browser must do for the runner; the HTTP one, or Chromium's (chromium.ts). */
export interface ConformanceBrowser {
  open(url: string): Promise<Navigation>;
  status(url: string): Promise<number>;
  close?(): Promise<void>;
}

export interface DriveContext {
  plan: ConformancePlan;
  /** The testbed's main issuer identifier. */
  testbedIssuer: string;
  client: { client_id: string; client_secret?: string };
  password?: string;
  port?: number;
  controlToken?: string;
  newBrowser(testbedOrigin: string, credentials: { username: string; password?: string }): Promise<ConformanceBrowser>;
  /** Set by the runner when the scenario's time is up: the RP is stopped at once. */
  onProcess?(process: RpProcess): void;
}

const REQUEST_TIMEOUT_MS = 10_000;

export async function driveScenario(scenario: ScenarioDefinition, context: DriveContext): Promise<ScenarioResult> {
  const started = Date.now();
  const { plan } = context;
  const runId = randomBytes(6).toString('hex');
  const issuer = `${context.testbedIssuer}${SCENARIOS_PATH}/${scenario.name}/runs/${runId}`;
  const values: PlaceholderValues = {
    issuer,
    discovery: `${issuer}/.well-known/openid-configuration`,
    scenario: scenario.name,
    run: runId,
    client_id: expand(context.client.client_id, { port: String(context.port ?? '') }),
    ...(context.client.client_secret !== undefined ? { client_secret: context.client.client_secret } : {}),
    ...(context.port !== undefined ? { port: String(context.port) } : {}),
  };
  const at = (text: string) => expand(text, values);
  const drive = driveOf(scenario);
  const observed: Partial<Observed> & { drive: typeof drive } = { drive, loggedInAfterSignIn: false, loggedInAtEnd: false };
  let rp: RpProcess | undefined;
  let verdict: Verdict | undefined;
  const browsers: ConformanceBrowser[] = [];
  const browser = async () => {
    const made = await context.newBrowser(new URL(issuer).origin, { username: plan.rp.user, password: context.password });
    browsers.push(made);
    return made;
  };
  try {
    // The run exists from its first request; the verdict's is a control request, left out of its record.
    verdict = await readVerdict(issuer, plan.wait_s, context.controlToken);
    if (drive === 'rp-logout' && !plan.rp.logout) observed.noLogoutUrl = true;
    else {
      if (plan.rp.start) {
        rp = new RpProcess(at(plan.rp.start), {
          cwd: resolve(plan.baseDir, plan.rp.cwd ?? '.'),
          env: Object.fromEntries(Object.entries(plan.rp.env).map(([name, value]) => [name, at(value)])),
        });
        context.onProcess?.(rp);
        await rp.waitUntilReady(at(plan.rp.ready ?? plan.rp.login), plan.rp.ready_timeout_s * 1000);
      } else if (plan.rp.configure) {
        await tellRunningRp(at(plan.rp.configure), values);
      }
      const user = await browser();
      const loggedIn = async (agent: ConformanceBrowser) => (await agent.status(at(plan.rp.logged_in.url))) === plan.rp.logged_in.status;
      const signIn = async (agent: ConformanceBrowser) => {
        const navigation = await agent.open(at(plan.rp.login));
        if (navigation.callback) observed.callback = navigation.callback;
        return navigation;
      };
      await signIn(user);
      observed.loggedInAfterSignIn = await loggedIn(user);
      let endAgent = user;
      if (drive === 'sign-in-twice') {
        endAgent = await browser();
        await signIn(endAgent);
      } else if (drive === 'refresh' && observed.loggedInAfterSignIn) {
        await user.open(at(plan.rp.refresh ?? plan.rp.logged_in.url));
      } else if (drive === 'rp-logout' && observed.loggedInAfterSignIn) {
        await user.open(at(plan.rp.logout!));
      } else if (drive === 'backchannel-logout' && observed.loggedInAfterSignIn) {
        // Logged out at the testbed (its sign-out page), as a person ending the IdP session: the
        // engine sends the logout token to the clients of the session (Back-Channel Logout 1.0 §2.5).
        await user.open(`${issuer}${ROUTES.end_session}`);
      }
      verdict = await settledVerdict(
        issuer,
        plan.wait_s,
        context.controlToken,
        polarityOf(scenario) === 'positive' && drive !== 'backchannel-logout',
      );
      observed.loggedInAtEnd = await loggedIn(endAgent);
    }
  } catch (error) {
    observed.driveError = (error as Error).message;
    verdict = await readVerdict(issuer, plan.wait_s, context.controlToken).catch(() => verdict);
  } finally {
    await Promise.all(browsers.map((each) => each.close?.()));
    await rp?.stop();
  }
  const outcome = verdict
    ? judge(scenario, { ...observed, verdict } as Observed)
    : { status: 'failed' as const, reason: observed.driveError ?? 'no verdict' };
  return {
    scenario: scenario.name,
    title: scenario.title,
    plans: scenario.plans,
    expects: polarityOf(scenario),
    status: outcome.status,
    reason: outcome.reason,
    run: runId,
    issuer,
    duration_ms: Date.now() - started,
    ...(verdict ? { verdict: { status: verdict.status, reason: verdict.reason, defect_served_at: verdict.defect_served_at } } : {}),
    requests: verdict?.requests ?? [],
    rp: {
      ...(observed.callback ? { callback: observed.callback } : {}),
      logged_in_after_sign_in: observed.loggedInAfterSignIn,
      logged_in_at_end: observed.loggedInAtEnd,
      ...(outcome.status === 'failed' && rp ? { output: rp.tail() } : {}),
    },
  };
}

async function readVerdict(issuer: string, waitS: number, controlToken: string | undefined): Promise<Verdict> {
  const response = await fetch(`${issuer}/_testbed/verdict?wait=${waitS}`, {
    headers: controlToken ? { authorization: `Bearer ${controlToken}` } : {},
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (!response.ok)
    throw new Error(`the testbed answered ${response.status} for the verdict of ${issuer}: ${(await response.text()).slice(0, 200)}`);
  return (await response.json()) as Verdict;
}

/**
 * Polls the verdict until it is no longer `waiting`, at most the wait plus a margin; a positive
 * scenario's RP may call userinfo a moment after its callback answered.
 */
async function settledVerdict(issuer: string, waitS: number, controlToken: string | undefined, positive: boolean): Promise<Verdict> {
  const deadline = Date.now() + (positive ? Math.min(2, waitS) : waitS) * 1000 + 1_500;
  for (;;) {
    const verdict = await readVerdict(issuer, waitS, controlToken);
    if (verdict.status !== 'waiting' || Date.now() >= deadline) return verdict;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function tellRunningRp(url: string, values: PlaceholderValues): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      issuer: values.issuer,
      discovery: values.discovery,
      scenario: values.scenario,
      run: values.run,
      client_id: values.client_id,
      ...(values.client_secret !== undefined ? { client_secret: values.client_secret } : {}),
    }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`the RP answered ${response.status} at rp.configure (${url})`);
}

/** The HTTP browser for one sign-in. */
export async function httpBrowser(
  testbedOrigin: string,
  credentials: { username: string; password?: string },
): Promise<ConformanceBrowser> {
  return new HttpBrowser({ testbedOrigin, credentials, requestTimeoutMs: REQUEST_TIMEOUT_MS });
}
