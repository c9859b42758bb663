/**
 * Direct tokens, for testing a resource server rather than an RP: an access token (and, asked for,
 * an ID token) for a user and a client without a login, issued exactly as the testbed's own grants
 * issue theirs (src/provider/grants/issue.ts): a Grant of the client for the user, the access token
 * through oidc-provider's AccessToken model (JWT or opaque as its resource's `token_format` says,
 * `cnf.jkt` for `dpop_jkt`), the ID token through its IdToken model. So the tokens are
 * introspectable, revocable (RFC 7009) and accepted by the mock APIs like any other.
 *
 * The grants made here are kept in one field-set document of the issuer's store, so that `reset`
 * (on any replica) revokes every direct token issued since.
 */
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { z } from 'zod';
import { builtOnce, zod } from '../fixtures/built-once.ts';
import { FixtureError, formatPath, validateEntry } from '../fixtures/load.ts';
import type { Fixture } from '../fixtures/schema.ts';
import { oidcScopesOf } from '../provider/configuration.ts';
import { grantFor, issueAccessToken, issueIdToken, scopeList, type Target } from '../provider/grants/issue.ts';
import type { ResourceCatalog } from '../provider/resources.ts';
import type { Store } from '../store/store.ts';
import type { UserDirectory } from '../store/user-directory.ts';
import { DirectTokenError } from './direct-token-error.ts';
import { revokeGrant } from './sessions.ts';

/** RFC 7638 SHA-256 JWK thumbprint: 32 bytes, base64url without padding. */
const JWK_THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

/** Claims the issuer sets itself (RFC 9068 §2.2, RFC 7662 §2.2, OpenID Connect Core §2): not for `claims`. */
const ISSUER_CLAIMS = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'nbf',
  'jti',
  'client_id',
  'scope',
  'cnf',
  'auth_time',
  'authorization_details',
  'active',
  'token_type',
]);

const requestSchema = builtOnce(() => {
  const z = zod();
  return z.strictObject({
    sub: z.string().min(1).max(255),
    client_id: z.string().min(1).max(255),
    resource: z.string().min(1).max(2048).optional(),
    scope: z.string().max(2048).optional(),
    ttl_s: z.number().int().positive().optional(),
    claims: z.record(z.string(), z.unknown()).optional(),
    dpop_jkt: z.string().regex(JWK_THUMBPRINT, 'must be a JWK SHA-256 thumbprint (RFC 7638): 43 base64url characters').optional(),
    id_token: z.boolean().optional(),
  });
});

/** What `POST <issuer>/_testbed/tokens` takes. */
export interface AccessTokenOrder {
  /** The user's `sub`. */
  sub: string;
  client_id: string;
  /** The resource indicator (RFC 8707); absent, the one resource owning the scopes, else none (a userinfo token). */
  resource?: string;
  /** Space-delimited; each a scope of the resource or an OpenID Connect scope. */
  scope?: string;
  /** Lifetime in seconds (at most the issuer's grant lifetime); default the issuer's own. */
  ttl_s?: number;
  /** Claims beside the issuer's, in the access token (JWT claims or introspection answer) and the ID token. */
  claims?: Record<string, unknown>;
  /** Binds the access token to this DPoP key thumbprint (`cnf.jkt`, RFC 9449 §6). */
  dpop_jkt?: string;
}

/** `AccessTokenOrder` and, with `id_token: true`, an ID token too. */
export interface TokenOrder extends AccessTokenOrder {
  id_token?: boolean;
}

/** A token response (RFC 6749 §5.1), as the token endpoint would answer. */
export interface DirectTokenResponse {
  access_token: string;
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope: string;
  id_token?: string;
}

export { DirectTokenError };

export interface DirectTokensOptions {
  provider: Provider;
  fixture: Fixture;
  resources: ResourceCatalog;
  users: UserDirectory;
  store: Store;
}

/** The grants direct tokens were issued under (grant id → its expiry, epoch seconds). */
const GRANTS_DOCUMENT = 'direct-token-grants';

/** Issues direct tokens (`<issuer>/_testbed/tokens`, `issuer.tokens`). */
export class DirectTokens {
  readonly #provider: Provider;
  readonly #fixture: Fixture;
  readonly #resources: ResourceCatalog;
  readonly #users: UserDirectory;
  readonly #store: Store;
  readonly #oidcScopes: ReadonlySet<string>;

  constructor(options: DirectTokensOptions) {
    this.#provider = options.provider;
    this.#fixture = options.fixture;
    this.#resources = options.resources;
    this.#users = options.users;
    this.#store = options.store;
    this.#oidcScopes = oidcScopesOf(options.fixture);
  }

  /** An access token as the issuer would issue it; `DirectTokenError` naming the field when it would not. */
  accessToken(order: AccessTokenOrder): Promise<DirectTokenResponse> {
    return this.issue({ ...order, id_token: false });
  }

  /** An access token and an ID token for the client, with the user's claims of the OpenID scopes asked for and `claims`. */
  async idToken(order: AccessTokenOrder): Promise<DirectTokenResponse & { id_token: string }> {
    return (await this.issue({ ...order, id_token: true })) as DirectTokenResponse & { id_token: string };
  }

  /** Validates `input` (an untrusted body, too) and issues. */
  async issue(input: unknown): Promise<DirectTokenResponse> {
    const order = parseOrder(input);
    const { features, ttl, id_token_claims: idTokenClaims } = this.#fixture.issuer;
    const client = await this.#provider.Client.find(order.client_id).catch(() => undefined);
    if (!client) throw new DirectTokenError('client_id', `no client ${JSON.stringify(order.client_id)} at this issuer`);
    const user = await this.#users.findBySub(order.sub);
    if (!user) throw new DirectTokenError('sub', `no user with sub ${JSON.stringify(order.sub)}`);
    if (order.ttl_s !== undefined && order.ttl_s > ttl.grant)
      throw new DirectTokenError('ttl_s', `at most ${ttl.grant} (the issuer's grant lifetime, ttl.grant: a token dies with its grant)`);
    if (order.dpop_jkt !== undefined && !features.dpop.enabled) throw new DirectTokenError('dpop_jkt', 'DPoP is off at this issuer');
    if (order.dpop_jkt === undefined && client.dpopBoundAccessTokens)
      throw new DirectTokenError(
        'dpop_jkt',
        `client ${client.clientId} registered dpop_bound_access_tokens: its tokens are DPoP-bound, give the key's thumbprint`,
      );
    const claims = order.claims ?? {};
    const taken = Object.keys(claims).find((name) => ISSUER_CLAIMS.has(name));
    if (taken) throw new DirectTokenError(`claims.${taken}`, 'the issuer sets this claim itself');

    const requested = scopeList(order.scope);
    const target = this.#target(order.resource, requested, client.clientId);
    const targetScopes = target ? target.info.scope.split(' ') : [];
    const foreign = requested.find((scope) => !this.#oidcScopes.has(scope) && !targetScopes.includes(scope));
    if (foreign !== undefined) {
      throw new DirectTokenError(
        'scope',
        target
          ? `${foreign} is not a scope of resource ${target.indicator} (${targetScopes.join(' ')}) nor an OpenID Connect scope`
          : `${foreign} is not a scope of this issuer (name the resource that has it in resource)`,
      );
    }
    const oidc = requested.filter((scope) => this.#oidcScopes.has(scope));
    const atScopes = target ? requested.filter((scope) => targetScopes.includes(scope)) : oidc;

    const ctx = engineContext(this.#provider, client);
    const accountId = user.sub;
    const grantId = await grantFor(ctx, accountId, oidc, target, atScopes);
    const { token, value } = await issueAccessToken(ctx, grantId, {
      accountId,
      gty: DIRECT_GTY,
      target,
      scopes: atScopes,
      ...(Object.keys(claims).length > 0 ? { extra: claims } : {}),
      ...(order.dpop_jkt ? { dpop: { thumbprint: order.dpop_jkt } } : {}),
      ...(order.ttl_s ? { expiresIn: order.ttl_s } : {}),
    });
    await this.#store.writeFields(GRANTS_DOCUMENT, { [grantId]: String(Math.floor(Date.now() / 1000) + ttl.grant) });
    const idToken = order.id_token
      ? await issueIdToken(
          ctx,
          { ...user.claims, sub: user.sub },
          ['openid', ...oidc.filter((scope) => scope !== 'openid')],
          token.aud,
          idTokenClaims,
          claims,
        )
      : undefined;
    return {
      access_token: value,
      token_type: token.tokenType as DirectTokenResponse['token_type'],
      expires_in: token.expiration,
      scope: token.scope ?? '',
      ...(idToken ? { id_token: idToken } : {}),
    };
  }

  /** Revokes every direct token issued (their grants), on whichever replica they were. */
  async reset(): Promise<void> {
    const grants = Object.keys(await this.#store.readFields(GRANTS_DOCUMENT));
    await Promise.all(grants.map((grantId) => revokeGrant(this.#provider, grantId)));
    if (grants.length > 0) await this.#store.deleteFields(GRANTS_DOCUMENT, grants);
  }

  /** The resource named (known, allowed to the client), or the one that owns the scopes, as the grants decide. */
  #target(indicator: string | undefined, requested: readonly string[], clientId: string): Target | undefined {
    if (indicator !== undefined) {
      if (!this.#resources.find(indicator))
        throw new DirectTokenError(
          'resource',
          `unknown resource ${JSON.stringify(indicator)} (one of ${this.#resources.all.map((r) => r.indicator).join(', ')})`,
        );
      try {
        return { indicator, info: this.#resources.serverInfo(indicator, clientId) };
      } catch (error) {
        throw new DirectTokenError('resource', (error as { error_description?: string }).error_description ?? String(error));
      }
    }
    const owners = this.#resources.owningAny(new Set(requested), this.#resources.allowedFor(clientId));
    if (owners.length > 1)
      throw new DirectTokenError(
        'resource',
        `the scope names scopes of several resources (${owners.map((r) => r.indicator).join(', ')}): name one`,
      );
    return owners[0] ? { indicator: owners[0].indicator, info: this.#resources.serverInfo(owners[0].indicator, clientId) } : undefined;
  }
}

/** The `gty` a direct token's record carries (oidc-provider's name for the grant that made a token). */
const DIRECT_GTY = 'urn:oidc-testbed:direct';

function parseOrder(input: unknown): z.output<ReturnType<typeof requestSchema>> {
  try {
    return validateEntry(requestSchema(), input, 'body');
  } catch (error) {
    if (!(error instanceof FixtureError)) throw error;
    const [first] = error.problems;
    throw new DirectTokenError(
      formatPath(first.path) || 'body',
      error.problems
        .map((problem, i) => (i === 0 ? problem.message : `${formatPath(problem.path) || 'body'}: ${problem.message}`))
        .join('; '),
    );
  }
}

/**
 * An engine context outside the engine's routes, for the issuing helpers and models: the client,
 * the provider and `entity()`, as oidc-provider's router gives its routes (`new provider.OIDCContext`).
 */
function engineContext(provider: Provider, client: KoaContextWithOIDC['oidc']['client']): KoaContextWithOIDC {
  const OIDCContext = (provider as unknown as { OIDCContext: new (ctx: unknown) => KoaContextWithOIDC['oidc'] }).OIDCContext;
  const ctx = { state: {} } as unknown as KoaContextWithOIDC;
  Object.defineProperty(ctx, 'oidc', { value: new OIDCContext(ctx) });
  ctx.oidc.entity('Client', client!);
  return ctx;
}
