/**
 * The testbed's control endpoints, under `<issuer>/_testbed`: what a test (over HTTP) or a person
 * (in a browser) uses to steer the testbed while it runs, e.g. deciding CIBA requests. Every route
 * passes the same guard (src/control/access.ts) and answers `Cache-Control: no-store`.
 */

import Router from '@koa/router';
import type { Middleware } from 'koa';
import { CONTROL_PATH } from '../endpoints.ts';
import { answerOAuthError } from '../http/error-answers.ts';
import type { CibaController } from '../provider/extensions/ciba.ts';
import { controlAccess, sameOriginPosts } from './access.ts';
import { addCibaControl } from './ciba-routes.ts';

/** Adds one concern's routes (users, clients, keys, faults, …) to the control router. */
export type ControlRoutes = (router: Router) => void;

export interface ControlOptions {
  /** The issuer URL (its host counts as this machine's for loopback clients). */
  issuer: string;
  /** Path the issuer is mounted under ('' at the root). */
  mountPath: string;
  /** Bearer token for clients not on this machine; without one they are refused. */
  controlToken?: string;
  /** The CIBA controller, when the issuer has CIBA on. */
  ciba?: CibaController;
  /** The steering operations of the issuer (its request record, users, clients, keys, faults, clock, …). */
  operations?: readonly ControlRoutes[];
  /** More routes behind the same guard (a scenario run's verdict, reset and logout trigger). */
  more?: ControlRoutes;
}

export function controlRoutes(options: ControlOptions): Router {
  const router = new Router({ prefix: CONTROL_PATH });
  router.use(noStore, controlAccess(options), sameOriginPosts(options));
  if (options.ciba) addCibaControl(router, { ciba: options.ciba, basePath: `${options.mountPath}${CONTROL_PATH}` });
  for (const add of options.operations ?? []) add(router);
  options.more?.(router);
  router.all('/{*rest}', async (ctx) =>
    answerOAuthError(
      ctx,
      404,
      'not_found',
      `no control endpoint at ${ctx.path}${options.ciba ? '' : ' (CIBA control needs issuer.features.ciba.enabled)'}`,
    ),
  );
  return router;
}

const noStore: Middleware = async function noStore(ctx, next) {
  await next();
  ctx.set('Cache-Control', 'no-store');
};
