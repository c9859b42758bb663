import { bodyParser } from '@koa/bodyparser';
import type Router from '@koa/router';
import Koa, { type Middleware } from 'koa';
import type { Logger } from '../log.ts';
import { storeOutage } from '../server/middleware.ts';
import { callLog } from './call-log.ts';
import { cors, type CorsSettings } from './cors.ts';
import type { Protection } from './protect.ts';

export interface ApiAppParts {
  logger: Logger;
  cors: CorsSettings;
  /** Render errors that are not token errors, in the API's own shape (outermost first). */
  errors: Middleware[];
  protection: Protection;
  router: Router;
  /** Honour X-Forwarded-Proto/Host (for DPoP `htu`) — only behind a proxy you trust. */
  trustProxy: boolean;
}

/** One mock API, assembled in the same order for both. */
export function apiApp(parts: ApiAppParts): Koa {
  const app = new Koa({ proxy: parts.trustProxy });
  app.silent = true;
  app.use(callLog(parts.logger));
  app.use(cors(parts.cors));
  for (const middleware of parts.errors) app.use(middleware);
  app.use(parts.protection.renderErrors);
  // Innermost catcher: a store outage is 503 temporarily_unavailable, not the API's own 500.
  app.use(storeOutage());
  app.use(bodyParser({
    enableTypes: ['json', 'form'],
    // Merged into the defaults index by index (lodash.merge): keep application/json first.
    extendTypes: { json: ['application/json', 'application/merge-patch+json'] },
    jsonLimit: '64kb',
    formLimit: '64kb',
  }));
  app.use(parts.router.routes());
  app.use(parts.router.allowedMethods());
  return app;
}

/** The profile API's error shape for non-token errors: OAuth-style JSON, 404 included. */
export function oauthStyleNotFound(): Middleware {
  return async function notFound(ctx, next) {
    await next();
    if (ctx.status === 404 && ctx.body == null) ctx.throw(404, 'no such route', { error: 'not_found' });
  };
}
