/** The library's view of one scenario run (`testbed.scenario(name, { run })`). */
import type { ScenarioRuns, Verdict } from './runs.ts';

export interface ScenarioHandle {
  name: string;
  /** The run's issuer identifier: point the relying party here. */
  issuer: string;
  /** Its discovery document's URL. */
  discovery: string;
  /** The verdict now; `waitMs`: how long after the defect nothing forbidden must happen (default 5 s). */
  verdict(options?: { waitMs?: number }): Verdict;
  /** Resolves once the verdict is no longer `waiting` (or with the `waiting` one at `timeoutMs`, default 10 s). */
  waitForVerdict(options?: { timeoutMs?: number; waitMs?: number }): Promise<Verdict>;
  /** Forgets what the run saw (requests, defect, deliveries). */
  reset(): void;
}

export async function scenarioHandle(runs: ScenarioRuns, name: string, options: { run?: string }): Promise<ScenarioHandle> {
  const run = await runs.run(name, options.run);
  const verdict = (waitMs?: number) => run.verdict(waitMs);
  return {
    name,
    issuer: run.issuer.issuer,
    discovery: run.issuer.urls.discovery,
    verdict: (verdictOptions = {}) => verdict(verdictOptions.waitMs),
    async waitForVerdict({ timeoutMs = 10_000, waitMs } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = verdict(waitMs);
        if (current.status !== 'waiting' || Date.now() >= deadline) return current;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    reset: () => run.reset(),
  };
}
