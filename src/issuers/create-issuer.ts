/**
 * One issuer: an oidc-provider instance configured from a validated fixture, with the testbed's
 * own middleware composed in front of it. All per-issuer state hangs off the returned object, so
 * several issuers (the main one, profiles, conformance scenarios) live side by side in a process.
 */
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { type KoaContextWithOIDC, Provider } from 'oidc-provider';
import { addRequestRecord } from '../control/request-record-routes.ts';
import { type ControlRoutes, controlRoutes } from '../control/routes.ts';
import { ControlSettings, readControlSettings } from '../control/settings.ts';
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
  readonly clients: ClientRegistry;
  readonly resources: ResourceCatalog;
  readonly store: Store;
  /** Records, introspection and revocation of its JWT access tokens. */
  readonly jwtAccessTokens: JwtAccessTokens;
  /** Decides pending CIBA requests (empty when the issuer has CIBA off). */
  readonly ciba: CibaController;
  /** What this issuer answered: the last 1,000 requests, parameters and issued tokens redacted (`<issuer>/_testbed/requests`). */
  readonly requests: RequestRecord;
}

export function createIssuer(options: IssuerOptions): Issuer {
  const { issuer, mountPath, fixture, keys, store, users, logger } = options;
  const clients = buildClientRegistry(fixture);
  const resources = new ResourceCatalog(fixture.resources, fixture.issuer, clients.policyOf, oidcScopesOf(fixture));
  const misbehaviour = options.misbehaviour ?? {};
  const outgoing = misbehaviour.outgoing;
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
      ...(outgoing
        ? {
            fetch: (url, init) =>
              outgoing(toUrl(url), init as RequestInit, (to, sent) => fetchAllowingLocalTargets(to, sent as never) as Promise<Response>),
          }
        : {}),
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
  if (misbehaviour.respond) provider.use(rewriteAnswers(misbehaviour.respond));
  if (misbehaviour.reissue) reissueSignedJwts(provider, misbehaviour.reissue);
  provider.proxy = true;
  const jwtAccessTokens = new JwtAccessTokens({ provider, store, signingKeys: keys.signing, stateKey: jwtStateKey(keys) });
  registerTestbedGrants(provider, { fixture, keys, users, resources, jwtAccessTokens, policyOf: clients.policyOf });

  relaxClientRulesForLocalRps(provider, {
    implicitHttpRedirects: responseTypesOf(fixture).some((type) => type.includes('id_token')),
    httpCibaNotifications: fixture.issuer.features.ciba.enabled,
  });

  const { request_objects: requestObjects, ciba: cibaFeature } = fixture.issuer.features;
  const byReference = requestObjects.enabled && requestObjects.by_reference;
  const ciba = cibaController(provider, { store, logger: logger.child({ issuer }) });
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

  return { issuer, urls: urlsOf(issuer), mountPath, provider, fixture, clients, resources, store, jwtAccessTokens, ciba, requests };
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
