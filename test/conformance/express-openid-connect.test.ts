/**
 * express-openid-connect 3.4.0 (openid-client 6 inside), as examples/express-openid-connect/
 * conformance-app.ts uses it: the outcome of every scenario of basic, config, refresh and logout,
 * each a finding about the library. Its back-channel logout store is the session store, in Redis.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { runConformance } from '../../src/index.ts';
import { requireRedis } from '../support/store.ts';
import { expected, outcomes } from './outcomes.ts';

const PLAN = fileURLToPath(new URL('../../examples/express-openid-connect/conformance.yaml', import.meta.url));
const FORM_POST_PLAN = fileURLToPath(new URL('../../examples/express-openid-connect/conformance-form-post.yaml', import.meta.url));
const PLANS = ['basic', 'config', 'refresh', 'logout'];
const redisUp = await requireRedis();

(redisUp ? describe : describe.skip)('the conformance runner against express-openid-connect', () => {
  it('records what the library does with each scenario', async () => {
    const report = await runConformance(PLAN);
    expect(outcomes(report)).toEqual(
      expected(PLANS, {
        // It pins id_token_signed_response_alg to RS256 (idTokenSigningAlg), whatever discovery lists.
        'id-token-alternate-alg': 'failed',
        // Neither it nor openid-client compares the refreshed ID token's sub with the first one.
        'refresh-token-invalid-sub': 'failed',
        // The code flow does not verify ID token signatures from the token endpoint (allowed over TLS) ...
        'id-token-invalid-sig-rs256': 'skipped',
        // ... so it never reads the JWKS, which these positive scenarios wait for.
        'discovery-jwks-uri-keys': 'failed',
        'signing-key-rotation': 'failed',
        'signing-key-rotation-just-before-signing': 'failed',
      }),
    );
    const byName = new Map(report.results.map((result) => [result.scenario, result]));
    // It answers a valid logout token 204, which Back-Channel Logout 1.0 §2.8 tells OPs to take for 200.
    expect(byName.get('backchannel-logout')!.reason).toMatch(/answered 204 to the valid logout token; its session ended/);
    expect(byName.get('id-token-invalid-iss')).toMatchObject({ rp: { callback: { status: 400 }, logged_in_at_end: false } });
  }, 120_000);

  it('the documented basic example (its defaults: id_token by form_post) through the form-post plan', async () => {
    const report = await runConformance(FORM_POST_PLAN);
    expect(outcomes(report)).toEqual(
      expected(['form-post'], {
        // The pinned RS256 again: it signs the user in with an ID token whose algorithm discovery does not list.
        'id-token-alternate-alg': 'failed',
        // It never sends prompt=none, so the issuer never answers login_required by form_post.
        'form-post-error': 'skipped',
      }),
    );
    const byName = new Map(report.results.map((result) => [result.scenario, result]));
    // Judged by the session: nothing is called after a front-channel ID token, so only logged_in tells.
    expect(byName.get('id-token-alternate-alg')).toMatchObject({
      verdict: { status: 'passed' },
      reason: expect.stringMatching(/^the RP signed the user in despite the defect: logged_in holds/),
    });
    expect(byName.get('happy-path')!.reason).toMatch(/it called no userinfo, which the OIDF module waits for$/);
  }, 120_000);
});
