import type { ClientMetadata } from 'oidc-provider';
import type { Fixture, FixtureClient } from '../fixtures/schema.ts';

/** What the testbed decides per client beyond RFC 7591 metadata. */
export interface ClientPolicy {
  firstParty: boolean;
  autoLogin: boolean;
  pkceRequired: boolean;
  /** Resource indicators the client may request; `undefined` means every fixture resource. */
  allowedResources?: ReadonlySet<string>;
  accessTokenTTL?: number;
  refreshTokenTTL?: number;
  idTokenTTL?: number;
}

const TESTBED_FIELDS = [
  'first_party', 'auto_login', 'pkce_required', 'allowed_resources', 'access_token_ttl', 'refresh_token_ttl', 'id_token_ttl',
] as const;

export interface ClientRegistry {
  metadata: ClientMetadata[];
  policyOf(clientId: string): ClientPolicy;
}

/**
 * Splits fixture clients into the metadata oidc-provider validates and the testbed's own policy.
 * Each resource with `introspection_client` also gets a confidential client with no grants, the
 * mock API's credentials for RFC 7662 introspection.
 */
export function buildClientRegistry(fixture: Fixture): ClientRegistry {
  const policies = new Map<string, ClientPolicy>();
  const metadata: ClientMetadata[] = fixture.clients.map((client) => {
    policies.set(client.client_id, policyFrom(client, fixture.issuer.auto_login));
    const rest: Record<string, unknown> = { ...client };
    for (const field of TESTBED_FIELDS) delete rest[field];
    return rest as ClientMetadata;
  });
  for (const resource of fixture.resources) {
    if (!resource.introspection_client) continue;
    metadata.push({
      ...resource.introspection_client,
      client_name: `${resource.name} (resource server)`,
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    });
  }
  const fallback: ClientPolicy = { firstParty: false, autoLogin: fixture.issuer.auto_login, pkceRequired: true };
  return { metadata, policyOf: (clientId) => policies.get(clientId) ?? fallback };
}

function policyFrom(client: FixtureClient, issuerAutoLogin: boolean): ClientPolicy {
  return {
    firstParty: client.first_party ?? false,
    autoLogin: client.auto_login ?? issuerAutoLogin,
    pkceRequired: client.token_endpoint_auth_method === 'none' || client.pkce_required !== false,
    allowedResources: client.allowed_resources ? new Set(client.allowed_resources) : undefined,
    accessTokenTTL: client.access_token_ttl,
    refreshTokenTTL: client.refresh_token_ttl,
    idTokenTTL: client.id_token_ttl,
  };
}
