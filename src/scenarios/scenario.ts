/**
 * What a conformance scenario is: an issuer that breaks one rule on purpose (its `misbehave`, made
 * fresh per run from the named hook points of src/issuers/create-issuer.ts), described for people
 * (`title`, `defect`, `expect`) and judged by what the relying party called next (`judge`).
 */
import type { Fixture } from '../fixtures/schema.ts';
import type { Misbehaviour } from '../issuers/create-issuer.ts';
import type { IssuerKeys } from '../provider/keys.ts';

/** Test-plan tags, after the OIDF RP plans the scenario belongs to. */
export type ScenarioPlan = 'basic' | 'config' | 'dynamic' | 'form-post' | 'refresh' | 'logout' | 'fapi2' | 'dpop' | 'jarm';

export interface ScenarioInfo {
  name: string;
  title: string;
  plans: readonly ScenarioPlan[];
  /** One sentence: what is wrong, and where. */
  defect: string;
  /** What a correct relying party does. */
  expect: string;
  /** The OIDF conformance-suite module it mirrors, when one does. */
  oidf?: string;
  /** What openid-client 6 does with it, where that is worth knowing (it does not check everything). */
  openidClient?: string;
}

/**
 * How a run is judged (as the OIDF suite judges):
 * - `reject`: once the defect is served, a call to one of the engine routes it names (`forbidden`,
 *   given when serving) fails the run; none within the wait passes it.
 * - `complete`: passes at the first request `completes` accepts (the flow got through).
 * - `either`: passes once the defect is served and the wait is over, whatever the RP did next.
 * - `backchannel`: by the RP's HTTP status to the logout token the testbed POSTed: `status` passes.
 */
export type Judge =
  | { kind: 'reject' }
  | { kind: 'complete'; completes: string; test: (request: JudgedRequest, earlier: readonly JudgedRequest[]) => boolean }
  | { kind: 'either' }
  | { kind: 'backchannel'; status: 200 | 400 };

/** A recorded request as the judge sees it. */
export interface JudgedRequest {
  at: number;
  method: string;
  path: string;
  status: number;
  route?: string;
  grant_type?: string;
  client_id?: string;
  error?: string;
}

/** What a scenario's misbehaviour may use and tell, per run. */
export interface RunContext {
  /** The run's issuer identifier. */
  readonly issuer: string;
  /** The run's own keys (private): re-signing uses them. */
  readonly keys: IssuerKeys;
  /** The fixture the run serves (the main issuer's, as the scenario adjusted it). */
  readonly fixture: Fixture;
  /**
   * Marks the defect served now; `forbidden`: the engine routes a correct RP no longer calls;
   * `optional`: routes that make the run `skipped` instead, where the OIDF suite allows an RP not to
   * check (ID-token signatures from the token endpoint, over TLS: OpenID Connect Core §3.1.3.7).
   */
  served(where: string, forbidden?: readonly string[], optional?: readonly string[]): void;
  /** The RP's answer to a logout token the testbed delivered (back-channel scenarios). */
  delivered(delivery: { url: string; status: number; cacheControl: string | null }): void;
}

export interface ScenarioDefinition extends ScenarioInfo {
  judge: Judge;
  /** The main fixture adjusted for this scenario (e.g. DPoP nonces required); default unchanged. */
  adjust?: (fixture: Fixture) => Fixture;
  misbehave(run: RunContext): Omit<Misbehaviour, 'record' | 'control'>;
}
