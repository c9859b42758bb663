/**
 * A scenario's outcome from three things: the run's verdict (what the RP called after the defect),
 * how the RP answered its own callback, and whether `logged_in` holds afterwards. A negative
 * scenario passes only if the RP did not go on and holds no session; a positive one only if it
 * completed and holds one; the logout ones by the RP's answer to the logout and the session after.
 */
import type { Verdict } from '../scenarios/runs.ts';
import type { ScenarioDefinition } from '../scenarios/scenario.ts';
import type { Hop } from './http-browser.ts';

export type Outcome = 'passed' | 'failed' | 'skipped';

/** How the runner drives a scenario. */
export type Drive = 'sign-in' | 'sign-in-twice' | 'refresh' | 'rp-logout' | 'backchannel-logout';

/** What a correct RP does with it: go on (positive), stop (negative), either. */
export type Polarity = 'positive' | 'negative' | 'either';

/** Scenarios whose bad ID-token signature the OIDF suite lets an RP leave unchecked from the token endpoint (TLS; OpenID Connect Core §3.1.3.7). */
const SIGNATURE_OPTIONAL_FROM_TOKEN_ENDPOINT = new Set([
  'id-token-invalid-sig-rs256',
  'id-token-invalid-sig-es256',
  'id-token-invalid-sig-hs256',
]);

export function driveOf(scenario: ScenarioDefinition): Drive {
  if (scenario.judge.kind === 'backchannel') return 'backchannel-logout';
  if (scenario.plans.includes('logout')) return 'rp-logout';
  if (scenario.plans.includes('refresh')) return 'refresh';
  // The suite's signing-key-rotation: the keys change at the authorization request after the first login.
  if (scenario.judge.kind === 'complete' && /second login/.test(scenario.judge.completes)) return 'sign-in-twice';
  return 'sign-in';
}

export function polarityOf(scenario: ScenarioDefinition): Polarity {
  const { judge } = scenario;
  if (judge.kind === 'complete') return 'positive';
  if (judge.kind === 'backchannel') return judge.status === 200 ? 'positive' : 'negative';
  return judge.kind === 'reject' ? 'negative' : 'either';
}

export interface Observed {
  drive: Drive;
  verdict: Verdict;
  /** The RP's answer to its callback (the first request to it after the testbed), if the sign-in got there. */
  callback?: Hop;
  /** Whether `logged_in` held after signing in, and at the end. */
  loggedInAfterSignIn: boolean;
  loggedInAtEnd: boolean;
  /** Set when the RP could not be driven (not ready, a sign-in step failed). */
  driveError?: string;
  /** The plan has no `rp.logout` (RP-initiated logout scenarios are skipped). */
  noLogoutUrl?: boolean;
}

export function judge(scenario: ScenarioDefinition, observed: Observed): { status: Outcome; reason: string } {
  const { verdict, drive } = observed;
  if (observed.noLogoutUrl) return { status: 'skipped', reason: 'the plan names no rp.logout: RP-initiated logout is not tested' };
  if (observed.driveError) return { status: 'failed', reason: observed.driveError };
  const callback = observed.callback
    ? `its callback answered ${observed.callback.status}${observed.callback.location ? ` → ${observed.callback.location}` : ''}`
    : 'the sign-in never reached its callback';
  const polarity = polarityOf(scenario);
  if (verdict.status === 'failed') return { status: 'failed', reason: `${verdict.reason} (${callback})` };
  if (verdict.status === 'skipped') return { status: 'skipped', reason: verdict.reason };

  // These sign in first; the defect comes after.
  if (drive !== 'sign-in' && drive !== 'sign-in-twice' && !observed.loggedInAfterSignIn)
    return {
      status: 'failed',
      reason: `signing in gave no session (${callback}), so the ${drive === 'refresh' ? 'refresh' : 'logout'} cannot be tested`,
    };

  if (drive === 'backchannel-logout') {
    if (verdict.status === 'waiting')
      return {
        status: 'skipped',
        reason: 'no logout token was delivered: the client registers no backchannel_logout_uri, or the RP kept no session at the testbed',
      };
    if (polarity === 'positive' && observed.loggedInAtEnd)
      return { status: 'failed', reason: `${verdict.reason}, but its session holds after the logout (logged_in still answers)` };
    if (polarity === 'negative' && !observed.loggedInAtEnd)
      return { status: 'failed', reason: `${verdict.reason}, but ended the session anyway (logged_in no longer answers)` };
    return { status: 'passed', reason: `${verdict.reason}; its session ${observed.loggedInAtEnd ? 'holds' : 'ended'}` };
  }

  if (drive === 'refresh' && verdict.status === 'waiting' && !verdict.requests.some((request) => request.grant_type === 'refresh_token'))
    return { status: 'skipped', reason: 'the RP does not use refresh tokens (no refresh_token grant after signing in)' };

  if (polarity === 'negative') {
    if (verdict.status === 'waiting') return { status: 'skipped', reason: `${neverServed(scenario)} (${callback})` };
    // After a refresh the session from the first sign-in may rightly stay; the verdict says it all.
    if (drive !== 'refresh' && observed.loggedInAtEnd) {
      const fromTokenEndpoint = verdict.requests.some((request) => request.endpoint === 'token');
      if (SIGNATURE_OPTIONAL_FROM_TOKEN_ENDPOINT.has(scenario.name) && fromTokenEndpoint)
        return {
          status: 'skipped',
          reason: `the RP accepted the ID token with a bad signature from the token endpoint, which it may leave unchecked over TLS (the OIDF suite skips this); ${callback}`,
        };
      return { status: 'failed', reason: `the RP signed the user in despite the defect: logged_in holds (${callback})` };
    }
    return {
      status: 'passed',
      reason:
        drive === 'refresh'
          ? `${verdict.reason}; after the refresh its session ${observed.loggedInAtEnd ? 'holds' : 'ended'}`
          : `${verdict.reason}; ${callback} and it holds no session`,
    };
  }

  if (polarity === 'either') {
    if (verdict.status === 'waiting') return { status: 'skipped', reason: neverServed(scenario) };
    return { status: 'passed', reason: `${verdict.reason}; the RP ${observed.loggedInAtEnd ? 'holds a session' : 'holds no session'}` };
  }

  // Positive.
  const completedOnlyAtUserinfo = scenario.judge.kind === 'complete' && scenario.judge.completes === 'a successful userinfo request';
  if (drive === 'rp-logout') {
    if (verdict.status !== 'passed') return { status: 'failed', reason: `the logout did not complete: ${verdict.reason}` };
    if (observed.loggedInAtEnd) return { status: 'failed', reason: `${verdict.reason}, but logged_in still holds after the logout` };
    return { status: 'passed', reason: `${verdict.reason}; the session ended` };
  }
  if (!observed.loggedInAtEnd)
    return { status: 'failed', reason: `the RP holds no session after signing in (${callback}); verdict: ${verdict.reason}` };
  if (verdict.status === 'passed') return { status: 'passed', reason: `${verdict.reason}; it holds a session` };
  if (completedOnlyAtUserinfo)
    return {
      status: 'passed',
      reason: `it signed in and holds a session (${callback}); it called no userinfo, which the OIDF module waits for`,
    };
  return { status: 'failed', reason: `it holds a session but did not complete: ${verdict.reason}` };
}

/** Why a defect was never served: the RP did not ask for what the scenario breaks. */
function neverServed(scenario: ScenarioDefinition): string {
  if (scenario.plans.includes('jarm')) return 'the RP does not ask for JARM responses (response_mode=jwt), so the defect was never served';
  if (scenario.plans.includes('dpop')) return 'the RP sends no DPoP proof, so the defect was never served';
  return `the RP never got to the defect (${scenario.defect}), so it was never served`;
}
