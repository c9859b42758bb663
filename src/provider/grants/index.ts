/**
 * The grants the testbed adds to oidc-provider, each registered only when its feature is on, so
 * that discovery's `grant_types_supported` lists exactly what the token endpoint serves.
 */
import type { Provider } from 'oidc-provider';
import type { Fixture } from '../../fixtures/schema.ts';
import type { UserDirectory } from '../../store/user-directory.ts';
import type { ClientPolicy } from '../clients.ts';
import { oidcScopesOf } from '../configuration.ts';
import type { JwtAccessTokens } from '../extensions/jwt-access-tokens.ts';
import type { ResourceCatalog } from '../resources.ts';
import { registerPasswordGrant } from './password.ts';
import { PresentedTokens } from './presented-tokens.ts';
import { registerTokenExchange } from './token-exchange.ts';

export interface TestbedGrantInputs {
  fixture: Fixture;
  users: UserDirectory;
  resources: ResourceCatalog;
  jwtAccessTokens: JwtAccessTokens;
  policyOf: (clientId: string) => ClientPolicy;
}

export function registerTestbedGrants(
  provider: Provider,
  { fixture, users, resources, jwtAccessTokens, policyOf }: TestbedGrantInputs,
): void {
  const { features } = fixture.issuer;
  const oidcScopes = oidcScopesOf(fixture);
  if (features.token_exchange) {
    const presentedTokens = new PresentedTokens({ provider, users, jwtAccessTokens });
    registerTokenExchange(provider, {
      resources,
      presentedTokens,
      oidcScopes,
      consentImplied: (clientId) => policyOf(clientId).firstParty,
    });
  }
  if (features.password_grant)
    registerPasswordGrant(provider, { resources, users, oidcScopes, idTokenClaims: fixture.issuer.id_token_claims });
}
