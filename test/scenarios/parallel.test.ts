/**
 * Many runs at once in one testbed: 50 runs of the negative ID-token and authorization-response
 * scenarios and happy-path, each driven by openid-client concurrently. Every verdict is the one
 * its relying party earned, each run records only its own requests, and no two runs share a key.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { SCENARIO_CATALOG } from '../../src/scenarios/catalog.ts';
import { client, discoverAt, signIn } from '../support/openid.ts';
import { useTestbed } from '../support/testbed.ts';

const RUNS = 50;

/**
 * What openid-client 6 does in the code flow with each scenario (research notes §3.1, §5.2 and §7):
 * the error code it throws, or `accepted` where it does not check (signatures are not verified
 * in the code flow; `alg: none` is taken when discovery lists it).
 */
const OPENID_CLIENT: Record<string, string> = {
  'happy-path': 'accepted',
  'id-token-invalid-iss': 'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
  'id-token-missing-iss': 'OAUTH_INVALID_RESPONSE',
  'id-token-invalid-aud': 'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
  'id-token-missing-aud': 'OAUTH_INVALID_RESPONSE',
  'id-token-untrusted-aud': 'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
  'id-token-missing-sub': 'OAUTH_INVALID_RESPONSE',
  'id-token-missing-iat': 'OAUTH_INVALID_RESPONSE',
  'id-token-missing-exp': 'OAUTH_INVALID_RESPONSE',
  'id-token-expired': 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED',
  'id-token-invalid-nonce': 'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
  'id-token-missing-nonce': 'OAUTH_INVALID_RESPONSE',
  'id-token-invalid-sig-rs256': 'accepted',
  'id-token-invalid-sig-es256': 'accepted',
  'id-token-invalid-sig-hs256': 'accepted',
  'id-token-alg-none': 'accepted',
  'id-token-alternate-alg': 'OAUTH_INVALID_RESPONSE',
  'authorization-response-invalid-iss': 'OAUTH_INVALID_RESPONSE',
  'authorization-response-missing-iss': 'OAUTH_INVALID_RESPONSE',
  'authorization-response-invalid-state': 'OAUTH_INVALID_RESPONSE',
  'authorization-response-missing-state': 'OAUTH_INVALID_RESPONSE',
};

/** The catalog's negative ID-token and authorization-response scenarios, and happy-path. */
const NAMES = [...SCENARIO_CATALOG.values()]
  .filter(
    (scenario) =>
      scenario.name === 'happy-path' || (/^(id-token|authorization-response)-/.test(scenario.name) && !scenario.defect.startsWith('none')),
  )
  .map((scenario) => scenario.name);

/**
 * The verdict a relying party earns that stops at openid-client's error, and otherwise goes on to
 * userinfo: an error passes (nothing forbidden follows); going on fails a `reject` scenario.
 */
/** A bad signature from the token endpoint need not be checked (OIDF: SKIPPED); other accepted defects fail the run. */
const SIGNATURE_OPTIONAL = new Set(['id-token-invalid-sig-rs256', 'id-token-invalid-sig-es256', 'id-token-invalid-sig-hs256']);

function expectedVerdict(name: string, outcome: string): 'passed' | 'failed' | 'skipped' {
  if (outcome !== 'accepted') return 'passed';
  if (SIGNATURE_OPTIONAL.has(name)) return 'skipped';
  return SCENARIO_CATALOG.get(name)!.judge.kind === 'reject' ? 'failed' : 'passed';
}

describe(`${RUNS} scenario runs in parallel in one testbed`, () => {
  const testbed = useTestbed({ apis: false });

  it('knows what openid-client does with every scenario it cycles through', () => {
    expect(NAMES.length).toBeGreaterThan(15);
    expect([...NAMES].sort()).toEqual(Object.keys(OPENID_CLIENT).sort());
  });

  it('judges each run by its own relying party, records only its own requests, and gives each run keys of its own', async () => {
    // Everything the testbed answered, with full paths (the app's record, before the run's issuer sees the request).
    const served: Array<{ method: string; path: string; status: number }> = [];
    const unsubscribe = testbed().requests.subscribe(({ method, path, status }) => served.push({ method, path, status }));
    const runs = Array.from({ length: RUNS }, (_, index) => ({ name: NAMES[index % NAMES.length], run: randomUUID() }));

    const results = await Promise.all(
      runs.map(async ({ name, run }) => {
        const handle = await testbed().scenario(name, { run });
        const config = await discoverAt(handle.issuer, 'spa-client');
        const outcome = await signIn(config, {
          redirect_uri: 'http://localhost:5173/callback',
          scope: 'openid profile',
          login_hint: 'alice',
        }).then(
          async ({ tokens }) => {
            // It went through: the RP uses the access token.
            await client.fetchUserInfo(config, tokens.access_token, client.skipSubjectCheck);
            return 'accepted';
          },
          (error: { code?: string }) => error.code ?? String(error),
        );
        const jwks = (await (await fetch(config.serverMetadata().jwks_uri!)).json()) as { keys: Array<{ kid: string; use?: string }> };
        const verdict = await handle.waitForVerdict({ waitMs: 400, timeoutMs: 10_000 });
        return { name, run, handle, outcome, verdict, kids: jwks.keys.filter((key) => key.use !== 'enc').map((key) => key.kid) };
      }),
    );
    unsubscribe();

    expect(results.map(({ name, outcome }) => ({ name, outcome }))).toEqual(
      runs.map(({ name }) => ({ name, outcome: OPENID_CLIENT[name] })),
    );
    expect(results.map(({ verdict }) => ({ scenario: verdict.scenario, run: verdict.run, status: verdict.status }))).toEqual(
      results.map(({ name, run, outcome }) => ({ scenario: name, run, status: expectedVerdict(name, outcome) })),
    );

    const sorted = (requests: Array<{ method: string; path: string; status: number }>) =>
      requests.map(({ method, path, status }) => `${method} ${path} ${status}`).sort();
    for (const { handle, verdict, outcome } of results) {
      // The run's requests as the testbed served them: full paths under the run's issuer path.
      const prefix = new URL(handle.issuer).pathname;
      const ownPaths = served
        .filter((request) => request.path.startsWith(`${prefix}/`) && !request.path.includes('/_testbed/'))
        .map((request) => ({ ...request, path: request.path.slice(prefix.length) }));
      expect(ownPaths.length).toBeGreaterThanOrEqual(5);
      // The verdict lists exactly those, none of another run's. (Its paths are relative to the run's
      // issuer today, e.g. `/auth`; a full path is taken as well.)
      const listed = verdict.requests.map((request) => ({
        ...request,
        path: request.path.startsWith(`${prefix}/`) ? request.path.slice(prefix.length) : request.path,
      }));
      expect(sorted(listed)).toEqual(sorted(ownPaths));
      expect(verdict.requests.map((request) => request.endpoint)).toEqual(expect.arrayContaining(['discovery', 'authorization', 'jwks']));
      if (outcome === 'accepted') expect(verdict.requests.filter((request) => request.endpoint === 'userinfo')).toHaveLength(1);
      if (verdict.status === 'failed' || verdict.status === 'skipped') expect(verdict.reason).toMatch(/called userinfo/);
    }

    const kids = results.flatMap((result) => result.kids);
    expect(results.every((result) => result.kids.length > 0)).toBe(true);
    expect(new Set(kids).size).toBe(kids.length);
  }, 60_000);
});
