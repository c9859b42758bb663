// First: an older Node gets one sentence, before any module it cannot run is evaluated.
import './node-version.ts';

import type { ConformancePlan } from './conformance/plan.ts';
import type { ConformanceReport } from './conformance/report.ts';
import type { ConformanceOptions } from './conformance/run.ts';

export type { ClockReading, IssuerClock } from './control/clock.ts';
export { IssuerClockError } from './control/clock.ts';
export { DirectTokenError } from './control/direct-token-error.ts';
export type { AccessTokenOrder, DirectTokenResponse, DirectTokens, TokenOrder } from './control/direct-tokens.ts';
export type { ActiveFault, FaultEndpoint, FaultHandle, FaultListing, FaultRule, FaultRuleInput, Faults } from './control/faults.ts';
export { FaultRuleError } from './control/faults.ts';
export type {
  RotatedKey,
  RotateKeyOptions,
  SigningKeyAlgorithm,
  SigningKeyEntry,
  SigningKeyList,
  SigningKeyRotation,
} from './control/key-rotation.ts';
export type { EndedSession, LogoutDelivery, SessionSummary, Sessions } from './control/sessions.ts';
export { SessionNotFoundError } from './control/sessions.ts';
export { ROUTES } from './endpoints.ts';
export { DEFAULT_FIXTURE_PATH, FixtureError, loadFixtureFile, parseFixture, validateFixture } from './fixtures/load.ts';
export type { ExtraIssuer, Fixture, FixtureClient, FixtureInput, FixtureResource, FixtureUser, IssuerSettings } from './fixtures/schema.ts';
export type { RecordedRequest, RequestListener, RequestRecord } from './http/request-record.ts';
export type { Issuer, IssuerUrls } from './issuers/create-issuer.ts';
export type { LogLevel } from './log.ts';
export type { ClientEntryInput, ClientPolicy, ClientRegistry, ClientSource, ListedClient } from './provider/clients.ts';
export { ClientChangeError } from './provider/clients.ts';
export type { CibaApproval, CibaController, CibaDecision, PendingCibaRequest } from './provider/extensions/ciba.ts';
export { CibaRequestNotFoundError } from './provider/extensions/ciba.ts';
export type { JwtAccessTokens } from './provider/extensions/jwt-access-tokens.ts';
export type { MockApiOptions, MockApisOptions } from './resource-servers/start-apis.ts';
export { scenarioCatalog } from './scenarios/catalog.ts';
export type { ScenarioHandle } from './scenarios/handle.ts';
export type { CatalogEntry, Verdict } from './scenarios/runs.ts';
export type { Judge, ScenarioInfo, ScenarioPlan } from './scenarios/scenario.ts';
export type { VerdictStatus } from './scenarios/verdict.ts';
export { MemoryStore } from './store/memory-store.ts';
export type { RedisStoreOptions } from './store/redis-store.ts';
export { DEFAULT_REDIS_PREFIX, RedisStore } from './store/redis-store.ts';
export type { RedisTopology } from './store/redis-url.ts';
export type { Store, StoreHealth } from './store/store.ts';
export { StoreStartupError, StoreUnavailableError } from './store/store-unavailable.ts';
export type { PutUser, User, UserChanges, UserDirectory, UserEntryInput } from './store/user-directory.ts';
export { UserConflictError } from './store/user-directory.ts';
export type { Testbed, TestbedOptions, TestbedUrls } from './testbed.ts';
export { startTestbed } from './testbed.ts';
export type { ConformanceOptions };

/**
 * Runs a conformance plan (a file path, a plan object, or a validated plan) and reports; throws
 * PlanError for a plan that cannot run. The runner is loaded on the first call: an import of the
 * package that never runs a plan does not pay for it.
 */
export async function runConformance(
  plan: string | ConformancePlan | unknown,
  options: ConformanceOptions = {},
): Promise<ConformanceReport> {
  const { runConformance: run } = await import('./conformance/run.ts');
  return run(plan, options);
}
