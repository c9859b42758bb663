import type { ClientMetadata, Provider } from 'oidc-provider';
import type { Fixture, FixtureClient } from '../fixtures/schema.ts';
import type { Problem } from '../fixtures/semantics.ts';

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
  'first_party',
  'auto_login',
  'pkce_required',
  'allowed_resources',
  'access_token_ttl',
  'refresh_token_ttl',
  'id_token_ttl',
] as const;

export interface ClientRegistry {
  metadata: ClientMetadata[];
  policyOf(clientId: string): ClientPolicy;
  /** Where each static client comes from in the fixture (for errors), by client_id. */
  sourceOf(clientId: string): readonly PropertyKey[];
}

/**
 * Splits fixture clients into the metadata oidc-provider validates and the testbed's own policy.
 * Each resource with `introspection_client` also gets a confidential client with no grants, the
 * mock API's credentials for RFC 7662 introspection.
 */
export function buildClientRegistry(fixture: Fixture): ClientRegistry {
  const policies = new Map<string, ClientPolicy>();
  const sources = new Map<string, readonly PropertyKey[]>();
  const metadata: ClientMetadata[] = fixture.clients.map((client, index) => {
    policies.set(client.client_id, policyFrom(client, fixture.issuer.auto_login));
    sources.set(client.client_id, ['clients', index]);
    const rest: Record<string, unknown> = { ...client };
    for (const field of TESTBED_FIELDS) delete rest[field];
    return rest as ClientMetadata;
  });
  for (const [index, resource] of fixture.resources.entries()) {
    if (!resource.introspection_client) continue;
    sources.set(resource.introspection_client.client_id, ['resources', index, 'introspection_client']);
    metadata.push({
      ...resource.introspection_client,
      client_name: `${resource.name} (resource server)`,
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    });
  }
  // Clients the fixture does not name: dynamically registered ones (RFC 7591), whose metadata
  // cannot carry the testbed fields. PKCE always, consent asked unless auto-login implies it, every
  // fixture resource, the issuer's lifetimes.
  const fallback: ClientPolicy = { firstParty: false, autoLogin: fixture.issuer.auto_login, pkceRequired: true };
  return {
    metadata,
    policyOf: (clientId) => policies.get(clientId) ?? fallback,
    sourceOf: (clientId) => sources.get(clientId) ?? ['clients'],
  };
}

/**
 * oidc-provider validates static clients when first used; a testbed checks them all at start-up,
 * so a fixture client it would refuse stops the start with the engine's reason.
 */
export async function clientMetadataProblems(provider: Provider, registry: ClientRegistry): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const { client_id: clientId } of registry.metadata) {
    try {
      await provider.Client.find(clientId);
    } catch (error) {
      const { error_description: description, message } = error as Error & { error_description?: string };
      problems.push({ path: registry.sourceOf(clientId), message: `oidc-provider refuses this client: ${description ?? message}` });
    }
  }
  return problems;
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
