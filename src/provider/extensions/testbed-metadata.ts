/**
 * Discovery members (RFC 8414 §2 allows further metadata) that say how this issuer departs from, or
 * chooses between readings of, the specifications; each is prefixed `oidc_testbed_` so it can
 * never clash with a registered name.
 */
import type { IssuerSettings } from '../../fixtures/schema.ts';
import type { BodyRewrite } from '../engine/index.ts';

export function testbedMetadata(settings: Pick<IssuerSettings, 'id_token_claims'>): BodyRewrite {
  return function advertiseTestbedMetadata(body) {
    // `audience` is accepted wherever `resource` (RFC 8707) is, as its alias (audience-parameter.ts).
    body.oidc_testbed_audience_parameter_supported = true;
    // `scopes`: ID tokens carry the granted scopes' claims; `strict`: OpenID Connect Core §5.4 (schema.ts).
    body.oidc_testbed_id_token_claims = settings.id_token_claims;
  };
}
