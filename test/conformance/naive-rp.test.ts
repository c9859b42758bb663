/**
 * The runner can fail an RP: the naive one (naive-rp.ts: no check of state, iss, the ID token, the
 * refreshed ID token or the logout token) is driven through the basic, refresh and logout plans,
 * and every negative scenario it ignores is `failed`, naming what it called after the defect; the
 * command line exits 1 and writes the reports CI reads.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { runConformance } from '../../src/index.ts';
import { runCommand } from '../support/command.ts';
import { expected, outcomes } from './outcomes.ts';

const PLAN = fileURLToPath(new URL('naive.plan.yaml', import.meta.url));
const PLANS = ['basic', 'refresh', 'logout'];

describe('the conformance runner against the naive RP', () => {
  it('fails every negative scenario of basic, refresh and logout that it ignores, and passes the positive ones', async () => {
    const report = await runConformance(PLAN, { plans: PLANS });
    const ignored = [
      ...[
        'invalid-iss',
        'missing-iss',
        'invalid-aud',
        'missing-aud',
        'untrusted-aud',
        'missing-sub',
        'missing-iat',
        'missing-exp',
        'expired',
      ],
      ...['invalid-nonce', 'missing-nonce', 'alternate-alg'],
    ].map((defect) => `id-token-${defect}`);
    expect(outcomes(report)).toEqual(
      expected(PLANS, {
        ...Object.fromEntries(ignored.map((name) => [name, 'failed' as const])),
        'authorization-response-invalid-iss': 'failed',
        'authorization-response-missing-iss': 'failed',
        'authorization-response-invalid-state': 'failed',
        'authorization-response-missing-state': 'failed',
        'refresh-token-invalid-iss': 'failed',
        'refresh-token-invalid-sub': 'failed',
        ...Object.fromEntries(
          ['alg-none', 'wrong-alg', 'wrong-aud', 'wrong-iss', 'no-event', 'wrong-event', 'with-nonce'].map((defect) => [
            `backchannel-logout-${defect}`,
            'failed' as const,
          ]),
        ),
        // A bad signature from the token endpoint may go unchecked (TLS): the suite skips it.
        'id-token-invalid-sig-rs256': 'skipped',
        'id-token-invalid-sig-es256': 'skipped',
        'id-token-invalid-sig-hs256': 'skipped',
      }),
    );
    const byName = new Map(report.results.map((result) => [result.scenario, result]));
    expect(byName.get('id-token-invalid-nonce')).toMatchObject({
      expects: 'negative',
      reason: expect.stringMatching(
        /after the defect \(idtoken at token\) the relying party called userinfo .*its callback answered 302 → \/profile/,
      ),
      rp: { logged_in_at_end: true, output: expect.stringContaining('naive RP at http://localhost:') },
    });
    expect(byName.get('authorization-response-invalid-state')!.reason).toMatch(
      /called token \(POST \/scenarios\/authorization-response-invalid-state\/runs\/[0-9a-f]+\/token → 200\)/,
    );
    expect(byName.get('backchannel-logout-wrong-aud')!.reason).toMatch(/answered 200 to the broken logout token .*expected 400/);
    // The requests the RP made come from the verdict, in order.
    expect(byName.get('happy-path')!.requests.map((request) => request.endpoint)).toEqual(
      expect.arrayContaining(['discovery', 'authorization', 'resume', 'token', 'userinfo']),
    );
    expect(report).toMatchObject({ exit_code: 1, totals: { scenarios: report.results.length, skipped: 3 } });
    expect(report.totals.failed).toBe(Object.values(outcomes(report)).filter((status) => status === 'failed').length);
  }, 120_000);

  it('exits 1 on the command line, printing a line per scenario, and writes JUnit, JSON and Markdown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conformance-'));
    const files = { junit: join(dir, 'report.xml'), json: join(dir, 'report.json'), markdown: join(dir, 'report.md') };
    const { code, stdout } = await runCommand('node', [
      'src/cli/main.ts',
      'conformance',
      PLAN,
      '--only',
      'happy-path,id-token-invalid-iss,id-token-invalid-sig-rs256',
      '--parallel',
      '3',
      '--junit',
      files.junit,
      '--json',
      files.json,
      '--markdown',
      files.markdown,
    ]);
    expect(code).toBe(1);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.filter((line) => /^\[\d\/3\] (PASS|FAIL|SKIP) /.test(line))).toHaveLength(3);
    expect(lines.find((line) => line.includes(' id-token-invalid-iss '))).toMatch(/^\[\d\/3\] FAIL /);
    expect(lines.at(-1)).toMatch(/^3 scenarios: 1 passed, 1 failed, 1 skipped in \d+\.\d s$/);

    const junit = readFileSync(files.junit, 'utf8');
    expect(junit).toMatch(/<testsuites name="oidc-testbed conformance" tests="3" failures="1" skipped="1"/);
    expect(junit.match(/<testcase /g)).toHaveLength(3);
    expect(junit).toMatch(
      /<testcase classname="oidc-testbed\.basic" name="id-token-invalid-iss" time="\d+\.\d{3}">\n\s+<failure message="after the defect \(idtoken at token\) the relying party called userinfo/,
    );
    expect(junit).toMatch(/<skipped message="the relying party called userinfo/);
    expect(junit).toMatch(/<system-out>[^<]*GET \/scenarios\/happy-path\/runs\/[0-9a-f]+\/me → 200 \(userinfo\)/);
    expect(junit).toMatch(/<system-err>naive RP at/);

    const json = JSON.parse(readFileSync(files.json, 'utf8'));
    expect(json).toMatchObject({ exit_code: 1, totals: { scenarios: 3, passed: 1, failed: 1, skipped: 1 } });
    expect(json.results.map((result: { scenario: string }) => result.scenario)).toEqual([
      'happy-path',
      'id-token-invalid-iss',
      'id-token-invalid-sig-rs256',
    ]);

    const markdown = readFileSync(files.markdown, 'utf8');
    expect(markdown).toMatch(/^### OIDC conformance: 1 failed\n/);
    expect(markdown.split('\n').find((line) => line.startsWith('| ❌'))).toMatch(
      /^\| ❌ failed \| `id-token-invalid-iss` \| after the defect/,
    );
  }, 60_000);
});
