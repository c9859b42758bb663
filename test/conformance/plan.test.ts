/**
 * A plan that cannot run stops before anything starts: exit 2, one line per problem naming the
 * file, the path inside it, the line and the fix — as fixtures are checked. And the built-in
 * plans are the scenario catalog's tags.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { PlanError, parsePlan, validatePlan } from '../../src/conformance/plan.ts';
import { builtInPlans, scenariosOfPlan, selectScenarios } from '../../src/conformance/selection.ts';
import { runConformance } from '../../src/index.ts';
import { runCommand } from '../support/command.ts';

const GOOD = `client: web-app
rp:
  start: node app.js
  env: { ISSUER: "{issuer}", PORT: "{port}" }
  login: "http://localhost:{port}/login"
  logged_in: { url: "http://localhost:{port}/profile" }
  ports: "3100-3103"
plans: [basic]
`;

const problemsOf = (text: string) => {
  try {
    parsePlan(text, 'plan.yaml');
  } catch (error) {
    if (error instanceof PlanError) return error.message.split('; plan.yaml: ').map((line) => line.replace(/^plan\.yaml: /, ''));
    throw error;
  }
  throw new Error('the plan was accepted');
};

describe('conformance plans', () => {
  it('accepts a plan and fills in the defaults', () => {
    expect(parsePlan(GOOD, 'plan.yaml', '/plans')).toMatchObject({
      source: 'plan.yaml',
      baseDir: '/plans',
      wait_s: 5,
      timeout_s: 60,
      parallel: 1,
      rp: { user: 'alice', ready_timeout_s: 20, logged_in: { status: 200 } },
      testbed: { port: 0 },
    });
  });

  it.each([
    [
      'an unknown field, with its line',
      GOOD.replace('plans:', 'plan: [basic]\nplans:'),
      ['plan: unknown field: remove or rename it (see the plan reference) (line 8)'],
    ],
    [
      'a URL that is not one',
      GOOD.replace('"http://localhost:{port}/login"', 'login-page'),
      ['rp.login: must be an absolute URL, e.g. http://localhost:3001/ (line 5)'],
    ],
    [
      'an unknown placeholder',
      GOOD.replace('"{issuer}"', '"{issuer_url}"'),
      [
        'rp.env.ISSUER: unknown placeholder {issuer_url}: use one of {issuer}, {discovery}, {scenario}, {run}, {client_id}, {client_secret}, {port} (line 4)',
      ],
    ],
    [
      '{port} without ports',
      GOOD.replace('  ports: "3100-3103"\n', ''),
      expect.arrayContaining(['rp.env.PORT: uses {port}: add rp.ports, e.g. ports: "3100-3119" (line 4)']),
    ],
    [
      'neither start nor configure',
      GOOD.replace('  start: node app.js\n', ''),
      ['rp: give start (a command run per scenario with the run in its env) or configure (a URL told each run) (line 3)'],
    ],
    ['a missing login', GOOD.replace(/ {2}login: .*\n/, ''), ['rp.login: is required (string) (line 3)']],
    ['a wrong type', `${GOOD}wait_s: soon\n`, ['wait_s: must be a number (line 9)']],
    ['more at once than ports', `${GOOD}parallel: 8\n`, ['rp.ports: needs at least 8 ports for parallel: 8 (line 7)']],
    [
      'a backwards port range',
      GOOD.replace('3100-3103', '3103-3100'),
      ['rp.ports: must be a rising range of ports between 1 and 65535, e.g. "3100-3119" (line 7)'],
    ],
    [
      'one client for every port with a {port} in a single value',
      GOOD.replace('client: web-app', 'client:\n  client_id: rp\n  backchannel_logout_uri: "http://localhost:{port}/bcl"'),
      [
        'client.backchannel_logout_uri: holds {port} but is one value for every port: put {port} in client_id too (one client per port) (line 3)',
      ],
    ],
    ['nothing selected', GOOD.replace('plans: [basic]\n', ''), ['plans: name plans (e.g. [basic]) or scenarios to run (line 1)']],
    ['YAML that is not', `${GOOD}  - : [\n`, [expect.stringMatching(/^not valid YAML: .* \(line \d+\)$/)]],
  ])('names the path and the fix for %s', (_, text, problems) => {
    const found = problemsOf(text);
    // YAML errors come several to one mistake: the first names it.
    expect(text.endsWith('[\n') ? found.slice(0, 1) : found).toEqual(problems);
  });

  it('validates a plan object given to the library the same way (no lines to name)', () => {
    const plan = {
      client: 'web-app',
      rp: { start: 'node app.js', login: 'http://localhost:3001/login', logged_in: { url: 'http://localhost:3001/', status: 'ok' } },
      plans: ['basic'],
    };
    expect(() => validatePlan(plan)).toThrow(new PlanError('plan', [{ path: ['rp', 'logged_in', 'status'], message: 'must be a number' }]));
    expect(() => validatePlan(plan)).toThrow('plan: rp.logged_in.status: must be a number');
  });

  it('names unknown plans and scenarios at their index, suggesting the nearest name', () => {
    expect(() => selectScenarios({ plans: ['basic', 'fapi'], scenarios: ['id-token-bad-nonce'] }, 'plan.yaml')).toThrow(
      'plan.yaml: plans[1]: unknown plan "fapi": use one of basic, config, form-post, fapi2, dpop, refresh, logout, jarm, dynamic, all; plan.yaml: scenarios[0]: no scenario "id-token-bad-nonce"; did you mean "id-token-invalid-nonce"? (see docs/scenarios.md)',
    );
  });

  it('has the built-in plans of the catalog tags, each in catalog order, and all', () => {
    expect(builtInPlans().sort()).toEqual(['all', 'basic', 'config', 'dpop', 'dynamic', 'fapi2', 'form-post', 'jarm', 'logout', 'refresh']);
    expect(
      scenariosOfPlan('basic')
        .map((scenario) => scenario.name)
        .slice(0, 2),
    ).toEqual(['happy-path', 'id-token-sig-rs256']);
    expect(scenariosOfPlan('refresh').map((scenario) => scenario.name)).toEqual([
      'refresh-token',
      'refresh-token-invalid-iss',
      'refresh-token-invalid-sub',
    ]);
    expect(scenariosOfPlan('all').length).toBeGreaterThan(scenariosOfPlan('basic').length);
    // --only replaces the selection; a plan's scenarios are added to its plans, without repeats.
    expect(
      selectScenarios({ plans: ['refresh'], scenarios: ['refresh-token', 'happy-path'] }, 'p').map((scenario) => scenario.name),
    ).toEqual(['happy-path', 'refresh-token', 'refresh-token-invalid-iss', 'refresh-token-invalid-sub']);
  });

  it('refuses a client the fixture does not have, before starting any RP', async () => {
    await expect(runConformance(parsePlan(GOOD.replace('web-app', 'no-such-client'), 'plan.yaml'))).rejects.toThrow(
      'plan.yaml: client: the fixture has no client "no-such-client": name one of node-openid-client,',
    );
  });

  it('exits 2 on the command line, one line per problem, for a broken plan, a missing file and bad flags', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conformance-plan-'));
    const file = join(dir, 'plan.yaml');
    writeFileSync(file, GOOD.replace('plans: [basic]', 'plans: [basik]').replace('"{issuer}"', '"{isuer}"'));
    const broken = await runCommand('node', ['src/cli/main.ts', 'conformance', file]);
    expect(broken.code).toBe(2);
    expect(broken.stderr.trim().split('\n')).toEqual([
      `oidc-testbed: ${file}: rp.env.ISSUER: unknown placeholder {isuer}: use one of {issuer}, {discovery}, {scenario}, {run}, {client_id}, {client_secret}, {port} (line 4)`,
    ]);
    writeFileSync(file, GOOD.replace('plans: [basic]', 'plans: [basik]'));
    const plan = await runCommand('node', ['src/cli/main.ts', 'conformance', file]);
    expect(plan.code).toBe(2);
    expect(plan.stderr).toMatch(new RegExp(`^oidc-testbed: ${file}: plans\\[0\\]: unknown plan "basik": use one of basic, `));
    const missing = await runCommand('node', ['src/cli/main.ts', 'conformance', join(dir, 'none.yaml')]);
    expect(missing).toMatchObject({ code: 2, stderr: `oidc-testbed: ${join(dir, 'none.yaml')}: file not found: check the path\n` });
    const flag = await runCommand('node', ['src/cli/main.ts', 'conformance', file, '--parallel', 'many']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^oidc-testbed: --parallel must be a number from 1 to 64, got "many"\nUsage:/);
    const only = await runCommand('node', ['src/cli/main.ts', 'conformance', GOOD_FILE(dir), '--only', 'happy-path,id-token-bad-nonce']);
    expect(only).toMatchObject({
      code: 2,
      stderr: 'oidc-testbed: --only: no scenario "id-token-bad-nonce"; did you mean "id-token-invalid-nonce"? (see docs/scenarios.md)\n',
    });
  }, 30_000);
});

function GOOD_FILE(dir: string): string {
  const file = join(dir, 'good.yaml');
  writeFileSync(file, GOOD);
  return file;
}
