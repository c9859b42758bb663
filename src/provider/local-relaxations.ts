/**
 * Two deliberate relaxations of oidc-provider's production defaults, because RPs under test run on
 * this machine or a container network:
 * - outgoing requests (back-channel logout, jwks_uri, CIBA ping) may target loopback and private
 *   addresses, which oidc-provider's SSRF guard refuses since 9.7;
 * - clients using the implicit `id_token` response type (express-openid-connect's default) may
 *   register http:// and localhost redirect URIs.
 */
import type { Configuration, Provider } from 'oidc-provider';

export const fetchAllowingLocalTargets: NonNullable<Configuration['fetch']> = (url, options) => {
  const { dispatcher: _ssrfGuard, ...rest } = options as RequestInit & { dispatcher?: unknown };
  return globalThis.fetch(url, rest);
};

const IMPLICIT_REDIRECT_RULES = new Set(['implicit-force-https', 'implicit-forbid-localhost']);

export function allowHttpLocalhostForImplicit(provider: Provider): void {
  // oidc-provider exposes no option for this; its client schema reports these two rules by code.
  const schema = (provider.Client as unknown as { Schema: { prototype: { invalidate(message: string, code?: string): void } } }).Schema;
  const { invalidate } = schema.prototype;
  schema.prototype.invalidate = function invalidateUnlessImplicitLocalRule(message: string, code?: string) {
    if (code && IMPLICIT_REDIRECT_RULES.has(code)) return;
    invalidate.call(this, message, code);
  };
}
