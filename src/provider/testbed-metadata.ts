/**
 * Discovery members (RFC 8414 §2 allows further metadata) that say how this issuer departs from, or
 * chooses between readings of, the specifications; each is prefixed `oidc_testbed_` so it can
 * never clash with a registered name.
 */
import type { BodyRewrite } from './route-responses.ts';

export function testbedMetadata(): BodyRewrite {
  return function advertiseTestbedMetadata(body) {
    // `audience` is accepted wherever `resource` (RFC 8707) is, as its alias (audience-parameter.ts).
    body.oidc_testbed_audience_parameter_supported = true;
  };
}
