import type { default as Router, RouterMiddleware } from '@koa/router';
import Koa, { type Middleware } from 'koa';
import { answerErrors, type ErrorAnswers } from '../../http/error-answers.ts';
import { FORM, JSON_TYPES, parseBody } from '../../http/request-body.ts';
import type { Logger } from '../../log.ts';
import { errorPage } from '../../provider/ui/pages.ts';
import { callLog } from './call-log.ts';
import { type CorsSettings, cors } from './cors.ts';

export interface ApiAppParts {
  logger: Logger;
  cors: CorsSettings;
  /** Errors that are not token errors, and unknown paths, in the API's own shape. */
  errors: ErrorAnswers;
  router: Router;
  /** Honour X-Forwarded-Proto/Host (for DPoP `htu`) — only behind a proxy you trust. */
  trustProxy: boolean;
  /** Where an authenticated call is recorded: the issuer's request record, by the token's `iss`. */
  issuerCalls: Middleware;
  /** Fault rules (src/control/fault-injection.ts), before the call is handled; inside CORS (a browser sees a faulted answer) and the error layer. */
  faults: Middleware;
}

/**
 * One mock API, assembled in the same order for both. Every request passes, outermost first:
 *
 *   call log (when info is on) → the issuer's request record → CORS → errors (a store outage as 503, the rest in the API's own
 *   shape) → fault rules → body parser (POST, PUT, PATCH only) → router → the route's guard (credentials, token,
 *   DPoP, scope; it answers token errors itself, see protect.ts) → the route; a method no route of
 *   the path serves, a 405 in the API's error shape
 *
 * Layers that only look at the request are plain functions that return `next()`, not async ones:
 * on the hot path each async layer is a promise and a microtask per request.
 */
export function apiApp(parts: ApiAppParts): Koa {
  const app = new Koa({ proxy: parts.trustProxy });
  app.silent = true;
  app.use(callLog(parts.logger));
  app.use(parts.issuerCalls);
  app.use(cors(parts.cors));
  app.use(answerErrors(parts.errors, { page: errorPage }));
  app.use(parts.faults);
  app.use(bodiesOnly(BODY_METHODS, parseBody({ form: FORM, json: [...JSON_TYPES, 'application/merge-patch+json'], limit: 64 * 1024 })));
  app.use(parts.router.routes());
  app.use(otherMethods(parts.router, parts.errors));
  return app;
}

/**
 * A method a route does not serve: koa-router's answer (405, or 501 for a method it does not know
 * at all, e.g. PROPFIND) has an Allow header but no body. It becomes a 405 (RFC 9110 §15.5.6: a
 * client's choice of method is not a server error) in the API's error shape, Allow kept. Only
 * requests no route took get here.
 */
function otherMethods(router: Router, errors: ErrorAnswers): RouterMiddleware {
  const allowedMethods = router.allowedMethods();
  return (ctx, next) =>
    allowedMethods(ctx, next).then(() => {
      if ((ctx.status !== 405 && ctx.status !== 501) || ctx.body != null) return;
      const allowed = ctx.response.get('Allow');
      errors.unhandled(
        ctx,
        Object.assign(new Error(`${ctx.method} is not allowed on ${ctx.path.slice(0, 100)}; use ${allowed}`), {
          status: 405,
          expose: true,
        }),
      );
    });
}

/** The methods whose body is read (JSON edits, RFC 6750 §2.2 form-body tokens). */
const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

/** Other methods skip the body parser without an async layer of their own. */
function bodiesOnly(methods: ReadonlySet<string>, parse: Middleware): Middleware {
  return (ctx, next) => (methods.has(ctx.method) ? parse(ctx, next) : next());
}
