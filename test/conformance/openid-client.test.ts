/**
 * The careful RP (examples/openid-client/app.ts on openid-client 6) passes every scenario of the
 * basic, config, refresh and logout plans when the runner drives it as its plan file says, and the
 * command line exits 0.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { runConformance } from '../../src/index.ts';
import { runCommand } from '../support/command.ts';
import { expected, outcomes } from './outcomes.ts';

const PLAN = fileURLToPath(new URL('../../examples/openid-client/conformance.yaml', import.meta.url));
const PLANS = ['basic', 'config', 'refresh', 'logout'];
/** As test/support/browser.ts: with CI set it never skips (a missing Chromium fails the test). */
const chromiumTest = existsSync('/usr/bin/chromium') || process.env.CI ? it : it.skip;

describe('the conformance runner against the openid-client example', () => {
  it('passes every scenario of basic, config, refresh and logout', async () => {
    const report = await runConformance(PLAN);
    expect(outcomes(report)).toEqual(expected(PLANS, {}));
    const byName = new Map(report.results.map((result) => [result.scenario, result]));
    // A negative one: refused at its callback, no session, nothing called after the defect.
    expect(byName.get('id-token-invalid-nonce')).toMatchObject({
      expects: 'negative',
      rp: { callback: { status: 400 }, logged_in_at_end: false },
      reason: expect.stringMatching(
        /^no userinfo, profile-api or directory-api request within 1 s of the defect \(idtoken at token\); its callback answered 400/,
      ),
    });
    expect(byName.get('backchannel-logout-wrong-alg')!.reason).toBe(
      'the relying party answered 400 to the broken logout token; its session holds',
    );
    expect(byName.get('backchannel-logout')!.reason).toBe('the relying party answered 200 to the valid logout token; its session ended');
    expect(byName.get('refresh-token-invalid-sub')!.reason).toMatch(/after the refresh its session holds$/);
    expect(byName.get('signing-key-rotation')!.requests.filter((request) => request.endpoint === 'token')).toHaveLength(2);
    expect(report).toMatchObject({ exit_code: 0, totals: { failed: 0, skipped: 0 } });
    // No output kept when nothing failed.
    expect(report.results.filter((result) => result.rp.output)).toEqual([]);
  }, 120_000);

  it('exits 0 on the command line when nothing failed, skipped scenarios included', async () => {
    const { code, stdout } = await runCommand('node', [
      'src/cli/main.ts',
      'conformance',
      PLAN,
      '--only',
      'happy-path,rp-init-logout,jarm-alg-none',
    ]);
    expect(stdout).toMatch(/^\[\d\/3\] PASS happy-path /m);
    expect(stdout).toMatch(
      /^\[\d\/3\] SKIP jarm-alg-none +\d+\.\d s {2}the RP does not ask for JARM responses \(response_mode=jwt\), so the defect was never served/m,
    );
    expect(stdout.trim().split('\n').at(-1)).toMatch(/^3 scenarios: 2 passed, 0 failed, 1 skipped in /);
    expect(code).toBe(0);
  }, 60_000);

  chromiumTest(
    'signs in, refreshes and logs out the same in Chromium (--browser chromium)',
    async () => {
      const report = await runConformance(PLAN, {
        browser: 'chromium',
        only: ['happy-path', 'id-token-invalid-nonce', 'refresh-token', 'rp-init-logout', 'backchannel-logout-wrong-aud'],
      });
      expect(outcomes(report)).toEqual({
        'happy-path': 'passed',
        'id-token-invalid-nonce': 'passed',
        'refresh-token': 'passed',
        'rp-init-logout': 'passed',
        'backchannel-logout-wrong-aud': 'passed',
      });
      expect(report.results.find((result) => result.scenario === 'id-token-invalid-nonce')!.rp.callback).toMatchObject({ status: 400 });
    },
    60_000,
  );
});
