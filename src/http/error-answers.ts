/**
 * How the testbed's apps answer errors: every error as OAuth's JSON `{ error, error_description }`
 * (RFC 6749 §5.2) with its status and `Cache-Control: no-store`, a server error logged and never
 * shown. A leaf: it knows nothing of the engine, the store or the pages it may be given.
 */
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';

function answerUnhandledError(ctx: Context, logger: Logger, caught: unknown): void {
  const error = caught as Error & { status?: number; expose?: boolean; error?: string; error_description?: string };
  const status = error.status && error.status >= 400 && error.status < 600 ? error.status : 500;
  if (status >= 500) {
    logger.error({ err: error, path: ctx.path }, 'unhandled error');
    answerOAuthError(ctx, status, 'server_error', 'unexpected error; see the testbed log');
  } else {
    answerOAuthError(
      ctx,
      status,
      error.error ?? 'invalid_request',
      error.error_description ?? (error.expose ? error.message : 'invalid request'),
    );
  }
}

/**
 * An OAuth error answer (RFC 6749 §5.2): the status, `Cache-Control: no-store`, `{ error,
 * error_description }`; given a `page`, a browser (preferring HTML) gets the page instead.
 */
export function answerOAuthError(
  ctx: Context,
  status: number,
  error: string,
  description: string,
  options: { page?: ErrorPage } = {},
): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  if (options.page && ctx.accepts('json', 'html') === 'html') {
    ctx.type = 'html';
    ctx.body = options.page({ error, description, status });
  } else {
    ctx.body = { error, error_description: description };
  }
}

/** What an error page shows. */
export interface ErrorProblem {
  error: string;
  description: string;
  status: number;
}

/** Renders an error page for browsers (src/provider/ui/pages.ts has the testbed's). */
export type ErrorPage = (problem: ErrorProblem) => string;

/**
 * An outage a client should retry (the store, Redis, unreachable): oidc-provider's
 * `temporarily_unavailable` errors (src/store/store-unavailable.ts), matched by shape so that this
 * layer needs no part of the store.
 */
function isTemporarilyUnavailable(caught: unknown): caught is { error: string; error_description: string } {
  const error = caught as { status?: unknown; expose?: unknown; error?: unknown; error_description?: unknown } | null;
  return (
    error?.status === 503 &&
    error.expose === true &&
    error.error === 'temporarily_unavailable' &&
    typeof error.error_description === 'string'
  );
}

/** How an app answers what escapes its routes, a store outage aside (see `answerErrors`). */
export interface ErrorAnswers {
  /** Anything a route throws; client mistakes (Koa's `expose` errors) keep their 4xx status. */
  unhandled(ctx: Context, caught: unknown): void;
  /** A path no route took (404 without a body); without it Koa's plain 404 stands. */
  notFound?(ctx: Context): void;
}

/**
 * The last line of defence, as one layer: nothing escapes as a stack trace. While the store (Redis)
 * is unreachable the testbed's routes answer as oidc-provider's do, `503
 * {"error":"temporarily_unavailable",…}` (an error page for browsers, when given `page`), and every 503 says when to
 * retry (RFC 9110 §10.2.3): the store reconnects every 150 ms. The rest is answered by `answers`.
 */
export function answerErrors(answers: ErrorAnswers, options: { page?: ErrorPage } = {}): Middleware {
  return async function answerErrors(ctx, next) {
    try {
      await next();
      if (answers.notFound && ctx.status === 404 && ctx.body == null) answers.notFound(ctx);
    } catch (caught) {
      if (isTemporarilyUnavailable(caught)) answerOAuthError(ctx, 503, caught.error, caught.error_description, options);
      else answers.unhandled(ctx, caught);
    }
    if (ctx.status === 503) ctx.set('Retry-After', '1');
  };
}

/** OAuth-style answers: JSON `{ error, error_description }`; a server error is logged, never shown. */
export function oauthErrorAnswers(logger: Logger, notFound?: { error: string; description: string }): ErrorAnswers {
  return {
    unhandled: (ctx, caught) => answerUnhandledError(ctx, logger, caught),
    ...(notFound ? { notFound: (ctx: Context) => answerOAuthError(ctx, 404, notFound.error, notFound.description) } : {}),
  };
}
