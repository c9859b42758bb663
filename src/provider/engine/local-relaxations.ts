/**
 * Two deliberate relaxations of oidc-provider's production defaults, because RPs under test run on
 * this machine or a container network:
 * - outgoing requests (back-channel logout, jwks_uri, CIBA ping) may target loopback and private
 *   addresses, which oidc-provider's SSRF guard refuses since 9.7;
 * - clients using the implicit `id_token` response type (express-openid-connect's default) or the
 *   hybrid `code id_token` may register http:// and localhost redirect URIs;
 * - CIBA ping clients may register an http:// `backchannel_client_notification_endpoint` (CIBA
 *   §4 asks for https), so an RP on localhost can receive pings.
 */
import type { Configuration, Provider } from 'oidc-provider';

export const fetchAllowingLocalTargets: NonNullable<Configuration['fetch']> = (url, options) => {
  const { dispatcher: _ssrfGuard, ...rest } = options as RequestInit & { dispatcher?: unknown };
  return globalThis.fetch(url, rest);
};

const IMPLICIT_REDIRECT_RULES = new Set(['implicit-force-https', 'implicit-forbid-localhost']);
const CIBA_NOTIFICATION_HTTPS_RULE = 'backchannel_client_notification_endpoint must be a https uri';

export interface ClientRuleRelaxations {
  implicitHttpRedirects: boolean;
  httpCibaNotifications: boolean;
}

export function relaxClientRulesForLocalRps(provider: Provider, relax: ClientRuleRelaxations): void {
  // oidc-provider exposes no option for these; its client schema reports the rules by code or message.
  const schema = (provider.Client as unknown as { Schema: { prototype: { invalidate(message: string, code?: string): void } } }).Schema;
  const { invalidate } = schema.prototype;
  schema.prototype.invalidate = function invalidateUnlessRelaxed(
    this: { backchannel_client_notification_endpoint?: string },
    message: string,
    code?: string,
  ) {
    if (relax.implicitHttpRedirects && code && IMPLICIT_REDIRECT_RULES.has(code)) return;
    if (
      relax.httpCibaNotifications &&
      message === CIBA_NOTIFICATION_HTTPS_RULE &&
      URL.parse(this.backchannel_client_notification_endpoint ?? '')?.protocol === 'http:'
    )
      return;
    invalidate.call(this, message, code);
  };
}
