/**
 * One issuer: an oidc-provider instance configured from a validated fixture, with the testbed's
 * own middleware composed in front of it. All per-issuer state hangs off the returned object, so
 * several issuers (the main one, profiles, conformance scenarios) live side by side in a process.
 */
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { type KoaContextWithOIDC, Provider } from 'oidc-provider';
import { addClientRoutes } from '../control/client-routes.ts';
import { IssuerClock, runOnIssuerClock } from '../control/clock.ts';
import { addClock } from '../control/clock-routes.ts';
import { addConsole, IssuerConsole } from '../control/console/routes.ts';
import { DirectTokens } from '../control/direct-tokens.ts';
import { issuerFaults } from '../control/fault-injection.ts';
import { addFaultRoutes } from '../control/fault-routes.ts';
import { Faults } from '../control/faults.ts';
import { SigningKeyRotation } from '../control/key-rotation.ts';
import { addKeyRotation } from '../control/key-routes.ts';
import { addRequestRecord } from '../control/request-record-routes.ts';
import { addReset } from '../control/reset-routes.ts';
import { type ControlRoutes, controlRoutes } from '../control/routes.ts';
import { addSessionRoutes } from '../control/session-routes.ts';
import { OutgoingAnswers, Sessions } from '../control/sessions.ts';
import { ControlSettings, readControlSettings } from '../control/settings.ts';
import { addTokenRoutes } from '../control/token-routes.ts';
import { addUserRoutes } from '../control/user-routes.ts';
import { CONTROL_PATH, INTERACTION_PATH, ROUTES } from '../endpoints.ts';
import type { Fixture } from '../fixtures/schema.ts';
import { routeByPath } from '../http/path-routes.ts';
import { refuseUnusableOrigin } from '../http/request-origin.ts';
import { RequestRecord, recordRequests } from '../http/request-record.ts';
import type { Logger } from '../log.ts';
import { buildClientRegistry, type ClientRegistry } from '../provider/clients.ts';
import { oidcScopesOf, providerConfiguration, responseTypesOf } from '../provider/configuration.ts';
import {
  correctTokenErrors,
  fetchAllowingLocalTargets,
  pinFrontChannelToIssuer,
  type ReissueJwt,
  reissueSignedJwts,
  relaxClientRulesForLocalRps,
  rewriteRouteResponses,
} from '../provider/engine/index.ts';
import { logProviderEvents } from '../provider/events.ts';
import { audienceAsResource } from '../provider/extensions/audience-parameter.ts';
import { advertiseNoCibaUserCode, type CibaController, cibaController } from '../provider/extensions/ciba.ts';
import { JwtAccessTokens } from '../provider/extensions/jwt-access-tokens.ts';
import { jwtStateKey } from '../provider/extensions/jwt-state.ts';
import { advertiseRequestUriByReference, resolveRequestUriByReference } from '../provider/extensions/request-uri.ts';
import { testbedMetadata } from '../provider/extensions/testbed-metadata.ts';
import { userinfoForOpenIdResourceTokens } from '../provider/extensions/userinfo-resource-tokens.ts';
import { registerTestbedGrants } from '../provider/grants/index.ts';
import { derivedSecret, type IssuerKeys } from '../provider/keys.ts';
import { ResourceCatalog } from '../provider/resources.ts';
import { interactionRoutes } from '../provider/ui/interactions.ts';
import type { Store } from '../store/store.ts';
import type { UserDirectory } from '../store/user-directory.ts';
import { issuerRequestDetails } from './issuer-record.ts';

export interface IssuerOptions {
  /** The public issuer identifier, including `mountPath`. */
  issuer: string;
  /** Path under which the issuer is served ('' for the root). */
  mountPath: string;
  fixture: Fixture;
  keys: IssuerKeys;
  store: Store;
  users: UserDirectory;
  logger: Logger;
  /** Bearer token of the control endpoints for clients not on this machine (src/control/access.ts). */
  controlToken?: string;
  /** Where this issuer departs from the rules on purpose (conformance scenarios); absent, it follows them. */
  misbehaviour?: Misbehaviour;
  /** Whether `reset()` resets the users too; false where the directory is another issuer's (scenario runs share the main one's). Default true. */
  resetsUsers?: boolean;
}

/** A rewrite of an engine route's answer, after the engine made it (`ctx.body`, `ctx.status`, headers). */
export type RouteRewrite = (ctx: KoaContextWithOIDC) => void | Promise<void>;

/** How the engine's outgoing requests are sent; `send` is the normal way. */
export type OutgoingHook = (url: URL, init: RequestInit, send: (url: URL, init: RequestInit) => Promise<Response>) => Promise<Response>;

/**
 * The named hook points of a misbehaving issuer, each applied only on its own issuer: a rewrite per
 * engine route before the answer leaves, one re-sign hook for every JWT the engine signs, and one
 * hook on the requests it sends; plus a record of what it answered and control routes of its own.
 */
export interface Misbehaviour {
  /** The record to keep this issuer's requests in (a scenario's verdict reads it); default: one of its own. */
  record?: RequestRecord;
  /** By engine route name (`ctx.oidc.route`: discovery, jwks, token, userinfo, authorization, resume, end_session_confirm, …). */
  respond?: ReadonlyMap<string, RouteRewrite>;
  reissue?: ReissueJwt;
  outgoing?: OutgoingHook;
  /** Paths of its own, before the engine's routes (e.g. a JWKS at a path discovery names). */
  paths?: ReadonlyArray<readonly [path: string, handler: Middleware]>;
  /** More routes under `<issuer>/_testbed`, behind its guard. */
  control?: (router: Router) => void;
}

/** The endpoints of one issuer. */
export interface IssuerUrls {
  issuer: string;
  discovery: string;
  authorizationServerMetadata: string;
  jwks: string;
  authorization: string;
  token: string;
  userinfo: string;
  introspection: string;
  revocation: string;
  deviceAuthorization: string;
  deviceVerification: string;
  endSession: string;
  pushedAuthorizationRequest: string;
  backchannelAuthentication: string;
  registration: string;
}

export interface Issuer {
  readonly issuer: string;
  readonly urls: IssuerUrls;
  readonly mountPath: string;
  readonly provider: Provider;
  readonly fixture: Fixture;
  /** Its clients and their testbed policies: the fixture's, and those put at run time (`<issuer>/_testbed/clients`). */
  readonly clients: ClientRegistry;
  readonly resources: ResourceCatalog;
  readonly store: Store;
  /** Records, introspection and revocation of its JWT access tokens. */
  readonly jwtAccessTokens: JwtAccessTokens;
  /** Decides pending CIBA requests (empty when the issuer has CIBA off). */
  readonly ciba: CibaController;
  /** What this issuer answered: the last 1,000 requests, parameters and issued tokens redacted (`<issuer>/_testbed/requests`). */
  readonly requests: RequestRecord;
  /** Its login sessions: listed, and ended with back-channel logout tokens to their clients (`<issuer>/_testbed/sessions`). */
  readonly sessions: Sessions;
  /** Access and ID tokens issued without a login, for testing a resource server (`<issuer>/_testbed/tokens`). */
  readonly tokens: DirectTokens;
  /** Its fault rules: the fixture's `faults:` and those added at run time (`<issuer>/_testbed/faults`). */
  readonly faults: Faults;
  /**
   * The users it serves, changed at run time (`<issuer>/_testbed/users`): issuers serving the main
   * fixture's users (the main one, further issuers without `users`, scenario runs) share one directory.
   */
  readonly users: UserDirectory;
  /** Its clock: real time shifted by an offset a test sets (`<issuer>/_testbed/clock`); other issuers keep theirs. */
  readonly clock: IssuerClock;
  /** Its signing keys: rotated at run time (`<issuer>/_testbed/keys/rotate`), listed, reset to those it started with. */
  readonly keys: SigningKeyRotation;
  /** Its console page (`<issuer>/_testbed/`): the live request record and the concerns above at a glance. */
  readonly console: IssuerConsole;
  /**
   * Puts the issuer back to its fixture (`POST <issuer>/_testbed/reset`): faults, clock, signing keys,
   * run-time clients, users (shared with the issuers that share its directory), sessions (ended
   * without logout tokens), direct tokens (revoked) and the request record. Replicas see it at once.
   */
  reset(): Promise<void>;
}

export function createIssuer(options: IssuerOptions): Issuer {
  const { issuer, mountPath, fixture, keys, store, users, logger } = options;
  const clients = buildClientRegistry(fixture);
  const resources = new ResourceCatalog(fixture.resources, fixture.issuer, clients.policyOf, oidcScopesOf(fixture));
  const misbehaviour = options.misbehaviour ?? {};
  const outgoing = misbehaviour.outgoing;
  // The answers to the engine's outgoing requests, seen by OP-initiated logout (src/control/sessions.ts).
  const outgoingAnswers = new OutgoingAnswers();
  const provider = new Provider(
    issuer,
    providerConfiguration({
      fixture,
      keys,
      store,
      users,
      clients,
      resources,
      mountPath,
      fetch: outgoingAnswers.wrap(
        outgoing
          ? (url, init) =>
              outgoing(toUrl(url), init as RequestInit, (to, sent) => fetchAllowingLocalTargets(to, sent as never) as Promise<Response>)
          : fetchAllowingLocalTargets,
      ),
    }),
  );
  const requests = misbehaviour.record ?? new RequestRecord();
  // What tests changed at run time (src/control/settings.ts), read once per request for the layers below.
  const settings = new ControlSettings(store);
  provider.use(readControlSettings(settings));
  // The control endpoints (a test reading this very record, a verdict) are the tool talking to itself: not recorded.
  const isControl = (path: string) => path === CONTROL_PATH || path.startsWith(`${CONTROL_PATH}/`);
  provider.use(recordRequests((ctx) => (isControl(ctx.path) ? undefined : requests), issuerRequestDetails));
  // The steering operations under <issuer>/_testbed (issue 20), each a concern of src/control/.
  const operations: ControlRoutes[] = [(router) => addRequestRecord(router, requests)];
  // The signing keys a rotation (`<issuer>/_testbed/keys/rotate`, maybe on another replica) put in force, before anything is signed.
  const signingKeys = new SigningKeyRotation({ provider, store, settings });
  settings.follow(signingKeys.follow);
  operations.push((router) => addKeyRotation(router, signingKeys));
  // Fault rules (the fixture's and run-time ones) act before the engine sees a request: a faulted refresh burns no token.
  const faults = new Faults({ settings, store, fixture: fixture.faults });
  provider.use(issuerFaults(faults));
  operations.push((router) => addFaultRoutes(router, faults));
  // The rest of the request runs on the issuer's clock (real time shifted by `PUT <issuer>/_testbed/clock`).
  const clock = new IssuerClock(settings);
  provider.use(runOnIssuerClock());
  operations.push((router) => addClock(router, clock));
  // Users and claims at run time; a removed user's sessions here end too (the directory may serve several issuers).
  users.servesIssuer(issuer, store);
  operations.push((router) => addUserRoutes(router, users));
  // Clients at run time (in the store's Client model); each request first follows their policies to its settings' revision.
  clients.attach(provider, store, settings);
  settings.follow((fields) => clients.follow(fields));
  operations.push((router) => addClientRoutes(router, clients));
  // Sessions listed and ended (OP-initiated logout), and tokens issued without a login (resource-server tests).
  const sessions = new Sessions({ provider, store, answers: outgoingAnswers });
  operations.push((router) => addSessionRoutes(router, sessions));
  const tokens = new DirectTokens({ provider, fixture, resources, users, store });
  operations.push((router) => addTokenRoutes(router, tokens));
  // Faults first, so that nothing the reset does is faulted; the record last, so that it ends empty.
  const resettable = [faults, clock, signingKeys, clients, ...(options.resetsUsers === false ? [] : [users]), sessions, tokens];
  const reset = async () => {
    for (const concern of resettable) await concern.reset();
    requests.clear();
  };
  operations.push((router) => addReset(router, reset));
  if (misbehaviour.respond) provider.use(rewriteAnswers(misbehaviour.respond));
  if (misbehaviour.reissue) reissueSignedJwts(provider, misbehaviour.reissue);
  provider.proxy = true;
  const jwtAccessTokens = new JwtAccessTokens({ provider, store, stateKey: jwtStateKey(keys) });
  registerTestbedGrants(provider, { fixture, users, resources, jwtAccessTokens, policyOf: clients.policyOf });

  relaxClientRulesForLocalRps(provider, {
    implicitHttpRedirects: responseTypesOf(fixture).some((type) => type.includes('id_token')),
    httpCibaNotifications: fixture.issuer.features.ciba.enabled,
  });

  const { request_objects: requestObjects, ciba: cibaFeature } = fixture.issuer.features;
  const byReference = requestObjects.enabled && requestObjects.by_reference;
  const ciba = cibaController(provider, { store, logger: logger.child({ issuer }) });
  // The console page at <issuer>/_testbed/ (issue 22): reads each concern above, acts through its control endpoints.
  const issuerConsole = new IssuerConsole({
    issuer,
    mountPath,
    fixture,
    requests,
    clients,
    resources,
    users,
    keys: signingKeys,
    faults,
    clock,
    sessions,
    ciba: cibaFeature.enabled ? ciba : undefined,
  });
  operations.push((router) => addConsole(router, issuerConsole));
  const frontChannel = pinFrontChannelToIssuer(issuer);
  const rewriteResponses = rewriteRouteResponses(
    new Map([
      [
        'discovery',
        [
          frontChannel.discovery,
          testbedMetadata(fixture.issuer),
          ...(byReference ? [advertiseRequestUriByReference] : []),
          ...(cibaFeature.enabled ? [advertiseNoCibaUserCode] : []),
        ],
      ],
      ['device_authorization', [frontChannel.device_authorization]],
    ]),
  );
  const resolveJwtToken = jwtAccessTokens.resolveTokenParameter();
  provider.use(refuseUnusableOrigin());
  // The testbed's own middleware, by path: a request none applies to crosses this one layer (and the origin check) only.
  provider.use(
    routeByPath({
      exact: [
        ...(misbehaviour.paths ?? []).map(([path, handler]) => [path, [handler]] as const),
        [ROUTES.token, [correctTokenErrors(provider), audienceAsResource(resources)]],
        [ROUTES.introspection, [resolveJwtToken]],
        [ROUTES.revocation, [resolveJwtToken]],
        [
          ROUTES.userinfo,
          resources.servesUserinfo
            ? [userinfoForOpenIdResourceTokens({ provider, jwtAccessTokens, key: derivedSecret(keys, 'userinfo-twin') })]
            : [],
        ],
        [
          ROUTES.authorization,
          byReference ? [resolveRequestUriByReference({ provider, fetch: (url, init) => globalThis.fetch(url, init) })] : [],
        ],
        ['/.well-known/openid-configuration', [rewriteResponses]],
        ['/.well-known/oauth-authorization-server', [rewriteResponses]],
        [ROUTES.device_authorization, [rewriteResponses]],
      ],
      prefixes: [
        [INTERACTION_PATH, [interactionRoutes({ provider, users, resources, policyOf: clients.policyOf, mountPath }).routes()]],
        [
          CONTROL_PATH,
          [
            controlRoutes({
              issuer,
              mountPath,
              controlToken: options.controlToken,
              ciba: cibaFeature.enabled ? ciba : undefined,
              operations,
              more: misbehaviour.control,
            }).routes(),
          ],
        ],
      ],
    }),
  );
  logProviderEvents(provider, logger.child({ issuer }));

  return {
    issuer,
    urls: urlsOf(issuer),
    mountPath,
    provider,
    fixture,
    clients,
    resources,
    store,
    jwtAccessTokens,
    ciba,
    requests,
    users,
    clock,
    faults,
    keys: signingKeys,
    sessions,
    tokens,
    console: issuerConsole,
    reset,
  };
}

function urlsOf(issuer: string): IssuerUrls {
  const at = (path: string) => `${issuer}${path}`;
  const { origin, pathname } = new URL(issuer);
  return {
    issuer,
    discovery: at('/.well-known/openid-configuration'),
    authorizationServerMetadata: `${origin}/.well-known/oauth-authorization-server${pathname.replace(/\/$/, '')}`,
    jwks: at(ROUTES.jwks),
    authorization: at(ROUTES.authorization),
    token: at(ROUTES.token),
    userinfo: at(ROUTES.userinfo),
    introspection: at(ROUTES.introspection),
    revocation: at(ROUTES.revocation),
    deviceAuthorization: at(ROUTES.device_authorization),
    deviceVerification: at(ROUTES.code_verification),
    endSession: at(ROUTES.end_session),
    pushedAuthorizationRequest: at(ROUTES.pushed_authorization_request),
    backchannelAuthentication: at(ROUTES.backchannel_authentication),
    registration: at(ROUTES.registration),
  };
}

/** Runs `respond`'s rewrite for the route the engine matched, once it has answered. */
function rewriteAnswers(respond: ReadonlyMap<string, RouteRewrite>): Middleware {
  return async function rewriteAnswer(ctx, next) {
    await next();
    const route = Object.hasOwn(ctx, 'oidc') ? (ctx as unknown as KoaContextWithOIDC).oidc.route : undefined;
    const rewrite = route ? respond.get(route) : undefined;
    if (rewrite) await rewrite(ctx as unknown as KoaContextWithOIDC);
  };
}

function toUrl(url: string | URL | Request): URL {
  return url instanceof URL ? url : new URL(typeof url === 'string' ? url : url.url);
}
