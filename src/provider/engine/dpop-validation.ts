/**
 * oidc-provider's own DPoP proof validation (RFC 9449 §4.3), which its built-in grants receive as
 * bound helpers and custom grants do not (`registerGrantType` passes none); typed in
 * src/types/oidc-provider-internals.d.ts.
 */
export { checkDpopReplay, type DpopProof, default as validateDpop } from 'oidc-provider/lib/helpers/validate_dpop.js';
