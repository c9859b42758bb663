/**
 * The directory API: ForgeRock IDM's REST shape under the resource's path (`/openidm/`).
 *
 *   GET   info/login                      who is calling
 *   GET   managed/user?_queryFilter=…     fixture users in IDM's query envelope
 *   GET   managed/user/{id}
 *   PUT   managed/user/{id}               replace (write scope)
 *   PATCH managed/user/{id}               IDM patch operations (write scope)
 *
 * Reads need any of the resource's scopes; writes need `fr:idm:*` (the default fixture's only
 * directory scope grants both). Client mistakes answer IDM's `{ code, reason, message }`.
 */
import { STATUS_CODES } from 'node:http';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { ErrorAnswers } from '../../http/error-answers.ts';
import type { Logger } from '../../log.ts';
import type { UserDirectory } from '../../store/user-directory.ts';
import type { ApiState } from '../token-guard/challenges.ts';
import type { Protection } from '../token-guard/protect.ts';
import { IdmError, parseQueryFilter, patchChanges, replaceChanges, selectFields, toIdmUser } from './idm-users.ts';

export interface DirectoryApiSettings {
  /** Path prefix of the routes (`/openidm`). */
  prefix: string;
  /** The resource's scopes: any of them reads. */
  scopes: readonly string[];
  writeScope: string;
  users: UserDirectory;
  protection: Protection;
}

export const DIRECTORY_WRITE_SCOPE = 'fr:idm:*';

export function directoryRoutes(settings: DirectoryApiSettings): Router {
  const { protection, users, writeScope } = settings;
  const read = protection.guard(...settings.scopes);
  const write = protection.guard(writeScope);
  const router = new Router({ prefix: settings.prefix });

  const userById = async (ctx: Context) => {
    const user = await users.findBySub(ctx.params.id);
    if (!user) throw new IdmError(404, `Object ${ctx.params.id.slice(0, 80)} not found in managed/user`);
    return user;
  };
  const noStore = (ctx: Context) => ctx.set('Cache-Control', 'no-store');

  router.get('/info/login', read, async (ctx) => {
    const { caller } = ctx.state as ApiState;
    const sub = caller!.sub ?? caller!.client_id ?? 'anonymous';
    const user = await users.findBySub(sub);
    noStore(ctx);
    ctx.body = {
      _id: 'login',
      authenticationId: user?.username ?? sub,
      authorization: {
        id: sub,
        roles: user ? [...user.roles] : [],
        component: user ? 'managed/user' : 'internal/user',
        // IDM's OAuth 2.0 resource-server filter authenticated this call.
        moduleId: 'rsFilter',
        ipAddress: ctx.ip,
      },
    };
  });

  router.get('/managed/user', read, async (ctx) => {
    const filter = single(ctx.query._queryFilter, '_queryFilter');
    if (filter === undefined) {
      throw new IdmError(400, 'Query request needs _queryFilter (this mock supports _queryFilter only, e.g. _queryFilter=true)');
    }
    const matches = parseQueryFilter(filter);
    const fields = single(ctx.query._fields, '_fields');
    const result = (await users.list())
      .map(toIdmUser)
      .filter(matches)
      .map((user) => selectFields(user, fields));
    noStore(ctx);
    ctx.body = {
      result,
      resultCount: result.length,
      pagedResultsCookie: null,
      totalPagedResultsPolicy: 'NONE',
      totalPagedResults: -1,
      remainingPagedResults: -1,
    };
  });

  router.get('/managed/user/:id', read, async (ctx) => {
    noStore(ctx);
    ctx.body = selectFields(toIdmUser(await userById(ctx)), single(ctx.query._fields, '_fields'));
  });

  router.put('/managed/user/:id', write, async (ctx) => {
    const user = await userById(ctx);
    requireJson(ctx);
    const updated = await users.updateClaims(user.sub, replaceChanges(user, ctx.request.body));
    noStore(ctx);
    ctx.body = toIdmUser(updated ?? user);
  });

  router.patch('/managed/user/:id', write, async (ctx) => {
    const user = await userById(ctx);
    requireJson(ctx);
    const updated = await users.updateClaims(user.sub, patchChanges(user, ctx.request.body));
    noStore(ctx);
    ctx.body = toIdmUser(updated ?? user);
  });

  return router;
}

function single(value: string | string[] | undefined, name: string): string | undefined {
  if (Array.isArray(value)) throw new IdmError(400, `The parameter ${name} appears more than once`);
  return value;
}

function requireJson(ctx: Context): void {
  if (!ctx.is('application/json')) throw new IdmError(415, 'The request body must be application/json');
}

/**
 * IDM's error shape for everything that is not a token error: `{ code, reason, message }`; an
 * unknown path is a 404 in the same shape.
 */
export function idmErrorAnswers(logger: Logger): ErrorAnswers {
  const render = (ctx: Context, code: number, message: string) => {
    ctx.status = code;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { code, reason: STATUS_CODES[code] ?? 'Error', message };
  };
  return {
    notFound: (ctx) => render(ctx, 404, `Resource '${ctx.path.slice(0, 120)}' not found`),
    unhandled(ctx, caught) {
      const error = caught as Error & { status?: number; expose?: boolean };
      if (caught instanceof IdmError) return render(ctx, caught.code, caught.message);
      // A client error of a layer before the routes (the body parser's).
      if (error.status && error.status >= 400 && error.status < 500)
        return render(ctx, error.status, error.expose ? error.message : 'The request could not be read');
      logger.error({ err: error, path: ctx.path }, 'unhandled error');
      return render(ctx, 500, 'Unexpected error; see the testbed log');
    },
  };
}
