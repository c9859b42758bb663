/**
 * The profile API: a userinfo-like resource server (ForgeRock AM's `/oauth2/userinfo` answers the
 * same shape as OpenID Connect UserInfo). Claims are released per scope as OIDC Core §5.4 does, and
 * `PATCH /me` edits the user in the testbed's directory, so later userinfo and ID tokens show it.
 *
 *   GET  /userinfo, GET /me   one of the resource's claim scopes (profile, email, address, phone)
 *   PATCH /me                 the write scope (profile:write)
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { User, UserDirectory } from '../../store/user-directory.ts';
import type { ApiState } from '../token-guard/challenges.ts';
import type { Protection } from '../token-guard/protect.ts';

export interface ProfileApiSettings {
  /** Path prefix of the routes ('' for the root). */
  prefix: string;
  /** The resource's scopes. */
  scopes: readonly string[];
  /** Scope → claims (OIDC standard scopes merged with the fixture's). */
  scopeClaims: Readonly<Record<string, readonly string[]>>;
  writeScope: string;
  users: UserDirectory;
  protection: Protection;
}

export const PROFILE_WRITE_SCOPE = 'profile:write';
const SERVER_SET_CLAIMS = new Set(['sub', 'updated_at']);

export function profileRoutes(settings: ProfileApiSettings): Router {
  const { protection, users, scopeClaims, writeScope } = settings;
  const claimScopes = settings.scopes.filter((scope) => scopeClaims[scope]?.length);
  const readScopes = claimScopes.length > 0 ? claimScopes : [...settings.scopes];
  const knownClaims = new Set(Object.values(scopeClaims).flat());
  const router = new Router({ prefix: settings.prefix });

  const releasedClaims = (ctx: Context, user: User) => {
    const { caller } = ctx.state as ApiState;
    const released: Record<string, unknown> = { sub: user.sub };
    for (const scope of caller!.scopes) {
      for (const claim of scopeClaims[scope] ?? []) {
        if (user.claims[claim] !== undefined) released[claim] = user.claims[claim];
      }
    }
    return released;
  };

  const userinfo = async (ctx: Context) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = releasedClaims(ctx, await subjectUser(ctx, users));
  };

  const read = protection.guard(...readScopes);
  router.get('/userinfo', read, userinfo);
  router.get('/me', read, userinfo);
  router.patch('/me', protection.guard(writeScope), async (ctx) => {
    const user = await subjectUser(ctx, users);
    if (!ctx.is('application/json', 'application/merge-patch+json')) {
      throw clientError(415, 'send the changes as application/merge-patch+json (RFC 7396) or application/json');
    }
    const patch = ctx.request.body as unknown;
    if (!isObject(patch)) throw clientError(400, 'the body must be a JSON object of claims (RFC 7396 merge patch)');
    for (const claim of Object.keys(patch)) {
      if (SERVER_SET_CLAIMS.has(claim)) throw clientError(400, `${claim} is set by the server and cannot be changed`);
      if (!knownClaims.has(claim))
        throw clientError(400, `unknown claim ${claim.slice(0, 40)}: this API knows ${[...knownClaims].join(' ')}`);
    }
    const changes: Record<string, unknown> = {};
    for (const [claim, value] of Object.entries(patch)) {
      const merged = mergePatch(user.claims[claim], value);
      changes[claim] = merged === undefined || (isObject(merged) && Object.keys(merged).length === 0) ? null : merged;
    }
    const updated = await users.updateClaims(user.sub, changes);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = releasedClaims(ctx, updated ?? user);
  });
  return router;
}

/** The user the token is about; a token without one (client credentials) has no profile. */
async function subjectUser(ctx: Context, users: UserDirectory): Promise<User> {
  const { caller } = ctx.state as ApiState;
  const user = caller?.sub === undefined ? undefined : await users.findBySub(caller.sub);
  if (!user)
    throw clientError(
      404,
      `the token subject ${String(caller?.sub).slice(0, 60)} is not a user of this testbed (a client credentials token has no profile)`,
      'not_found',
    );
  return user;
}

/** RFC 7396 §2 MergePatch: objects merge member by member, null removes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch === null ? undefined : patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [name, value] of Object.entries(patch)) {
    const merged = mergePatch(result[name], value);
    if (merged === undefined) delete result[name];
    else result[name] = merged;
  }
  return result;
}

/** Answered by oauthErrorAnswers as `{ error, error_description }` with `status`. */
function clientError(status: number, description: string, error = 'invalid_request'): Error {
  return Object.assign(new Error(description), { status, expose: true, error });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
