/** The examples by name, in the order of the library's documentation (EXAMPLES.md). */
import { accessAnApi } from './access-an-api.ts';
import { backchannelLogout } from './backchannel-logout.ts';
import { basic } from './basic.ts';
import { claims } from './claims.ts';
import { customRoutes } from './custom-routes.ts';
import { customSessionStore } from './custom-session-store.ts';
import { customTokenExchange } from './custom-token-exchange.ts';
import { idpLogout } from './idp-logout.ts';
import { refreshTokens } from './refresh-tokens.ts';
import { routes } from './routes.ts';
import type { Example } from './settings.ts';
import { userinfo } from './userinfo.ts';
import { validateClaims } from './validate-claims.ts';

export const EXAMPLES: readonly Example[] = [
  basic,
  routes,
  customRoutes,
  accessAnApi,
  refreshTokens,
  userinfo,
  claims,
  idpLogout,
  validateClaims,
  customSessionStore,
  backchannelLogout,
  customTokenExchange,
];

export function exampleNamed(name: string): Example | undefined {
  return EXAMPLES.find((example) => example.name === name);
}
