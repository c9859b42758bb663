/**
 * One issuer: an oidc-provider instance configured from a validated fixture, with the testbed's
 * own middleware composed in front of it. All per-issuer state hangs off the returned object, so
 * several issuers (the main one, profiles, conformance scenarios) live side by side in a process.
 */
import { Provider } from 'oidc-provider';
import type { Fixture } from '../fixtures/schema.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import type { UserDirectory } from '../store/user-directory.ts';
import { CONTROL_PATH, controlRoutes } from '../control/routes.ts';
import { audienceAsResource } from './audience-parameter.ts';
import { advertiseNoCibaUserCode, cibaController, type CibaController } from './ciba.ts';
import { buildClientRegistry, type ClientRegistry } from './clients.ts';
import { oidcScopesOf, providerConfiguration, responseTypesOf, ROUTES } from './configuration.ts';
import { pinFrontChannelToIssuer } from './front-channel.ts';
import { registerTestbedGrants } from './grants/index.ts';
import { interactionRoutes } from './interactions.ts';
import { JwtAccessTokens, jwtStateKey } from './jwt-access-tokens.ts';
import { derivedSecret, type IssuerKeys } from './keys.ts';
import { relaxClientRulesForLocalRps } from './local-relaxations.ts';
import { correctTokenErrors } from './token-error-corrections.ts';
import { advertiseRequestUriByReference, resolveRequestUriByReference } from './request-uri.ts';
import { ResourceCatalog } from './resources.ts';
import { logProviderEvents } from './events.ts';
import { rewriteRouteResponses } from './route-responses.ts';
import { testbedMetadata } from './testbed-metadata.ts';
import { userinfoForOpenIdResourceTokens } from './userinfo-resource-tokens.ts';
import { routeByPath } from '../server/path-routes.ts';
import { refuseUnusableOrigin } from '../server/request-origin.ts';

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
}

export function createIssuer(options: IssuerOptions): Issuer {
  const { issuer, mountPath, fixture, keys, store, users, logger } = options;
  const clients = buildClientRegistry(fixture);
  const resources = new ResourceCatalog(fixture.resources, fixture.issuer, clients.policyOf, oidcScopesOf(fixture));
  const provider = new Provider(issuer, providerConfiguration({ fixture, keys, store, users, clients, resources, mountPath }));
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
  const rewriteResponses = rewriteRouteResponses(new Map([
    ['discovery', [
      frontChannel.discovery,
      testbedMetadata(fixture.issuer),
      ...(byReference ? [advertiseRequestUriByReference] : []),
      ...(cibaFeature.enabled ? [advertiseNoCibaUserCode] : []),
    ]],
    ['device_authorization', [frontChannel.device_authorization]],
  ]));
  const resolveJwtToken = jwtAccessTokens.resolveTokenParameter();
  provider.use(refuseUnusableOrigin());
  // The testbed's own middleware, by path: a request none applies to crosses this one layer (and the origin check) only.
  provider.use(routeByPath({
    exact: [
      [ROUTES.token, [correctTokenErrors(provider), audienceAsResource(resources)]],
      [ROUTES.introspection, [resolveJwtToken]],
      [ROUTES.revocation, [resolveJwtToken]],
      [ROUTES.userinfo, resources.servesUserinfo ? [userinfoForOpenIdResourceTokens({ provider, jwtAccessTokens, key: derivedSecret(keys, 'userinfo-twin') })] : []],
      [ROUTES.authorization, byReference ? [resolveRequestUriByReference({ provider, fetch: (url, init) => globalThis.fetch(url, init) })] : []],
      ['/.well-known/openid-configuration', [rewriteResponses]],
      ['/.well-known/oauth-authorization-server', [rewriteResponses]],
      [ROUTES.device_authorization, [rewriteResponses]],
    ],
    prefixes: [
      ['/interaction', [interactionRoutes({ provider, users, resources, policyOf: clients.policyOf, mountPath }).routes()]],
      [CONTROL_PATH, [controlRoutes({ issuer, mountPath, controlToken: options.controlToken, ciba: cibaFeature.enabled ? ciba : undefined }).routes()]],
    ],
  }));
  logProviderEvents(provider, logger.child({ issuer }));

  return { issuer, urls: urlsOf(issuer), mountPath, provider, fixture, clients, resources, store, jwtAccessTokens, ciba };
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
