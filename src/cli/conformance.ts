/**
 * `oidc-testbed conformance PLAN.yaml [--only NAMES] [--plan basic,refresh,…] [--parallel N]
 * [--junit FILE] [--json FILE] [--markdown FILE] [--browser http|chromium] [--issuer URL]`
 * Exit 0: nothing failed; 1: a scenario failed; 2: the plan or the command line is broken.
 */
import { parseArgs } from 'node:util';
import { CONTROL_TOKEN, CONTROL_TOKEN_RULE } from './environment.ts';

export const CONFORMANCE_USAGE = `  oidc-testbed conformance PLAN.yaml [--only NAMES] [--plan basic,refresh,…] [--parallel N]
                     [--junit FILE] [--json FILE] [--markdown FILE] [--browser http|chromium]
                     [--issuer URL] [--control-token TOKEN]`;

/** Thrown for a bad command line (main prints it with the usage, exit 2). */
export class ConformanceUsageError extends Error {}

export async function conformance(args: string[]): Promise<number> {
  // biome-ignore lint/suspicious/noImplicitAnyLet: typed by the parseArgs result assigned below
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        only: { type: 'string' },
        plan: { type: 'string' },
        parallel: { type: 'string' },
        junit: { type: 'string' },
        json: { type: 'string' },
        markdown: { type: 'string' },
        browser: { type: 'string' },
        issuer: { type: 'string' },
        'control-token': { type: 'string' },
      },
    });
  } catch (error) {
    throw new ConformanceUsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new ConformanceUsageError('conformance takes exactly one plan file');
  const list = (text: string | undefined) =>
    text
      ?.split(',')
      .map((name) => name.trim())
      .filter(Boolean);
  const parallel = values.parallel === undefined ? undefined : Number(values.parallel);
  if (parallel !== undefined && (!Number.isInteger(parallel) || parallel < 1 || parallel > 64))
    throw new ConformanceUsageError(`--parallel must be a number from 1 to 64, got "${values.parallel}"`);
  if (values.browser !== undefined && values.browser !== 'http' && values.browser !== 'chromium')
    throw new ConformanceUsageError(`--browser must be http or chromium, got "${values.browser}"`);
  if (values.issuer !== undefined && !/^https?:\/\//.test(values.issuer))
    throw new ConformanceUsageError(`--issuer must be an absolute http(s) URL, got "${values.issuer}"`);
  if (values['control-token'] !== undefined && !CONTROL_TOKEN.test(values['control-token']))
    throw new ConformanceUsageError(`--control-token ${CONTROL_TOKEN_RULE}`);

  // The runner (and the scenarios it drives) is loaded only for this subcommand: `start` does not pay for it.
  const [{ PlanError }, { progressLine, summaryLine }, { runConformance }] = await Promise.all([
    import('../conformance/plan.ts'),
    import('../conformance/report.ts'),
    import('../conformance/run.ts'),
  ]);
  try {
    const report = await runConformance(positionals[0], {
      only: list(values.only),
      plans: list(values.plan),
      parallel,
      issuer: values.issuer,
      controlToken: values['control-token'],
      browser: values.browser as 'http' | 'chromium' | undefined,
      junit: values.junit,
      json: values.json,
      markdown: values.markdown,
      onResult: (result, done, total) => console.log(progressLine(result, done, total)),
    });
    console.log(summaryLine(report));
    return report.exit_code;
  } catch (error) {
    if (error instanceof PlanError) {
      for (const problem of error.problems) console.error(`oidc-testbed: ${new PlanError(error.source, [problem]).message}`);
      return 2;
    }
    throw error;
  }
}
