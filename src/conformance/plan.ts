/**
 * A conformance plan (`oidc-testbed conformance PLAN.yaml`): how to start and sign in to the
 * relying party, which scenarios to drive it through, and how long to wait. Validated as fixtures
 * are: every problem names the file, the path inside it, the line and the fix (exit 2).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { z as Zod } from 'zod';
import { zod } from '../fixtures/built-once.ts';
import { formatPath, parseLinedDocument } from '../fixtures/load.ts';
import { PLACEHOLDERS, placeholdersIn } from './placeholders.ts';

// The package's one copy of zod (src/fixtures/built-once.ts); this module is loaded only by a conformance run.
const z = zod();

/** A plan that cannot be run: each problem with the file, the path inside it and what to do. */
export class PlanError extends Error {
  readonly source: string;
  readonly problems: ReadonlyArray<{ path: readonly PropertyKey[]; message: string; line?: number }>;

  constructor(source: string, problems: PlanError['problems']) {
    super(
      problems
        .map(
          ({ path, message, line }) =>
            `${source}: ${path.length > 0 ? `${formatPath(path)}: ` : ''}${message}${line ? ` (line ${line})` : ''}`,
        )
        .join('; '),
    );
    this.name = 'PlanError';
    this.source = source;
    this.problems = problems;
  }
}

const url = z
  .string()
  .refine(
    (text) => URL.canParse(text.replaceAll('{port}', '1').replaceAll(/\{[a-z_]+\}/g, 'x')),
    'must be an absolute URL, e.g. http://localhost:3001/',
  );
const seconds = (fallback: number, max: number) => z.number().positive().max(max).default(fallback);
const PORT_RANGE = /^(\d{1,5})-(\d{1,5})$/;

export const planSchema = z.strictObject({
  /** The testbed the runner starts (ignored with --issuer). */
  testbed: z
    .strictObject({
      /** A fixture file, relative to the plan; default: the embedded default fixture. */
      fixture: z.string().min(1).optional(),
      port: z.number().int().min(0).max(65535).default(0),
    })
    .default({ port: 0 }),
  /**
   * The client the relying party uses: a client_id of the fixture, or a client entry (the fixture's
   * client format) added to it. `{port}` in its URI lists gives one entry per port of `rp.ports`;
   * `{port}` in its client_id makes one client per port.
   */
  client: z.union([z.string().min(1), z.looseObject({ client_id: z.string().min(1), client_secret: z.string().optional() })]),
  rp: z.strictObject({
    /** A shell command started per scenario (with `env`), stopped after it. */
    start: z.string().min(1).optional(),
    /** Where `start` runs, relative to the plan (default: the plan's folder). */
    cwd: z.string().min(1).optional(),
    env: z.record(z.string(), z.string()).default({}),
    /** A running relying party told each run's issuer instead: the runner POSTs JSON {issuer, discovery, scenario, run, client_id, client_secret}. */
    configure: url.optional(),
    /** Polled (GET) until it answers, at most `ready_timeout_s`. Default: `login`. */
    ready: url.optional(),
    ready_timeout_s: seconds(20, 300),
    /** Where a person starts signing in. */
    login: url,
    /** How to tell a session exists: `url` answers `status` (without following redirects). */
    logged_in: z.strictObject({ url, status: z.number().int().min(100).max(599).default(200) }),
    /** Where a person signs out (RP-initiated logout scenarios). */
    logout: url.optional(),
    /** Opened after signing in in the refresh scenarios: a page where the RP refreshes its tokens (default: logged_in.url). */
    refresh: url.optional(),
    user: z.string().min(1).default('alice'),
    /** For the testbed's login page when the RP sends no login_hint (default: the fixture user's). */
    password: z.string().optional(),
    /** Ports for `{port}`, e.g. "3100-3119": one per scenario running at once. */
    ports: z.string().regex(PORT_RANGE, 'must be a range like "3100-3119"').optional(),
  }),
  /** Built-in plans (scenario catalog tags), or `all`. */
  plans: z.array(z.string().min(1)).optional(),
  /** Scenarios by name (added to the plans'). */
  scenarios: z.array(z.string().min(1)).optional(),
  /** How long after a defect nothing forbidden may happen (the verdict's wait). */
  wait_s: z.number().min(0).max(120).default(5),
  /** One scenario's limit: start, sign-in, verdict and stop. */
  timeout_s: seconds(60, 600),
  /** The whole run's limit. */
  limit_s: seconds(1800, 86_400),
  parallel: z.number().int().min(1).max(64).default(1),
});

export type PlanInput = Zod.input<typeof planSchema>;

export interface ConformancePlan extends Zod.output<typeof planSchema> {
  /** The file it came from, or `plan`; relative paths inside it are resolved from `baseDir`. */
  source: string;
  baseDir: string;
}

export function loadPlanFile(file: string): ConformancePlan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found: check the path' : (error as Error).message;
    throw new PlanError(file, [{ path: [], message: reason }]);
  }
  return parsePlan(text, file, dirname(resolve(file)));
}

export function parsePlan(text: string, source: string, baseDir = process.cwd()): ConformancePlan {
  const { value, errors, lineOf } = parseLinedDocument(text);
  if (errors.length > 0) {
    throw new PlanError(
      source,
      errors.map(({ message, line }) => ({ path: [], message: `not valid YAML: ${message}`, line })),
    );
  }
  return validatePlan(value, source, baseDir, lineOf);
}

/** Validates a plan object (the library takes these directly). */
export function validatePlan(
  input: unknown,
  source = 'plan',
  baseDir = process.cwd(),
  lineOf: (path: readonly PropertyKey[]) => number | undefined = () => undefined,
): ConformancePlan {
  const result = planSchema.safeParse(input, { reportInput: true });
  const problems = result.success
    ? planProblems(result.data)
    : result.error.issues.flatMap((issue) =>
        // An unknown field is named where it is (its own line), not at the object holding it.
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => ({
              path: [...issue.path, key],
              message: 'unknown field: remove or rename it (see the plan reference)',
            }))
          : [{ path: issue.path, message: explain(issue) }],
      );
  if (problems.length > 0)
    throw new PlanError(
      source,
      problems.map((problem) => ({ ...problem, line: lineOf(problem.path) })),
    );
  return { ...(result.data as Zod.output<typeof planSchema>), source, baseDir };
}

/** The ports of `rp.ports` ("3100-3119"), or none. */
export function portRange(plan: Pick<ConformancePlan, 'rp'>): number[] {
  const match = plan.rp.ports ? PORT_RANGE.exec(plan.rp.ports) : null;
  if (!match) return [];
  const [from, to] = [Number(match[1]), Number(match[2])];
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}

/** What the schema cannot say: placeholders, and the settings that need each other. */
function planProblems(plan: Zod.output<typeof planSchema>): Array<{ path: PropertyKey[]; message: string }> {
  const problems: Array<{ path: PropertyKey[]; message: string }> = [];
  const known = new Set<string>(PLACEHOLDERS);
  const check = (path: PropertyKey[], text: string | undefined) => {
    if (text === undefined) return;
    for (const name of placeholdersIn(text)) {
      if (!known.has(name))
        problems.push({ path, message: `unknown placeholder {${name}}: use one of ${PLACEHOLDERS.map((each) => `{${each}}`).join(', ')}` });
      else if (name === 'port' && !plan.rp.ports) problems.push({ path, message: 'uses {port}: add rp.ports, e.g. ports: "3100-3119"' });
    }
  };
  const { rp } = plan;
  check(['rp', 'start'], rp.start);
  for (const [name, value] of Object.entries(rp.env)) check(['rp', 'env', name], value);
  for (const key of ['configure', 'ready', 'login', 'logout', 'refresh'] as const) check(['rp', key], rp[key]);
  check(['rp', 'logged_in', 'url'], rp.logged_in.url);
  if (!rp.start && !rp.configure)
    problems.push({
      path: ['rp'],
      message: 'give start (a command run per scenario with the run in its env) or configure (a URL told each run)',
    });
  if (rp.start && rp.configure) problems.push({ path: ['rp', 'configure'], message: 'give start or configure, not both' });
  const ports = portRange(plan);
  if (rp.ports && (ports.length === 0 || ports.at(-1)! > 65535 || ports[0] < 1))
    problems.push({ path: ['rp', 'ports'], message: 'must be a rising range of ports between 1 and 65535, e.g. "3100-3119"' });
  if (plan.parallel > 1 && !rp.start)
    problems.push({ path: ['parallel'], message: 'runs scenarios at once only with rp.start (one RP per scenario): set it to 1' });
  if (plan.parallel > 1 && ports.length < plan.parallel && rp.start)
    problems.push({ path: ['rp', 'ports'], message: `needs at least ${plan.parallel} ports for parallel: ${plan.parallel}` });
  if (typeof plan.client === 'object') {
    for (const [key, value] of Object.entries(plan.client)) {
      const values = Array.isArray(value) ? value : [value];
      values.forEach((each, index) => {
        if (typeof each !== 'string') return;
        for (const name of placeholdersIn(each))
          if (name !== 'port')
            problems.push({
              path: ['client', key, ...(Array.isArray(value) ? [index] : [])],
              message: `only {port} is written out in a client, not {${name}}`,
            });
          else if (!rp.ports) problems.push({ path: ['client', key], message: 'uses {port}: add rp.ports, e.g. ports: "3100-3119"' });
      });
    }
    // One client for every port (its URI lists hold one entry per port), unless client_id holds {port}: one client per port.
    if (!plan.client.client_id.includes('{port}'))
      for (const [key, value] of Object.entries(plan.client))
        if (typeof value === 'string' && value.includes('{port}'))
          problems.push({
            path: ['client', key],
            message: 'holds {port} but is one value for every port: put {port} in client_id too (one client per port)',
          });
  }
  if (!plan.plans && !plan.scenarios) problems.push({ path: ['plans'], message: 'name plans (e.g. [basic]) or scenarios to run' });
  return problems;
}

function explain(issue: Zod.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? `is required (${issue.expected})`
        : `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
    case 'invalid_union':
      return 'must be a client_id of the fixture (a string) or a client entry with client_id';
    default:
      return issue.message;
  }
}
