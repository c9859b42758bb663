/**
 * Every wait is bounded: an RP that never answers its ready URL, one that exits, one that hangs
 * during the sign-in (killed at timeout_s and reported), and the whole run's limit_s. And a running
 * testbed (`issuer`) is used as it is, the login page answered with the plan's password.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { type PlanInput, parsePlan, validatePlan } from '../../src/conformance/plan.ts';
import { runConformance } from '../../src/index.ts';
import { portIsFree } from '../support/ports.ts';
import { useTestbed } from '../support/testbed.ts';
import { waitFor } from '../support/wait-for.ts';

const NAIVE = fileURLToPath(new URL('naive.plan.yaml', import.meta.url));
const DIR = fileURLToPath(new URL('.', import.meta.url));

/** The naive plan with `rp` changed. */
function naivePlan(rp: Partial<PlanInput['rp']>, rest: Partial<PlanInput> = {}) {
  // Ports of their own: naive-rp.test.ts may run at the same time.
  const plan = parsePlan(readFileSync(NAIVE, 'utf8'), NAIVE, DIR);
  const { source: _source, baseDir: _baseDir, ...input } = plan;
  return validatePlan({ ...input, parallel: 1, ...rest, rp: { ...input.rp, ports: '47500-47507', ...rp } }, 'naive (changed)', DIR);
}

describe('conformance bounds', () => {
  it('fails a scenario whose RP does not answer at ready in time, and one whose RP exits, with its output', async () => {
    const silent = await runConformance(naivePlan({ start: 'sleep 30', ready_timeout_s: 1 }), { only: ['happy-path'] });
    expect(silent.results[0]).toMatchObject({ status: 'failed', reason: 'the RP did not answer at http://localhost:47500/ within 1 s' });
    const exits = await runConformance(naivePlan({ start: 'echo starting; echo "no config" >&2; exit 3' }), { only: ['happy-path'] });
    expect(exits.results[0]).toMatchObject({
      status: 'failed',
      reason: 'the RP exited (code 3) before http://localhost:47500/ answered',
      rp: { output: 'starting\nno config' },
    });
    expect(exits.exit_code).toBe(1);
  }, 30_000);

  it('stops an RP that hangs in the sign-in at timeout_s, and reports it', async () => {
    // Answers / (ready) and never answers /login.
    const hang = `node -e "require('http').createServer((q, s) => { if (q.url === '/') s.end('up'); }).listen(process.env.PORT, () => console.log('hanging'))"`;
    const started = Date.now();
    const report = await runConformance(naivePlan({ start: hang }, { timeout_s: 2 }), { only: ['happy-path'] });
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(report.results[0]).toMatchObject({
      status: 'failed',
      reason: 'timed out after 2 s (timeout_s): the RP or the sign-in hung; the RP was stopped',
      rp: { output: 'hanging' },
    });
    expect(await portIsFree(47500)).toBe(true);
  }, 30_000);

  it('stops the scenario running at limit_s and starts no more', async () => {
    const report = await runConformance(naivePlan({}, { limit_s: 0.5 }), {
      only: ['happy-path', 'id-token-invalid-iss', 'id-token-missing-iss'],
    });
    expect(report.results.map((result) => result.status)).toEqual(['failed', 'failed', 'failed']);
    expect(report.results[0].reason).toBe("the run's limit (limit_s: 0.5) was reached during it; the RP was stopped");
    expect(report.results[2].reason).toBe("not run: the run's limit (limit_s: 0.5) was reached");
  }, 30_000);

  it('tells a running RP each run (rp.configure) instead of starting it', async () => {
    const rp = spawn('node', ['naive-rp.ts'], { cwd: DIR, env: { ...process.env, PORT: '47510' }, stdio: 'ignore' });
    try {
      await waitFor('the naive RP to listen', async () => ((await fetch('http://localhost:47510/')).ok ? true : undefined), 10_000, 100);
      const plan = naivePlan(
        {
          start: undefined,
          env: {},
          configure: 'http://localhost:47510/configure',
          ports: undefined,
          ready: undefined,
          login: 'http://localhost:47510/login',
          logged_in: { url: 'http://localhost:47510/profile' },
          logout: undefined,
          refresh: undefined,
        },
        // One client, for the one RP.
        {
          client: {
            client_id: 'naive-rp-running',
            client_secret: 'naive-rp-secret',
            redirect_uris: ['http://localhost:47510/callback'],
            grant_types: ['authorization_code'],
            response_types: ['code'],
          },
        },
      );
      const report = await runConformance(plan, { only: ['happy-path', 'authorization-response-invalid-state'] });
      expect(report.results.map((result) => [result.scenario, result.status])).toEqual([
        ['happy-path', 'passed'],
        ['authorization-response-invalid-state', 'failed'],
      ]);
    } finally {
      rp.kill();
      await once(rp, 'exit');
    }
  }, 30_000);

  describe('against a running testbed (--issuer)', () => {
    const testbed = useTestbed(() => ({
      apis: false,
      fixture: {
        users: [{ username: 'carol', password: 'carol-password', sub: 'carol' }],
        clients: [
          {
            client_id: 'naive-rp-47500',
            client_secret: 'naive-rp-secret',
            redirect_uris: ['http://localhost:47500/callback'],
            grant_types: ['authorization_code'],
            response_types: ['code'],
            first_party: true,
          },
        ],
      },
    }));

    it('makes the runs there and answers its login page with the plan password; without one it says so', async () => {
      const plan = naivePlan({ user: 'carol', password: 'carol-password' });
      const report = await runConformance(plan, { issuer: testbed().issuer, only: ['happy-path', 'id-token-invalid-aud'] });
      expect(report.issuer).toBe(testbed().issuer);
      expect(report.results.map((result) => [result.scenario, result.status])).toEqual([
        ['happy-path', 'passed'],
        ['id-token-invalid-aud', 'failed'],
      ]);
      expect(report.results[0].issuer).toMatch(new RegExp(`^${testbed().issuer}/scenarios/happy-path/runs/[0-9a-f]{12}$`));
      const without = await runConformance(naivePlan({ user: 'carol' }), { issuer: testbed().issuer, only: ['happy-path'] });
      expect(without.results[0]).toMatchObject({
        status: 'failed',
        reason: 'the testbed shows its login page and the plan gives no password for carol',
      });
    }, 30_000);
  });
});
