/**
 * The oidc-provider configuration of one issuer, derived from its validated fixture. Everything the
 * engine already does (protocol, validation, errors) stays the engine's; this file only decides.
 */
import { type Configuration, errors, type KoaContextWithOIDC, type ResponseType } from 'oidc-provider';
import { INTERACTION_PATH, ROUTES } from '../endpoints.ts';
import { FAPI2_SIGNING_ALGS } from '../fixtures/issuers.ts';
import type { Fixture } from '../fixtures/schema.ts';
import { noteOAuthError } from '../http/request-record.ts';
import type { Store } from '../store/store.ts';
import type { UserDirectory } from '../store/user-directory.ts';
import { accountFinder, scopeClaims } from './accounts.ts';
import type { ClientRegistry } from './clients.ts';
import { fetchAllowingLocalTargets } from './engine/index.ts';
import { checkAudienceParameter, recordNamedResource } from './extensions/audience-parameter.ts';
import { cibaFeature } from './extensions/ciba.ts';
import { withGrantRevocationMarks } from './extensions/grant-revocation-marks.ts';
import { customizeJwtAccessToken, jwtStateKey } from './extensions/jwt-state.ts';
import { requestUrisMetadata } from './extensions/request-uri.ts';
import { derivedSecret, type IssuerKeys } from './keys.ts';
import type { ResourceCatalog } from './resources.ts';
import { deviceConfirmPage, deviceInputPage, deviceSuccessPage, errorPage, logoutPage, logoutSuccessPage } from './ui/pages.ts';

const FAPI2_JWA = {
  clientAuthSigningAlgValues: [...FAPI2_SIGNING_ALGS],
  idTokenSigningAlgValues: [...FAPI2_SIGNING_ALGS],
  requestObjectSigningAlgValues: [...FAPI2_SIGNING_ALGS],
  userinfoSigningAlgValues: [...FAPI2_SIGNING_ALGS],
  introspectionSigningAlgValues: [...FAPI2_SIGNING_ALGS],
  authorizationSigningAlgValues: [...FAPI2_SIGNING_ALGS],
} as Configuration['enabledJWA'];

/** oidc-provider's `scopes`: the scopes that are neither a claim scope nor a resource server's. */
const STATIC_SCOPES = ['openid', 'offline_access'] as const;

/** The scopes an issuer serves for OpenID Connect (not a resource server's): the static and the claim scopes. */
export function oidcScopesOf(fixture: Pick<Fixture, 'claims'>): Set<string> {
  return new Set([...STATIC_SCOPES, ...Object.keys(scopeClaims(fixture.claims))]);
}

/**
 * The response types an issuer serves: `code` and `none`; the implicit `id_token` while
 * `implicit_id_token` is on; the hybrid `code id_token` (OpenID Connect Core §3.3) when a fixture
 * client registers it — OAuth 2.1 drops the front-channel token responses, but this one carries no
 * access token there, and RPs (express-openid-connect) still ask for it. FAPI 2.0: `code` only.
 */
export function responseTypesOf(fixture: Pick<Fixture, 'issuer' | 'clients'>): ResponseType[] {
  if (fixture.issuer.profile === 'fapi2') return ['code'];
  const hybrid = fixture.clients.some((client) => client.response_types?.includes('code id_token'));
  const implicit: ResponseType[] = fixture.issuer.features.implicit_id_token ? ['id_token'] : [];
  return ['code', ...implicit, ...(hybrid ? ['code id_token' as const] : []), 'none'];
}

/** Options of the session cookie (oidc-provider's "long" cookies). */
const LONG_COOKIE = { httpOnly: true, sameSite: 'lax' } as const;

export interface ConfigurationInputs {
  fixture: Fixture;
  keys: IssuerKeys;
  store: Store;
  users: UserDirectory;
  clients: ClientRegistry;
  resources: ResourceCatalog;
  mountPath: string;
  /** How the engine sends requests (back-channel logout, CIBA pings, jwks_uri); default: to any address. */
  fetch?: NonNullable<Configuration['fetch']>;
}

export function providerConfiguration(inputs: ConfigurationInputs): Configuration {
  const { fixture, keys, store, users, clients, resources, mountPath } = inputs;
  const { ttl, features } = fixture.issuer;
  const fapi2 = fixture.issuer.profile === 'fapi2';
  const policyOf = (clientId: string | undefined) => clients.policyOf(clientId ?? '');
  const grantTypes = (ctx: KoaContextWithOIDC) => ctx.oidc.client?.grantTypes ?? [];

  return {
    adapter: withGrantRevocationMarks(store, ttl.grant),
    clients: clients.metadata,
    clientDefaults: {
      grant_types: ['authorization_code'],
      id_token_signed_response_alg: fixture.issuer.id_token_alg,
      response_types: ['code'],
      token_endpoint_auth_method: fapi2 ? 'private_key_jwt' : 'client_secret_basic',
      // Signed responses default to RS256 in oidc-provider, which FAPI 2.0 does not allow.
      ...(fapi2
        ? { dpop_bound_access_tokens: true, authorization_signed_response_alg: 'ES256', introspection_signed_response_alg: 'ES256' }
        : {}),
    },
    ...(fapi2 ? { clientAuthMethods: ['private_key_jwt'], enabledJWA: FAPI2_JWA } : {}),
    // Encryption keys only serve the encryption feature; oidc-provider refuses to start with keys it has no use for.
    jwks: { keys: [...keys.signing, ...(features.encryption ? keys.encryption : [])] } as Configuration['jwks'],
    cookies: {
      keys: keys.cookies,
      long: LONG_COOKIE,
      short: { httpOnly: true, sameSite: 'lax' },
    },
    extraClientMetadata: {
      properties: features.request_objects.enabled && features.request_objects.by_reference ? [requestUrisMetadata.property] : [],
      validator: (_ctx, key, value) => {
        if (key === requestUrisMetadata.property) requestUrisMetadata.validate(value);
      },
    },
    claims: { openid: ['sub'], ...scopeClaims(fixture.claims) },
    scopes: [...STATIC_SCOPES],
    findAccount: accountFinder(users),
    conformIdTokenClaims: fixture.issuer.id_token_claims === 'strict',
    // Claims the testbed's own grants put on a token before saving it (token exchange's `act`,
    // RFC 8693 §4.1): into the JWT, or the stored record that introspection answers from.
    extraTokenClaims: (_ctx, token) => token.extra,
    formats: { customizers: { jwt: customizeJwtAccessToken(jwtStateKey(keys)) } },
    routes: ROUTES,
    // Auth0's `audience`, an alias of `resource` (audience-parameter.ts).
    extraParams: { audience: checkAudienceParameter(resources) },
    // oidc-provider's default (codes without offline_access end with the session); the hook is also
    // the one place a code can be given what its request named before it is saved.
    expiresWithSession: async (ctx, code) => {
      recordNamedResource(ctx, code, resources);
      return !code.scopes.has('offline_access');
    },
    pkce: { required: (_ctx, client) => policyOf(client.clientId).pkceRequired },
    responseTypes: responseTypesOf(fixture),
    // ForgeRock AM issues a refresh token to any client allowed the grant, offline_access or not;
    // the seed's openid-client-helper depends on it.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // Rotate on every use (reuse of a rotated token revokes the grant), but never when the request
    // will fail on its `resource`: oidc-provider consumes the old token before resolving it.
    // FAPI 2.0 §5.3.2.1: no rotation (its refresh tokens are sender-constrained instead).
    rotateRefreshToken: (ctx) => {
      if (fapi2) return false;
      const refreshToken = ctx.oidc.entities.RefreshToken;
      return refreshToken ? resources.refreshTargetResolves(ctx, refreshToken) : true;
    },
    ttl: {
      AccessToken: (_ctx, token, client) =>
        token.resourceServer?.accessTokenTTL ?? policyOf(client?.clientId).accessTokenTTL ?? ttl.access_token,
      ClientCredentials: (_ctx, token, client) =>
        token.resourceServer?.accessTokenTTL ?? policyOf(client?.clientId).accessTokenTTL ?? ttl.access_token,
      AuthorizationCode: ttl.authorization_code,
      DeviceCode: ttl.device_code,
      IdToken: (_ctx, _token, client) => policyOf(client?.clientId).idTokenTTL ?? ttl.id_token,
      RefreshToken: (_ctx, _token, client) => policyOf(client?.clientId).refreshTokenTTL ?? ttl.refresh_token,
      Interaction: ttl.interaction,
      Session: ttl.session,
      Grant: ttl.grant,
      BackchannelAuthenticationRequest: (ctx) => Math.min(600, Number(ctx?.oidc?.params?.requested_expiry) || 600),
    },
    interactions: { url: (_ctx, interaction) => `${mountPath}${INTERACTION_PATH}/${interaction.uid}` },
    renderError: async (ctx, out) => {
      noteOAuthError(ctx, String(out.error)); // for the request record, which cannot read it from the page
      ctx.type = 'html';
      ctx.body = errorPage({ error: String(out.error), description: out.error_description as string | undefined, status: ctx.status });
    },
    fetch: inputs.fetch ?? fetchAllowingLocalTargets,
    features: {
      devInteractions: { enabled: false },
      // OpenID Connect Core §5.5: claims asked for one by one, into the ID token or UserInfo.
      claimsParameter: { enabled: true },
      resourceIndicators: resources.feature(),
      clientCredentials: { enabled: features.client_credentials },
      introspection: {
        enabled: features.introspection,
        // Resource servers introspect tokens issued to other clients; clients their own.
        allowedPolicy: async (ctx, client, token) =>
          client.clientId === token.clientId || (client.clientAuthMethod !== 'none' && grantTypes(ctx).length === 0),
      },
      revocation: {
        enabled: features.revocation,
        // RFC 7009 §2.1: only the client the token was issued to revokes it (oidc-provider's own
        // default rule, given here so that the engine prints no "you SHOULD change it" notice).
        allowedPolicy: async (_ctx, client, token) => {
          if (token.clientId === client.clientId) return true;
          if (client.clientAuthMethod === 'none') return false;
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        },
      },
      deviceFlow: {
        enabled: features.device_flow,
        charset: 'base-20',
        mask: '****-****',
        userCodeInputSource: async (ctx, form, _out, error) => {
          if (error) await saveSessionOfRerenderedForm(ctx, ttl.session);
          ctx.type = 'html';
          ctx.body = deviceInputPage({
            formHtml: form,
            userCode: typeof ctx.oidc.params?.user_code === 'string' ? ctx.oidc.params.user_code : undefined,
            error: error ? describeDeviceError(error) : undefined,
          });
        },
        userCodeConfirmSource: async (ctx, form, client, deviceInfo, userCode) => {
          ctx.type = 'html';
          ctx.body = deviceConfirmPage({
            formHtml: form,
            clientId: client.clientId,
            clientName: client.clientName ?? client.clientId,
            userCode,
            deviceInfo,
          });
        },
        successSource: async (ctx) => {
          const client = ctx.oidc.client;
          ctx.type = 'html';
          ctx.body = deviceSuccessPage({ clientName: client?.clientName ?? client?.clientId ?? 'your device' });
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          const client = ctx.oidc.client;
          ctx.type = 'html';
          ctx.body = logoutPage({ formHtml: form, clientName: client?.clientName ?? client?.clientId });
        },
        postLogoutSuccessSource: async (ctx) => {
          const client = ctx.oidc.client;
          ctx.type = 'html';
          ctx.body = logoutSuccessPage({ clientName: client?.clientName ?? client?.clientId });
        },
      },
      backchannelLogout: { enabled: features.backchannel_logout },
      userinfo: { enabled: true },
      dPoP: {
        enabled: features.dpop.enabled,
        // Nonces must verify on every replica and after a restart (RFC 9449 §8).
        nonceSecret: derivedSecret(keys, 'dpop-nonce'),
        requireNonce: () => features.dpop.require_nonce,
      },
      pushedAuthorizationRequests: {
        enabled: features.par.enabled,
        requirePushedAuthorizationRequests: features.par.required,
      },
      requestObjects: {
        enabled: features.request_objects.enabled,
        requireSignedRequestObject: features.request_objects.required,
      },
      jwtResponseModes: { enabled: features.jarm },
      jwtIntrospection: { enabled: features.introspection && features.jwt_introspection },
      jwtUserinfo: { enabled: features.jwt_userinfo },
      encryption: { enabled: features.encryption },
      registration: {
        enabled: features.registration.enabled,
        initialAccessToken: features.registration.initial_access_token,
      },
      registrationManagement: { enabled: features.registration.enabled && features.registration.management },
      fapi: { enabled: fapi2, profile: '2.0' },
      ciba: cibaFeature(features.ciba, { users, store }),
    } as Configuration['features'], // the types want literal `enabled: true | false` per feature
  };
}

/**
 * oidc-provider (9.13) re-renders the code-entry form from its error handler, after its session
 * middleware is done. When the request came without a live session (no cookie; a store that was
 * restarted), the form's new xsrf secret sits in a session nobody saved, whose `persist()` then
 * throws: a 500 instead of the form. Save it here as the session middleware would have.
 */
async function saveSessionOfRerenderedForm(ctx: KoaContextWithOIDC, ttl: number): Promise<void> {
  const { session } = ctx.oidc;
  if (!session || typeof session.exp === 'number') return;
  ctx.oidc.cookies.set(ctx.oidc.provider.cookieName('session'), session.jti, LONG_COOKIE);
  await session.save(ttl);
}

function describeDeviceError(error: Error & { userCode?: string }): string {
  if (error.name === 'NoCodeError') return 'Enter the code shown on your device.';
  if (error.name === 'AbortedError') return 'The request was cancelled.';
  if (error.userCode) return 'That code is not valid, has expired or was already used. Check it and try again.';
  return 'The code could not be checked. Try again.';
}
