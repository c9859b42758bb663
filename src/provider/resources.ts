import { type Client, errors, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import type { FixtureResource, IssuerSettings } from '../fixtures/schema.ts';
import type { ClientPolicy } from './clients.ts';
import { namedResourceOf } from './extensions/audience-parameter.ts';

/**
 * The fixture's resource servers (RFC 8707) and the rules that map a request onto them:
 * - an access token is audience-restricted to exactly one resource;
 * - a request without `resource` whose `scope` names scopes owned by exactly one resource server
 *   gets a token for that resource server (how ForgeRock AM clients ask for per-resource tokens);
 * - `audience` (Auth0's spelling) names a resource as `resource` does, and the one resource an
 *   authorization request named is the target of its token requests that name none
 *   (audience-parameter.ts);
 * - a resource that lists `openid` among its scopes is also for UserInfo: its tokens minted in an
 *   OpenID request carry the request's OpenID scopes too, and `/me` accepts them
 *   (userinfo-resource-tokens.ts). `openid` alone never makes a request a resource's.
 */
const requestedScopes = (ctx: KoaContextWithOIDC) =>
  new Set(
    String(ctx.oidc.params?.scope ?? '')
      .split(' ')
      .filter(Boolean),
  );

export class ResourceCatalog {
  readonly #byIndicator: Map<string, FixtureResource>;
  readonly #settings: IssuerSettings;
  readonly #policyOf: (clientId: string) => ClientPolicy;
  /** openid and the claim scopes: what a token for a resource that offers `openid` may carry besides its own. */
  readonly #openIdScopes: readonly string[];
  /** Requests whose resources `defaultResource` chose (none named by the client). */
  readonly #defaulted = new WeakSet<KoaContextWithOIDC>();

  constructor(
    resources: readonly FixtureResource[],
    settings: IssuerSettings,
    policyOf: (clientId: string) => ClientPolicy,
    oidcScopes: Iterable<string>,
  ) {
    this.#byIndicator = new Map(resources.map((resource) => [resource.indicator, resource]));
    this.#settings = settings;
    this.#policyOf = policyOf;
    this.#openIdScopes = [...oidcScopes].filter((scope) => scope !== 'offline_access');
  }

  get all(): FixtureResource[] {
    return [...this.#byIndicator.values()];
  }

  find(indicator: string): FixtureResource | undefined {
    return this.#byIndicator.get(indicator);
  }

  /** The resource whose access tokens carry `aud` = `audience` (its `audience`, else its indicator). */
  findByAudience(audience: string): FixtureResource | undefined {
    return this.all.find((resource) => (resource.audience ?? resource.indicator) === audience);
  }

  /** The resource an `audience` value names: its `audience`, else its indicator. */
  resolveAudience(audience: string): FixtureResource | undefined {
    return this.findByAudience(audience) ?? this.find(audience);
  }

  /** Whether this request's resources were chosen by `defaultResource` rather than named by the client. */
  wasDefaulted(ctx: KoaContextWithOIDC): boolean {
    return this.#defaulted.has(ctx);
  }

  allowedFor(clientId: string): FixtureResource[] {
    const allowed = this.#policyOf(clientId).allowedResources;
    return this.all.filter((resource) => !allowed || allowed.has(resource.indicator));
  }

  /** Resources (among `candidates`) that own at least one of `scopes` (`openid` is nobody's: every OpenID request asks for it). */
  owningAny(scopes: ReadonlySet<string>, candidates: readonly FixtureResource[]): FixtureResource[] {
    return candidates.filter((resource) => resource.scopes.some((scope) => scope !== 'openid' && scopes.has(scope)));
  }

  /** Whether some resource's tokens are for UserInfo too (it lists `openid`). */
  get servesUserinfo(): boolean {
    return this.all.some((resource) => resource.scopes.includes('openid'));
  }

  /** The one resource among `indicators` that owns a scope the request names, if exactly one does. */
  #soleOwner(ctx: KoaContextWithOIDC, indicators: readonly string[]): string | undefined {
    const candidates = indicators.map((indicator) => this.find(indicator)).filter((resource) => resource !== undefined);
    const owners = this.owningAny(requestedScopes(ctx), candidates);
    return owners.length === 1 ? owners[0].indicator : undefined;
  }

  /**
   * Whether a refresh request will resolve to at most one granted, known resource, the way
   * oidc-provider's resource resolution plus the helpers below decide. Rotation is skipped when it
   * will not: oidc-provider consumes the old refresh token before resolving the resource.
   */
  refreshTargetResolves(ctx: KoaContextWithOIDC, refreshToken: { resource?: string | string[]; scopes: Set<string> }): boolean {
    const granted = ([] as string[]).concat(refreshToken.resource ?? []);
    const requested = ctx.oidc.params?.resource as string | string[] | undefined;
    if (requested !== undefined) {
      return (
        typeof requested === 'string' &&
        granted.includes(requested) &&
        this.allowedFor(ctx.oidc.client!.clientId).some((resource) => resource.indicator === requested)
      );
    }
    if (granted.length <= 1 || this.#soleOwner(ctx, granted)) return true;
    const scopes = ctx.oidc.params?.scope ? requestedScopes(ctx) : refreshToken.scopes;
    return scopes.has('openid');
  }

  /** oidc-provider's `features.resourceIndicators` helpers. */
  feature() {
    const soleOwner = (ctx: KoaContextWithOIDC, indicators: readonly string[]) => this.#soleOwner(ctx, indicators);
    return {
      enabled: true,
      // Authorization, device, CIBA and client-credentials requests without `resource`: the
      // resources that own a requested scope (at most one for client credentials).
      // `audience` (authorization, PAR, device and CIBA requests) names the resource instead.
      defaultResource: async (ctx: KoaContextWithOIDC, client: Client, oneOf?: readonly string[]) => {
        if (oneOf) return soleOwner(ctx, oneOf) ?? (oneOf.length === 1 ? oneOf[0] : oneOf);
        const audience = ctx.oidc.params?.audience;
        if (typeof audience === 'string') {
          const named = this.resolveAudience(audience);
          if (!named) throw new errors.InvalidTarget(`unknown audience ${audience}`);
          return named.indicator;
        }
        this.#defaulted.add(ctx);
        const owners = this.owningAny(requestedScopes(ctx), this.allowedFor(client.clientId)).map((resource) => resource.indicator);
        if (ctx.oidc.route === 'token') return owners.length === 1 ? owners[0] : undefined;
        return owners.length > 0 ? owners : undefined;
      },
      // Token requests without `resource` on a grant that holds resources: use the one whose scope
      // was asked for, or, asking for no scope, the one the authorization request named, instead of
      // the opaque userinfo token an `openid` grant would give.
      useGrantedResource: async (ctx: KoaContextWithOIDC, model: { resource?: string | string[]; claims?: unknown }) => {
        const granted = ([] as string[]).concat(model.resource ?? []);
        if (soleOwner(ctx, granted) !== undefined) return true;
        return ctx.oidc.params?.scope === undefined && namedResourceOf(model) !== undefined;
      },
      getResourceServerInfo: async (_ctx: KoaContextWithOIDC, indicator: string, client: Client): Promise<ResourceServer> =>
        this.serverInfo(indicator, client.clientId),
    };
  }

  /** What oidc-provider needs to issue a token for `indicator` to `clientId`; `invalid_target` when it may not. */
  serverInfo(indicator: string, clientId: string): ResourceServer {
    const resource = this.find(indicator);
    if (!resource || !this.allowedFor(clientId).includes(resource)) {
      throw new errors.InvalidTarget(resource ? `client is not allowed to request resource ${indicator}` : `unknown resource ${indicator}`);
    }
    const policy = this.#policyOf(clientId);
    const scopes = resource.scopes.includes('openid') ? new Set([...resource.scopes, ...this.#openIdScopes]) : resource.scopes;
    return {
      scope: [...scopes].join(' '),
      audience: resource.audience ?? resource.indicator,
      accessTokenFormat: resource.token_format,
      accessTokenTTL: policy.accessTokenTTL ?? resource.access_token_ttl ?? this.#settings.ttl.access_token,
      ...(resource.token_format === 'jwt' ? { jwt: { sign: { alg: resource.signing_alg ?? this.#settings.access_token_alg } } } : {}),
    };
  }
}
